"""Statements of the reorganisation impact preview (graph/org_impact.py): titles of example documents."""

from graph.cypher import cypher

DOCUMENT_TITLES = cypher(
    "org_impact.document_titles",
    """
    UNWIND $ids AS did
    MATCH (d:Document {id: did})
    RETURN d.id AS id, d.title AS title
    """,
    example={"ids": ["doc1"]},
)
