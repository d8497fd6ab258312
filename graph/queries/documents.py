"""Documents and their versions: creation, new versions, metadata edits, extraction results, reading one
document (listings: :mod:`graph.queries.browse`; mentions: :mod:`graph.queries.mentions`).

Writes that several people may race on lock the document node first (``SET d.locked_at``): on
Neo4j that takes the node's write lock before anything is read, so the revision check and the
current-version lookup see the latest committed state; FalkorDB runs each statement under its
graph lock anyway. Every statement that changes who may read a document ends with the
permission bump of :mod:`graph.queries.permissions`, in the same statement.
"""

from __future__ import annotations

from graph.cypher import cypher
from graph.queries.audit import audited
from graph.queries.permissions import DOCUMENT_CHANGES, PERMISSION_BUMP

# Properties of a document row as listings return them.
DOC_FIELDS = (
    "d.id AS id, d.title AS title, d.kind AS kind, d.mime AS mime, d.domain AS domain, d.data_type AS data_type, "
    "d.access AS access, d.owner_id AS owner_id, d.created_at AS created_at, d.updated_at AS updated_at, "
    "d.revision AS revision, d.status AS status, d.status_reason AS status_reason, d.size AS size, "
    "d.sha256 AS sha256, d.version_count AS version_count, d.filename AS filename"
)

_CREATE_EXAMPLE = {
    "id": "doc1", "version_id": "v1", "owner_id": "u1", "title": "预算", "title_source": "user", "kind": "docx",
    "mime": "application/x", "domain": "finance", "data_type": "unstructured", "access": "internal", "size": 10,
    "sha256": "0" * 64, "filename": "预算.docx", "note": "", "now": 0,
}

CREATE_DOCUMENT = cypher(
    "documents.create",
    """
    MATCH (o:Person {id: $owner_id})
    CREATE (d:Document {id: $id, title: $title, title_source: $title_source, kind: $kind, mime: $mime,
                        domain: $domain, data_type: $data_type, access: $access, owner_id: $owner_id,
                        created_at: $now, updated_at: $now, revision: 1, status: 'pending', size: $size,
                        sha256: $sha256, filename: $filename, version_count: 1})
    CREATE (v:Version {id: $version_id, number: 1, sha256: $sha256, size: $size, author_id: $owner_id,
                       created_at: $now, note: $note, filename: $filename, kind: $kind, mime: $mime,
                       status: 'pending'})
    CREATE (o)-[:OWNS]->(d)
    CREATE (d)-[:HAS_VERSION]->(v)
    CREATE (d)-[:CURRENT]->(v)
    WITH collect(DISTINCT 'doc:' + d.id) AS changes
    """ + PERMISSION_BUMP,
    example=_CREATE_EXAMPLE,
    writes=True,
)

# Bulk ingestion: many first uploads of one owner in one statement (the owner must be active).
CREATE_DOCUMENTS = cypher(
    "documents.create_many",
    """
    MATCH (o:Person {id: $owner_id})
    WHERE o.active = true
    UNWIND $rows AS r
    CREATE (d:Document {id: r.id, title: r.title, title_source: r.title_source, kind: r.kind, mime: r.mime,
                        domain: r.domain, data_type: r.data_type, access: r.access, owner_id: $owner_id,
                        created_at: r.now, updated_at: r.now, revision: 1, status: 'pending', size: r.size,
                        sha256: r.sha256, filename: r.filename, version_count: 1})
    CREATE (v:Version {id: r.version_id, number: 1, sha256: r.sha256, size: r.size, author_id: $owner_id,
                       created_at: r.now, note: r.note, filename: r.filename, kind: r.kind, mime: r.mime,
                       status: 'pending'})
    CREATE (o)-[:OWNS]->(d)
    CREATE (d)-[:HAS_VERSION]->(v)
    CREATE (d)-[:CURRENT]->(v)
    WITH collect(DISTINCT 'doc:' + d.id) AS changes
    """ + PERMISSION_BUMP,
    example={"owner_id": "u1", "rows": [{k: v for k, v in _CREATE_EXAMPLE.items() if k != "owner_id"}]},
    writes=True,
)

