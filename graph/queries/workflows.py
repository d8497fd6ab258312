"""Workflow engine: definitions (version chains of steps), runs, tasks, decisions, inbox, notifications.

Model:
``(:Workflow {key, version, current})-[:FIRST]->(:Step)-[:NEXT]->(:Step)…`` — every published
version is its own ``Workflow`` node (``key`` is the stable name; ``PREVIOUS_VERSION`` links them).
``(:WorkflowRun)-[:FOLLOWS]->(:Workflow)``, ``-[:INITIATED_BY]->(:Person)``, ``-[:CC]->(:Person)``,
``-[:FIRST]->(:Task)``; ``(:Task)-[:OF_RUN]->(:WorkflowRun)``, ``-[:NEXT]->(:Task)``,
``-[:INSTANCE_OF]->(:Step)``, ``-[:ASSIGNED_TO]->(:Person|:Department|:Position)``;
``(:Decision)-[:ON]->(:Task)``, ``-[:IN_RUN]->(:WorkflowRun)``, ``-[:BY]->(:Person)``;
``(:Comment)-[:ON]->(:Task)``, ``-[:IN_RUN]->``, ``-[:BY]->``; ``(:Notification)-[:TO]->(:Person)``,
``-[:ABOUT]->(:Task)``.

FalkorDB runs each statement atomically but has no multi-statement transactions, so every state
change that must not half-happen is ONE statement, guarded by the state it expects (a task's
status and assignee, a run's ``round``): a lost race changes nothing and returns no row.
"""

from graph.cypher import cypher
from graph.queries.audit import audited

# -- shared fragments (constant text, never user values) ----------------------------------------

# Creates the tasks of ``$tasks`` in run ``r``: its step, the previous task (or the run's FIRST
# edge) and the assignee, which is a person or a department / position queue.
_CREATE_TASKS = """
    WITH r
    UNWIND $tasks AS row
    CREATE (t:Task) SET t += row.props
    CREATE (t)-[:OF_RUN]->(r)
    WITH r, t, row
    OPTIONAL MATCH (s:Step {id: row.step_id})
    OPTIONAL MATCH (prev:Task {id: row.prev_id})
    OPTIONAL MATCH (ap:Person {id: row.person_id})
    OPTIONAL MATCH (ad:Department {id: row.department_id})
    OPTIONAL MATCH (aq:Position {id: row.position_id})
    FOREACH (x IN CASE WHEN s IS NULL THEN [] ELSE [s] END | CREATE (t)-[:INSTANCE_OF]->(x))
    FOREACH (x IN CASE WHEN prev IS NULL THEN [] ELSE [prev] END | CREATE (x)-[:NEXT]->(t))
    FOREACH (x IN CASE WHEN prev IS NULL THEN [r] ELSE [] END | CREATE (x)-[:FIRST]->(t))
    FOREACH (x IN CASE WHEN ap IS NULL THEN [] ELSE [ap] END | CREATE (t)-[:ASSIGNED_TO]->(x))
    FOREACH (x IN CASE WHEN ad IS NULL THEN [] ELSE [ad] END | CREATE (t)-[:ASSIGNED_TO]->(x))
    FOREACH (x IN CASE WHEN aq IS NULL THEN [] ELSE [aq] END | CREATE (t)-[:ASSIGNED_TO]->(x))
    RETURN count(t) AS created
"""

# Open tasks of run ``r`` are cancelled when the run moves on (any-of siblings, withdrawn runs...).
_CANCEL_OPEN = """
    WITH r, me, [(o:Task)-[:OF_RUN]->(r) WHERE o.status IN ['open', 'info_requested'] | o] AS stale
    FOREACH (o IN stale | SET o.status = 'cancelled', o.outcome = 'cancelled', o.completed_at = $now)
"""

_RECORD_DECISION = """
    CREATE (d:Decision) SET d += $decision
    CREATE (d)-[:IN_RUN]->(r)
    CREATE (d)-[:BY]->(me)
"""

_TASK_PROPS = {"id": "t1", "kind": "approval", "status": "open", "run_id": "r1", "created_at": 0}
_TASK_ROW = {"props": _TASK_PROPS, "step_id": "s1", "prev_id": None, "person_id": "u1", "department_id": None,
             "position_id": None}
_DECISION = {"id": "d1", "kind": "approve", "at": 0, "comment": "", "task_id": "t1", "run_id": "r1"}

