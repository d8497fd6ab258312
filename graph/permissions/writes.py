"""Changes to who may read what: shares, access levels, document registration, and the change log
that keeps every process's readable-set cache exact."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from graph import audit
from graph.classification import (
    AccessLevel,
    ClassificationError,
    ShareKind,
    effective_level,
    parse_level,
    parse_share_access,
    share_counts,
)
from graph.permissions.policy import (
    Access,
    Forbidden,
    NotFound,
    PolicyViolation,
    _parse_kind,
    _require_target,
    can_edit,
)
from graph.queries import permissions as q
from graph.store import GraphStore


def _require_editor(store: GraphStore, actor_id: str, document_id: str, *, owner_only: bool = False) -> Access:
    access = can_edit(store, actor_id, document_id)
    if access.reason_kind == "unknown_document":
        raise NotFound(f"no document with id {document_id!r}")
    if not access.allowed or (owner_only and access.reason_kind not in ("owner", "admin")):
        raise Forbidden(access.explain("en") if not access.allowed else
                        "only the owner or an administrator may change the access level")
    return access


def share(store: GraphStore, actor_id: str, document_id: str, target_kind: ShareKind | str, target_id: str,
          access: str = "read", *, event: audit.Event | None = None) -> int:
    """Share (or change the access of an existing share); returns the new permission version.

    The actor must be able to edit the document. A share the document's level would ignore is
    refused rather than stored, so nobody believes a secret document reached a department.
    ``event``: its audit record, written by the same statement as the share (both or neither).
    """
    kind, access = _parse_kind(target_kind), parse_share_access(access)
    editor = _require_editor(store, actor_id, document_id)
    _require_target(store, kind, target_id)
    if not share_counts(editor.level, kind):
        level = effective_level(editor.level).value
        raise PolicyViolation(f"a {level} document cannot be shared with a {kind.value.lower()}")
    params = {"rows": [{"document_id": document_id, "target_id": target_id, "access": access}],
              "actor_id": actor_id, "now": int(time.time() * 1000)}
    if event is None:
        rows = store.run(q.SHARE[kind], params)
    else:
        rows = store.run(q.SHARE_AUDITED[kind], {**params, **event.statement_params()})
    if not rows:
        raise NotFound("the document or the share target disappeared while sharing")
    return int(rows[0]["version"])


def unshare(store: GraphStore, actor_id: str, document_id: str, target_kind: ShareKind | str, target_id: str, *,
            event: audit.Event | None = None) -> bool:
    """Remove a share; False when there was none. The actor must be able to edit the document.
    ``event``: its audit record, written by the same statement, only when a share was removed."""
    kind = _parse_kind(target_kind)
    _require_editor(store, actor_id, document_id)
    params = {"document_id": document_id, "target_id": target_id}
    if event is None:
        return bool(store.run(q.UNSHARE[kind], params))
    return bool(store.run(q.UNSHARE_AUDITED[kind], {**params, **event.statement_params()}))


def set_level(store: GraphStore, actor_id: str, document_id: str, level: str | AccessLevel) -> int:
    """Change a document's access level (owner or administrator only). Existing shares are kept:
    those the new level ignores count again if the level is lowered later."""
    parsed = parse_level(level)
    _require_editor(store, actor_id, document_id, owner_only=True)
    rows = store.run(q.SET_LEVEL, {"document_id": document_id, "level": parsed.value})
    return int(rows[0]["version"])


def register_documents(store: GraphStore, rows: Sequence[Mapping[str, Any]]) -> int:
    """Create or update documents with classification and owner; returns how many were written."""
    if not rows:
        return 0
    clean = []
    for row in rows:
        if not row.get("id") or not row.get("owner_id"):
            raise ClassificationError(f"document rows need an id and an owner_id: {dict(row)!r}")
        clean.append({"id": row["id"], "title": row.get("title"), "access": parse_level(row["access"]).value,
                      "domain": row.get("domain"), "data_type": row.get("data_type"), "owner_id": row["owner_id"]})
    result = store.run(q.UPSERT_DOCUMENTS, {"rows": clean})
    written = int(result[0]["changed"]) if result else 0
    if written != len({r["id"] for r in clean}):
        raise NotFound("some owners do not exist; their documents were stored without an owner")
    return written


def record_change(store: GraphStore, *, people: Iterable[str] = (), documents: Iterable[str] = (),
                  principals: bool = False, everything: bool = False) -> int | None:
    """Tell every process that permissions changed. Call after any write this module did not make:
    membership, position, role or active flag of a person (``people``), a document's owner or
    shares (``documents``), a department moved or (de)activated or a project (de)activated
    (``principals``), or a bulk import (``everything``). Returns the new version."""
    changes = [f"person:{p}" for p in people] + [f"doc:{d}" for d in documents]
    changes += ["principals"] if principals else []
    changes += ["all"] if everything else []
    rows = store.run(q.RECORD_CHANGES, {"changes": changes})
    return int(rows[0]["version"]) if rows else None
