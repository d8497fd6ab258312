"""Decisions for the decision search index (ingest.decision_search): the records written since a time."""

from graph.cypher import cypher

SINCE = cypher(
    "decision_terms.since",
    """
    MATCH (x:Decision) WHERE x.kind = 'record'
    WITH x WHERE x.at >= $since
    RETURN x.id AS id, x.title AS title, coalesce(x.text, '') AS text, x.at AS at
    ORDER BY at LIMIT $limit
    """,
    example={"since": 0, "limit": 1000},
)
