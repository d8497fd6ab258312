"""Organisation administration: create / edit / move / deactivate, search, memberships, bulk import and export.

Departments, positions and projects share one shape (id, unique code, name, English name,
active flag), so their statements are declared once per label from fixed tables below. Labels
and relationship types come from these tables only, never from user input; every value is a
parameter. Statements that change who may see what record it in the same statement with the
fragments of :mod:`graph.queries.org` (docs/permissions.md, "Readable sets and caching").
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.cypher import Statement, cypher
from graph.queries.org import BUMP_PRINCIPALS, bump_people
from graph.queries.permissions import PERMISSION_BUMP

# kind -> (label, relationship a person has to it when they are one of its members)
CODED_KINDS: dict[str, tuple[str, str]] = {
    "department": ("Department", "MEMBER_OF"),
    "position": ("Position", "HOLDS"),
    "project": ("Project", "MEMBER_OF"),
}

# membership kind -> (relationship type, target label)
MEMBERSHIP_KINDS: dict[str, tuple[str, str]] = {
    "department": ("MEMBER_OF", "Department"),
    "head": ("HEADS", "Department"),
    "position": ("HOLDS", "Position"),
    "project": ("MEMBER_OF", "Project"),
}

_FIELDS = ("n.id AS id, n.code AS code, n.name AS name, n.name_en AS name_en, "
           "coalesce(n.active, true) AS active")
_FILTER = """
    ($q = '' OR toLower(n.code) CONTAINS $q OR toLower(n.name) CONTAINS $q
     OR toLower(coalesce(n.name_en, '')) CONTAINS $q)
    AND ($status = 'all' OR coalesce(n.active, true) = ($status = 'active'))
