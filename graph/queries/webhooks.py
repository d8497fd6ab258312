"""Outgoing webhooks, notification channels and their delivery log.

Statements that read the audit trail only read it (it is append-only: see graph/audit.py); what has
been turned into deliveries is remembered in ``OutboxEvent`` nodes keyed by the audit event's id.
"""

from graph.cypher import cypher

# -- registered webhooks -----------------------------------------------------------------------
HOOK_CREATE = cypher(
    "webhooks.hook_create",
    """
    CREATE (h:Webhook {id: $id, url: $url, events: $events, secret: $secret, created_at: $now, created_by: $by,
                       active: true})
    RETURN h.id AS id
    """,
    example={"id": "h1", "url": "http://127.0.0.1:9/x", "events": ["document.created"], "secret": "s",
             "now": 0, "by": None},
    writes=True,
)

HOOK_LIST = cypher(
    "webhooks.hook_list",
    """
    MATCH (h:Webhook)
    RETURN h.id AS id, h.url AS url, h.events AS events, h.created_at AS created_at, h.created_by AS created_by,
           h.active AS active
    ORDER BY created_at, id
    """,
)

# The secret leaves the graph only through this statement, for signing; no list or page shows it.
HOOK_FOR_SENDING = cypher(
    "webhooks.hook_for_sending",
    "MATCH (h:Webhook {id: $id}) RETURN h.url AS url, h.secret AS secret, h.active AS active",
    example={"id": "h1"},
)

HOOK_REMOVE = cypher(
    "webhooks.hook_remove",
    "MATCH (h:Webhook {id: $id}) WITH h, h.id AS id DELETE h RETURN id",
    example={"id": "h1"},
    writes=True,
)

# -- notification channels (group robots), per department -------------------------------------
CHANNEL_CREATE = cypher(
    "webhooks.channel_create",
    """
    MATCH (d:Department {code: $department})
    CREATE (c:NotifyChannel {id: $id, kind: $kind, url: $url, secret: $secret, department_id: d.id,
                             kinds: $kinds, created_at: $now, active: true})
    CREATE (c)-[:SERVES]->(d)
    RETURN c.id AS id
    """,
    example={"id": "c1", "kind": "dingtalk", "url": "http://127.0.0.1:9/robot", "secret": "s",
             "department": "FIN", "kinds": ["overdue"], "now": 0},
    writes=True,
)

CHANNEL_LIST = cypher(
    "webhooks.channel_list",
    """
    MATCH (c:NotifyChannel)-[:SERVES]->(d:Department)
    RETURN c.id AS id, c.kind AS kind, c.url AS url, c.kinds AS kinds, d.code AS department, c.active AS active,
           c.created_at AS created_at
    ORDER BY created_at, id
    """,
)

CHANNEL_FOR_SENDING = cypher(
    "webhooks.channel_for_sending",
    "MATCH (c:NotifyChannel {id: $id}) RETURN c.kind AS kind, c.url AS url, c.secret AS secret, c.active AS active",
    example={"id": "c1"},
)

CHANNEL_REMOVE = cypher(
    "webhooks.channel_remove",
    "MATCH (c:NotifyChannel {id: $id}) WITH c, c.id AS id DETACH DELETE c RETURN id",
    example={"id": "c1"},
    writes=True,
)

# The channels that serve the departments a person belongs to (and their ancestors).
CHANNELS_OF_PERSON = cypher(
    "webhooks.channels_of_person",
    """
    MATCH (p:Person {id: $person_id})-[:MEMBER_OF]->(:Department)-[:PART_OF*0..]->(d:Department)
    MATCH (c:NotifyChannel)-[:SERVES]->(d)
    WHERE c.active
    RETURN DISTINCT c.id AS id, c.kinds AS kinds
    """,
    example={"person_id": "u1"},
)

# -- the outbox: audit events not yet turned into deliveries ---------------------------------
NEW_EVENTS = cypher(
    "webhooks.new_events",
    """
    MATCH (e:AuditEvent)
    WHERE e.at >= $since
    WITH e
    WHERE e.action IN $actions
    OPTIONAL MATCH (o:OutboxEvent {id: e.id})
    WITH e, o
    WHERE o IS NULL
    RETURN e.id AS id, e.at AS at, e.action AS action, e.actor_id AS actor_id, e.target_kind AS target_kind,
           e.target_id AS target_id, e.detail AS detail
    ORDER BY at, id
    LIMIT $limit
    """,
    example={"since": 0, "actions": ["document.upload"], "limit": 100},
)

