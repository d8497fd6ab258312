"""The ONE run-visibility rule as graph patterns (see :mod:`graph.queries.workflow_access`).

Kept apart so both the workflow statements and the document permission query
(:mod:`graph.queries.permissions`, documents ATTACHED_TO a task of the run) splice in the very same text.
"""

# (name, pattern) with ``t`` the run and ``p`` the person; used in MATCH clauses and pattern comprehensions.
PARTICIPATION: tuple[tuple[str, str], ...] = (
    ("initiator_or_copied", "(t)-[:INITIATED_BY|CC]->(p:Person)"),
    ("decider", "(t)<-[:IN_RUN]-(:Decision)-[:BY]->(p:Person)"),
    ("assignee", "(t)<-[:OF_RUN]-(:Task)-[:ASSIGNED_TO]->(p:Person)"),
    # A queue a task is assigned to, or was claimed from (the claimer is then its assignee).
    ("queue_member", "(t)<-[:OF_RUN]-(:Task)-[:ASSIGNED_TO|CLAIMED_FROM]->(:Department)<-[:MEMBER_OF]-(p:Person)"),
    ("position_holder", "(t)<-[:OF_RUN]-(:Task)-[:ASSIGNED_TO|CLAIMED_FROM]->(:Position)<-[:HOLDS]-(p:Person)"),
)
