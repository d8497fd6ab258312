"""Organisation: departments (a tree), people, positions, projects, memberships and roles.

Every statement that changes who may see what (activity flags, the department tree, memberships,
positions, roles, people) ends with one of the permission-change fragments below, in the same
statement, so no process can serve a readable set older than the graph (docs/permissions.md).
"""

from graph.cypher import cypher
from graph.queries.permissions import PERMISSION_BUMP

# Beyond this many people one statement records 'principals' (forget every cached principal set)
# instead of naming each: a longer list would push the short permission log past its length and
# make every process rebuild its whole document index.
MAX_NAMED_PEOPLE = 64


def bump_people(person_id: str) -> str:
    """End a statement whose rows carry ``person_id`` (an expression) of each person whose principals changed."""
    return (f" WITH collect(DISTINCT {person_id}) AS people"
            f" WITH CASE WHEN size(people) > {MAX_NAMED_PEOPLE} THEN ['principals']"
            " ELSE [x IN people | 'person:' + x] END AS changes" + PERMISSION_BUMP)


# Ends a statement that moved or (de)activated departments or projects: every person's principals may
# have changed. Records nothing when the statement matched no row.
BUMP_PRINCIPALS = " WITH collect(DISTINCT 'principals') AS changes" + PERMISSION_BUMP

UPSERT_DEPARTMENTS = cypher(
    "org.upsert_departments",
    """
    UNWIND $rows AS row
    MERGE (d:Department {id: row.id})
    SET d.code = row.code, d.name = row.name, d.name_en = row.name_en, d.active = true
    """ + BUMP_PRINCIPALS,
    example={"rows": [{"id": "d1", "code": "FIN", "name": "财务部", "name_en": "Finance"}]},
    writes=True,
)

LINK_DEPARTMENT_PARENTS = cypher(
    "org.link_department_parents",
    """
    UNWIND $rows AS row
    MATCH (child:Department {id: row.id})
    MATCH (parent:Department {id: row.parent_id})
    MERGE (child)-[:PART_OF]->(parent)
    """ + BUMP_PRINCIPALS,
    example={"rows": [{"id": "d2", "parent_id": "d1"}]},
    writes=True,
)

UPSERT_POSITIONS = cypher(
    "org.upsert_positions",
    """
    UNWIND $rows AS row
    MERGE (p:Position {id: row.id})
    SET p.code = row.code, p.name = row.name, p.name_en = row.name_en
    RETURN count(p) AS count
    """,
    example={"rows": [{"id": "p1", "code": "ACC", "name": "会计", "name_en": "Accountant"}]},
    writes=True,
)

UPSERT_PROJECTS = cypher(
    "org.upsert_projects",
    """
    UNWIND $rows AS row
    MERGE (p:Project {id: row.id})
    SET p.code = row.code, p.name = row.name, p.name_en = row.name_en, p.active = true
    """ + BUMP_PRINCIPALS,
    example={"rows": [{"id": "j1", "code": "ERP", "name": "ERP 升级", "name_en": "ERP upgrade"}]},
    writes=True,
)

UPSERT_PEOPLE = cypher(
    "org.upsert_people",
    """
    UNWIND $rows AS row
    MERGE (p:Person {id: row.id})
    ON CREATE SET p.created_at = row.now, p.password_hash = row.password_hash
    SET p.username = row.username, p.name = row.name, p.email = row.email, p.active = true
    """ + bump_people("p.id"),
    example={
        "rows": [
            {"id": "u1", "username": "li.na", "name": "李娜", "email": "li.na@example.com", "now": 0,
             "password_hash": None}
        ]
    },
    writes=True,
)

LINK_MEMBERSHIPS = cypher(
    "org.link_memberships",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    MATCH (d:Department {id: row.department_id})
    MERGE (p)-[:MEMBER_OF]->(d)
    """ + bump_people("p.id"),
    example={"rows": [{"person_id": "u1", "department_id": "d1"}]},
    writes=True,
)

LINK_PROJECT_MEMBERS = cypher(
    "org.link_project_members",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    MATCH (j:Project {id: row.project_id})
    MERGE (p)-[:MEMBER_OF]->(j)
    """ + bump_people("p.id"),
    example={"rows": [{"person_id": "u1", "project_id": "j1"}]},
    writes=True,
)

LINK_POSITIONS = cypher(
    "org.link_positions",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    MATCH (s:Position {id: row.position_id})
    MERGE (p)-[:HOLDS]->(s)
    """ + bump_people("p.id"),
    example={"rows": [{"person_id": "u1", "position_id": "p1"}]},
    writes=True,
)

LINK_HEADS = cypher(
    "org.link_heads",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    MATCH (d:Department {id: row.department_id})
    MERGE (p)-[:HEADS]->(d)
    RETURN count(p) AS count
    """,
    example={"rows": [{"person_id": "u1", "department_id": "d1"}]},
    writes=True,
)

LINK_REPORTS_TO = cypher(
    "org.link_reports_to",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    MATCH (m:Person {id: row.manager_id})
    MERGE (p)-[:REPORTS_TO]->(m)
    RETURN count(p) AS count
    """,
    example={"rows": [{"person_id": "u2", "manager_id": "u1"}]},
    writes=True,
)

GRANT_ROLES = cypher(
    "org.grant_roles",
    """
    UNWIND $rows AS row
    MATCH (p:Person {id: row.person_id})
    MERGE (r:Role {name: row.role})
    MERGE (p)-[:HAS_ROLE]->(r)
    """ + bump_people("p.id"),
    example={"rows": [{"person_id": "u1", "role": "admin"}]},
    writes=True,
)

PERSON_BY_USERNAME = cypher(
    "org.person_by_username",
    """
    MATCH (p:Person {username: $username})
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role)
    RETURN p.id AS id, p.username AS username, p.name AS name, p.email AS email, p.active AS active,
           p.password_hash AS password_hash, collect(r.name) AS roles
    """,
    example={"username": "admin"},
)

SET_PASSWORD_HASH = cypher(
    "org.set_password_hash",
    """
    MATCH (p:Person {id: $person_id})
    SET p.password_hash = $password_hash
    RETURN p.id AS id
    """,
    example={"person_id": "u1", "password_hash": "x"},
    writes=True,
)

SET_MISSING_PASSWORD_HASHES = cypher(
    "org.set_missing_password_hashes",
    """
    UNWIND $ids AS person_id
    MATCH (p:Person {id: person_id})
    WITH p
    WHERE p.password_hash IS NULL
    SET p.password_hash = $password_hash
    RETURN count(p) AS count
    """,
    example={"ids": ["u1"], "password_hash": "x"},
    writes=True,
)
