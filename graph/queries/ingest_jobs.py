"""Bulk ingestion jobs: ``(:IngestJob)-[:HAS_FILE]->(:IngestFile)`` records of every member and its
outcome, and ``(:DocumentLocation)-[:LOCATION_OF]->(:Document)``: every (source, path) a document's
bytes were found at. Any process reads a job's progress from here.

Outcomes are written per file and counted by query, never incremented, so a batch that runs twice
(a redelivered task) cannot make the counts drift.
"""

from __future__ import annotations

from graph.cypher import cypher

_JOB_EXAMPLE = {"id": "job1", "actor_id": "u1", "source": "a.zip", "source_kind": "zip", "fingerprint": "f" * 64,
                "path": "/srv/archives/a.zip", "options": "{}", "now": 0}

CREATE_JOB = cypher(
    "ingest_jobs.create",
    """
    MATCH (p:Person {id: $actor_id})
    CREATE (j:IngestJob {id: $id, actor_id: $actor_id, source: $source, source_kind: $source_kind,
                         fingerprint: $fingerprint, path: $path, options: $options, status: 'planning',
                         planned: false, total: 0, bytes_total: 0, resumes: 0, created_at: $now,
                         started_at: $now, updated_at: $now})
    CREATE (p)-[:STARTED_INGEST]->(j)
    RETURN j AS job
    """,
    example=_JOB_EXAMPLE,
    writes=True,
)

FIND_RESUMABLE = cypher(
    "ingest_jobs.find_resumable",
    """
    MATCH (j:IngestJob {actor_id: $actor_id, source: $source, fingerprint: $fingerprint})
    WHERE j.status IN ['planning', 'running']
    RETURN j AS job
    ORDER BY j.created_at DESC
    LIMIT 1
    """,
    example={"actor_id": "u1", "source": "a.zip", "fingerprint": "f" * 64},
)

GET_JOB = cypher(
    "ingest_jobs.get",
    """
    MATCH (j:IngestJob {id: $id})
    OPTIONAL MATCH (p:Person {id: j.actor_id})
    RETURN j AS job, p.username AS actor_username, p.name AS actor_name
    """,
    example={"id": "job1"},
)

LIST_JOBS = cypher(
    "ingest_jobs.list",
    """
    MATCH (j:IngestJob)
    WITH j ORDER BY j.created_at DESC SKIP $skip LIMIT $limit
    OPTIONAL MATCH (p:Person {id: j.actor_id})
    RETURN j AS job, p.username AS actor_username, p.name AS actor_name
    """,
    example={"skip": 0, "limit": 20},
)

COUNT_JOBS = cypher("ingest_jobs.count", "MATCH (j:IngestJob) RETURN count(j) AS count")

RESUME_JOB = cypher(
    "ingest_jobs.resume",
    """
    MATCH (j:IngestJob {id: $id})
    SET j.status = CASE WHEN j.planned THEN 'running' ELSE 'planning' END,
        j.resumes = coalesce(j.resumes, 0) + 1, j.resumed_at = $now, j.updated_at = $now
    RETURN j AS job
    """,
    example={"id": "job1", "now": 0},
    writes=True,
)

SET_PLAN_COUNTS = cypher(
    "ingest_jobs.set_plan_counts",
    """
    MATCH (j:IngestJob {id: $id})
    SET j.total = $total, j.bytes_total = $bytes_total, j.updated_at = $now,
        j.planned = CASE WHEN $planned THEN true ELSE j.planned END,
        j.status = CASE WHEN $planned AND j.status = 'planning' THEN 'running' ELSE j.status END
    RETURN j.id AS id
    """,
    example={"id": "job1", "total": 3, "bytes_total": 30, "planned": True, "now": 0},
    writes=True,
)

FAIL_JOB = cypher(
    "ingest_jobs.fail",
    """
    MATCH (j:IngestJob {id: $id})
    SET j.status = 'failed', j.error = $error, j.error_code = $error_code, j.error_params = $error_params,
        j.finished_at = $now, j.updated_at = $now
    RETURN j.id AS id
    """,
    example={"id": "job1", "error": "a.zip is not a zip or tar archive", "error_code": "ingest.not_archive",
             "error_params": '{"name": "a.zip"}', "now": 0},
    writes=True,
)

