"""Accounts: login lookups, server-side login sessions, login throttling, people and department listings."""

from graph.cypher import cypher
from graph.queries.org import bump_people

_ACCOUNT_COLUMNS = """
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role)
    RETURN p.id AS id, p.username AS username, p.name AS name, p.email AS email, p.active AS active,
           p.password_hash AS password_hash, collect(r.name) AS roles
"""

ACCOUNT_BY_USERNAME = cypher(
    "accounts.by_username",
    "MATCH (p:Person {username: $login})" + _ACCOUNT_COLUMNS,
    example={"login": "admin"},
)

ACCOUNT_BY_EMAIL = cypher(
    "accounts.by_email",
    "MATCH (p:Person {email: $login})" + _ACCOUNT_COLUMNS,
    example={"login": "admin@huitong.example"},
)

ACCOUNT_BY_ID = cypher(
    "accounts.by_id",
    "MATCH (p:Person {id: $person_id})" + _ACCOUNT_COLUMNS,
    example={"person_id": "u1"},
)

# -- login sessions (the cookie holds the token; the graph holds its sha256) -----------------

CREATE_SESSION = cypher(
    "accounts.create_session",
    """
    MATCH (p:Person {id: $person_id})
    CREATE (s:LoginSession {id: $session_id, created_at: $now, expires_at: $expires_at, client: $client})
    CREATE (s)-[:OF]->(p)
    RETURN s.id AS id
    """,
    example={"person_id": "u1", "session_id": "s1", "now": 0, "expires_at": 1, "client": "127.0.0.1"},
    writes=True,
)

SESSION_PERSON = cypher(
    "accounts.session_person",
    """
    MATCH (s:LoginSession {id: $session_id})-[:OF]->(p:Person)
    WHERE s.expires_at > $now
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role)
    RETURN p.id AS id, p.username AS username, p.name AS name, p.active AS active, collect(r.name) AS roles
    """,
    example={"session_id": "s1", "now": 0},
)

DELETE_SESSION = cypher(
    "accounts.delete_session",
    """
    MATCH (s:LoginSession {id: $session_id})
    OPTIONAL MATCH (s)-[:OF]->(p:Person)
    WITH s, p.id AS person_id
    DETACH DELETE s
    RETURN count(s) AS deleted, collect(person_id) AS person_ids
    """,
    example={"session_id": "s1"},
    writes=True,
)

DELETE_OTHER_SESSIONS = cypher(
    "accounts.delete_other_sessions",
    """
    MATCH (s:LoginSession)-[:OF]->(:Person {id: $person_id})
    WHERE s.id <> $keep
    DETACH DELETE s
    RETURN count(s) AS deleted
    """,
    example={"person_id": "u1", "keep": ""},
    writes=True,
)

END_SESSIONS = cypher(
    "accounts.end_sessions",
    """
    MATCH (s:LoginSession)-[:OF]->(p:Person)
    WHERE p.id IN $person_ids OR p.username IN $usernames
    WITH s, p.id AS person_id
    DETACH DELETE s
    RETURN count(s) AS deleted, collect(DISTINCT person_id) AS person_ids
    """,
    example={"person_ids": ["u1"], "usernames": []},
    writes=True,
)

PRUNE_SESSIONS = cypher(
    "accounts.prune_sessions",
    "MATCH (s:LoginSession) WHERE s.expires_at <= $now DETACH DELETE s RETURN count(s) AS deleted",
    example={"now": 0},
    writes=True,
)

# -- login throttling (one node per account or client address; one atomic statement per failure) --

THROTTLE_LOCKS = cypher(
    "accounts.throttle_locks",
    """
    UNWIND $keys AS key
    MATCH (t:LoginThrottle {key: key})
    WHERE t.locked_until > $now
    RETURN t.key AS key, t.locked_until AS locked_until
    """,
    example={"keys": ["account:u1"], "now": 0},
)

THROTTLE_FAIL = cypher(
    "accounts.throttle_fail",
    """
    UNWIND $rows AS row
    MERGE (t:LoginThrottle {key: row.key})
    ON CREATE SET t.failures = 0, t.locked_until = 0, t.last_failure = $now
    WITH t, row, CASE WHEN coalesce(t.last_failure, 0) <= $now - $reset_ms THEN 0 ELSE t.failures END AS prior
    WITH t, row, prior + 1 AS failures
    WITH t, failures,
         row.delays[CASE WHEN failures < size(row.delays) THEN failures ELSE size(row.delays) - 1 END] AS delay
    SET t.failures = failures, t.last_failure = $now,
        t.locked_until = CASE WHEN delay > 0 THEN $now + delay ELSE t.locked_until END
    RETURN t.key AS key, t.failures AS failures, t.locked_until AS locked_until, delay AS delay
    """,
    example={"rows": [{"key": "login:u1|127.0.0.1", "delays": [0, 0, 1000]}], "now": 0, "reset_ms": 3600000},
    writes=True,
)

THROTTLE_CLEAR = cypher(
    "accounts.throttle_clear",
    "MATCH (t:LoginThrottle {key: $key}) DELETE t RETURN count(t) AS deleted",
    example={"key": "account:u1"},
    writes=True,
)

# -- people ---------------------------------------------------------------------------------

CREATE_PERSON = cypher(
    "accounts.create_person",
    """
    MATCH (d:Department {code: $department})
    CREATE (p:Person {id: $id, username: $username, name: $name, email: $email, active: true,
                      created_at: $now, password_hash: $password_hash})
    CREATE (p)-[:MEMBER_OF]->(d)
    WITH p
    UNWIND $roles AS role
    MERGE (r:Role {name: role})
    CREATE (p)-[:HAS_ROLE]->(r)
    """ + bump_people("p.id"),
    example={"department": "FIN", "id": "u9", "username": "new.person", "name": "新人", "email": None, "now": 0,
             "password_hash": "x", "roles": ["member"]},
    writes=True,
)

DEPARTMENT_BY_CODE = cypher(
    "accounts.department_by_code",
    "MATCH (d:Department {code: $code}) RETURN d.id AS id, d.code AS code, d.name AS name",
    example={"code": "FIN"},
)

SET_ACTIVE = cypher(
    "accounts.set_active",
    "MATCH (p:Person {id: $person_id}) SET p.active = $active" + bump_people("p.id"),
    example={"person_id": "u1", "active": False},
    writes=True,
)

LIST_PEOPLE = cypher(
    "accounts.list_people",
    """
    MATCH (p:Person)
    OPTIONAL MATCH (p)-[:MEMBER_OF]->(d:Department)
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role)
    RETURN p.id AS id, p.username AS username, p.name AS name, p.email AS email, p.active AS active,
           collect(DISTINCT d.code) AS departments, collect(DISTINCT r.name) AS roles
    ORDER BY username
    """,
)

LIST_DEPARTMENTS = cypher(
    "accounts.list_departments",
    """
    MATCH (d:Department)
    OPTIONAL MATCH (d)-[:PART_OF]->(parent:Department)
    RETURN d.code AS code, d.name AS name, parent.code AS parent
    ORDER BY code
    """,
)
