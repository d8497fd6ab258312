"""Look-ups of the pickers (people, departments with their place in the tree, positions, projects): active
entries whose name, English name, code or user name contains the typed text, exact matches first."""

from graph.cypher import cypher

_MATCH_TEXT = """
    ($q = '' OR toLower(coalesce(x.name, '')) CONTAINS $q OR toLower(coalesce(x.name_en, '')) CONTAINS $q
     OR toLower(coalesce(x.code, '')) CONTAINS $q)
"""

PICK_PEOPLE = cypher(
    "pickers.people",
    """
    MATCH (x:Person)
    WHERE x.active = true AND ($q = '' OR toLower(coalesce(x.name, '')) CONTAINS $q
          OR toLower(x.username) CONTAINS $q)
    OPTIONAL MATCH (x)-[:MEMBER_OF]->(d:Department)
    WITH x, collect(d.name)[0] AS unit, collect(d.name_en)[0] AS unit_en
    RETURN x.username AS value, x.name AS name, null AS name_en, unit AS hint, unit_en AS hint_en,
           toLower(x.username) = $q OR toLower(coalesce(x.name, '')) = $q AS exact
    ORDER BY exact DESC, name, value
    LIMIT $limit
    """,
    example={"q": "li", "limit": 20},
)

PICK_DEPARTMENTS = cypher(
    "pickers.departments",
    """
    MATCH (x:Department)
    WHERE coalesce(x.active, true) = true AND """ + _MATCH_TEXT + """
    OPTIONAL MATCH (x)-[:PART_OF*1..6]->(up:Department)
    WITH x, collect(up.name) AS ups, collect(up.name_en) AS ups_en
    RETURN x.code AS value, x.name AS name, x.name_en AS name_en, ups AS path, ups_en AS path_en,
           toLower(x.code) = $q AS exact
    ORDER BY exact DESC, size(ups), name
    LIMIT $limit
    """,
    example={"q": "fin", "limit": 20},
)

PICK_POSITIONS = cypher(
    "pickers.positions",
    """
    MATCH (x:Position)
    WHERE """ + _MATCH_TEXT + """
    RETURN x.code AS value, x.name AS name, x.name_en AS name_en, null AS hint, null AS hint_en,
           toLower(x.code) = $q AS exact
    ORDER BY exact DESC, name
    LIMIT $limit
    """,
    example={"q": "acc", "limit": 20},
)

PICK_PROJECTS = cypher(
    "pickers.projects",
    """
    MATCH (x:Project)
    WHERE coalesce(x.active, true) = true AND """ + _MATCH_TEXT + """
    RETURN x.code AS value, x.name AS name, x.name_en AS name_en, null AS hint, null AS hint_en,
           toLower(x.code) = $q AS exact
    ORDER BY exact DESC, name
    LIMIT $limit
    """,
    example={"q": "erp", "limit": 20},
)