"""
_SEARCH_EXAMPLE = {"q": "fin", "status": "all", "skip": 0, "limit": 20}


@dataclass(frozen=True)
class CodedStatements:
    """The statements of one coded kind (department, position or project)."""

    get: Statement
    by_code: Statement
    create: Statement
    update: Statement
    set_active: Statement
    search: Statement
    count: Statement
    export: Statement
    import_upsert: Statement


# Labels whose active flag cuts share paths; positions have none that counts (docs/permissions.md).
ACTIVE_COUNTS = ("Department", "Project")


def _coded(kind: str, label: str, member_rel: str) -> CodedStatements:
    name = f"org_admin.{kind}"
    # Returns one row when the node exists (its id, or the new permission version).
    flag_changed = BUMP_PRINCIPALS if label in ACTIVE_COUNTS else " RETURN n.id AS id"
    return CodedStatements(
        get=cypher(f"{name}.get", f"MATCH (n:{label} {{id: $id}}) RETURN {_FIELDS}", example={"id": "x"}),
        by_code=cypher(f"{name}.by_code", f"MATCH (n:{label} {{code: $code}}) RETURN {_FIELDS}",
                       example={"code": "FIN"}),
        # Check and create in one statement: the engine runs it atomically, so two admins
        # creating the same code at once cannot both succeed.
        create=cypher(
            f"{name}.create",
            f"""
            OPTIONAL MATCH (x:{label} {{code: $code}})
            WITH count(x) AS taken WHERE taken = 0
            CREATE (n:{label} {{id: $id, code: $code, name: $name, name_en: $name_en, active: true,
                               created_at: $now}})
            RETURN n.id AS id
            """,
            example={"id": "x", "code": "X", "name": "X", "name_en": None, "now": 0},
            writes=True,
        ),
        update=cypher(
            f"{name}.update",
            f"""
            MATCH (n:{label} {{id: $id}})
            OPTIONAL MATCH (x:{label} {{code: $code}}) WHERE x.id <> $id
            WITH n, count(x) AS taken WHERE taken = 0
            SET n.code = $code, n.name = $name, n.name_en = $name_en
            RETURN n.id AS id
            """,
            example={"id": "x", "code": "X", "name": "X", "name_en": None},
            writes=True,
        ),
        set_active=cypher(
            f"{name}.set_active",
            f"MATCH (n:{label} {{id: $id}}) SET n.active = $active" + flag_changed,
            example={"id": "x", "active": True},
            writes=True,
        ),
        search=cypher(
            f"{name}.search",
            f"""
            MATCH (n:{label})
            WHERE {_FILTER}
            WITH n ORDER BY n.code SKIP $skip LIMIT $limit
            OPTIONAL MATCH (m:Person {{active: true}})-[:{member_rel}]->(n)
            RETURN {_FIELDS}, count(m) AS members
            ORDER BY code
            """,
            example=_SEARCH_EXAMPLE,
        ),
        count=cypher(
            f"{name}.count",
            f"MATCH (n:{label}) WHERE {_FILTER} RETURN count(n) AS total",
            example={"q": "", "status": "active"},
        ),
        export=cypher(f"{name}.export", f"MATCH (n:{label}) RETURN {_FIELDS} ORDER BY code"),
        import_upsert=cypher(
            f"{name}.import_upsert",
            f"""
            UNWIND $rows AS row
            MERGE (n:{label} {{code: row.code}})
            ON CREATE SET n.id = row.id, n.created_at = row.now
            SET n.name = row.name, n.name_en = row.name_en, n.active = row.active
            """ + (BUMP_PRINCIPALS if label in ACTIVE_COUNTS else " RETURN count(n) AS count"),
            example={"rows": [{"id": "x", "code": "X", "name": "X", "name_en": None, "active": True, "now": 0}]},
            writes=True,
        ),
    )


CODED: dict[str, CodedStatements] = {kind: _coded(kind, label, rel) for kind, (label, rel) in CODED_KINDS.items()}

# -- departments: the tree -----------------------------------------------------------------

DEPARTMENT_TREE = cypher(
    "org_admin.department.tree",
    f"""
    MATCH (n:Department)
    OPTIONAL MATCH (n)-[:PART_OF]->(parent:Department)
    WITH n, parent
    OPTIONAL MATCH (m:Person {{active: true}})-[:MEMBER_OF]->(n)
    RETURN {_FIELDS}, parent.id AS parent_id, parent.code AS parent_code, count(m) AS members
    ORDER BY code
    """,
)

DEPARTMENT_SUBTREE = cypher(
    "org_admin.department.subtree",
    "MATCH (:Department {id: $id})<-[:PART_OF*0..]-(sub:Department) RETURN DISTINCT sub.id AS id",
    example={"id": "x"},
)

# Refuses (returns no row) when the new parent is the department itself or one of its descendants.
MOVE_DEPARTMENT = cypher(
    "org_admin.department.move",
    """
    MATCH (d:Department {id: $id})
    MATCH (parent:Department {id: $parent_id})
    OPTIONAL MATCH (parent)-[:PART_OF*0..]->(loop:Department {id: $id})
    WITH d, parent, count(loop) AS loops WHERE loops = 0
    OPTIONAL MATCH (d)-[old:PART_OF]->(:Department)
    DELETE old
    WITH DISTINCT d, parent
    MERGE (d)-[:PART_OF]->(parent)
    """ + BUMP_PRINCIPALS,
    example={"id": "x", "parent_id": "y"},
    writes=True,
)

MAKE_DEPARTMENT_ROOT = cypher(
    "org_admin.department.make_root",
    """
    MATCH (d:Department {id: $id})
    OPTIONAL MATCH (d)-[old:PART_OF]->(:Department)
    DELETE old
    WITH DISTINCT d
    """ + BUMP_PRINCIPALS,
    example={"id": "x"},
    writes=True,
)

DEPARTMENT_BLOCKERS = cypher(
    "org_admin.department.blockers",
    """
    MATCH (d:Department {id: $id})
    OPTIONAL MATCH (m:Person {active: true})-[:MEMBER_OF]->(d)
    WITH d, count(m) AS members
    OPTIONAL MATCH (c:Department)-[:PART_OF]->(d) WHERE coalesce(c.active, true)
    RETURN members, count(c) AS children
    """,
    example={"id": "x"},
)

# Guarded like MOVE_DEPARTMENT: the check and the change are one atomic statement.
DEACTIVATE_DEPARTMENT = cypher(
    "org_admin.department.deactivate",
    """
    MATCH (d:Department {id: $id})
    OPTIONAL MATCH (m:Person {active: true})-[:MEMBER_OF]->(d)
    WITH d, count(m) AS members
    OPTIONAL MATCH (c:Department)-[:PART_OF]->(d) WHERE coalesce(c.active, true)
    WITH d, members, count(c) AS children
    WHERE members = 0 AND children = 0
    SET d.active = false
    """ + BUMP_PRINCIPALS,
    example={"id": "x"},
    writes=True,
)

MOVE_ACTIVE_MEMBERS = cypher(
    "org_admin.department.move_active_members",
    """
    MATCH (target:Department {id: $to_id})
    MATCH (m:Person {active: true})-[r:MEMBER_OF]->(:Department {id: $from_id})
    DELETE r
    MERGE (m)-[:MEMBER_OF]->(target)
    WITH collect(DISTINCT 'person:' + m.id) AS changes
    """ + PERMISSION_BUMP,
    example={"from_id": "x", "to_id": "y"},
    writes=True,
)

# -- people ----------------------------------------------------------------------------------

_PERSON_FIELDS = ("p.id AS id, p.username AS username, p.name AS name, p.email AS email, "
                  "coalesce(p.active, true) AS active")
_PERSON_FILTER = """
    ($q = '' OR toLower(p.username) CONTAINS $q OR toLower(p.name) CONTAINS $q
     OR toLower(coalesce(p.email, '')) CONTAINS $q)
    AND ($status = 'all' OR coalesce(p.active, true) = ($status = 'active'))
