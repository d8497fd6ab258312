"""The audit trail: append-only ``AuditEvent`` nodes. No statement here (or anywhere) edits or deletes one."""

from graph.cypher import Statement, cypher

# target_kind -> label of the node an event links to. Labels come from this table, never from input.
TARGET_LABELS: dict[str, str] = {
    "person": "Person", "department": "Department", "position": "Position", "project": "Project",
    "document": "Document", "version": "Version", "domain": "Domain", "task": "Task",
    "comment": "Comment", "workflow": "Workflow", "step": "Step", "workflow_run": "WorkflowRun",
    "decision": "Decision",
}

_EVENT = """
    CREATE (e:AuditEvent {id: $id, at: $at, actor_id: $actor_id, action: $action, target_kind: $target_kind,
                          target_id: $target_id, client: $client, detail: $detail})
    WITH e
    OPTIONAL MATCH (a:Person {id: $actor_id})
    FOREACH (x IN CASE WHEN a IS NULL THEN [] ELSE [a] END | CREATE (e)-[:AUDIT_BY]->(x))
"""
_EXAMPLE = {"id": "e1", "at": 0, "actor_id": "u1", "action": "login.success", "target_kind": "person",
            "target_id": "u1", "client": "127.0.0.1", "detail": "{}"}

RECORD = cypher("audit.record", _EVENT + " RETURN e.id AS id", example=_EXAMPLE, writes=True)


def _record_on(kind: str, label: str) -> Statement:
    return cypher(
        f"audit.record_on_{kind}",
        _EVENT + f"""
        WITH e
        OPTIONAL MATCH (t:{label} {{id: $target_id}})
        FOREACH (x IN CASE WHEN t IS NULL THEN [] ELSE [t] END | CREATE (e)-[:AUDIT_ON]->(x))
        RETURN e.id AS id
        """,
        example=_EXAMPLE,
        writes=True,
    )


RECORD_ON: dict[str, Statement] = {kind: _record_on(kind, label) for kind, label in TARGET_LABELS.items()}

# The event of a change, written BY the statement that makes the change: FalkorDB applies one statement
# atomically (and Neo4j one transaction), so the change and its record are stored together or not at all.
# Appended where the write statement's previous clause carries ``carry`` (variables, comma-separated), one row
# per change written (no row: no change, no event); the event comes from ``$audit_*`` parameters
# (:meth:`graph.audit.Event.statement_params`) and links to its actor and to its target of kind ``kind`` (when
# that kind is one the trail links to, as :func:`graph.audit.record` does).
def with_event(carry: str, kind: str, detail: str = "$audit_detail") -> str:
    label = TARGET_LABELS.get(kind)
    target = "" if label is None else f"""
    WITH {carry}, audit_event
    OPTIONAL MATCH (audit_on:{label} {{id: $audit_target_id}})
    FOREACH (x IN CASE WHEN audit_on IS NULL THEN [] ELSE [audit_on] END | CREATE (audit_event)-[:AUDIT_ON]->(x))"""
    return f"""
    CREATE (audit_event:AuditEvent {{id: $audit_id, at: $audit_at, actor_id: $audit_actor_id, action: $audit_action,
                                     target_kind: $audit_target_kind, target_id: $audit_target_id,
                                     client: $audit_client, detail: {detail}}})
    WITH {carry}, audit_event
    OPTIONAL MATCH (audit_by:Person {{id: $audit_actor_id}})
    FOREACH (x IN CASE WHEN audit_by IS NULL THEN [] ELSE [audit_by] END |
             CREATE (audit_event)-[:AUDIT_BY]->(x)){target}
    WITH {carry}
"""


EVENT_EXAMPLE = {f"audit_{k}": v for k, v in _EXAMPLE.items()}


def audited(statement: Statement, *, before: str, carry: str, kind: str, detail: str = "$audit_detail") -> Statement:
    """``statement`` recording its own audit event: :func:`with_event` goes in just before its clause
    ``before`` (e.g. its RETURN), where ``carry`` are the variables in scope. ``detail``: the expression of
    the event's detail, when part of it is only known inside the statement."""
    head, sep, tail = statement.text.partition(" ".join(before.split()))
    assert sep and head, f"{statement.name}: no {before!r}"
    return cypher(statement.name + "_audited", head + with_event(carry, kind, detail) + sep + tail,
                  example={**statement.example, **EVENT_EXAMPLE}, writes=True)

