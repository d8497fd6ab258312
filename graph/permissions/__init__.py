"""Who may read or edit which document, answered as paths in the graph (policy: docs/permissions.md).

One job per module:

- :mod:`.policy`   the decision: one path query for a person and a document -> :class:`Access`
- :mod:`.wording`  why (or why not), as one sentence in Chinese or English
- :mod:`.readers`  who can read a document, and who would gain access by a share
- :mod:`.writes`   shares, access levels, document registration and the change log
- :mod:`.cache`    "everything this person may read", from per-principal bitmaps kept exact across processes

Callers outside the domain layer go through the use cases (:mod:`graph.usecases`), which check access
once per request; this package is what they are built on.
"""

from graph.permissions.cache import (
    PermissionCache,
    ReadableSet,
    cache_for,
    readable_document_ids,
    readable_set,
)
from graph.permissions.policy import (
    GRANTING_KINDS,
    Access,
    AccessError,
    Decision,
    Forbidden,
    Mode,
    NotFound,
    PathStep,
    PolicyViolation,
    can_edit,
    can_read,
    check,
    decide,
)
from graph.permissions.readers import Person, Reader, ReadersPage, SharePreview, share_preview, who_can_read
from graph.permissions.wording import explain
from graph.permissions.writes import record_change, register_documents, set_level, share, unshare

__all__ = [
    "GRANTING_KINDS", "Access", "AccessError", "Decision", "Forbidden", "Mode", "NotFound", "PathStep",
    "PermissionCache", "Person", "PolicyViolation", "ReadableSet", "Reader", "ReadersPage", "SharePreview",
    "cache_for", "can_edit", "can_read", "check", "decide", "explain", "readable_document_ids", "readable_set",
    "record_change", "register_documents", "set_level", "share", "share_preview", "unshare", "who_can_read",
]