# Deliveries and the outbox mark in one statement: either both exist or neither. MERGE on ids derived
# from the event (and hook) makes a second dispatcher's identical write a no-op: nothing twice.
ENQUEUE = cypher(
    "webhooks.enqueue",
    """
    UNWIND $events AS ev
    MERGE (o:OutboxEvent {id: ev.id})
    ON CREATE SET o.at = ev.at, o.action = ev.action, o.queued_at = $now
    WITH o, ev
    UNWIND ev.deliveries AS r
    MERGE (d:Delivery {id: r.id})
    ON CREATE SET d.channel = r.channel, d.target_id = r.target_id, d.event = r.event, d.body = r.body,
                  d.status = 'pending', d.attempts = 0, d.next_at = $now, d.created_at = $now, d.lease_until = 0,
                  d.replays = 0, d.last_code = null, d.last_error = null, d.delivered_at = null
    RETURN count(d) AS deliveries
    """,
    example={"events": [{"id": "e1", "at": 0, "action": "document.upload", "deliveries": [
        {"id": "d1", "channel": "webhook", "target_id": "h1", "event": "document.created", "body": "{}"}]}],
        "now": 0},
    writes=True,
)

# -- deliveries ------------------------------------------------------------------------------
# A delivery a sender may take now: the one condition of the due list and of the claim (a claim re-checks it,
# since another sender may have taken the delivery between the two).
_READY = "d.status = 'pending' AND d.next_at <= $now AND d.lease_until <= $now"

DUE = cypher(
    "webhooks.due",
    """
    MATCH (d:Delivery)
    WHERE """ + _READY + """
    RETURN d.id AS id
    ORDER BY d.next_at, d.id
    LIMIT $limit
    """,
    example={"now": 0, "limit": 100},
)

# Checked and taken in one statement (the engine applies it atomically): one sender per delivery.
CLAIM = cypher(
    "webhooks.claim",
    """
    MATCH (d:Delivery {id: $id})
    WHERE """ + _READY + """
    SET d.lease_until = $until, d.lease = $token
    RETURN d.id AS id, d.channel AS channel, d.target_id AS target_id, d.event AS event, d.body AS body,
           d.attempts AS attempts
    """,
    example={"id": "d1", "now": 0, "until": 1, "token": "t"},
    writes=True,
)

FINISH = cypher(
    "webhooks.finish",
    """
    MATCH (d:Delivery {id: $id})
    WHERE d.lease = $token
    SET d.status = $status, d.attempts = d.attempts + 1, d.last_at = $now, d.last_code = $code,
        d.last_error = $error, d.next_at = $next_at, d.lease_until = 0, d.lease = null,
        d.delivered_at = CASE WHEN $status = 'delivered' THEN $now ELSE d.delivered_at END
    RETURN d.id AS id, d.status AS status, d.attempts AS attempts
    """,
    example={"id": "d1", "token": "t", "status": "delivered", "now": 0, "code": 200, "error": None, "next_at": 0},
    writes=True,
)

LIST_DELIVERIES = cypher(
    "webhooks.list_deliveries",
    """
    MATCH (d:Delivery)
    WHERE ($channel IS NULL OR d.channel = $channel) AND ($status IS NULL OR d.status = $status)
      AND ($target_id IS NULL OR d.target_id = $target_id)
    RETURN d.id AS id, d.channel AS channel, d.target_id AS target_id, d.event AS event, d.status AS status,
           d.attempts AS attempts, d.replays AS replays, d.created_at AS created_at, d.last_at AS last_at,
           d.next_at AS next_at, d.last_code AS last_code, d.last_error AS last_error,
           d.delivered_at AS delivered_at
    ORDER BY created_at DESC, id DESC
    SKIP $skip LIMIT $limit
    """,
    example={"channel": None, "status": None, "target_id": None, "skip": 0, "limit": 50},
)

REPLAY = cypher(
    "webhooks.replay",
    """
    MATCH (d:Delivery {id: $id})
    SET d.status = 'pending', d.next_at = $now, d.lease_until = 0, d.replays = d.replays + 1
    RETURN d.id AS id, d.channel AS channel
    """,
    example={"id": "d1", "now": 0},
    writes=True,
)
