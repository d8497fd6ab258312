"""Who takes part in a workflow run, and the files attached to its tasks.

The ONE run-visibility rule, written once as graph patterns from a run ``t`` to a person ``p``:
the initiator and the people copied; everyone who recorded a decision on it (approved, returned,
claimed, delegated, urged...); every person a task of it is assigned to; every member or holder
of a department or position a task of it is assigned to. The same patterns decide who may open
the run page, comment on it and download its attachments (:data:`RUN_PARTICIPANT`), which runs a
person's readable set includes (:data:`RUNS_OF_PERSON`), and the "run" branch of the document
permission query in :mod:`graph.queries.permissions` (documents ATTACHED_TO a task of the run).
Administrators see every run (their branch is the permission query's own admin rule).

Model: ``(:Document)-[:ATTACHED_TO {version_id, field, at}]->(:Task)``; the decision that brought
the file also points at the exact version: ``(:Decision)-[:ATTACHES]->(:Version)``.
"""

from graph.cypher import cypher
from graph.queries.permissions import PERMISSION_BUMP
from graph.queries.run_participation import PARTICIPATION

_ANY_PATH = " OR ".join(f"size([{pattern} | 1]) > 0" for _name, pattern in PARTICIPATION)

RUN_PARTICIPANT = cypher(
    "workflow_access.run_participant",
    f"""
    MATCH (t:WorkflowRun {{id: $run_id}})
    MATCH (p:Person {{id: $person_id}})
    RETURN t.id AS run_id, p.active = true AS active,
           size([(p)-[:HAS_ROLE]->(:Role {{name: 'admin'}}) | 1]) > 0 AS admin,
           ({_ANY_PATH}) AS participant
    """,
    example={"run_id": "r1", "person_id": "u1"},
)

RUNS_OF_PERSON = cypher(
    "workflow_access.runs_of_person",
    # Only runs with attachments matter to readable sets; the others would only lengthen the principal list.
    " UNION ".join(f"MATCH (p:Person {{id: $person_id}}) MATCH {pattern} WITH DISTINCT t "
                   "MATCH (t)<-[:OF_RUN]-(:Task)<-[:ATTACHED_TO]-(:Document) RETURN DISTINCT t.id AS run_id"
                   for _name, pattern in PARTICIPATION).replace("(t)-", "(t:WorkflowRun)-", 1).replace(
        "MATCH (t)", "MATCH (t:WorkflowRun)"),
    example={"person_id": "u1"},
)

# Links uploaded documents to a task (and to the decision that brought them, by exact version).
# The permission version is bumped for each document (its readers changed) and for principals: a run's
# first attachment adds the run to its participants' principals (see RUNS_OF_PERSON).
ATTACH = cypher(
    "workflow_access.attach",
    """
    MATCH (k:Task {id: $task_id})
    UNWIND $files AS f
    MATCH (d:Document {id: f.document_id})
    MATCH (d)-[:HAS_VERSION]->(v:Version {id: f.version_id})
    MERGE (d)-[a:ATTACHED_TO {version_id: f.version_id}]->(k)
    SET a.field = f.field, a.name = f.name, a.at = $now, a.by = $actor_id
    WITH d, v, f
    OPTIONAL MATCH (x:Decision {id: f.decision_id})
    FOREACH (y IN CASE WHEN x IS NULL THEN [] ELSE [x] END | MERGE (y)-[:ATTACHES]->(v))
    WITH collect(DISTINCT 'doc:' + d.id) + ['principals'] AS changes
    """ + PERMISSION_BUMP,
    example={"task_id": "t1", "now": 0, "actor_id": "u1",
             "files": [{"document_id": "doc1", "version_id": "v1", "field": "invoice", "name": "a.pdf",
                        "decision_id": None}]},
    writes=True,
)

RUN_ATTACHMENTS = cypher(
    "workflow_access.run_attachments",
    """
    MATCH (t:WorkflowRun {id: $run_id})<-[:OF_RUN]-(k:Task)<-[a:ATTACHED_TO]-(d:Document)
    OPTIONAL MATCH (d)-[:HAS_VERSION]->(v:Version {id: a.version_id})
    RETURN d.id AS document_id, a.version_id AS version_id, a.field AS field, a.name AS name, a.at AS at,
           a.by AS by_id, k.id AS task_id, v.size AS size, v.number AS number
    ORDER BY a.at, a.name
    """,
    example={"run_id": "r1"},
)

# Every (document, run) attachment pair, for building readable sets in one scan.
ALL_ATTACHMENTS = cypher(
    "workflow_access.all_attachments",
    "MATCH (d:Document)-[:ATTACHED_TO]->(:Task)-[:OF_RUN]->(t:WorkflowRun) RETURN DISTINCT d.id AS id, t.id AS run",
)

OWNED_VERSIONS = cypher(
    "workflow_access.owned_versions",
    """
    UNWIND $files AS f
    MATCH (p:Person {id: $person_id})-[:OWNS]->(d:Document {id: f.document_id})-[:HAS_VERSION]->(v:Version)
    WHERE v.id = f.version_id
    RETURN d.id AS document_id, v.id AS version_id, v.size AS size
    """,
    example={"person_id": "u1", "files": [{"document_id": "doc1", "version_id": "v1"}]},
)

RUN_HAS_ATTACHMENTS = cypher(
    "workflow_access.run_has_attachments",
    "MATCH (t:WorkflowRun {id: $run_id}) RETURN size([(t)<-[:OF_RUN]-(:Task)<-[:ATTACHED_TO]-(:Document) | 1]) AS n",
    example={"run_id": "r1"},
)

# Runs (not ad-hoc requests) with no file attached yet, with what their start form asks for: the demo
# loader gives those whose workflow requires a file a real one.
RUNS_WITHOUT_FILES = cypher(
    "workflow_access.runs_without_files",
    """
    MATCH (r:WorkflowRun)-[:FOLLOWS]->(w:Workflow)
    WHERE r.kind = 'workflow' AND NOT (r)<-[:OF_RUN]-(:Task)<-[:ATTACHED_TO]-(:Document)
    MATCH (r)-[:FIRST]->(k:Task)
    RETURN r.id AS run_id, r.title AS title, r.initiator_id AS initiator_id, r.started_at AS started_at,
           r.form AS form, w.definition AS definition, k.id AS first_task_id
    ORDER BY r.started_at DESC
    LIMIT $limit
    """,
    example={"limit": 10},
)

SET_RUN_FORM = cypher(
    "workflow_access.set_run_form",
    "MATCH (r:WorkflowRun {id: $run_id}) SET r.form = $form RETURN r.id AS id",
    example={"run_id": "r1", "form": "{}"},
    writes=True,
)