# ``$base`` (the uploader's base version number, or null) is checked in the same statement as the write,
# after the lock: a stale base writes nothing and returns no row.
ADD_VERSION = cypher(
    "documents.add_version",
    """
    MATCH (d:Document {id: $document_id})
    SET d.locked_at = $now
    WITH d
    MATCH (d)-[c:CURRENT]->(prev:Version)
    WITH d, c, prev WHERE $base IS NULL OR prev.number = $base
    CREATE (v:Version {id: $version_id, number: prev.number + 1, sha256: $sha256, size: $size,
                       author_id: $author_id, created_at: $now, note: $note, filename: $filename, kind: $kind,
                       mime: $mime, status: 'pending'})
    CREATE (d)-[:HAS_VERSION]->(v)
    CREATE (v)-[:PREVIOUS]->(prev)
    CREATE (d)-[:CURRENT]->(v)
    DELETE c
    SET d.updated_at = $now, d.sha256 = $sha256, d.size = $size, d.kind = $kind, d.mime = $mime,
        d.data_type = $data_type, d.filename = $filename, d.status = 'pending', d.status_reason = null,
        d.version_count = prev.number + 1
    RETURN v.id AS version_id, v.number AS number, prev.id AS previous_id
    """,
    example={"document_id": "doc1", "version_id": "v2", "author_id": "u1", "sha256": "1" * 64, "size": 11,
             "note": "", "filename": "b.docx", "kind": "docx", "mime": "application/x",
             "data_type": "unstructured", "now": 1, "base": 1},
    writes=True,
)

# Partial edit: a null parameter keeps the field. Only applied when the revision is the caller's.
_UPDATE_HEAD = """
    MATCH (d:Document {id: $id})
    SET d.locked_at = $now
    WITH d
    WHERE d.revision = $revision
    SET d.title = coalesce($title, d.title),
        d.title_source = CASE WHEN $title IS NULL THEN d.title_source ELSE 'user' END,
        d.domain = coalesce($domain, d.domain),
        d.access = coalesce($access, d.access),
        d.revision = d.revision + 1, d.updated_at = $now, d.updated_by = $actor_id
"""
_UPDATE_EXAMPLE = {"id": "doc1", "revision": 1, "title": "新标题", "domain": None, "access": None, "actor_id": "u1",
                   "now": 2}

UPDATE_METADATA = cypher(
    "documents.update_metadata",
    _UPDATE_HEAD + " RETURN d.revision AS revision",
    example=_UPDATE_EXAMPLE,
    writes=True,
)

# The same edit when the access level changes: permissions follow in the same statement.
UPDATE_METADATA_AND_LEVEL = cypher(
    "documents.update_metadata_and_level",
    _UPDATE_HEAD + " WITH collect(DISTINCT 'doc:' + d.id) AS changes " + PERMISSION_BUMP,
    example={**_UPDATE_EXAMPLE, "access": "confidential"},
    writes=True,
)

# The single-document writes of the doors (an upload, an edit of the details), each with its audit event in the
# same statement (``$audit_*``, see graph.queries.audit.with_event): both are stored or neither.
CREATE_DOCUMENT_AUDITED = audited(CREATE_DOCUMENT, before=DOCUMENT_CHANGES, carry="o, d", kind="document")
# A new version's event detail names its number and the version it follows, known only inside the statement:
# the detail comes with two markers, replaced there with their quotes (so a note quoting one is left alone).
VERSION_NUMBER_MARK, PREVIOUS_VERSION_MARK = "@@number@@", "@@previous@@"
ADD_VERSION_AUDITED = audited(
    ADD_VERSION, before="RETURN v.id AS version_id", carry="d, v, prev", kind="document",
    detail=f"replace(replace($audit_detail, '\"{VERSION_NUMBER_MARK}\"', toString(prev.number + 1)), "
           f"'\"{PREVIOUS_VERSION_MARK}\"', '\"' + prev.id + '\"')")
UPDATE_METADATA_AUDITED = audited(UPDATE_METADATA, before="RETURN d.revision AS revision", carry="d", kind="document")
UPDATE_METADATA_AND_LEVEL_AUDITED = audited(UPDATE_METADATA_AND_LEVEL, before=DOCUMENT_CHANGES, carry="d",
                                            kind="document")

REVISION_OF = cypher(
    "documents.revision_of",
    """
    MATCH (d:Document {id: $id})
    OPTIONAL MATCH (p:Person {id: d.updated_by})
    RETURN d.revision AS revision, d.updated_at AS updated_at, p.name AS updated_by_name
    """,
    example={"id": "doc1"},
)

# Extraction results land on the version; on the document only while that version is current.
# A title taken from the file name gives way to the title found inside the file (a metadata change: revision + 1).
SET_EXTRACTIONS = cypher(
    "documents.set_extractions",
    """
    UNWIND $rows AS r
    MATCH (v:Version {id: r.version_id})
    SET v.status = r.status, v.status_reason = r.reason, v.pages = r.pages, v.author = r.author,
        v.chars = r.chars, v.extracted_at = $now
    WITH v, r
    OPTIONAL MATCH (d:Document)-[:CURRENT]->(v)
    FOREACH (x IN CASE WHEN d IS NULL THEN [] ELSE [d] END |
        SET x.status = r.status, x.status_reason = r.reason, x.pages = r.pages, x.author = r.author)
    FOREACH (x IN CASE WHEN d IS NOT NULL AND d.title_source = 'filename' AND r.title IS NOT NULL
                       THEN [d] ELSE [] END |
        SET x.title = r.title, x.title_source = 'extracted', x.revision = x.revision + 1)
    RETURN v.id AS version_id, d.id AS document_id
    """,
    example={"now": 3, "rows": [{"version_id": "v1", "status": "ok", "reason": None, "pages": 3, "author": "李娜",
                                 "chars": 100, "title": None}]},
    writes=True,
)

