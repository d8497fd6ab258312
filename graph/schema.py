"""The graph's schema: which labels exist, their identifying key, and extra lookup indexes.

Both backends turn this into their own DDL (the one place the engines must differ), so
bootstrap is idempotent on either engine.
"""

from __future__ import annotations

# Every node label and the property that identifies it (our own string ids, never engine ids).
UNIQUE_KEYS: dict[str, str] = {
    "Person": "id",
    "Department": "id",
    "Position": "id",
    "Project": "id",
    "Role": "name",
    "Document": "id",
    "Version": "id",
    "Domain": "id",
    "Task": "id",
    "Comment": "id",
    "Workflow": "id",
    "Step": "id",
    "WorkflowRun": "id",
    "Decision": "id",
    "AuditEvent": "id",
    "Notification": "id",
    "LoginSession": "id",
    "LoginThrottle": "key",
    "IngestJob": "id",
    "IngestFile": "id",
    "DocumentLocation": "key",
    "Meta": "key",
    "Webhook": "id",
    "NotifyChannel": "id",
    "OutboxEvent": "id",
    "Delivery": "id",
    "ApiToken": "id",
    "SavedView": "id",
}

# Further properties looked up by equality (codes, user names...).
LOOKUP_INDEXES: dict[str, tuple[str, ...]] = {
    "Person": ("username", "email"),
    "Department": ("code",),
    "Position": ("code",),
    "Project": ("code",),
    "Document": ("sha256",),
    "Workflow": ("key",),
    "Task": ("due_at",),
    "IngestFile": ("job_id",),
    "AuditEvent": ("at", "target_id"),
    # minhash_at: duplicate detection catches up with signatures stored since a time; sha256: a purge asks
    # whether any other version still holds a blob before deleting it.
    "Version": ("minhash_at", "sha256"),
    "Delivery": ("status",),
    "SavedView": ("owner_id",),
}

LABELS: tuple[str, ...] = tuple(UNIQUE_KEYS)
