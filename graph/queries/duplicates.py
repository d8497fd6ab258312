"""Copies of one document kept by other owners: ``(:Document)-[:DUPLICATE_OF {kind, similarity, at}]->(:Document)``.

``kind`` is ``exact`` (same bytes: same content hash) or ``near`` (same text with small edits, reordered
sections, another template header: MinHash estimate of the Jaccard similarity of word/character shingles,
``ingest/dedupe.py``). One edge per pair, from the smaller id to the larger; only pairs with different
owners are linked. A version's MinHash signature is kept on the ``Version`` (``minhash``, ``minhash_at``).
"""

from graph.cypher import cypher

# One statement per batch: keep the signatures, and answer each document's owner and the other documents
# holding the same bytes (exact copies).
SIGN = cypher(
    "duplicates.sign",
    """
    UNWIND $rows AS r
    MATCH (d:Document {id: r.document_id})-[:HAS_VERSION]->(v:Version {id: r.version_id})
    SET v.minhash = r.minhash, v.minhash_at = r.at
    WITH d
    OPTIONAL MATCH (o:Document {sha256: d.sha256})
    WITH d, [x IN collect(o) WHERE x.id <> d.id | [x.id, x.owner_id]] AS same
    RETURN d.id AS id, d.owner_id AS owner_id, same
    """,
    example={"rows": [{"document_id": "doc1", "version_id": "v1", "minhash": [1, 2, 3], "at": 1}]},
    writes=True,
)

# Signatures of current versions stored after ``$since`` (a process's index catches up with these).
SIGNATURES_SINCE = cypher(
    "duplicates.signatures_since",
    """
    MATCH (v:Version) WHERE v.minhash_at > $since
    WITH v
    MATCH (d:Document)-[:CURRENT]->(v)
    RETURN d.id AS document_id, d.owner_id AS owner_id, v.minhash AS minhash, v.minhash_at AS at
    ORDER BY at
    """,
    example={"since": 0},
)

# The links of ``$ids`` replaced by ``$pairs`` in one statement (a document whose text changed loses its old ones).
RELINK = cypher(
    "duplicates.relink",
    """
    UNWIND $ids AS did
    OPTIONAL MATCH (:Document {id: did})-[e:DUPLICATE_OF]-(:Document)
    WITH DISTINCT e
    DELETE e
    WITH count(*) AS cleared
    UNWIND $pairs AS p
    MATCH (a:Document {id: p.a})
    MATCH (b:Document {id: p.b})
    MERGE (a)-[e:DUPLICATE_OF]->(b)
    SET e.kind = p.kind, e.similarity = p.similarity, e.at = $now
    RETURN count(e) AS linked
    """,
    example={"ids": ["doc1"], "pairs": [{"a": "doc1", "b": "doc2", "kind": "near", "similarity": 0.9}], "now": 1},
    writes=True,
)

# The copies of one document, with the departments of each copy's owner (for "also kept by 财务部").
COPIES = cypher(
    "duplicates.copies",
    """
    MATCH (d:Document {id: $id})-[e:DUPLICATE_OF]-(o:Document)
    WITH e, o WHERE o.trashed_at IS NULL
    OPTIONAL MATCH (p:Person)-[:OWNS]->(o)
    RETURN o.id AS id, o.title AS title, e.kind AS kind, e.similarity AS similarity, p.name AS owner_name,
           [(p)-[:MEMBER_OF]->(dep:Department) | dep.name] AS departments
    ORDER BY similarity DESC, id
    """,
    example={"id": "doc1"},
)

# Pairs among a set of documents (a bulk ingestion job reports those it created).
PAIRS_OF = cypher(
    "duplicates.pairs_of",
    """
    UNWIND $ids AS did
    MATCH (d:Document {id: did})-[e:DUPLICATE_OF]-(o:Document)
    RETURN d.id AS id, o.id AS other_id, e.kind AS kind, e.similarity AS similarity
    """,
    example={"ids": ["doc1"]},
)

# How much is kept twice, by which departments (the owners' departments; counts and sizes only, no titles).
# A trashed copy no longer counts as kept.
BY_DEPARTMENTS = cypher(
    "duplicates.by_departments",
    """
    MATCH (a:Document)-[e:DUPLICATE_OF]->(b:Document)
    WHERE a.trashed_at IS NULL AND b.trashed_at IS NULL
    OPTIONAL MATCH (pa:Person)-[:OWNS]->(a)
    OPTIONAL MATCH (pa)-[:MEMBER_OF]->(da:Department)
    WITH a, b, e, min(da.name) AS first
    OPTIONAL MATCH (pb:Person)-[:OWNS]->(b)
    OPTIONAL MATCH (pb)-[:MEMBER_OF]->(db:Department)
    WITH a, b, e, first, min(db.name) AS second
    RETURN first, second, e.kind AS kind, count(e) AS pairs, sum(coalesce(b.size, 0)) AS bytes
    """,
    example={},
)

CURRENT_VERSIONS = cypher(
    "duplicates.current_versions",
    """
    MATCH (d:Document)-[:CURRENT]->(v:Version)
    RETURN d.id AS document_id, v.id AS version_id
    ORDER BY document_id SKIP $skip LIMIT $limit
    """,
    example={"skip": 0, "limit": 100},
)

# Cross-owner copies of the documents a bulk ingestion job stored (its summary counts them).
JOB_PAIRS = cypher(
    "duplicates.job_pairs",
    """
    MATCH (f:IngestFile {job_id: $job_id}) WHERE f.document_id IS NOT NULL
    WITH DISTINCT f.document_id AS did
    MATCH (d:Document {id: did})-[e:DUPLICATE_OF]-(o:Document)
    RETURN d.id AS id, o.id AS other_id, e.kind AS kind
    """,
    example={"job_id": "j1"},
)
