"""Process analytics: event-log import, raw task rows for bottleneck figures, collaboration edges.

Reads return flat rows that :mod:`graph.analytics` turns into numpy arrays; every figure is
computed there, not in Cypher, so one statement per workflow is all the engine is asked for.
"""

from graph.cypher import cypher

# The change counter that invalidates cached analytics. Every statement that creates or changes
# tasks bumps it (import and demo history here; the workflow engine's statements should too).
CHANGES_KEY = "analytics.task_changes"

ANALYTICS_VERSION = cypher(
    "analytics.version",
    """
    OPTIONAL MATCH (m:Meta {key: $key})
    WITH m.value AS changes
    OPTIONAL MATCH (t:Task)
    RETURN changes, count(t) AS tasks
    """,
    example={"key": CHANGES_KEY},
)

BUMP_CHANGES = cypher(
    "analytics.bump_changes",
    """
    MERGE (m:Meta {key: $key})
    SET m.value = coalesce(m.value, 0) + 1
    RETURN m.value AS value
    """,
    example={"key": CHANGES_KEY},
    writes=True,
)

# -- event-log import ---------------------------------------------------------------------------

UPSERT_IMPORTED_WORKFLOW = cypher(
    "analytics.upsert_imported_workflow",
    """
    MERGE (w:Workflow {id: $workflow.id})
    ON CREATE SET w += $workflow
    SET w.timing = $workflow.timing, w.timing_note = $workflow.timing_note
    WITH w
    UNWIND $steps AS row
    MERGE (s:Step {id: row.id})
    ON CREATE SET s += row
    RETURN count(s) AS steps
    """,
    example={"workflow": {"id": "w-log", "key": "log-demo", "name": "demo", "source": "import", "current": False,
                          "timing": "completion_only", "timing_note": "x"},
             "steps": [{"id": "s-log", "key": "Queued", "name": "Queued", "workflow_id": "w-log", "position": 0}]},
    writes=True,
)

EXISTING_RUNS = cypher(
    "analytics.existing_runs",
    """
    UNWIND $ids AS rid
    MATCH (r:WorkflowRun {id: rid})
    RETURN r.id AS id
    """,
    example={"ids": ["r-log"]},
)

# A run and all its tasks are one statement's work, so a crash never leaves half a case behind.
# Tasks are chained as the engine chains its own: FIRST from the run, NEXT in order of ``round``.
CREATE_HISTORICAL_RUNS = cypher(
    "analytics.create_historical_runs",
    """
    MATCH (w:Workflow {id: $workflow_id})
    UNWIND $runs AS run
    CREATE (r:WorkflowRun) SET r += run.props
    CREATE (r)-[:FOLLOWS]->(w)
    WITH r, run
    UNWIND run.tasks AS row
    MATCH (s:Step {id: row.step_id})
    CREATE (t:Task) SET t += row.props
    CREATE (t)-[:OF_RUN]->(r)
    CREATE (t)-[:INSTANCE_OF]->(s)
    WITH r, t ORDER BY t.round
    WITH r, collect(t) AS chain
    FOREACH (x IN chain[0..1] | CREATE (r)-[:FIRST]->(x))
    FOREACH (i IN range(0, size(chain) - 2) |
        FOREACH (a IN [chain[i]] | FOREACH (b IN [chain[i + 1]] | CREATE (a)-[:NEXT]->(b))))
    RETURN sum(size(chain)) AS created
    """,
    example={"workflow_id": "w-log", "runs": [{"props": {"id": "r-log", "kind": "imported"}, "tasks": [
        {"step_id": "s-log", "props": {"id": "t-log", "kind": "imported", "status": "done", "round": 1}},
        {"step_id": "s-log", "props": {"id": "t-log2", "kind": "imported", "status": "done", "round": 2}}]}]},
    writes=True,
)

# People and departments of the demo history: persons' ids to their department (engine tasks
# name only their assignee; imported and generated tasks carry their department themselves).
PERSON_DEPARTMENTS = cypher(
    "analytics.person_departments",
    """
    MATCH (p:Person)-[:MEMBER_OF]->(d:Department)
    RETURN p.id AS person_id, p.name AS person_name, d.id AS department_id, d.name AS department
    """,
)

DEPARTMENT_NAMES = cypher(
    "analytics.department_names",
    "MATCH (d:Department) RETURN d.id AS id, d.code AS code, d.name AS name, d.name_en AS name_en",
)

# -- bottleneck rows -------------------------------------------------------------------------------

WORKFLOW_KEYS = cypher(
    "analytics.workflow_keys",
    """
    MATCH (w:Workflow)
    WITH w.key AS key, w.name AS name, w.name_en AS name_en, w.timing AS timing, w.source AS source,
         w.current AS current
    ORDER BY current DESC
    RETURN key, collect(name)[0] AS name, collect(name_en)[0] AS name_en, collect(timing)[0] AS timing,
           collect(source)[0] AS source
    ORDER BY key
    """,
)

# The names every workflow's definition gives its steps, the current version's first (then the newest).
STEP_NAMES = cypher(
    "analytics.step_names",
    """
    MATCH (s:Step)
    MATCH (w:Workflow {id: s.workflow_id})
    WITH w.key AS workflow, s.key AS step, s.name AS name, s.name_en AS name_en,
         coalesce(w.current, false) AS current, coalesce(w.version, 0) AS version
    ORDER BY current DESC, version DESC
    RETURN workflow, step, collect(name)[0] AS name, collect(name_en)[0] AS name_en
    """,
)

