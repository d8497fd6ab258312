"""Mentions: the people, departments and projects a document's current text names (MENTIONS edges)."""

from __future__ import annotations

from graph.cypher import Statement, cypher

# -- mentions ---------------------------------------------------------------------------------------

KNOWN_ENTITIES = cypher(
    "documents.known_entities",
    """
    MATCH (p:Person) WHERE p.active = true AND p.name IS NOT NULL
    RETURN 'Person' AS label, p.id AS id, p.name AS name, null AS name_en, null AS code
    UNION ALL
    MATCH (d:Department) WHERE coalesce(d.active, true) = true
    RETURN 'Department' AS label, d.id AS id, d.name AS name, d.name_en AS name_en, d.code AS code
    UNION ALL
    MATCH (j:Project) WHERE coalesce(j.active, true) = true
    RETURN 'Project' AS label, j.id AS id, j.name AS name, j.name_en AS name_en, j.code AS code
    """,
)

MENTION_LABELS = ("Person", "Department", "Project")


def _mention_targets() -> tuple[str, str]:
    """Each row looks its entity up under its own label only (one round trip for every kind of entity)."""
    lookups = "\n".join(f"OPTIONAL MATCH (t{i}:{label} {{id: row.id}}) WHERE row.label = '{label}'"
                         for i, label in enumerate(MENTION_LABELS))
    return lookups, "coalesce(" + ", ".join(f"t{i}" for i in range(len(MENTION_LABELS))) + ")"


def _link_mentions_many() -> Statement:
    # Rows of several documents at once (bulk ingestion); each row names its document and version.
    lookups, found = _mention_targets()
    return cypher(
        "documents.link_mentions_many",
        f"""
        UNWIND $rows AS row
        MATCH (d:Document {{id: row.document_id}})
        {lookups}
        WITH d, row, {found} AS t
        WHERE t IS NOT NULL
        MERGE (d)-[m:MENTIONS]->(t)
        SET m.count = row.count, m.version_id = row.version_id, m.ambiguous = row.ambiguous
        RETURN count(m) AS linked
        """,
        example={"rows": [{"document_id": "doc1", "version_id": "v1", "label": "Person", "id": "u1", "count": 2,
                           "ambiguous": False}]},
        writes=True,
    )


LINK_MENTIONS_MANY = _link_mentions_many()

CLEAR_MENTIONS_MANY = cypher(
    "documents.clear_mentions_many",
    """
    UNWIND $document_ids AS did
    MATCH (d:Document {id: did})-[m:MENTIONS]->()
    DELETE m
    RETURN count(*) AS removed
    """,
    example={"document_ids": ["doc1"]},
    writes=True,
)