"""

PERSON_GET = cypher(
    "org_admin.person.get",
    f"""
    MATCH (p:Person {{id: $id}})
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role)
    WITH p, collect(r.name) AS roles
    OPTIONAL MATCH (p)-[:REPORTS_TO]->(m:Person)
    RETURN {_PERSON_FIELDS}, roles, m.id AS manager_id, m.username AS manager_username, m.name AS manager_name
    """,
    example={"id": "x"},
)

PERSON_BY_USERNAME = cypher(
    "org_admin.person.by_username",
    f"MATCH (p:Person {{username: $username}}) RETURN {_PERSON_FIELDS}",
    example={"username": "li.na"},
)

PERSON_BY_EMAIL = cypher(
    "org_admin.person.by_email",
    f"MATCH (p:Person {{email: $email}}) RETURN {_PERSON_FIELDS}",
    example={"email": "li.na@example.com"},
)

PERSON_CREATE = cypher(
    "org_admin.person.create",
    """
    OPTIONAL MATCH (a:Person {username: $username})
    WITH count(a) AS username_taken
    OPTIONAL MATCH (b:Person {email: $email})
    WITH username_taken, count(b) AS email_taken
    WHERE username_taken = 0 AND email_taken = 0
    CREATE (p:Person {id: $id, username: $username, name: $name, email: $email, active: true, created_at: $now})
    """ + bump_people("p.id"),
    example={"id": "x", "username": "x", "name": "X", "email": "x@example.com", "now": 0},
    writes=True,
)

PERSON_UPDATE = cypher(
    "org_admin.person.update",
    """
    MATCH (p:Person {id: $id})
    OPTIONAL MATCH (other:Person {email: $email}) WHERE other.id <> $id
    WITH p, count(other) AS taken WHERE taken = 0
    SET p.name = $name, p.email = $email
    RETURN p.id AS id
    """,
    example={"id": "x", "name": "X", "email": "x@example.com"},
    writes=True,
)

PERSON_SET_ACTIVE = cypher(
    "org_admin.person.set_active",
    "MATCH (p:Person {id: $id}) SET p.active = $active" + bump_people("p.id"),
    example={"id": "x", "active": False},
    writes=True,
)

PERSON_CLEAR_ROLES = cypher(
    "org_admin.person.clear_roles",
    """
    UNWIND $usernames AS username
    MATCH (p:Person {username: username})-[old:HAS_ROLE]->(:Role)
    DELETE old
    """ + bump_people("p.id"),
    example={"usernames": ["x"]},
    writes=True,
)

PERSON_GRANT_ROLES = cypher(
    "org_admin.person.grant_roles",
    """
    UNWIND $rows AS row
    MATCH (p:Person {username: row.username})
    MERGE (r:Role {name: row.role})
    MERGE (p)-[:HAS_ROLE]->(r)
    """ + bump_people("p.id"),
    example={"rows": [{"username": "x", "role": "member"}]},
    writes=True,
)

PERSON_CLEAR_MANAGERS = cypher(
    "org_admin.person.clear_managers",
    """
    UNWIND $usernames AS username
    MATCH (p:Person {username: username})-[old:REPORTS_TO]->(:Person)
    DELETE old
    RETURN count(*) AS removed
    """,
    example={"usernames": ["x"]},
    writes=True,
)

PERSON_LINK_MANAGERS = cypher(
    "org_admin.person.link_managers",
    """
    UNWIND $rows AS row
    MATCH (p:Person {username: row.username})
    MATCH (m:Person {username: row.manager})
    MERGE (p)-[:REPORTS_TO]->(m)
    RETURN count(p) AS linked
    """,
    example={"rows": [{"username": "x", "manager": "y"}]},
    writes=True,
)

MANAGER_CHAIN = cypher(
    "org_admin.person.manager_chain",
    "MATCH (:Person {id: $id})-[:REPORTS_TO*0..]->(up:Person) RETURN DISTINCT up.id AS id",
    example={"id": "x"},
)

PEOPLE_SEARCH = cypher(
    "org_admin.person.search",
    f"""
    MATCH (p:Person)
    WHERE {_PERSON_FILTER}
    WITH p ORDER BY p.username SKIP $skip LIMIT $limit
    OPTIONAL MATCH (p)-[:MEMBER_OF]->(d:Department)
    RETURN {_PERSON_FIELDS}, collect(d.name) AS departments
    ORDER BY username
    """,
    example=_SEARCH_EXAMPLE,
)

PEOPLE_COUNT = cypher(
    "org_admin.person.count",
    f"MATCH (p:Person) WHERE {_PERSON_FILTER} RETURN count(p) AS total",
    example={"q": "", "status": "all"},
)

PEOPLE_IMPORT_UPSERT = cypher(
    "org_admin.person.import_upsert",
    """
    UNWIND $rows AS row
    MERGE (p:Person {username: row.username})
    ON CREATE SET p.id = row.id, p.created_at = row.now
    SET p.name = row.name, p.email = row.email, p.active = row.active
    """ + bump_people("p.id"),
    example={"rows": [{"id": "x", "username": "x", "name": "X", "email": "x@example.com", "active": True,
                       "now": 0}]},
    writes=True,
)

PEOPLE_EXPORT = cypher(
    "org_admin.person.export",
    f"""
    MATCH (p:Person)
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role)
    WITH p, collect(r.name) AS roles
    OPTIONAL MATCH (p)-[:REPORTS_TO]->(m:Person)
    RETURN {_PERSON_FIELDS}, roles, collect(m.username) AS managers
    ORDER BY username
    """,
)

# -- memberships -----------------------------------------------------------------------------

PERSON_MEMBERSHIPS = cypher(
    "org_admin.membership.of_person",
    """
    MATCH (p:Person {id: $id})-[r:MEMBER_OF|HOLDS|HEADS]->(t)
    WHERE t:Department OR t:Position OR t:Project
    RETURN type(r) AS rel, labels(t)[0] AS label, t.id AS id, t.code AS code, t.name AS name,
           t.name_en AS name_en, coalesce(t.active, true) AS active
    ORDER BY rel, code
    """,
    example={"id": "x"},
)

MEMBERSHIPS_EXPORT = cypher(
    "org_admin.membership.export",
    """
    MATCH (p:Person)-[r:MEMBER_OF|HOLDS|HEADS]->(t)
    WHERE t:Department OR t:Position OR t:Project
    RETURN p.username AS username, type(r) AS rel, labels(t)[0] AS label, t.code AS code
    ORDER BY username, rel, label, code
    """,
)


@dataclass(frozen=True)
class MembershipStatements:
    """Adding and removing one kind of membership, by ids (forms) or natural keys (import)."""

    add: Statement
    remove: Statement
    import_add: Statement
    import_remove: Statement


def _membership(kind: str, rel: str, label: str) -> MembershipStatements:
    name = f"org_admin.membership.{kind}"
    return MembershipStatements(
        add=cypher(
            f"{name}.add",
            f"""
            MATCH (p:Person {{id: $person_id}})
            MATCH (t:{label} {{id: $target_id}})
            MERGE (p)-[:{rel}]->(t)
            """ + bump_people("p.id"),
            example={"person_id": "x", "target_id": "y"},
            writes=True,
        ),
        remove=cypher(
            f"{name}.remove",
            f"""
            MATCH (p:Person {{id: $person_id}})-[r:{rel}]->(:{label} {{id: $target_id}})
            DELETE r
            """ + bump_people("p.id"),
            example={"person_id": "x", "target_id": "y"},
            writes=True,
        ),
        import_add=cypher(
            f"{name}.import_add",
            f"""
            UNWIND $rows AS row
            MATCH (p:Person {{username: row.username}})
            MATCH (t:{label} {{code: row.code}})
            MERGE (p)-[:{rel}]->(t)
            """ + bump_people("p.id"),
            example={"rows": [{"username": "x", "code": "X"}]},
            writes=True,
        ),
        import_remove=cypher(
            f"{name}.import_remove",
            f"""
            UNWIND $rows AS row
            MATCH (p:Person {{username: row.username}})-[r:{rel}]->(:{label} {{code: row.code}})
            DELETE r
            """ + bump_people("p.id"),
            example={"rows": [{"username": "x", "code": "X"}]},
            writes=True,
        ),
    )


MEMBERSHIPS: dict[str, MembershipStatements] = {
    kind: _membership(kind, rel, label) for kind, (rel, label) in MEMBERSHIP_KINDS.items()
}

# -- import: department parents by code --------------------------------------------------------

IMPORT_DETACH_PARENTS = cypher(
    "org_admin.department.import_detach_parents",
    """
    UNWIND $codes AS code
    MATCH (:Department {code: code})-[old:PART_OF]->(:Department)
    DELETE old
    """ + BUMP_PRINCIPALS,
    example={"codes": ["X"]},
    writes=True,
)

IMPORT_LINK_PARENTS = cypher(
    "org_admin.department.import_link_parents",
    """
    UNWIND $rows AS row
    MATCH (d:Department {code: row.code})
    MATCH (parent:Department {code: row.parent_code})
    MERGE (d)-[:PART_OF]->(parent)
    """ + BUMP_PRINCIPALS,
    example={"rows": [{"code": "X", "parent_code": "Y"}]},
    writes=True,
)