# The same events in bulk (bulk ingestion): one statement for many, each row shaped as the parameters above.
_EVENTS = """
    UNWIND $events AS ev
    CREATE (e:AuditEvent {id: ev.id, at: ev.at, actor_id: ev.actor_id, action: ev.action, target_kind: ev.target_kind,
                          target_id: ev.target_id, client: ev.client, detail: ev.detail})
    WITH e, ev
    OPTIONAL MATCH (a:Person {id: ev.actor_id})
    FOREACH (x IN CASE WHEN a IS NULL THEN [] ELSE [a] END | CREATE (e)-[:AUDIT_BY]->(x))
"""

RECORD_MANY = cypher("audit.record_many", _EVENTS + " RETURN count(e) AS recorded", example={"events": [_EXAMPLE]},
                     writes=True)


def _record_many_on(kind: str, label: str) -> Statement:
    return cypher(
        f"audit.record_many_on_{kind}",
        _EVENTS + f"""
        WITH e, ev
        OPTIONAL MATCH (t:{label} {{id: ev.target_id}})
        FOREACH (x IN CASE WHEN t IS NULL THEN [] ELSE [t] END | CREATE (e)-[:AUDIT_ON]->(x))
        RETURN count(e) AS recorded
        """,
        example={"events": [_EXAMPLE]},
        writes=True,
    )


RECORD_MANY_ON: dict[str, Statement] = {kind: _record_many_on(kind, label) for kind, label in TARGET_LABELS.items()}

# Every filter is optional: a null parameter lets every event through.
_FILTER = """
    MATCH (e:AuditEvent)
    WHERE e.at >= $since AND e.at < $until
    WITH e
    WHERE ($actor_id IS NULL OR e.actor_id = $actor_id)
      AND ($action IS NULL OR e.action = $action OR e.action STARTS WITH ($action + '.'))
      AND ($target_kind IS NULL OR e.target_kind = $target_kind)
      AND ($target_id IS NULL OR e.target_id = $target_id)
"""
_FILTER_EXAMPLE = {"since": 0, "until": 2**53, "actor_id": None, "action": None, "target_kind": None,
                   "target_id": None}

LIST_EVENTS = cypher(
    "audit.list_events",
    _FILTER + """
    WITH e ORDER BY e.at DESC, e.id DESC SKIP $skip LIMIT $limit
    OPTIONAL MATCH (e)-[:AUDIT_BY]->(a:Person)
    OPTIONAL MATCH (e)-[:AUDIT_ON]->(t)
    RETURN e.id AS id, e.at AS at, e.actor_id AS actor_id, a.username AS actor_username, e.action AS action,
           e.target_kind AS target_kind, e.target_id AS target_id, e.client AS client, e.detail AS detail,
           t IS NOT NULL AS target_linked
    ORDER BY at DESC, id DESC
    """,
    example={**_FILTER_EXAMPLE, "skip": 0, "limit": 50},
)

COUNT_EVENTS = cypher(
    "audit.count_events",
    _FILTER + " RETURN count(e) AS count",
    example=_FILTER_EXAMPLE,
)

ACTIONS = cypher(
    "audit.actions",
    "MATCH (e:AuditEvent) RETURN DISTINCT e.action AS action ORDER BY action",
)

# One document's history, filtered to a list of actions IN THE QUERY, before the limit: the provenance
# timeline (changes) and the "who read it" list (reads) each get their newest ``$limit`` events, however
# many of the other kind there are. Starts from the document's id index and walks its AUDIT_ON edges.
DOCUMENT_HISTORY = cypher(
    "audit.document_history",
    """
    MATCH (d:Document {id: $document_id})<-[:AUDIT_ON]-(e:AuditEvent)
    WITH e WHERE e.action IN $actions
    WITH e ORDER BY e.at DESC, e.id DESC LIMIT $limit
    OPTIONAL MATCH (e)-[:AUDIT_BY]->(a:Person)
    RETURN e.id AS id, e.at AS at, e.actor_id AS actor_id, a.username AS actor_username, a.name AS actor_name,
           e.action AS action, e.detail AS detail
    ORDER BY at DESC, id DESC
    """,
    example={"document_id": "doc1", "actions": ["document.share"], "limit": 200},
)