# -- definitions -----------------------------------------------------------------------------------

WORKFLOW_VERSIONS = cypher(
    "workflows.versions",
    """
    MATCH (w:Workflow {key: $key})
    RETURN w.id AS id, w.version AS version, w.hash AS hash, w.current AS current, w.published_at AS published_at
    ORDER BY w.version DESC
    """,
    example={"key": "expense"},
)

CREATE_VERSION = cypher(
    "workflows.create_version",
    """
    CREATE (w:Workflow) SET w += $workflow
    WITH w
    UNWIND $steps AS row
    CREATE (s:Step) SET s += row
    FOREACH (x IN CASE WHEN row.position = 0 THEN [s] ELSE [] END | CREATE (w)-[:FIRST]->(x))
    RETURN DISTINCT w.id AS id
    """,
    example={"workflow": {"id": "w1", "key": "expense", "version": 1, "current": False},
             "steps": [{"id": "s1", "key": "head", "position": 0}]},
    writes=True,
)

LINK_STEPS = cypher(
    "workflows.link_steps",
    """
    UNWIND $links AS row
    MATCH (a:Step {id: row.from_id})
    MATCH (b:Step {id: row.to_id})
    MERGE (a)-[:NEXT]->(b)
    RETURN count(a) AS count
    """,
    example={"links": [{"from_id": "s1", "to_id": "s2"}]},
    writes=True,
)

# The new version becomes current only once its whole chain exists.
MAKE_CURRENT = cypher(
    "workflows.make_current",
    """
    MATCH (w:Workflow {id: $id})
    OPTIONAL MATCH (old:Workflow {key: w.key}) WHERE old.current = true AND old.id <> w.id
    FOREACH (o IN CASE WHEN old IS NULL THEN [] ELSE [old] END |
        SET o.current = false
        MERGE (w)-[:PREVIOUS_VERSION]->(o))
    SET w.current = true
    RETURN DISTINCT w.id AS id
    """,
    example={"id": "w1"},
    writes=True,
)

CURRENT_WORKFLOW = cypher(
    "workflows.current",
    """
    MATCH (w:Workflow {key: $key}) WHERE w.current = true
    RETURN w AS workflow
    """,
    example={"key": "expense"},
)

WORKFLOW_BY_ID = cypher(
    "workflows.by_id",
    "MATCH (w:Workflow {id: $id}) RETURN w AS workflow",
    example={"id": "w1"},
)

LIST_CURRENT = cypher(
    "workflows.list_current",
    """
    MATCH (w:Workflow) WHERE w.current = true
    RETURN w.id AS id, w.key AS key, w.version AS version, w.name AS name, w.name_en AS name_en
    ORDER BY w.key
    """,
)

WORKFLOW_STEPS = cypher(
    "workflows.steps",
    """
    MATCH (w:Workflow {id: $id})-[:FIRST]->(first:Step)
    MATCH (first)-[:NEXT*0..100]->(s:Step)
    RETURN s.id AS id, s.key AS key, s.position AS position
    ORDER BY s.position
    """,
    example={"id": "w1"},
)

# -- organisation look-ups for routing and authorisation -----------------------------------------

PERSON_CONTEXT = cypher(
    "workflows.person_context",
    """
    MATCH (p:Person {id: $person_id})
    RETURN p.id AS id, p.name AS name, p.username AS username, p.active AS active,
           [(p)-[:MEMBER_OF]->(d:Department) | d.id] AS departments,
           [(p)-[:HOLDS]->(s:Position) | s.id] AS positions,
           [(p)-[:HAS_ROLE]->(r:Role) | r.name] AS roles
    """,
    example={"person_id": "u1"},
)

QUEUE_BY_CODE = cypher(
    "workflows.queue_by_code",
    """
    OPTIONAL MATCH (d:Department {code: $code}) WHERE $kind = 'department'
    OPTIONAL MATCH (s:Position {code: $code}) WHERE $kind = 'position'
    WITH coalesce(d, s) AS q
    WHERE q IS NOT NULL
    RETURN q.id AS id, q.name AS name, q.name_en AS name_en,
           [(m:Person)-[:MEMBER_OF|HOLDS]->(q) WHERE m.active = true | m.id] AS members
    """,
    example={"kind": "department", "code": "FIN"},
)

