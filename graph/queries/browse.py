"""Listing documents: one page of the readable ones, filtered and sorted, counts per classification and
per department folder, and the readable documents related to one (same domain, shared mentions)."""

from __future__ import annotations

from graph.cypher import Statement, cypher
from graph.queries.documents import DOC_FIELDS as _DOC_FIELDS

# -- listing ------------------------------------------------------------------------------------------

# Two ways in: the readable ids of a person (the usual case) or every document (administrators).
_SOURCES = {
    "ids": "UNWIND $ids AS did MATCH (d:Document {id: did})",
    "all": "MATCH (d:Document)",
}
# Every filter is optional: a null parameter lets every document through.
_FILTER = """
    WITH d
    WHERE d.updated_at >= $since AND d.updated_at < $until
      AND ($domain IS NULL OR d.domain = $domain)
      AND ($data_type IS NULL OR d.data_type = $data_type)
      AND ($access IS NULL OR d.access = $access)
      AND ($kind IS NULL OR d.kind = $kind)
      AND ($owner_id IS NULL OR d.owner_id = $owner_id)
      AND ($status IS NULL OR d.status = $status)
      AND ($text IS NULL OR toLower(d.title) CONTAINS $text)
"""
FILTER_EXAMPLE = {"ids": ["doc1"], "since": 0, "until": 2**53, "domain": None, "data_type": None, "access": None,
                  "kind": None, "owner_id": None, "status": None, "text": None}

# Sort keys users may pick; the ORDER BY text comes from this table only. The first five are the API's keys;
# the others let every sortable column of the list be clicked both ways.
SORTS: dict[str, str] = {
    "updated": "d.updated_at DESC",
    "oldest": "d.updated_at ASC",
    "created": "d.created_at DESC",
    "title": "d.title ASC",
    "size": "d.size DESC",
    "title_desc": "d.title DESC",
    "kind": "d.kind ASC",
    "kind_desc": "d.kind DESC",
    "domain": "d.domain ASC",
    "domain_desc": "d.domain DESC",
    "size_asc": "d.size ASC",
    "created_asc": "d.created_at ASC",
}
# The list's sortable columns: (ascending key, descending key, the direction of a first click).
SORT_COLUMNS: dict[str, tuple[str, str, str]] = {
    "title": ("title", "title_desc", "ascending"),
    "kind": ("kind", "kind_desc", "ascending"),
    "domain": ("domain", "domain_desc", "ascending"),
    "updated": ("oldest", "updated", "descending"),
    "size": ("size_asc", "size", "descending"),
    "created": ("created_asc", "created", "descending"),
}


def _list_statement(source: str, sort: str) -> Statement:
    return cypher(
        f"documents.browse_{source}_{sort}",
        _SOURCES[source] + _FILTER + f"""
        WITH d ORDER BY {SORTS[sort]}, d.id SKIP $skip LIMIT $limit
        OPTIONAL MATCH (o:Person {{id: d.owner_id}})
        RETURN {_DOC_FIELDS}, o.name AS owner_name, o.username AS owner_username
        """,
        example={**FILTER_EXAMPLE, "skip": 0, "limit": 20},
    )


BROWSE: dict[tuple[str, str], Statement] = {
    (source, sort): _list_statement(source, sort) for source in _SOURCES for sort in SORTS
}
COUNT: dict[str, Statement] = {
    source: cypher(f"documents.count_{source}", _SOURCES[source] + _FILTER + " RETURN count(d) AS total",
                   example=FILTER_EXAMPLE)
    for source in _SOURCES
}
CLASSIFICATION: dict[str, Statement] = {
    source: cypher(
        f"documents.classification_{source}",
        _SOURCES[source] + _FILTER + """
        RETURN d.domain AS domain, d.data_type AS data_type, d.access AS access, count(d) AS count
        ORDER BY domain, data_type, access
        """,
        example=FILTER_EXAMPLE,
    )
    for source in _SOURCES
}
FOLDER_COUNTS: dict[str, Statement] = {
    source: cypher(
        f"documents.folder_counts_{source}",
        _SOURCES[source] + _FILTER + """
        MATCH (d)-[:SHARED_WITH]->(t:Department)
        RETURN t.id AS department_id, count(DISTINCT d) AS count
        """,
        example=FILTER_EXAMPLE,
    )
    for source in _SOURCES
}

DEPARTMENTS = cypher(
    "documents.departments",
    """
    MATCH (t:Department)
    OPTIONAL MATCH (t)-[:PART_OF]->(parent:Department)
    RETURN t.id AS id, t.code AS code, t.name AS name, t.name_en AS name_en, parent.id AS parent_id,
           coalesce(t.active, true) AS active
    ORDER BY code
    """,
)

SHARED_WITH_DEPARTMENTS = cypher(
    "documents.shared_with_departments",
    """
    MATCH (t:Department)<-[:SHARED_WITH]-(d:Document)
    WHERE t.id IN $department_ids
    RETURN DISTINCT d.id AS id
    """,
    example={"department_ids": ["d1"]},
)

MY_DEPARTMENTS = cypher(
    "documents.my_departments",
    """
    MATCH (p:Person {id: $person_id})-[:MEMBER_OF]->(:Department)-[:PART_OF*0..]->(a:Department)
    RETURN DISTINCT a.id AS id
    """,
    example={"person_id": "u1"},
)



def _related_statement(source: str) -> Statement:
    return cypher(
        f"documents.related_same_domain_{source}",
        "MATCH (x:Document {id: $id}) WITH x " + _SOURCES[source] + """
        WITH x, d WHERE d.domain = x.domain AND d.id <> x.id
        OPTIONAL MATCH (x)-[:MENTIONS]->(e)<-[:MENTIONS]-(d)
        WITH d, count(e) AS shared
        ORDER BY shared DESC, d.updated_at DESC, d.id LIMIT $limit
        RETURN d.id AS id, d.title AS title, d.kind AS kind, d.domain AS domain, d.access AS access,
               d.updated_at AS updated_at, shared
        """,
        example={"id": "doc1", "ids": ["doc2"], "limit": 10},
    )


RELATED_SAME_DOMAIN: dict[str, Statement] = {source: _related_statement(source) for source in _SOURCES}

PEOPLE_NAMES = cypher(
    "documents.people_names",
    """
    UNWIND $ids AS pid
    MATCH (p:Person {id: pid})
    RETURN p.id AS id, p.name AS name
    """,
    example={"ids": ["u1"]},
)
