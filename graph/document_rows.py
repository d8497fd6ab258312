"""Unchecked fetchers of document and version rows: for the domain layers (``graph``, ``ingest``) only.

Nothing here asks whether anyone may see the row. Doors (``webapp``, ``workers``) never import this module
(import contract ``doors-use-checked-fetchers`` in pyproject.toml): they call the use cases
(:mod:`graph.usecases.documents`, :mod:`ingest.usecases`), which decide access once and answer a stranger's
document exactly like a missing one.
"""

from __future__ import annotations

from graph.queries import documents as q
from graph.store import GraphStore, Row


def get_document(store: GraphStore, document_id: str) -> Row | None:
    """The document with owner and current version."""
    rows = store.run(q.GET_DOCUMENT, {"id": document_id})
    if not rows:
        return None
    row = rows[0]
    return {**row["document"], "owner_name": row["owner_name"], "owner_username": row["owner_username"],
            "current_version_id": row["current_version_id"], "current_number": row["current_number"]}


def get_version(store: GraphStore, version_id: str) -> Row | None:
    """Version, its document and whether it is current."""
    rows = store.run(q.GET_VERSION, {"version_id": version_id})
    return rows[0] if rows else None


def get_versions(store: GraphStore, version_ids: list[str]) -> dict[str, Row]:
    """``get_version`` of many versions in one statement, by version id (missing ones are left out)."""
    if not version_ids:
        return {}
    return {row["version"]["id"]: row for row in store.run(q.GET_VERSIONS, {"ids": list(version_ids)})}


def version_of_document(store: GraphStore, document_id: str, version_id: str | None) -> Row | None:
    """A version of this document (the current one when ``version_id`` is None); None when there is none."""
    if version_id is None:
        doc = get_document(store, document_id)
        if doc is None or not doc["current_version_id"]:
            return None
        version_id = doc["current_version_id"]
    found = get_version(store, version_id)
    if found is None or found["document"]["id"] != document_id:
        return None
    return {**found["version"], "current": found["current"]}
