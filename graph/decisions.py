"""Decisions (决策) as first-class knowledge: record them, see what they rest on, find those relying on a document.

A decision is recorded at a workflow run's final approval (:func:`record_from_run`, called by the
engine), from a document page ("based on this version") or on its own (a meeting) through
:func:`record`. Who may see one follows from its run and its documents (docs/permissions.md,
"Decisions"): its decider, participants and recorder; the run's participants; anyone who may read
EVERY document it rests on; administrators. A decision never reveals a document the viewer may not
read: such bases are only counted.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from graph import audit, document_rows, permissions
from graph.actor import Actor
from graph.errors import InvalidInput, ObjectMissing
from graph.queries import decisions as q
from graph.store import GraphStore, Row

MISSING = "decision.missing"
TITLE_MAX = 200
TEXT_MAX = 20_000
SCAN = 500  # decisions looked at per list or search before visibility filtering
SOURCES = ("run", "document", "meeting")


def _now() -> int:
    return int(time.time() * 1000)


def _readable(store: GraphStore, actor: Actor) -> set[str]:
    return actor.memo(("readable_documents",), lambda: permissions.readable_document_ids(store, actor.person_id))


def _run_people(store: GraphStore, actor: Actor, run_id: str) -> set[str]:
    def load() -> set[str]:
        rows = store.run(q.RUN_PEOPLE, {"run_id": run_id})
        return set(rows[0]["people"]) if rows else set()

    return actor.memo(("run_people", run_id), load)


def may_see(store: GraphStore, actor: Actor, facts: Row) -> bool:
    """The visibility rule of docs/permissions.md for one row of ``decisions.facts``."""
    me = actor.person_id
    if actor.is_admin or me == facts["by_id"] or me in facts["recorded_by"]:
        return True
    if me in {p[0] for p in facts["participants"]}:
        return True
    if facts["run_id"] and me in _run_people(store, actor, facts["run_id"]):
        return True
    documents = {base[1] for base in facts["bases"]}
    return bool(documents) and documents <= _readable(store, actor)


def _view(store: GraphStore, actor: Actor, facts: Row, versions: dict[str, Row]) -> dict[str, Any]:
    decision = facts["decision"]
    readable = _readable(store, actor)
    bases, hidden = [], 0
    for version_id, document_id in facts["bases"]:
        found = versions.get(version_id)
        if document_id not in readable or found is None:
            hidden += 1
            continue
        bases.append({**found, "stale": found["current_number"] is not None
                      and found["number"] is not None and found["number"] < found["current_number"]})
    bases.sort(key=lambda b: (b["title"] or "", b["number"] or 0))
    run = None
    if facts["run_id"]:
        shown = actor.is_admin or actor.person_id in _run_people(store, actor, facts["run_id"])
        run = {"id": facts["run_id"], "title": facts["run_title"] if shown else None, "visible": shown}
    return {
        "id": decision["id"], "title": decision["title"], "text": decision.get("text") or "",
        "decided_on": decision.get("decided_on"), "recorded_at": decision.get("at"), "source": decision.get("source"),
        "by": {"id": facts["by_id"], "name": facts["by_name"]},
        "participants": [{"id": p[0], "name": p[1]} for p in sorted(facts["participants"], key=lambda p: p[1] or "")],
        "affects": [{"kind": a[0].lower(), "id": a[1], "code": a[2], "name": a[3]} for a in facts["affects"]],
        "run": run, "bases": bases, "hidden_bases": hidden,
    }


def _versions(store: GraphStore, version_ids: Iterable[str]) -> dict[str, Row]:
    ids = sorted(set(version_ids))
    return {row["version_id"]: row for row in store.run(q.VERSIONS, {"ids": ids})} if ids else {}


def _visible(store: GraphStore, actor: Actor, ids: Sequence[str]) -> tuple[list[dict[str, Any]], int]:
    """Views of the decisions the actor may see, newest first, and how many others there were."""
    if not ids:
        return [], 0
    rows = store.run(q.FACTS, {"ids": list(ids)})
    seen = [row for row in rows if may_see(store, actor, row)]
    versions = _versions(store, (base[0] for row in seen for base in row["bases"]))
    return [_view(store, actor, row, versions) for row in seen], len(rows) - len(seen)


def visible(store: GraphStore, actor: Actor, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Views of the decisions among ``ids`` the actor may see (the policy above; for search indexes)."""
    return _visible(store, actor, ids)[0]