FINISH_JOB = cypher(
    "ingest_jobs.finish",
    """
    MATCH (j:IngestJob {id: $id})
    WHERE j.status IN ['planning', 'running']
    SET j.status = 'done', j.finished_at = $now, j.updated_at = $now, j.summary = $summary
    RETURN j.id AS id
    """,
    example={"id": "job1", "summary": "{}", "now": 0},
    writes=True,
)

UPSERT_FILES = cypher(
    "ingest_jobs.upsert_files",
    """
    UNWIND $rows AS r
    MERGE (f:IngestFile {id: r.id})
    ON CREATE SET f.job_id = $job_id, f.seq = r.seq, f.path = r.path, f.size = r.size, f.sha256 = r.sha256,
                  f.status = r.status, f.error = r.error, f.error_code = r.error_code,
                  f.error_params = r.error_params, f.domain = r.domain, f.access = r.access,
                  f.shares = r.shares, f.rule = r.rule, f.created_at = $now
    WITH f
    MATCH (j:IngestJob {id: $job_id})
    MERGE (j)-[:HAS_FILE]->(f)
    RETURN count(f) AS count
    """,
    example={"job_id": "job1", "now": 0, "rows": [
        {"id": "f1", "seq": 1, "path": "a/b.txt", "size": 3, "sha256": "0" * 64, "status": "queued", "error": None,
         "error_code": None, "error_params": None, "domain": "general", "access": "internal",
         "shares": ["department:FIN"], "rule": 1}]},
    writes=True,
)

FILES_BY_IDS = cypher(
    "ingest_jobs.files_by_ids",
    """
    UNWIND $ids AS id
    MATCH (f:IngestFile {id: id})
    RETURN f AS file
    ORDER BY f.seq
    """,
    example={"ids": ["f1"]},
)

QUEUED_FILES = cypher(
    "ingest_jobs.queued_files",
    """
    MATCH (f:IngestFile {job_id: $job_id})
    WHERE f.status = 'queued'
    RETURN f.id AS id, f.size AS size
    ORDER BY f.seq
    """,
    example={"job_id": "job1"},
)

SET_OUTCOMES = cypher(
    "ingest_jobs.set_outcomes",
    """
    UNWIND $rows AS r
    MATCH (f:IngestFile {id: r.id})
    SET f.status = r.status, f.outcome = r.outcome, f.error = r.error, f.error_code = r.error_code,
        f.error_params = r.error_params, f.document_id = r.document_id,
        f.version_id = r.version_id, f.extraction = r.extraction, f.extraction_reason = r.extraction_reason,
        f.finished_at = $now
    RETURN count(f) AS count
    """,
    example={"now": 0, "rows": [{"id": "f1", "status": "done", "outcome": "ingested", "error": None,
                                 "error_code": None, "error_params": None, "document_id": "doc1",
                                 "version_id": "v1", "extraction": "ok",
                                 "extraction_reason": None}]},
    writes=True,
)

PROGRESS = cypher(
    "ingest_jobs.progress",
    """
    MATCH (f:IngestFile {job_id: $job_id})
    RETURN f.status AS status, f.outcome AS outcome, f.extraction AS extraction, count(f) AS files,
           sum(f.size) AS bytes
    """,
    example={"job_id": "job1"},
)

FAILURES = cypher(
    "ingest_jobs.failures",
    """
    MATCH (f:IngestFile {job_id: $job_id})
    WHERE f.status = 'failed'
    RETURN f.path AS path, f.error AS error, f.error_code AS error_code, f.error_params AS error_params
    ORDER BY f.seq
    LIMIT $limit
    """,
    example={"job_id": "job1", "limit": 20},
)

REPORT_PAGE = cypher(
    "ingest_jobs.report_page",
    """
    MATCH (f:IngestFile {job_id: $job_id})
    WITH f ORDER BY f.seq SKIP $skip LIMIT $limit
    RETURN f AS file
    """,
    example={"job_id": "job1", "skip": 0, "limit": 1000},
)

