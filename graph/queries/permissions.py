"""Sharing and permissions as graph paths (the policy is written down in docs/permissions.md).

Each rule of the policy is one branch: a pattern from a person to a document plus whether the path
counts under the document's access level. The branches are written once and assembled into the
statements below (one person and one document; every reader of one document). Labels and level
lists are spliced in from :mod:`graph.classification` constants at import time, never from users.

Every statement that changes who may see what bumps the permission version kept in
``(:Meta {key: 'permissions_version'})`` in the same statement, with a short log of what changed,
so every process can tell cheaply whether its cached readable sets are still exact.
"""

from __future__ import annotations

from graph.classification import ShareKind, levels_where_counts
from graph.cypher import Statement, cypher
from graph.queries import audit as audit_q
from graph.queries.run_participation import PARTICIPATION

VERSION_KEY = "permissions_version"
LOG_LENGTH = 512


def _levels(kind: ShareKind) -> str:
    return "[" + ", ".join(f"'{level}'" for level in levels_where_counts(kind)) + "]"


def _node(var: str) -> str:
    # Documents carry a title, every other node a name.
    return (f"{{label: labels({var})[0], id: {var}.id, name: coalesce({var}.name, {var}.title), "
            f"name_en: {var}.name_en, active: {var}.active}}")


_ACTIVE = "p.active = true"
_PERSON_TO_DOCUMENT = f"[{_node('p')}, {_node('d')}]"

# kind, pattern (p = person, d = document, s = share edge, t = share target, path = department path),
# extra condition for the path to count, whether it grants edit, the justifying steps (None: person,
# document). Share patterns start from the document and pass the carried variables through a WITH
# so the engine walks the document's few shares, never every document shared with a big department.
_BRANCHES: list[tuple[str, str, str, str, str | None]] = [
    ("owner", "MATCH (p:Person)-[:OWNS]->(d)", "true", "true", None),
    ("person", "MATCH (d)-[s:SHARED_WITH]->(p:Person)", "true", "s.access = 'edit'", None),
    ("department",
     "MATCH (d)-[s:SHARED_WITH]->(t:Department) WITH <CARRY>, s, t "
     "MATCH path = (p:Person)-[:MEMBER_OF]->(:Department)-[:PART_OF*0..]->(t)",
     f"d.access IN {_levels(ShareKind.DEPARTMENT)} AND all(x IN nodes(path)[1..] WHERE x.active = true)",
     "s.access = 'edit'", f"[x IN nodes(path) | {_node('x')}] + [{_node('d')}]"),
    ("project", "MATCH (d)-[s:SHARED_WITH]->(t:Project) WITH <CARRY>, s, t MATCH (p:Person)-[:MEMBER_OF]->(t)",
     f"d.access IN {_levels(ShareKind.PROJECT)} AND t.active = true", "s.access = 'edit'",
     f"[{_node('p')}, {_node('t')}, {_node('d')}]"),
    ("position", "MATCH (d)-[s:SHARED_WITH]->(t:Position) WITH <CARRY>, s, t MATCH (p:Person)-[:HOLDS]->(t)",
     f"d.access IN {_levels(ShareKind.POSITION)}", "s.access = 'edit'",
     f"[{_node('p')}, {_node('t')}, {_node('d')}]"),
    # A file attached to a task of a workflow run: every participant of the run (the run-visibility rule,
    # one branch per participation pattern), at every level: attaching it to the run is the share.
    *[("run", "MATCH (d)-[:ATTACHED_TO]->(:Task)-[:OF_RUN]->(t:WorkflowRun) WITH DISTINCT <CARRY>, t "
       f"MATCH {pattern}", "true", "false", f"[{_node('p')}, {_node('t')}, {_node('d')}]")
      for _name, pattern in PARTICIPATION],
    # Filtered on the document before people are matched, so a non-public document never scans people.
    ("public", "WITH <CARRY> WHERE d.access = 'public' MATCH (p:Person)", "true", "false", None),
    ("admin", "MATCH (p:Person)-[:HAS_ROLE]->(:Role {name: 'admin'})", "true", "true", None),
]