GET_DOCUMENT = cypher(
    "documents.get",
    """
    MATCH (d:Document {id: $id})
    OPTIONAL MATCH (o:Person)-[:OWNS]->(d)
    OPTIONAL MATCH (d)-[:CURRENT]->(v:Version)
    RETURN d AS document, o.name AS owner_name, o.username AS owner_username, v.id AS current_version_id,
           v.number AS current_number
    """,
    example={"id": "doc1"},
)

DOCUMENTS_BY_SHA = cypher(
    "documents.by_sha",
    """
    MATCH (d:Document {sha256: $sha256})
    RETURN d.id AS id, d.owner_id AS owner_id, d.title AS title
    """,
    example={"sha256": "0" * 64},
)

LIST_VERSIONS = cypher(
    "documents.list_versions",
    """
    MATCH (d:Document {id: $id})-[:HAS_VERSION]->(v:Version)
    OPTIONAL MATCH (d)-[c:CURRENT]->(v)
    OPTIONAL MATCH (a:Person {id: v.author_id})
    RETURN v AS version, c IS NOT NULL AS current, a.name AS author_name, a.username AS author_username
    ORDER BY v.number DESC
    """,
    example={"id": "doc1"},
)

GET_VERSION = cypher(
    "documents.get_version",
    """
    MATCH (d:Document)-[:HAS_VERSION]->(v:Version {id: $version_id})
    OPTIONAL MATCH (d)-[c:CURRENT]->(v)
    RETURN d AS document, v AS version, c IS NOT NULL AS current
    """,
    example={"version_id": "v1"},
)

GET_VERSIONS = cypher(
    "documents.get_versions",
    """
    UNWIND $ids AS vid
    MATCH (d:Document)-[:HAS_VERSION]->(v:Version {id: vid})
    OPTIONAL MATCH (d)-[c:CURRENT]->(v)
    RETURN d AS document, v AS version, c IS NOT NULL AS current
    """,
    example={"ids": ["v1"]},
)

MENTIONED = cypher(
    "documents.mentioned",
    """
    MATCH (d:Document {id: $id})-[m:MENTIONS]->(e)
    RETURN labels(e)[0] AS label, e.id AS id, e.name AS name, e.name_en AS name_en, e.code AS code,
           e.username AS username, m.count AS count, m.ambiguous AS ambiguous
    ORDER BY count DESC, name
    """,
    example={"id": "doc1"},
)

LINKED_WORK = cypher(
    "documents.linked_work",
    """
    MATCH (d:Document {id: $id})-[r]-(t:Task)
    RETURN 'Task' AS label, t.id AS id, coalesce(t.title, t.name) AS title, t.status AS status, type(r) AS relation
    UNION ALL
    MATCH (d:Document {id: $id})-[r]-(t:Decision)
    RETURN 'Decision' AS label, t.id AS id, coalesce(t.title, t.outcome) AS title, t.outcome AS status,
           type(r) AS relation
    """,
    example={"id": "doc1"},
)

SHARES_OF = cypher(
    "documents.shares_of",
    """
    MATCH (d:Document {id: $id})-[s:SHARED_WITH]->(t)
    RETURN labels(t)[0] AS label, t.id AS id, coalesce(t.name, t.title) AS name, t.name_en AS name_en,
           t.code AS code, t.username AS username, s.access AS access, s.by AS by, s.at AS at
    ORDER BY label, name
    """,
    example={"id": "doc1"},
)


PRIMARY_DEPARTMENT = cypher(
    "documents.primary_department",
    """
    MATCH (p:Person {id: $person_id})-[:MEMBER_OF]->(d:Department)
    RETURN d.id AS id, d.code AS code
    ORDER BY code LIMIT 1
    """,
    example={"person_id": "u1"},
)

PERSON_EXISTS = cypher(
    "documents.person_exists",
    "MATCH (p:Person {id: $id}) WHERE p.active = true RETURN p.id AS id",
    example={"id": "u1"},
)

SET_INDEXED = cypher(
    "documents.set_indexed",
    """
    MATCH (v:Version {id: $version_id})
    SET v.indexed_at = $now, v.chunks = $chunks
    RETURN v.id AS version_id
    """,
    example={"version_id": "v1", "now": 4, "chunks": 3},
    writes=True,
)

# A person by user name, for resolving a share target or a browse filter's uploader: no secrets returned.
PERSON_REF_BY_USERNAME = cypher(
    "documents.person_ref_by_username",
    """
    MATCH (p:Person {username: $username})
    RETURN p.id AS id, p.name AS name, p.username AS username, coalesce(p.active, true) AS active
    """,
    example={"username": "li.na"},
)
