"""Personal access tokens of the API: the graph keeps a token's id and the sha256 of the whole token,
never the token itself (the person sees it once, when it is made)."""

from graph.cypher import cypher

TOKEN_CREATE = cypher(
    "tokens.create",
    """
    MATCH (p:Person {id: $person_id})
    CREATE (t:ApiToken {id: $id, name: $name, hash: $hash, scope: $scope, created_at: $now,
                        expires_at: $expires_at, revoked_at: null, last_used_at: null})
    CREATE (t)-[:OF]->(p)
    RETURN t.id AS id
    """,
    example={"person_id": "u1", "id": "t1", "name": "n", "hash": "h", "scope": "read", "now": 0, "expires_at": None},
    writes=True,
)

# The one lookup of every API request: by the id part of the token, then the hash is compared in Python.
TOKEN_AUTH = cypher(
    "tokens.auth",
    """
    MATCH (t:ApiToken {id: $id})-[:OF]->(p:Person)
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role)
    RETURN t.hash AS hash, t.scope AS scope, t.expires_at AS expires_at, t.revoked_at AS revoked_at,
           t.last_used_at AS last_used_at, p.id AS id, p.username AS username, p.name AS name,
           p.active AS active, collect(r.name) AS roles
    """,
    example={"id": "t1"},
)

TOKEN_TOUCH = cypher(
    "tokens.touch",
    "MATCH (t:ApiToken {id: $id}) SET t.last_used_at = $now RETURN t.id AS id",
    example={"id": "t1", "now": 0},
    writes=True,
)

TOKEN_LIST = cypher(
    "tokens.list",
    """
    MATCH (t:ApiToken)-[:OF]->(p:Person {id: $person_id})
    RETURN t.id AS id, t.name AS name, t.scope AS scope, t.created_at AS created_at, t.expires_at AS expires_at,
           t.revoked_at AS revoked_at, t.last_used_at AS last_used_at
    ORDER BY created_at DESC, id
    """,
    example={"person_id": "u1"},
)

TOKEN_OWNER = cypher(
    "tokens.owner",
    "MATCH (t:ApiToken {id: $id})-[:OF]->(p:Person) RETURN p.id AS person_id, t.revoked_at AS revoked_at",
    example={"id": "t1"},
)

TOKEN_REVOKE = cypher(
    "tokens.revoke",
    """
    MATCH (t:ApiToken {id: $id})
    WHERE t.revoked_at IS NULL
    SET t.revoked_at = $now
    RETURN t.id AS id
    """,
    example={"id": "t1", "now": 0},
    writes=True,
)