# Order of the fields packed into each row of TASK_ROWS.
TASK_FIELDS = ("id", "run_id", "step", "step_name", "round", "created_at", "opened_at", "claimed_at", "completed_at",
               "due_at", "status", "assignee_kind", "assignee_id", "assignee_name", "queue_id", "department",
               "arrival_known")

# One row per task of a workflow (every version). Each row is ONE string of the fields joined by
# $sep (empty for null): at 100k tasks, decoding one value per row instead of seventeen takes the
# client from ~4 s to ~1 s. graph.analytics.tasks splits it again.
TASK_ROWS = cypher(
    "analytics.task_rows",
    """
    MATCH (t:Task)
    WHERE t.workflow_key = $key
    WITH t WHERE t.step_key IS NOT NULL
    RETURN coalesce(t.id, '') + $sep + coalesce(t.run_id, '') + $sep + coalesce(t.step_key, '') + $sep
         + coalesce(t.step_name, '') + $sep + coalesce(toString(t.round), '') + $sep
         + coalesce(toString(t.created_at), '') + $sep + coalesce(toString(t.first_opened_at), '') + $sep
         + coalesce(toString(t.claimed_at), '') + $sep + coalesce(toString(t.completed_at), '') + $sep
         + coalesce(toString(t.due_at), '') + $sep + coalesce(t.status, '') + $sep
         + coalesce(t.assignee_kind, '') + $sep + coalesce(t.assignee_id, '') + $sep
         + coalesce(t.assignee_name, '') + $sep + coalesce(t.queue_id, '') + $sep
         + coalesce(t.department, '') + $sep + coalesce(toString(t.arrival_known), '') AS row
    """,
    example={"key": "expense", "sep": "\x1f"},
)

# -- collaboration edges ---------------------------------------------------------------------------

# Documents a department's people own, shared with another department (time bound on creation).
SHARED_DOCUMENT_LINKS = cypher(
    "analytics.shared_document_links",
    """
    MATCH (d:Document)-[:SHARED_WITH]->(target:Department)
    WITH d, target WHERE d.created_at >= $since AND d.created_at < $until
    MATCH (owner:Person {id: d.owner_id})-[:MEMBER_OF]->(source:Department)
    RETURN owner.id AS person_id, source.id AS source_id, target.id AS target_id, count(d) AS documents
    """,
    example={"since": 0, "until": 10**15},
)

# Comments on runs: who commented and whose task the run held (a person-to-person exchange).
COMMENT_LINKS = cypher(
    "analytics.comment_links",
    """
    MATCH (c:Comment)-[:IN_RUN]->(r:WorkflowRun)
    WITH c, r WHERE c.at >= $since AND c.at < $until
      AND ($workflow_key IS NULL OR r.workflow_key = $workflow_key)
    MATCH (c)-[:BY]->(author:Person)
    MATCH (t:Task)-[:OF_RUN]->(r)
    WITH author, t WHERE t.assignee_kind = 'person' AND t.assignee_id <> author.id
    RETURN author.id AS author_id, t.assignee_id AS person_id, count(*) AS comments
    """,
    example={"since": 0, "until": 10**15, "workflow_key": None},
)

# -- demo history ----------------------------------------------------------------------------------

# Generated history looks like the engine's own runs: initiator, assignee edges, FIRST/NEXT chain.
CREATE_DEMO_RUNS = cypher(
    "analytics.create_demo_runs",
    """
    UNWIND $runs AS run
    MATCH (w:Workflow {id: run.workflow_id})
    MATCH (me:Person {id: run.initiator_id})
    CREATE (r:WorkflowRun) SET r += run.props
    CREATE (r)-[:FOLLOWS]->(w)
    CREATE (r)-[:INITIATED_BY]->(me)
    WITH r, run
    UNWIND run.tasks AS row
    MATCH (s:Step {id: row.step_id})
    MATCH (p:Person {id: row.person_id})
    CREATE (t:Task) SET t += row.props
    CREATE (t)-[:OF_RUN]->(r)
    CREATE (t)-[:INSTANCE_OF]->(s)
    CREATE (t)-[:ASSIGNED_TO]->(p)
    WITH r, t ORDER BY t.created_at, t.round, t.id
    WITH r, collect(t) AS chain
    FOREACH (x IN chain[0..1] | CREATE (r)-[:FIRST]->(x))
    FOREACH (i IN range(0, size(chain) - 2) |
        FOREACH (a IN [chain[i]] | FOREACH (b IN [chain[i + 1]] | CREATE (a)-[:NEXT]->(b))))
    RETURN sum(size(chain)) AS created
    """,
    example={"runs": [{"workflow_id": "w1", "initiator_id": "u1", "props": {"id": "r-demo"}, "tasks": [
        {"step_id": "s1", "person_id": "u1", "props": {"id": "t-demo", "round": 1, "created_at": 0}}]}]},
    writes=True,
)

CREATE_DEMO_COMMENTS = cypher(
    "analytics.create_demo_comments",
    """
    UNWIND $rows AS row
    MATCH (r:WorkflowRun {id: row.run_id})
    MATCH (me:Person {id: row.author_id})
    MATCH (t:Task {id: row.task_id})
    CREATE (c:Comment) SET c += row.props
    CREATE (c)-[:IN_RUN]->(r)
    CREATE (c)-[:BY]->(me)
    CREATE (c)-[:ON]->(t)
    RETURN count(c) AS created
    """,
    example={"rows": [{"run_id": "r1", "author_id": "u1", "task_id": "t1",
                       "props": {"id": "c-demo", "text": "ok", "at": 0}}]},
    writes=True,
)
