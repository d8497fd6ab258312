"""Trash and retention: documents moved to the trash (``d.trashed_at``), restored, held (``d.legal_hold``) and
purged. A trashed document is out of every readable set and every access path (graph.queries.permissions),
so these statements are the only ones that still see it."""

from graph.cypher import cypher

TRASH = cypher(
    "trash.trash",
    """
    MATCH (d:Document {id: $id}) WHERE d.trashed_at IS NULL
    SET d.trashed_at = $now, d.trashed_by = $actor_id
    RETURN d.id AS id
    """,
    example={"id": "doc1", "now": 1, "actor_id": "u1"},
    writes=True,
)

RESTORE = cypher(
    "trash.restore",
    """
    MATCH (d:Document {id: $id}) WHERE d.trashed_at IS NOT NULL
    SET d.trashed_at = null, d.trashed_by = null
    RETURN d.id AS id
    """,
    example={"id": "doc1"},
    writes=True,
)

# One document as trash and retention see it, with whether the person is its owner or an administrator.
SUBJECT = cypher(
    "trash.subject",
    """
    MATCH (d:Document {id: $id})
    OPTIONAL MATCH (o:Person)-[:OWNS]->(d)
    WITH d, collect(o.id) AS owners
    OPTIONAL MATCH (p:Person {id: $person_id})-[:HAS_ROLE]->(r:Role {name: 'admin'})
    WITH d, owners, count(r) > 0 AS admin
    OPTIONAL MATCH (me:Person {id: $person_id})
    RETURN d.id AS id, d.title AS title, d.trashed_at AS trashed_at, coalesce(d.legal_hold, false) AS legal_hold,
           $person_id IN owners AND me.active = true AS owner, admin AND me.active = true AS admin
    """,
    example={"id": "doc1", "person_id": "u1"},
)

SET_HOLD = cypher(
    "trash.set_hold",
    "MATCH (d:Document {id: $id}) SET d.legal_hold = $hold RETURN d.id AS id",
    example={"id": "doc1", "hold": True},
    writes=True,
)

# The trash page: my trashed documents (every trashed document for an administrator: $owner_id null).
LIST_TRASHED = cypher(
    "trash.list",
    """
    MATCH (o:Person)-[:OWNS]->(d:Document) WHERE d.trashed_at IS NOT NULL
    WITH o, d WHERE $owner_id IS NULL OR o.id = $owner_id
    OPTIONAL MATCH (b:Person {id: d.trashed_by})
    RETURN d.id AS id, d.title AS title, d.kind AS kind, d.size AS size, d.trashed_at AS trashed_at,
           coalesce(d.legal_hold, false) AS legal_hold, o.name AS owner_name, b.name AS trashed_by_name
    ORDER BY trashed_at DESC, id LIMIT $limit
    """,
    example={"owner_id": "u1", "limit": 100},
)

DUE_FOR_PURGE = cypher(
    "trash.due",
    """
    MATCH (d:Document) WHERE d.trashed_at IS NOT NULL
    WITH d WHERE d.trashed_at <= $before AND coalesce(d.legal_hold, false) = false
    RETURN d.id AS id ORDER BY d.trashed_at LIMIT $limit
    """,
    example={"before": 1, "limit": 100},
)

# What a purge takes with it: the versions (their texts and, unless shared, their blobs).
PARTS = cypher(
    "trash.parts",
    """
    MATCH (d:Document {id: $id})-[:HAS_VERSION]->(v:Version)
    RETURN v.id AS version_id, v.sha256 AS sha256
    """,
    example={"id": "doc1"},
)

# The document, its versions, comments and locations, gone in one statement (only while still trashed and not held).
PURGE = cypher(
    "trash.purge",
    """
    MATCH (d:Document {id: $id}) WHERE d.trashed_at IS NOT NULL AND coalesce(d.legal_hold, false) = false
    OPTIONAL MATCH (d)-[:HAS_VERSION]->(v:Version)
    OPTIONAL MATCH (c:Comment)-[:ON]->(d)
    OPTIONAL MATCH (l:DocumentLocation)-[:LOCATION_OF]->(d)
    DETACH DELETE d, v, c, l
    RETURN count(*) AS purged
    """,
    example={"id": "doc1"},
    writes=True,
)

# How many versions (of any document) still hold each blob: content-addressed blobs may be shared.
BLOB_REFERENCES = cypher(
    "trash.blob_references",
    """
    UNWIND $hashes AS h
    OPTIONAL MATCH (v:Version {sha256: h})
    RETURN h AS sha256, count(v) AS refs
    """,
    example={"hashes": ["0" * 64]},
)
