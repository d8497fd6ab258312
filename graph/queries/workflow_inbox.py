"""Workflow engine, the person's side: inbox lists and counts, reminders, escalations, notifications.

Same model as :mod:`graph.queries.workflows` (runs, tasks and their edges); split off so each
catalogue module stays readable.
"""

from graph.cypher import Statement, cypher

# -- inbox ---------------------------------------------------------------------------------------------
# Filters sit behind WITH so the planner starts from the person, never from a property index.
# Order: overdue first (oldest deadline first), then by deadline, where an item without one counts as due
# $undated after it was created, so a new undated task ranks among this week's work, not after next year's.
_ORDER = {"now": 0, "undated": 3 * 24 * 3_600_000}

INBOX_MINE = cypher(
    "workflows.inbox_mine",
    """
    MATCH (me:Person {id: $person_id})<-[:ASSIGNED_TO]-(t:Task)
    WITH t WHERE t.status IN $statuses
      AND ($workflow_key IS NULL OR t.workflow_key = $workflow_key)
      AND ($q IS NULL OR t.search CONTAINS $q)
    RETURN t AS task
    ORDER BY CASE WHEN t.due_at < $now THEN 0 ELSE 1 END, coalesce(t.due_at, t.created_at + $undated) ASC,
             t.created_at ASC
    SKIP $skip LIMIT $limit
    """,
    example={"person_id": "u1", "statuses": ["open"], "workflow_key": None, "q": None, **_ORDER, "skip": 0,
             "limit": 50},
)

INBOX_QUEUES = cypher(
    "workflows.inbox_queues",
    """
    MATCH (me:Person {id: $person_id})-[:MEMBER_OF|HOLDS]->(q)<-[:ASSIGNED_TO]-(t:Task)
    WITH DISTINCT t, q WHERE t.status = 'open'
      AND ($workflow_key IS NULL OR t.workflow_key = $workflow_key)
      AND ($q IS NULL OR t.search CONTAINS $q)
    RETURN t AS task, q.id AS queue_id, q.name AS queue_name
    ORDER BY CASE WHEN t.due_at < $now THEN 0 ELSE 1 END, coalesce(t.due_at, t.created_at + $undated) ASC,
             t.created_at ASC
    SKIP $skip LIMIT $limit
    """,
    example={"person_id": "u1", "workflow_key": None, "q": None, **_ORDER, "skip": 0, "limit": 50},
)

def _inbox_runs(name: str, relationship: str) -> Statement:
    """Runs tied to the person by ``relationship`` (a constant of this module, never user input)."""
    return cypher(
        name,
        f"""
    MATCH (me:Person {{id: $person_id}})<-[:{relationship}]-(r:WorkflowRun)
    WITH r WHERE r.status IN $statuses
      AND ($workflow_key IS NULL OR r.workflow_key = $workflow_key)
      AND ($q IS NULL OR r.search CONTAINS $q)
    RETURN r AS run
    ORDER BY CASE WHEN r.due_at < $now THEN 0 ELSE 1 END, coalesce(r.due_at, r.started_at + $undated) ASC,
             r.started_at DESC
    SKIP $skip LIMIT $limit
    """,
        example={"person_id": "u1", "statuses": ["running"], "workflow_key": None, "q": None, **_ORDER,
                 "skip": 0, "limit": 50},
    )


INBOX_STARTED = _inbox_runs("workflows.inbox_started", "INITIATED_BY")
INBOX_COPIED = _inbox_runs("workflows.inbox_copied", "CC")

# The badge numbers of one person: their open tasks (overdue, due soon), their queues' unclaimed tasks, the
# active runs they started or are copied on, and their unread notices. Shared with the page header's statement.
COUNTS_BODY = """
    MATCH (me:Person {id: $person_id})
    OPTIONAL MATCH (me)<-[:ASSIGNED_TO]-(t:Task) WHERE t.status IN ['open', 'info_requested']
    WITH me, count(t) AS mine,
         sum(CASE WHEN t.due_at < $now THEN 1 ELSE 0 END) AS overdue,
         sum(CASE WHEN t.due_at >= $now AND t.due_at < $soon THEN 1 ELSE 0 END) AS due_soon
    OPTIONAL MATCH (me)-[:MEMBER_OF|HOLDS]->(q)<-[:ASSIGNED_TO]-(u:Task) WHERE u.status = 'open'
    WITH me, mine, overdue, due_soon, count(DISTINCT u) AS queues
    OPTIONAL MATCH (me)<-[:INITIATED_BY]-(r:WorkflowRun) WHERE r.status IN $active
    WITH me, mine, overdue, due_soon, queues, count(r) AS started
    OPTIONAL MATCH (me)<-[:CC]-(c:WorkflowRun) WHERE c.status IN $active
    WITH me, mine, overdue, due_soon, queues, started, count(c) AS copied
    OPTIONAL MATCH (me)<-[:TO]-(n:Notification) WHERE n.read_at IS NULL
    WITH me, mine, overdue, due_soon, queues, started, copied, count(n) AS unread
"""
COUNTS_EXAMPLE = {"person_id": "u1", "now": 0, "soon": 0, "active": ["running"]}