def _union(head: str, carry: str, *, only_counting: bool, skip: tuple[str, ...] = ()) -> str:
    """The branches after ``head``. Reader lists (``only_counting``) leave person -> document steps
    empty for the caller to fill in."""
    parts = []
    for kind, pattern, condition, edit, steps in _BRANCHES:
        if kind in skip:
            continue
        share = "s.access" if "s:SHARED_WITH" in pattern else "null"
        steps = steps or ("[]" if only_counting else _PERSON_TO_DOCUMENT)
        parts.append(
            f"{head} {pattern.replace('<CARRY>', carry)} "
            f"WITH p, d, {_ACTIVE} AND {condition} AS counts, {edit} AS edit, {share} AS share_access, "
            f"{steps} AS steps "
            + ("WHERE counts " if only_counting else "")
            + f"RETURN '{kind}' AS kind, counts, edit, share_access, p.id AS person_id, p.name AS person_name, "
            "p.active AS person_active, d.id AS document_id, d.access AS level, steps"
        )
    return " UNION ALL ".join(parts)


# A document in the trash (``d.trashed_at``) has no access path and is in no readable set: to everyone it is
# a missing document, at once (graph.queries.trash is what still sees it).
_ONE_HEAD = "MATCH (p:Person {id: $person_id}) MATCH (d:Document {id: $document_id}) WHERE d.trashed_at IS NULL"
# One extra row that always comes back, so a refusal can say whether the person or document exists.
_SUBJECT = (
    "OPTIONAL MATCH (p:Person {id: $person_id}) OPTIONAL MATCH (d:Document {id: $document_id}) "
    "WHERE d.trashed_at IS NULL "
    "RETURN 'subject' AS kind, false AS counts, false AS edit, null AS share_access, p.id AS person_id, "
    "p.name AS person_name, p.active AS person_active, d.id AS document_id, d.access AS level, "
    f"[{_node('d')}] AS steps"
)

ACCESS_PATHS = cypher(
    "permissions.access_paths",
    _SUBJECT + " UNION ALL " + _union(_ONE_HEAD, "p, d", only_counting=False),
    example={"person_id": "u1", "document_id": "doc1"},
)

# Every reader of one document by every rule but "public": a public document has every active person
# as a reader, and those are paged straight from the people (ACTIVE_PEOPLE_PAGE) instead.
READERS = cypher(
    "permissions.readers",
    _union("MATCH (d:Document {id: $document_id}) WHERE d.trashed_at IS NULL", "d", only_counting=True,
           skip=("public",)),
    example={"document_id": "doc1"},
)

ACTIVE_PEOPLE_COUNT = cypher(
    "permissions.active_people_count",
    "MATCH (p:Person) WHERE p.active = true RETURN count(p) AS count",
)

ACTIVE_PEOPLE_PAGE = cypher(
    "permissions.active_people_page",
    """
    MATCH (p:Person) WHERE p.active = true
    RETURN p.id AS person_id, p.name AS person_name
    ORDER BY p.name, p.id SKIP $skip LIMIT $limit
    """,
    example={"skip": 0, "limit": 50},
)

PRINCIPALS = cypher(
    "permissions.principals",
    """
    MATCH (p:Person {id: $person_id})
    OPTIONAL MATCH path = (p)-[:MEMBER_OF]->(:Department)-[:PART_OF*0..]->(a:Department)
    WITH p, collect(DISTINCT CASE WHEN all(x IN nodes(path)[1..] WHERE x.active = true) THEN a.id END) AS departments
    OPTIONAL MATCH (p)-[:MEMBER_OF]->(j:Project)
    WITH p, departments, collect(DISTINCT CASE WHEN j.active = true THEN j.id END) AS projects
    OPTIONAL MATCH (p)-[:HOLDS]->(s:Position)
    WITH p, departments, projects, collect(DISTINCT s.id) AS positions
    OPTIONAL MATCH (p)-[:HAS_ROLE]->(r:Role {name: 'admin'})
    RETURN p.active = true AS active, count(r) > 0 AS admin, departments, projects, positions
    """,
    example={"person_id": "u1"},
)

