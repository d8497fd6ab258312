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
