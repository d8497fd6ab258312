"""Names of the objects a page of audit events is about, for one viewer.

The trail records a kind and an id; people want the title. A title is shown only where the viewer could
see the object anyway: anything that belongs to a document (the document, its versions, comments on it)
only when the document is in the viewer's readable set; workflow runs, their tasks and comments, and
decisions only to administrators (the audit trail is theirs; everyone else meets their titles on the pages
that apply the finer rules). The organisation's directory and workflow definitions are open to every
colleague. An object that no longer exists is reported as deleted.

Look-ups are batched: one statement per target kind present on the page, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from graph import permissions
from graph.actor import Actor
from graph.queries.audit_titles import TITLES
from graph.store import GraphStore

# Kinds whose titles are the organisation's directory or its published workflows (open to colleagues).
OPEN_KINDS = frozenset({"person", "department", "position", "project", "domain", "workflow", "step"})


@dataclass(frozen=True)
class Target:
    """What one event points at: its title (None when hidden from this viewer or deleted)."""

    kind: str
    id: str
    title: str | None
    deleted: bool = False
    document_id: str | None = None
    run_id: str | None = None

    @property
    def hidden(self) -> bool:
        return not self.deleted and self.title is None


def _readable(store: GraphStore, actor: Actor) -> set[str]:
    return actor.memo(("readable_documents",), lambda: permissions.readable_document_ids(store, actor.person_id))


def _visible(store: GraphStore, actor: Actor, kind: str, row: dict[str, object]) -> bool:
    if row.get("document_id"):
        return str(row["document_id"]) in _readable(store, actor)
    if kind in OPEN_KINDS:
        return True
    return actor.is_admin


def titles(store: GraphStore, actor: Actor, targets: Iterable[tuple[str | None, str | None]], *,
           lang: str = "zh") -> dict[tuple[str, str], Target]:
    """``(kind, id) -> Target`` for every pair with a known kind; unknown kinds are left out."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for kind, target_id in targets:
        if kind in TITLES and target_id:
            wanted[kind].add(str(target_id))
    english = lang.startswith("en")
    found: dict[tuple[str, str], Target] = {}
    for kind, ids in wanted.items():
        rows = {str(row["id"]): row for row in store.run(TITLES[kind], {"ids": sorted(ids)})}
        for target_id in ids:
            row = rows.get(target_id)
            if row is None:
                found[(kind, target_id)] = Target(kind, target_id, None, deleted=True)
                continue
            title = (row["title_en"] if english and row["title_en"] else row["title"]) or target_id
            shown = _visible(store, actor, kind, row)
            found[(kind, target_id)] = Target(
                kind, target_id, str(title) if shown else None,
                document_id=str(row["document_id"]) if shown and row["document_id"] else None,
                run_id=str(row["run_id"]) if shown and row["run_id"] else None)
    return found