_GRANTS = """
    OPTIONAL MATCH (o:Person)-[:OWNS]->(d)
    WITH d, collect(o.id) AS owners
    OPTIONAL MATCH (d)-[:SHARED_WITH]->(t)
    WITH d, owners, collect([labels(t)[0], t.id]) AS shares
    OPTIONAL MATCH (d)-[:ATTACHED_TO]->(:Task)-[:OF_RUN]->(r:WorkflowRun)
    WITH d, owners, shares, collect(DISTINCT CASE WHEN r IS NULL THEN null ELSE ['WorkflowRun', r.id] END) AS runs
    RETURN d.id AS id, d.access AS level, d.title AS title, owners, shares + runs AS targets
"""

# The full scan for building readable sets comes as three flat results: nested lists per document
# cost the client about three times as long to decode (measured at 100k documents).
ALL_DOCUMENTS = cypher("permissions.all_documents",
                       "MATCH (d:Document) WHERE d.trashed_at IS NULL RETURN d.id AS id, d.access AS level")
ALL_OWNERSHIPS = cypher(
    "permissions.all_ownerships", "MATCH (o:Person)-[:OWNS]->(d:Document) RETURN d.id AS id, o.id AS owner"
)
ALL_SHARES = cypher(
    "permissions.all_shares",
    "MATCH (d:Document)-[:SHARED_WITH]->(t) RETURN d.id AS id, labels(t)[0] AS label, t.id AS target",
)

DOCUMENT_GRANTS = cypher(
    "permissions.document_grants",
    "UNWIND $ids AS id MATCH (d:Document {id: id}) WHERE d.trashed_at IS NULL" + _GRANTS,
    example={"ids": ["doc1"]},
)

PERMISSIONS_VERSION = cypher(
    "permissions.version",
    f"MATCH (m:Meta {{key: '{VERSION_KEY}'}}) RETURN m.value AS version",
)

PERMISSIONS_LOG = cypher(
    "permissions.log",
    f"MATCH (m:Meta {{key: '{VERSION_KEY}'}}) RETURN m.value AS version, m.log AS log",
)

# Appended to a statement whose previous clause produced ``changes`` (a list of 'doc:<id>',
# 'person:<id>', 'principals' or 'all'): every domain statement that changes who may see what
# ends with ``WITH <list of change strings> AS changes`` followed by this fragment. Setting
# ``lock`` first makes Neo4j take the node's write lock before the counter is read, so two
# concurrent bumps cannot both read the same value.
PERMISSION_BUMP = f"""
    WITH changes WHERE size(changes) > 0
    MERGE (m:Meta {{key: '{VERSION_KEY}'}})
    SET m.lock = true
    WITH m, changes, coalesce(m.value, 0) + 1 AS v
    SET m.value = v, m.log = (coalesce(m.log, []) + [c IN changes | toString(v) + '|' + c])[-{LOG_LENGTH}..]
    RETURN v AS version, size(changes) AS changed
"""

RECORD_CHANGES = cypher(
    "permissions.record_changes",
    "WITH $changes AS changes" + PERMISSION_BUMP,
    example={"changes": ["person:u1"]},
    writes=True,
)


def _share_statement(kind: ShareKind) -> Statement:
    return cypher(
        f"permissions.share_{kind.value.lower()}",
        f"""
        UNWIND $rows AS row
        MATCH (d:Document {{id: row.document_id}})
        MATCH (t:{kind.value} {{id: row.target_id}})
        MERGE (d)-[s:SHARED_WITH]->(t)
        SET s.access = row.access, s.by = $actor_id, s.at = $now
        WITH collect(DISTINCT 'doc:' + d.id) AS changes
        """ + PERMISSION_BUMP,
        example={"rows": [{"document_id": "doc1", "target_id": "d1", "access": "read"}], "actor_id": "u1", "now": 0},
        writes=True,
    )


def _unshare_statement(kind: ShareKind) -> Statement:
    return cypher(
        f"permissions.unshare_{kind.value.lower()}",
        f"""
        MATCH (d:Document {{id: $document_id}})-[s:SHARED_WITH]->(t:{kind.value} {{id: $target_id}})
        DELETE s
        WITH collect(DISTINCT 'doc:' + d.id) AS changes
        """ + PERMISSION_BUMP,
        example={"document_id": "doc1", "target_id": "d1"},
        writes=True,
    )


