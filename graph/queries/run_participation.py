"""The ONE run-visibility rule as graph patterns (see :mod:`graph.queries.workflow_access`).

Kept apart so both the workflow statements and the document permission query
(:mod:`graph.queries.permissions`, documents ATTACHED_TO a task of the run) splice in the very same text.
"""

# (name, pattern) with ``t`` the run and ``p`` the person; used in MATCH clauses and pattern comprehensions.
PARTICIPATION: tuple[tuple[str, str], ...] = (
    ("initiator_or_copied", "(t)-[:INITIATED_BY|CC]->(p:Person)"),
    ("decider", "(t)<-[:IN_RUN]-(:Decision)-[:BY]->(p:Person)"),
    ("assignee", "(t)<-[:OF_RUN]-(:Task)-[:ASSIGNED_TO]->(p:Person)"),
    ("queue_member", "(t)<-[:OF_RUN]-(:Task)-[:ASSIGNED_TO]->(:Department)<-[:MEMBER_OF]-(p:Person)"),
    ("position_holder", "(t)<-[:OF_RUN]-(:Task)-[:ASSIGNED_TO]->(:Position)<-[:HOLDS]-(p:Person)"),
)
