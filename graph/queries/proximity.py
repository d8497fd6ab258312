"""The asker's place in the organisation, for org-aware ranking (graph.proximity)."""

from graph.cypher import cypher

# My departments (MEMBER_OF), their parents and the parents' other children (siblings), my projects.
CIRCLE = cypher(
    "proximity.circle",
    """
    MATCH (p:Person {id: $person_id})
    OPTIONAL MATCH (p)-[:MEMBER_OF]->(own:Department)
    OPTIONAL MATCH (own)-[:PART_OF]->(parent:Department)
    OPTIONAL MATCH (sibling:Department)-[:PART_OF]->(parent)
    WITH p, collect(DISTINCT own.id) AS own, collect(DISTINCT parent.id) AS parents,
         collect(DISTINCT sibling.id) AS siblings
    OPTIONAL MATCH (p)-[:MEMBER_OF]->(j:Project)
    RETURN own, parents, siblings, collect(DISTINCT j.id) AS projects
    """,
    example={"person_id": "u1"},
)

# Which of these documents are shared with one of these projects.
IN_PROJECTS = cypher(
    "proximity.in_projects",
    """
    UNWIND $ids AS id
    MATCH (d:Document {id: id})-[:SHARED_WITH]->(j:Project)
    WITH d, j WHERE j.id IN $projects
    RETURN DISTINCT d.id AS id
    """,
    example={"ids": ["doc1"], "projects": ["j1"]},
)