QUEUE_BY_ID = cypher(
    "workflows.queue_by_id",
    """
    OPTIONAL MATCH (d:Department {id: $id}) WHERE $kind = 'department'
    OPTIONAL MATCH (s:Position {id: $id}) WHERE $kind = 'position'
    WITH coalesce(d, s) AS q
    WHERE q IS NOT NULL
    RETURN q.id AS id, q.name AS name,
           [(m:Person)-[:MEMBER_OF|HOLDS]->(q) WHERE m.active = true | m.id] AS members
    """,
    example={"kind": "department", "id": "d1"},
)

DEPARTMENT_HEADS = cypher(
    "workflows.department_heads",
    """
    MATCH (h:Person)-[:HEADS]->(d:Department {code: $code})
    WHERE h.active = true
    RETURN h.id AS id, h.name AS name
    ORDER BY h.username
    """,
    example={"code": "FIN"},
)

PERSON_BY_USERNAME = cypher(
    "workflows.person_by_username",
    "MATCH (p:Person {username: $username}) RETURN p.id AS id, p.name AS name, p.active AS active",
    example={"username": "li.na"},
)

PEOPLE_BY_ID = cypher(
    "workflows.people_by_id",
    """
    UNWIND $ids AS pid
    MATCH (p:Person {id: pid})
    RETURN p.id AS id, p.name AS name, p.active AS active
    """,
    example={"ids": ["u1"]},
)

INITIATOR_HEADS = cypher(
    "workflows.initiator_heads",
    """
    MATCH (p:Person {id: $person_id})-[:MEMBER_OF]->(d:Department)
    OPTIONAL MATCH (h:Person)-[:HEADS]->(d) WHERE h.id <> p.id
    OPTIONAL MATCH (d)-[:PART_OF]->(:Department)<-[:HEADS]-(ph:Person) WHERE ph.id <> p.id
    RETURN d.code AS code, h.id AS head_id, h.name AS head_name, ph.id AS parent_head_id,
           ph.name AS parent_head_name
    ORDER BY code
    """,
    example={"person_id": "u1"},
)

# Budget owner of a project: a member of the project holding the position, else the holder in the
# department tree that contributes most of the project's members.
BUDGET_OWNERS = cypher(
    "workflows.budget_owners",
    """
    MATCH (j:Project {code: $code})
    OPTIONAL MATCH (j)<-[:MEMBER_OF]-(m:Person)-[:MEMBER_OF]->(:Department)-[:PART_OF*0..8]->(d:Department)
                   <-[:MEMBER_OF]-(o:Person)-[:HOLDS]->(:Position {code: $position})
    WITH j, o, count(DISTINCT m) AS weight
    RETURN j.id AS project_id, o.id AS id, o.name AS name, o.username AS username, weight,
           size([(j)<-[:MEMBER_OF]-(o) | 1]) > 0 AS member
    ORDER BY member DESC, weight DESC, username
    """,
    example={"code": "ERP-2026", "position": "BUDGET-OWNER"},
)

PROJECT_CODES = cypher(
    "workflows.project_codes",
    "MATCH (j:Project) WHERE j.active = true RETURN j.code AS code",
)

ADMINS = cypher(
    "workflows.people_with_role",
    "MATCH (p:Person)-[:HAS_ROLE]->(:Role {name: $role}) WHERE p.active = true RETURN p.id AS id ORDER BY id",
    example={"role": "admin"},
)

# -- runs and tasks ----------------------------------------------------------------------------------

START_RUN = cypher(
    "workflows.start_run",
    """
    MATCH (me:Person {id: $initiator_id})
    OPTIONAL MATCH (w:Workflow {id: $workflow_id})
    CREATE (r:WorkflowRun) SET r += $run
    CREATE (r)-[:INITIATED_BY]->(me)
    FOREACH (x IN CASE WHEN w IS NULL THEN [] ELSE [w] END | CREATE (r)-[:FOLLOWS]->(x))
    WITH r
    OPTIONAL MATCH (c:Person) WHERE c.id IN $cc
    WITH r, collect(c) AS copied
    FOREACH (c IN copied | CREATE (r)-[:CC]->(c))
    """ + _CREATE_TASKS,
    example={"initiator_id": "u1", "workflow_id": "w1", "run": {"id": "r1", "round": 1, "status": "running"},
             "cc": ["u2"], "tasks": [_TASK_ROW]},
    writes=True,
)

