"""Saved views of the documents list: a person's named filter and sort, theirs alone. Every lookup names
the owner, so somebody else's view is simply not found."""

from graph.cypher import cypher

SAVE = cypher(
    "saved_views.save",
    """
    MATCH (p:Person {id: $person_id})
    CREATE (v:SavedView {id: $id, owner_id: $person_id, name: $name, query: $query, created_at: $now})
    CREATE (p)-[:SAVED_VIEW]->(v)
    RETURN v.id AS id
    """,
    example={"person_id": "u1", "id": "sv1", "name": "n", "query": "tab=mine", "now": 0},
    writes=True,
)

LIST = cypher(
    "saved_views.list",
    """
    MATCH (v:SavedView {owner_id: $person_id})
    RETURN v.id AS id, v.name AS name, v.query AS query, v.created_at AS created_at
    ORDER BY toLower(v.name), v.created_at
    """,
    example={"person_id": "u1"},
)

GET = cypher(
    "saved_views.get",
    """
    MATCH (v:SavedView {id: $id, owner_id: $person_id})
    RETURN v.id AS id, v.name AS name, v.query AS query, v.created_at AS created_at
    """,
    example={"id": "sv1", "person_id": "u1"},
)

COUNT = cypher(
    "saved_views.count",
    "MATCH (v:SavedView {owner_id: $person_id}) RETURN count(v) AS n",
    example={"person_id": "u1"},
)

DELETE = cypher(
    "saved_views.delete",
    """
    MATCH (v:SavedView {id: $id, owner_id: $person_id})
    WITH v, v.id AS id
    DETACH DELETE v
    RETURN id
    """,
    example={"id": "sv1", "person_id": "u1"},
    writes=True,
)
