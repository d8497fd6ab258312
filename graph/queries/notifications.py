"""A person's own notifications (``(:Notification)-[:TO]->(:Person)``), read through their owner only."""

from graph.cypher import cypher

# Marks one notification read; answers the id whenever it is the person's (read before or not), nothing
# for anyone else's: someone else's notification and a missing one look the same.
READ_OWN_NOTIFICATION = cypher(
    "notifications.read_own",
    """
    MATCH (me:Person {id: $person_id})<-[:TO]-(n:Notification {id: $id})
    WITH n, n.read_at IS NULL AS unread
    SET n.read_at = coalesce(n.read_at, $now)
    RETURN n.id AS id, unread
    """,
    example={"person_id": "u1", "id": "n1", "now": 0},
    writes=True,
)

# Event notices (task arrived, run approved, mention, share...): stored once (the id is derived from the
# event), never for a person who muted the kind; ``:PendingNotice`` marks those the worker still has to
# deliver outside the app (e-mail, group robots), so its scan reads only them.
NOTIFY_EVENTS = cypher(
    "notifications.notify_events",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    WITH p, row WHERE p.active = true AND NOT row.props.kind IN coalesce(p.notify_muted, [])
    MERGE (n:Notification {id: row.props.id})
    ON CREATE SET n += row.props, n.token = $token
    WITH n, p, row, n.token = $token AS created
    OPTIONAL MATCH (t:Task {id: row.task_id})
    FOREACH (x IN CASE WHEN created THEN [p] ELSE [] END | CREATE (n)-[:TO]->(x))
    FOREACH (x IN CASE WHEN created AND t IS NOT NULL THEN [t] ELSE [] END | CREATE (n)-[:ABOUT]->(x))
    FOREACH (x IN CASE WHEN created THEN [n] ELSE [] END | SET x:PendingNotice)
    RETURN n.id AS id, p.id AS person_id, created
    """,
    example={"token": "x", "rows": [{"person_id": "u1", "task_id": None,
                                     "props": {"id": "n1", "kind": "mentioned", "created_at": 0}}]},
    writes=True,
)

# The worker's claim: a batch of pending notices, unmarked in the same statement (one claimant wins).
CLAIM_PENDING = cypher(
    "notifications.claim_pending",
    """
    MATCH (n:PendingNotice)
    WITH n ORDER BY n.created_at LIMIT $limit
    REMOVE n:PendingNotice
    WITH n
    MATCH (n)-[:TO]->(p:Person)
    RETURN n AS notification, coalesce(p.notify_digest, false) AS digest
    """,
    example={"limit": 100},
    writes=True,
)

PREFERENCES = cypher(
    "notifications.preferences",
    """
    MATCH (p:Person {id: $person_id})
    RETURN coalesce(p.notify_muted, []) AS muted, coalesce(p.notify_digest, false) AS digest
    """,
    example={"person_id": "u1"},
)

SET_PREFERENCES = cypher(
    "notifications.set_preferences",
    """
    MATCH (p:Person {id: $person_id})
    SET p.notify_muted = $muted, p.notify_digest = $digest
    RETURN p.id AS id
    """,
    example={"person_id": "u1", "muted": ["mentioned"], "digest": False},
    writes=True,
)

DIGEST_PEOPLE = cypher(
    "notifications.digest_people",
    """
    MATCH (p:Person)
    WHERE p.notify_digest = true AND p.active = true
    RETURN p.id AS id, coalesce(p.digest_at, 0) AS since
    ORDER BY id
    """,
)

# Unread notices since the last digest; the digest time moves on in the same statement, so a digest
# repeated by a second beat finds nothing new.
TAKE_DIGEST = cypher(
    "notifications.take_digest",
    """
    MATCH (p:Person {id: $person_id})
    WHERE coalesce(p.digest_at, 0) = $since
    SET p.digest_at = $now
    WITH p
    MATCH (p)<-[:TO]-(n:Notification)
    WHERE n.created_at > $since AND n.created_at <= $now AND n.read_at IS NULL
    RETURN n AS notification
    ORDER BY n.created_at
    LIMIT $limit
    """,
    example={"person_id": "u1", "since": 0, "now": 1, "limit": 200},
    writes=True,
)

# Who an ``@handle`` names: active people whose user name or name starts the handle (the longest wins, in
# Python: Chinese has no spaces, so ``@张伟请看`` names 张伟).
MENTIONED_PEOPLE = cypher(
    "notifications.mentioned_people",
    """
    MATCH (p:Person)
    WHERE p.active = true
      AND any(h IN $handles WHERE h STARTS WITH p.username OR (p.name IS NOT NULL AND h STARTS WITH p.name))
    RETURN p.id AS id, p.username AS username, p.name AS name
    """,
    example={"handles": ["li.na"]},
)