def _members_statement(kind: ShareKind, pattern: str) -> Statement:
    return cypher(
        f"permissions.members_{kind.value.lower()}",
        pattern + " RETURN DISTINCT p.id AS person_id, p.name AS person_name",
        example={"target_id": "d1"},
    )


# The clause after which a document write bumps the permission version: its audit event goes just before it,
# once per document written (none when nothing was shared, unshared or created).
DOCUMENT_CHANGES = "WITH collect(DISTINCT 'doc:' + d.id) AS changes"
SHARE: dict[ShareKind, Statement] = {kind: _share_statement(kind) for kind in ShareKind}
UNSHARE: dict[ShareKind, Statement] = {kind: _unshare_statement(kind) for kind in ShareKind}
# One person's share or unshare from the document page (graph.documents): the change and its audit event at once.
SHARE_AUDITED = {kind: audit_q.audited(statement, before=DOCUMENT_CHANGES, carry="d", kind="document")
                 for kind, statement in SHARE.items()}
UNSHARE_AUDITED = {kind: audit_q.audited(statement, before=DOCUMENT_CHANGES, carry="d", kind="document")
                   for kind, statement in UNSHARE.items()}

# The active people a share with the target would reach, under the same activity rules as the branches.
MEMBERS: dict[ShareKind, Statement] = {
    ShareKind.PERSON: _members_statement(ShareKind.PERSON, "MATCH (p:Person {id: $target_id}) WHERE p.active = true"),
    ShareKind.DEPARTMENT: _members_statement(
        ShareKind.DEPARTMENT,
        "MATCH (t:Department {id: $target_id}) "
        "MATCH path = (p:Person)-[:MEMBER_OF]->(:Department)-[:PART_OF*0..]->(t) "
        "WITH p, path WHERE p.active = true AND all(x IN nodes(path)[1..] WHERE x.active = true)",
    ),
    ShareKind.PROJECT: _members_statement(
        ShareKind.PROJECT,
        "MATCH (t:Project {id: $target_id}) WHERE t.active = true "
        "MATCH (p:Person)-[:MEMBER_OF]->(t) WITH p WHERE p.active = true",
    ),
    ShareKind.POSITION: _members_statement(
        ShareKind.POSITION,
        "MATCH (p:Person)-[:HOLDS]->(t:Position {id: $target_id}) WITH p WHERE p.active = true",
    ),
}

TARGET_EXISTS: dict[ShareKind, Statement] = {
    kind: cypher(
        f"permissions.target_exists_{kind.value.lower()}",
        f"MATCH (t:{kind.value} {{id: $target_id}}) RETURN t.id AS id, coalesce(t.name, t.title) AS name",
        example={"target_id": "d1"},
    )
    for kind in ShareKind
}

SET_LEVEL = cypher(
    "permissions.set_level",
    """
    MATCH (d:Document {id: $document_id})
    SET d.access = $level
    WITH collect(DISTINCT 'doc:' + d.id) AS changes
    """ + PERMISSION_BUMP,
    example={"document_id": "doc1", "level": "internal"},
    writes=True,
)

# Registers documents with their classification and owner (the owner is whoever the OWNS edge points
# from; ``owner_id`` is a denormalised copy for listings). A changed owner loses the old OWNS edge.
UPSERT_DOCUMENTS = cypher(
    "permissions.upsert_documents",
    """
    UNWIND $rows AS row
    MERGE (d:Document {id: row.id})
    SET d.title = row.title, d.access = row.access, d.domain = row.domain, d.data_type = row.data_type,
        d.owner_id = row.owner_id
    WITH d, row
    OPTIONAL MATCH (old:Person)-[r:OWNS]->(d) WHERE old.id <> row.owner_id
    DELETE r
    WITH DISTINCT d, row
    MATCH (o:Person {id: row.owner_id})
    MERGE (o)-[:OWNS]->(d)
    WITH collect(DISTINCT 'doc:' + d.id) AS changes
    """ + PERMISSION_BUMP,
    example={"rows": [{"id": "doc1", "title": "预算", "access": "internal", "domain": "finance",
                       "data_type": "structured", "owner_id": "u1"}]},
    writes=True,
)