INBOX_COUNTS = cypher(
    "workflows.inbox_counts",
    COUNTS_BODY + "RETURN mine, overdue, due_soon, queues, started, copied, unread",
    example=COUNTS_EXAMPLE,
)

# -- reminders and notifications --------------------------------------------------------------------

REMINDER_CANDIDATES = cypher(
    "workflows.reminder_candidates",
    """
    MATCH (t:Task) WHERE t.due_at <= $horizon
    WITH t WHERE t.status = 'open'
    RETURN t AS task
    ORDER BY t.due_at
    LIMIT $limit
    """,
    example={"horizon": 0, "limit": 1000},
)

TASK_RECIPIENTS = cypher(
    "workflows.task_recipients",
    """
    MATCH (t:Task {id: $task_id})-[:ASSIGNED_TO]->(a)
    OPTIONAL MATCH (a)<-[:HOLDS]-(:Person)-[:MEMBER_OF]->(hd:Department)
    WITH a, collect(DISTINCT hd.id) AS holder_units
    RETURN labels(a) AS kinds, a.id AS assignee_id, holder_units,
           [(a)<-[:MEMBER_OF|HOLDS]-(m:Person) WHERE m.active = true | m.id] AS members,
           [(a)-[:MEMBER_OF]->(d:Department) | d.id] AS own_units
    """,
    example={"task_id": "t1"},
)

UNIT_HEADS = cypher(
    "workflows.unit_heads",
    """
    UNWIND $unit_ids AS uid
    MATCH (u:Department {id: uid})
    OPTIONAL MATCH (h:Person)-[:HEADS]->(u)
    WITH u, collect(DISTINCT h.id) AS heads
    OPTIONAL MATCH (u)-[:PART_OF]->(parent:Department)
    OPTIONAL MATCH (ph:Person)-[:HEADS]->(parent)
    RETURN u.id AS unit_id, heads, collect(DISTINCT parent.id) AS parent_ids,
           collect(DISTINCT ph.id) AS parent_heads
    """,
    example={"unit_ids": ["d1"]},
)

MARK_ESCALATED = cypher(
    "workflows.mark_escalated",
    """
    MATCH (t:Task {id: $task_id}) WHERE t.escalated_at IS NULL
    SET t.escalated_at = $now
    RETURN t.id AS id
    """,
    example={"task_id": "t1", "now": 0},
    writes=True,
)

# Idempotent: a notification id is derived from what it is about, so producing it again is a no-op.
NOTIFY = cypher(
    "workflows.notify",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    WITH p, row WHERE NOT row.props.kind IN coalesce(p.notify_muted, [])
    MERGE (n:Notification {id: row.props.id})
    ON CREATE SET n += row.props, n.token = $token
    WITH n, p, row, n.token = $token AS created
    OPTIONAL MATCH (t:Task {id: row.task_id})
    FOREACH (x IN CASE WHEN created THEN [p] ELSE [] END | CREATE (n)-[:TO]->(x))
    FOREACH (x IN CASE WHEN created AND t IS NOT NULL THEN [t] ELSE [] END | CREATE (n)-[:ABOUT]->(x))
    RETURN n.id AS id, created
    """,
    example={"token": "x", "rows": [{"person_id": "u1", "task_id": "t1",
                                     "props": {"id": "n1", "kind": "due_soon", "created_at": 0}}]},
    writes=True,
)

NOTIFICATIONS_FOR = cypher(
    "workflows.notifications_for",
    """
    MATCH (me:Person {id: $person_id})<-[:TO]-(n:Notification)
    WITH n WHERE $unread_only = false OR n.read_at IS NULL
    RETURN n AS notification
    ORDER BY n.created_at DESC
    LIMIT $limit
    """,
    example={"person_id": "u1", "unread_only": False, "limit": 50},
)

MARK_NOTIFICATION_READ = cypher(
    "workflows.mark_notification_read",
    """
    MATCH (me:Person {id: $person_id})<-[:TO]-(n:Notification {id: $id})
    WHERE n.read_at IS NULL
    SET n.read_at = $now
    RETURN n.id AS id
    """,
    example={"person_id": "u1", "id": "n1", "now": 0},
    writes=True,
)