# A run started by a person, with its ``workflow.start`` audit event in the same statement.
START_RUN_AUDITED = audited(START_RUN, before="OPTIONAL MATCH (c:Person) WHERE c.id IN $cc", carry="r", kind="run")

ADVANCE_RUN = cypher(
    "workflows.advance_run",
    """
    MATCH (r:WorkflowRun {id: $run_id}) WHERE r.round = $round
    SET r += $run
    WITH r, null AS me
    """ + _CANCEL_OPEN + _CREATE_TASKS,
    example={"run_id": "r1", "round": 1, "run": {"round": 2}, "now": 0, "tasks": [_TASK_ROW]},
    writes=True,
)

# A run that ends without acceptance feedback: closed, whatever is still open cancelled.
END_RUN = cypher(
    "workflows.end_run",
    """
    MATCH (r:WorkflowRun {id: $run_id}) WHERE r.round = $round
    SET r += $run
    WITH r, null AS me
    """ + _CANCEL_OPEN + "RETURN r.id AS id",
    example={"run_id": "r1", "round": 1, "run": {"status": "closed"}, "now": 0},
    writes=True,
)

CLOSE_RUN = cypher(
    "workflows.close_run",
    """
    MATCH (r:WorkflowRun {id: $run_id}) WHERE r.round = $round
    MATCH (me:Person {id: $actor_id})
    SET r += $run
    """ + _CANCEL_OPEN + "WITH r, me" + _RECORD_DECISION + "RETURN d.id AS id",
    example={"run_id": "r1", "round": 1, "actor_id": "u1", "run": {"status": "closed"}, "now": 0,
             "decision": _DECISION},
    writes=True,
)

# The initiator's withdrawal, with its ``workflow.withdraw`` audit event in the same statement.
CLOSE_RUN_AUDITED = audited(CLOSE_RUN, before="RETURN d.id AS id", carry="d", kind="run")

# Extra tasks in the current round (加签): the round must not have moved on.
ADD_TASKS = cypher(
    "workflows.add_tasks",
    """
    MATCH (r:WorkflowRun {id: $run_id}) WHERE r.round = $round
    """ + _CREATE_TASKS,
    example={"run_id": "r1", "round": 1, "tasks": [_TASK_ROW]},
    writes=True,
)

# A decision on a task: the task must still be in an expected status and with the expected assignee.
DECIDE = cypher(
    "workflows.decide",
    """
    MATCH (t:Task {id: $task_id})-[:OF_RUN]->(r:WorkflowRun)
    WHERE t.status IN $from_statuses AND t.assignee_id = $assignee_id
    MATCH (me:Person {id: $actor_id})
    SET t += $task, r += $run
    """ + _RECORD_DECISION + "CREATE (d)-[:ON]->(t) RETURN d.id AS id",
    example={"task_id": "t1", "from_statuses": ["open"], "assignee_id": "u1", "actor_id": "u1",
             "task": {"status": "done"}, "run": {}, "decision": _DECISION},
    writes=True,
)

# Claim, delegate, reassign: the assignment edge moves to a person or a queue. A claim (``queue_id`` in
# ``$task``) remembers the queue it was taken from: its members still take part in the run.
ASSIGN = cypher(
    "workflows.assign",
    """
    MATCH (t:Task {id: $task_id})-[a:ASSIGNED_TO]->(old)
    WHERE t.status IN ['open', 'info_requested'] AND t.assignee_id = $assignee_id
    FOREACH (x IN CASE WHEN $task.queue_id IS NULL THEN [] ELSE [old] END | MERGE (t)-[:CLAIMED_FROM]->(x))
    DELETE a
    WITH DISTINCT t
    MATCH (t)-[:OF_RUN]->(r:WorkflowRun)
    MATCH (me:Person {id: $actor_id})
    OPTIONAL MATCH (ap:Person {id: $person_id})
    OPTIONAL MATCH (ad:Department {id: $department_id})
    OPTIONAL MATCH (aq:Position {id: $position_id})
    FOREACH (x IN CASE WHEN ap IS NULL THEN [] ELSE [ap] END | CREATE (t)-[:ASSIGNED_TO]->(x))
    FOREACH (x IN CASE WHEN ad IS NULL THEN [] ELSE [ad] END | CREATE (t)-[:ASSIGNED_TO]->(x))
    FOREACH (x IN CASE WHEN aq IS NULL THEN [] ELSE [aq] END | CREATE (t)-[:ASSIGNED_TO]->(x))
    SET t += $task
    """ + _RECORD_DECISION + "CREATE (d)-[:ON]->(t) RETURN d.id AS id",
    example={"task_id": "t1", "assignee_id": "d1", "actor_id": "u1", "person_id": "u1", "department_id": None,
             "position_id": None, "task": {"assignee_id": "u1"}, "decision": _DECISION},
    writes=True,
)

