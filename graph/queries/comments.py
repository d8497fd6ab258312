"""Comments on documents: ``(:Comment)-[:ON]->(:Document)``, ``(:Comment)-[:BY]->(:Person)``."""

from __future__ import annotations

from graph.cypher import cypher
from graph.queries.audit import audited

ADD_DOCUMENT_COMMENT = cypher(
    "comments.add_document_comment",
    """
    MATCH (d:Document {id: $document_id})
    MATCH (me:Person {id: $actor_id})
    CREATE (c:Comment {id: $id, text: $text, at: $at, author_id: $actor_id, document_id: $document_id,
                       version_id: $version_id})
    CREATE (c)-[:ON]->(d)
    CREATE (c)-[:BY]->(me)
    RETURN c.id AS id
    """,
    example={"document_id": "doc1", "actor_id": "u1", "id": "c1", "text": "好", "at": 0, "version_id": "v1"},
    writes=True,
)

# The comment and its ``document.comment`` audit event in one statement.
ADD_DOCUMENT_COMMENT_AUDITED = audited(ADD_DOCUMENT_COMMENT, before="RETURN c.id AS id", carry="c",
                                       kind="document")

DOCUMENT_COMMENTS = cypher(
    "comments.document_comments",
    """
    MATCH (c:Comment)-[:ON]->(d:Document {id: $document_id})
    OPTIONAL MATCH (c)-[:BY]->(p:Person)
    WITH c, p ORDER BY c.at DESC, c.id SKIP $skip LIMIT $limit
    RETURN c.id AS id, c.text AS text, c.at AS at, c.version_id AS version_id, p.id AS author_id,
           p.name AS author_name, p.username AS author_username
    """,
    example={"document_id": "doc1", "skip": 0, "limit": 50},
)

COUNT_DOCUMENT_COMMENTS = cypher(
    "comments.count_document_comments",
    "MATCH (c:Comment)-[:ON]->(:Document {id: $document_id}) RETURN count(c) AS total",
    example={"document_id": "doc1"},
)