GET_LOCATION = cypher(
    "ingest_jobs.get_location",
    "MATCH (l:DocumentLocation {key: $key}) RETURN l AS location",
    example={"key": "k1"},
)

SET_LOCATION = cypher(
    "ingest_jobs.set_location",
    """
    MATCH (d:Document {id: $document_id})
    MERGE (l:DocumentLocation {key: $key})
    SET l.source = $source, l.path = $path, l.sha256 = $sha256, l.document_id = $document_id,
        l.job_id = $job_id, l.outcome = $outcome, l.updated_at = $now
    MERGE (l)-[:LOCATION_OF]->(d)
    RETURN l.key AS key
    """,
    example={"key": "k1", "source": "a.zip", "path": "a/b.txt", "sha256": "0" * 64, "document_id": "doc1",
             "job_id": "job1", "outcome": "ingested", "now": 0},
    writes=True,
)

DOCUMENT_LOCATIONS = cypher(
    "ingest_jobs.document_locations",
    """
    MATCH (l:DocumentLocation)-[:LOCATION_OF]->(d:Document {id: $document_id})
    RETURN l.source AS source, l.path AS path, l.updated_at AS updated_at
    ORDER BY source, path
    """,
    example={"document_id": "doc1"},
)

FINISH_JOB_SUMMARY = cypher(
    "ingest_jobs.finish_summary",
    "MATCH (j:IngestJob {id: $id}) SET j.summary = $summary RETURN j.id AS id",
    example={"id": "job1", "summary": "{}"},
    writes=True,
)

# What decides a file's fate, in one round trip: where this (source, path) was seen before, and which of
# the user's documents hold these bytes now.
FILE_STATE = cypher(
    "ingest_jobs.file_state",
    """
    OPTIONAL MATCH (l:DocumentLocation {key: $key})
    WITH l
    OPTIONAL MATCH (d:Document {sha256: $sha256})
    WITH l, collect(d) AS holders
    RETURN l AS location, [x IN holders WHERE x.owner_id = $actor_id | x.id] AS same
    """,
    example={"key": "k1", "sha256": "0" * 64, "actor_id": "u1"},
)

ANY_QUEUED = cypher(
    "ingest_jobs.any_queued",
    """
    MATCH (f:IngestFile {job_id: $job_id})
    WHERE f.status = 'queued'
    RETURN f.id AS id
    LIMIT 1
    """,
    example={"job_id": "job1"},
)

# FILE_STATE for a whole batch: one row per (key, sha256) asked. ``located`` says a location exists for the key.
FILE_STATES = cypher(
    "ingest_jobs.file_states",
    """
    UNWIND $rows AS row
    OPTIONAL MATCH (l:DocumentLocation {key: row.key})
    WITH row.key AS key, row.sha256 AS sha256, l
    OPTIONAL MATCH (d:Document {sha256: sha256})
    WITH key, sha256, l, collect(d) AS holders
    RETURN key, sha256, l IS NOT NULL AS located, [x IN holders WHERE x.owner_id = $actor_id | x.id] AS same
    """,
    example={"rows": [{"key": "k1", "sha256": "0" * 64}], "actor_id": "u1"},
)

SET_LOCATIONS = cypher(
    "ingest_jobs.set_locations",
    """
    UNWIND $rows AS r
    MATCH (d:Document {id: r.document_id})
    MERGE (l:DocumentLocation {key: r.key})
    SET l.source = $source, l.path = r.path, l.sha256 = r.sha256, l.document_id = r.document_id,
        l.job_id = $job_id, l.outcome = r.outcome, l.updated_at = $now
    MERGE (l)-[:LOCATION_OF]->(d)
    RETURN count(l) AS count
    """,
    example={"source": "a.zip", "job_id": "job1", "now": 0, "rows": [
        {"key": "k1", "path": "a/b.txt", "sha256": "0" * 64, "document_id": "doc1", "outcome": "ingested"}]},
    writes=True,
)