def get(store: GraphStore, actor: Actor, decision_id: str) -> dict[str, Any]:
    """One decision with what it rests on; ``ObjectMissing`` when there is none OR the actor may not see it."""
    found, _hidden = _visible(store, actor, [decision_id])
    if not found:
        raise ObjectMissing(MISSING, id=decision_id)
    return found[0]


def for_document(store: GraphStore, actor: Actor, document_id: str) -> dict[str, Any]:
    """Decisions relying on a version of a document the actor may read, with "based on v2, now v4" marks."""
    if not permissions.can_read(store, actor.person_id, document_id).allowed:
        raise ObjectMissing("document.missing", id=document_id)
    ids = [row["id"] for row in store.run(q.OF_DOCUMENT, {"id": document_id})]
    shown, hidden = _visible(store, actor, ids)
    for decision in shown:
        decision["this_document"] = [b for b in decision["bases"] if b["document_id"] == document_id]
    return {"decisions": shown, "hidden": hidden}


def latest(store: GraphStore, actor: Actor, *, limit: int = 50) -> list[dict[str, Any]]:
    ids = [row["id"] for row in store.run(q.LATEST, {"scan": SCAN})]
    return _visible(store, actor, ids)[0][:limit]


def search(store: GraphStore, actor: Actor, text: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """Decisions the actor may see whose title or text contains ``text`` (case-insensitive), newest first."""
    needle = (text or "").strip().lower()
    if not needle:
        return []
    ids = [row["id"] for row in store.run(q.SEARCH, {"text": needle, "scan": SCAN})]
    return _visible(store, actor, ids)[0][:limit]


# -- recording -----------------------------------------------------------------------------------------


def _date(value: str | None, now: int) -> str:
    if not value:
        return dt.datetime.fromtimestamp(now / 1000, dt.UTC).date().isoformat()
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InvalidInput("decision.bad_date", field="decided_on", value=value) from None


def _people(store: GraphStore, keys: Sequence[str], field: str) -> list[Row]:
    wanted = [k.strip() for k in keys if k and k.strip()]
    if not wanted:
        return []
    rows = store.run(q.PEOPLE, {"keys": sorted({k.lower() for k in wanted} | set(wanted))})
    known = {row["id"] for row in rows} | {row["username"] for row in rows}
    for key in wanted:
        if key not in known and key.lower() not in known:
            raise InvalidInput("decision.unknown_person", field=field, value=key)
    return [row for row in rows if row["active"]]


def _targets(store: GraphStore, keys: Sequence[str]) -> list[Row]:
    wanted = [k.strip() for k in keys if k and k.strip()]
    rows = store.run(q.TARGETS, {"keys": wanted}) if wanted else []
    known = {row["id"] for row in rows} | {row["code"] for row in rows}
    for key in wanted:
        if key not in known:
            raise InvalidInput("decision.unknown_target", field="affects", value=key)
    return rows


def record(store: GraphStore, actor: Actor, *, title: str, text: str = "", decided_on: str | None = None,
           decided_by: str | None = None, participants: Sequence[str] = (), affects: Sequence[str] = (),
           based_on: Sequence[str] = (), run_id: str | None = None, source: str | None = None,
           now: int | None = None, decision_id: str | None = None) -> dict[str, Any]:
    """Record a decision; the actor must be able to read every version it rests on (else: missing version)
    and take part in the run it comes from (else: missing run). ``decision_id`` fixes the id (demo data)."""
    versions = _versions(store, based_on)
    readable = _readable(store, actor)
    for version_id in based_on:
        found = versions.get(version_id)
        if found is None or found["document_id"] not in readable:
            raise ObjectMissing("version.missing", id=version_id)
    if run_id and not (actor.is_admin or actor.person_id in _run_people(store, actor, run_id)):
        raise ObjectMissing("run.missing", id=run_id)
    decided = _people(store, [decided_by], "decided_by") if decided_by else []
    if decided_by and not decided:
        raise InvalidInput("decision.unknown_person", field="decided_by", value=decided_by)
    source = source if source in SOURCES else ("run" if run_id else "document" if based_on else "meeting")
    decision_id = _write(store, actor, title=title, text=text, decided_on=decided_on,
                         by=decided[0]["id"] if decided else actor.person_id, participants=participants,
                         affects=affects, version_ids=sorted(versions), run_id=run_id, source=source, now=now,
                         decision_id=decision_id)
    actor.forget()
    return get(store, actor, decision_id)


def _write(store: GraphStore, actor: Actor, *, title: str, text: str, decided_on: str | None, by: str,
           participants: Sequence[str], affects: Sequence[str], version_ids: list[str], run_id: str | None,
           source: str, now: int | None, decision_id: str | None = None) -> str:
    """Validate the fields, write the decision in one statement and audit it; access is the caller's."""
    now = now or _now()
    title = " ".join((title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise InvalidInput("decision.title_required", field="title", max=TITLE_MAX)
    if len(text or "") > TEXT_MAX:
        raise InvalidInput("decision.text_too_long", field="text", max=TEXT_MAX)
    people = _people(store, participants, "participants")
    targets = _targets(store, affects)
    decision_id = decision_id or uuid.uuid4().hex
    props = {"id": decision_id, "kind": q.RECORD_KIND, "title": title, "text": text or "", "comment": title,
             "decided_on": _date(decided_on, now), "at": now, "source": source}
    store.run(q.RECORD, {
        "by_id": by, "recorder_id": actor.person_id, "run_id": run_id, "props": props, "version_ids": version_ids,
        "participant_ids": sorted({p["id"] for p in people}),
        "department_ids": [t["id"] for t in targets if t["label"] == "Department"],
        "project_ids": [t["id"] for t in targets if t["label"] == "Project"],
    })
    audit.record(store, action="decision.record", actor_id=actor.person_id, target_kind="decision",
                 target_id=decision_id, client=actor.address or actor.door,
                 detail={"title": title, "based_on": version_ids, "run_id": run_id, "source": source})
    return decision_id


def _document_ids(value: Any) -> Iterable[tuple[str, str]]:
    """("document"|"version", id) pairs anywhere in a run's form or attachment JSON."""
    if isinstance(value, dict):
        # The attached version when the file names it, else the document (its current version).
        for key, kind in (("version_id", "version"), ("document_id", "document")):
            if isinstance(value.get(key), str) and value[key]:
                yield kind, value[key]
                break
        for item in value.values():
            yield from _document_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _document_ids(item)


def _json(text: str | None) -> Any:
    try:
        return json.loads(text or "null")
    except ValueError:
        return None


def record_from_run(store: GraphStore, run_id: str, *, now: int | None = None) -> str | None:
    """At a run's final approval: the decision, by its last approver, resting on the versions it carried.

    Called by the workflow engine, whose use case already checked the approver; once per run.
    """
    rows = store.run(q.RUN_BASIS, {"run_id": run_id})
    if not rows or rows[0]["recorded"]:
        return None
    run = rows[0]
    steps = sorted(run["steps"], key=lambda s: s[1] or 0)
    approvers = [s[3] for s in steps if s[0] == "approve" and s[3]]
    if not approvers:
        return None
    found = list(_document_ids([_json(run["form"]), _json(run["attachments"])] + [_json(s[2]) for s in steps]))
    documents = set(run["documents"]) | {i for kind, i in found if kind == "document"}
    version_ids = set(run["versions"]) | {i for kind, i in found if kind == "version"}
    if documents:
        for document_id in documents:
            document = document_rows.get_document(store, document_id)
            if document and document.get("current_version_id"):
                version_ids.add(document["current_version_id"])
    decider = Actor(approvers[-1], door="worker")
    title = " ".join((run["title"] or run_id).split())[:TITLE_MAX]  # a long run title must not fail the approval
    return _write(store, decider, title=title, text="", decided_on=None, by=approvers[-1],
                  participants=sorted(set(run["initiators"]) | set(approvers)), affects=(),
                  version_ids=sorted(_versions(store, version_ids)), run_id=run_id, source="run", now=now)