# A decision about a run that changes no task (urge, comment-free notes).
NOTE_ON_RUN = cypher(
    "workflows.note_on_run",
    """
    MATCH (r:WorkflowRun {id: $run_id})
    MATCH (me:Person {id: $actor_id})
    OPTIONAL MATCH (t:Task {id: $task_id})
    """ + _RECORD_DECISION + """
    FOREACH (x IN CASE WHEN t IS NULL THEN [] ELSE [t] END | CREATE (d)-[:ON]->(x))
    RETURN d.id AS id
    """,
    example={"run_id": "r1", "actor_id": "u1", "task_id": "t1", "decision": _DECISION},
    writes=True,
)

TASK_CONTEXT = cypher(
    "workflows.task_context",
    """
    MATCH (t:Task {id: $task_id})-[:OF_RUN]->(r:WorkflowRun)
    MATCH (me:Person {id: $person_id})
    OPTIONAL MATCH (r)-[:FOLLOWS]->(w:Workflow)
    OPTIONAL MATCH (t)-[:ASSIGNED_TO]->(a)
    RETURN t AS task, r AS run, w.definition AS definition, labels(a) AS assignee_labels,
           size([(me)-[:MEMBER_OF|HOLDS]->(a) | 1]) > 0 AS in_queue
    """,
    example={"task_id": "t1", "person_id": "u1"},
)

RUN_CONTEXT = cypher(
    "workflows.run_context",
    """
    MATCH (r:WorkflowRun {id: $run_id})
    OPTIONAL MATCH (r)-[:FOLLOWS]->(w:Workflow)
    RETURN r AS run, w.definition AS definition, w.id AS workflow_id,
           [(t:Task)-[:OF_RUN]->(r) | t] AS tasks,
           [(r)-[:CC]->(c:Person) | c.id] AS cc
    """,
    example={"run_id": "r1"},
)

RUN_DECISIONS = cypher(
    "workflows.run_decisions",
    """
    MATCH (d:Decision)-[:IN_RUN]->(r:WorkflowRun {id: $run_id})
    MATCH (d)-[:BY]->(p:Person)
    RETURN d AS decision, p.id AS by_id, p.name AS by_name
    ORDER BY d.at, d.seq
    """,
    example={"run_id": "r1"},
)

RUN_ACTED = cypher(
    "workflows.run_acted",
    """
    MATCH (d:Decision)-[:IN_RUN]->(r:WorkflowRun {id: $run_id})
    WHERE d.kind IN $kinds
    RETURN count(d) AS acted
    """,
    example={"run_id": "r1", "kinds": ["approve"]},
)

MARK_OPENED = cypher(
    "workflows.mark_opened",
    """
    MATCH (t:Task {id: $task_id}) WHERE t.first_opened_at IS NULL
    SET t.first_opened_at = $now
    RETURN t.id AS id
    """,
    example={"task_id": "t1", "now": 0},
    writes=True,
)

ADD_COMMENT = cypher(
    "workflows.add_comment",
    """
    MATCH (r:WorkflowRun {id: $run_id})
    MATCH (me:Person {id: $actor_id})
    OPTIONAL MATCH (t:Task {id: $task_id})
    CREATE (c:Comment) SET c += $comment
    CREATE (c)-[:IN_RUN]->(r)
    CREATE (c)-[:BY]->(me)
    FOREACH (x IN CASE WHEN t IS NULL THEN [] ELSE [t] END | CREATE (c)-[:ON]->(x))
    RETURN c.id AS id
    """,
    example={"run_id": "r1", "actor_id": "u1", "task_id": None, "comment": {"id": "c1", "text": "ok", "at": 0}},
    writes=True,
)

RUN_COMMENTS = cypher(
    "workflows.run_comments",
    """
    MATCH (c:Comment)-[:IN_RUN]->(r:WorkflowRun {id: $run_id})
    MATCH (c)-[:BY]->(p:Person)
    RETURN c AS comment, p.id AS by_id, p.name AS by_name
    ORDER BY c.at
    """,
    example={"run_id": "r1"},
)
