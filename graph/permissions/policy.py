"""The access decision: the one path query for a person and a document, turned into an :class:`Access`
whose path justifies the answer (policy: docs/permissions.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from graph.classification import (
    ClassificationError,
    ShareKind,
    share_counts,
)
from graph.errors import GraphError
from graph.permissions.wording import explain
from graph.queries import permissions as q
from graph.store import GraphStore, Row


class AccessError(GraphError):
    """Base of the errors below."""


class NotFound(AccessError):
    """The person, document or share target does not exist."""


class Forbidden(AccessError):
    """The acting person may not make this change."""


class PolicyViolation(AccessError):
    """The change would contradict the access policy (e.g. sharing a secret document with a department)."""


class Mode(StrEnum):
    READ = "read"
    EDIT = "edit"


GRANTING_KINDS = ("owner", "person", "department", "project", "position", "run", "public", "admin")
# The most specific explanation wins: a share naming you beats a department, an admin override comes last.
_RANK = {kind: rank for rank, kind in enumerate(GRANTING_KINDS)}


@dataclass(frozen=True, slots=True)
class PathStep:
    """One node on a justifying path (a person, department, project, position or the document)."""

    label: str
    id: str
    name: str | None = None
    name_en: str | None = None
    active: bool | None = None

    def display(self, lang: str = "zh") -> str:
        if lang == "en" and self.name_en:
            return self.name_en
        return self.name or self.name_en or self.id


@dataclass(frozen=True, slots=True)
class Access:
    """The answer to "may this person read/edit this document", with the path that justifies it.

    ``reason_kind`` is one of :data:`GRANTING_KINDS` when allowed; when refused it is
    ``unknown_person``, ``unknown_document``, ``inactive``, ``level_blocked`` (a share path exists
    but the access level excludes it), ``inactive_path`` (it runs through a deactivated department
    or project), ``read_only`` (edit asked, only read granted) or ``no_path``.
    """

    allowed: bool
    reason_kind: str
    path: list[PathStep] = field(default_factory=list)
    mode: Mode = Mode.READ
    level: str | None = None
    share_access: str | None = None

    def explain(self, lang: str = "zh") -> str:
        return explain(self, lang)


# -- the path query ---------------------------------------------------------------------------


def _steps(raw: Sequence[Mapping[str, Any]] | None) -> list[PathStep]:
    return [PathStep(s["label"], s["id"], s.get("name"), s.get("name_en"), s.get("active")) for s in raw or []
            if s and s.get("id") is not None]


def _best(rows: Iterable[Row]) -> Row | None:
    return min(rows, key=lambda r: (_RANK[r["kind"]], len(r["steps"] or [])), default=None)


def check(store: GraphStore, person_id: str, document_id: str, mode: Mode | str = Mode.READ) -> Access:
    """Decide with the one path query; refusals carry the closest path that did not count."""
    return _from_rows(_paths(store, person_id, document_id), Mode(mode))


@dataclass(frozen=True, slots=True)
class Decision:
    """Read and edit access of one person to one document, both from ONE evaluation of the path query."""

    read: Access
    edit: Access

    @property
    def exists(self) -> bool:
        return self.read.reason_kind != "unknown_document"

    @property
    def manages(self) -> bool:
        """Owner or administrator: may change the access level, preview shares, see who can and did read."""
        return self.edit.allowed and self.edit.reason_kind in ("owner", "admin")


def decide(store: GraphStore, person_id: str, document_id: str) -> Decision:
    """Both decisions a document page needs, for the price of one path query."""
    rows = _paths(store, person_id, document_id)
    return Decision(_from_rows(rows, Mode.READ), _from_rows(rows, Mode.EDIT))


def _paths(store: GraphStore, person_id: str, document_id: str) -> list[Row]:
    return store.run(q.ACCESS_PATHS, {"person_id": person_id, "document_id": document_id})


def _from_rows(rows: list[Row], mode: Mode) -> Access:
    subject = next(r for r in rows if r["kind"] == "subject")
    paths = [r for r in rows if r["kind"] != "subject"]
    level = subject["level"]
    if subject["person_id"] is None:
        return Access(False, "unknown_person", mode=mode, level=level)
    if subject["document_id"] is None:
        return Access(False, "unknown_document", mode=mode)
    if subject["person_active"] is not True:
        return Access(False, "inactive", mode=mode, level=level)
    counting = [r for r in paths if r["counts"]]
    wanted = [r for r in counting if r["edit"]] if mode is Mode.EDIT else counting
    best = _best(wanted)
    if best is not None:
        return Access(True, best["kind"], _steps(best["steps"]), mode, level, best["share_access"])
    if counting:  # edit asked, read granted
        read = _best(counting)
        assert read is not None
        return Access(False, "read_only", _steps(read["steps"]), mode, level, read["share_access"])
    blocked = _best(paths)
    if blocked is None:
        return Access(False, "no_path", mode=mode, level=level)
    reason = "level_blocked" if not share_counts(level, _share_kind(blocked["kind"])) else "inactive_path"
    return Access(False, reason, _steps(blocked["steps"]), mode, level, blocked["share_access"])


def _share_kind(kind: str) -> ShareKind:
    return ShareKind(kind.capitalize())


def can_read(store: GraphStore, person_id: str, document_id: str) -> Access:
    return check(store, person_id, document_id, Mode.READ)


def can_edit(store: GraphStore, person_id: str, document_id: str) -> Access:
    return check(store, person_id, document_id, Mode.EDIT)


# -- validation shared by the readers' preview and the writes ----------------------------------


def _parse_kind(kind: ShareKind | str) -> ShareKind:
    try:
        return ShareKind(kind) if isinstance(kind, ShareKind) else ShareKind(str(kind).strip().capitalize())
    except ValueError:
        raise ClassificationError(
            f"cannot share with {kind!r}; expected one of {', '.join(k.value for k in ShareKind)}"
        ) from None


def _require_target(store: GraphStore, kind: ShareKind, target_id: str) -> Row:
    rows = store.run(q.TARGET_EXISTS[kind], {"target_id": target_id})
    if not rows:
        raise NotFound(f"no {kind.value.lower()} with id {target_id!r}")
    return rows[0]
