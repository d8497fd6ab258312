"""Statements of backup and restore: what a snapshot holds (counted on a throwaway copy of it)."""

from graph.cypher import cypher

VERSION_HASHES = cypher(
    "backup.version_hashes",
    "MATCH (v:Version) WHERE v.sha256 IS NOT NULL RETURN DISTINCT v.sha256 AS sha256",
)
