"""Publishing definitions as version chains, starting runs, and moving a run from step to step."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable
from typing import Any

from graph import audit
from graph.analytics import cache
from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows.definitions import (
    DefinitionError,
    definition_hash,
    validate_definition,
    validate_form,
)
from graph.workflows.errors import Conflict, NotFound, RoutingError
from graph.workflows.routing import Assignee, resolve_rule, resolve_step
from graph.workflows.sla import DEFAULT_CALENDAR, WorkingCalendar, due_at

ACTIVE_RUN_STATUSES = ("running", "revising", "awaiting_feedback")
OPEN_TASK_STATUSES = ("open", "info_requested")


def new_id() -> str:
    return str(uuid.uuid4())


# -- definitions ---------------------------------------------------------------------------------


def publish(store: GraphStore, raw: dict[str, Any], *, now: int, by: str | None = None) -> dict[str, Any]:
    """Publish a definition as a new version chain; the same content again returns the current version.

    Runs keep following the version they started on: a publish never touches them.
    """
    definition = validate_definition(raw)
    _check_references(store, definition)
    digest = definition_hash(definition)
    versions = store.run(q.WORKFLOW_VERSIONS, {"key": definition["key"]})
    current = next((v for v in versions if v["current"]), None)
    if current and current["hash"] == digest:
        return {"id": current["id"], "key": definition["key"], "version": current["version"], "created": False}
    number = max((v["version"] for v in versions), default=0) + 1
    workflow_id = new_id()
    steps = [{"id": new_id(), "key": s["key"], "position": i, "name": s["name"]["zh"], "name_en": s["name"]["en"],
              "approval": s["approval"], "workflow_id": workflow_id, "spec": json.dumps(s, ensure_ascii=False)}
             for i, s in enumerate(definition["steps"])]
    store.run(q.CREATE_VERSION, {"workflow": {
        "id": workflow_id, "key": definition["key"], "version": number, "current": False, "hash": digest,
        "name": definition["name"]["zh"], "name_en": definition["name"]["en"], "published_at": now,
        "published_by": by, "definition": json.dumps(definition, ensure_ascii=False),
    }, "steps": steps})
    links = [{"from_id": a["id"], "to_id": b["id"]} for a, b in itertools.pairwise(steps)]
    if links:
        store.run(q.LINK_STEPS, {"links": links})
    store.run(q.MAKE_CURRENT, {"id": workflow_id})
    return {"id": workflow_id, "key": definition["key"], "version": number, "created": True}


def _check_references(store: GraphStore, definition: dict[str, Any]) -> None:
    """Codes and user names a definition names must exist in the organisation."""
    errors: list[str] = []
    rules = [(f"steps[{i}].responsible[{j}]", r) for i, s in enumerate(definition["steps"])
             for j, r in enumerate(s["responsible"])]
    rules += [(f"cc[{i}]", r) for i, r in enumerate(definition["cc"])]
    for path, rule in rules:
        if rule["kind"] in ("department", "position", "department_head", "person"):
            try:
                resolve_rule(store, rule, "", {})
            except RoutingError as error:
                errors.append(f"{path}: {error}")
    if errors:
        raise DefinitionError(errors)


def current_definition(store: GraphStore, key: str) -> dict[str, Any]:
    """The current version of workflow ``key``: its node's fields and the parsed definition."""
    rows = store.run(q.CURRENT_WORKFLOW, {"key": key})
    if not rows:
        raise NotFound(f"no published workflow {key!r}")
    workflow = rows[0]["workflow"]
    return {**workflow, "definition": json.loads(workflow["definition"])}


def list_workflows(store: GraphStore) -> list[dict[str, Any]]:
    return store.run(q.LIST_CURRENT)


# -- runs ----------------------------------------------------------------------------------------


def start_run(store: GraphStore, key: str, initiator_id: str, form: dict[str, Any] | None, *, now: int,
              title: str | None = None, cc: Iterable[str] = (), calendar: WorkingCalendar = DEFAULT_CALENDAR,
              run_id: str | None = None, event: audit.Event | None = None) -> str:
    """Start a run of the current version of ``key``; returns the run id. Nothing is written on bad input.
    ``event``: the start's audit record (about ``run_id``), written by the same statement as the run."""
    workflow, initiator, clean, first, copied = _plan_start(store, key, initiator_id, form, cc)
    definition = workflow["definition"]
    run_title = (title or "").strip() or f"{workflow['name']} · {initiator['name']}"
    run_id = run_id or new_id()
    run = {
        "id": run_id, "kind": "workflow", "title": run_title, "workflow_id": workflow["id"], "workflow_key": key,
        "workflow_name": workflow["name"], "workflow_name_en": workflow["name_en"], "version": workflow["version"],
        "status": "running", "round": 1, "started_at": now, "initiator_id": initiator_id,
        "initiator_name": initiator["name"], "form": json.dumps(clean, ensure_ascii=False),
        "search": _search_text(run_title, workflow["name"], workflow["name_en"], initiator["name"],
                               *(v for v in clean.values() if isinstance(v, str))),
    }
    steps = {s["key"]: s["id"] for s in store.run(q.WORKFLOW_STEPS, {"id": workflow["id"]})}
    step = definition["steps"][0]
    rows = approval_rows(run, step, steps[step["key"]], first, prev_id=None, now=now, calendar=calendar)
    run.update(current_step=step["key"], due_at=_earliest_due(rows))
    params = {"initiator_id": initiator_id, "workflow_id": workflow["id"], "run": run, "cc": sorted(copied),
              "tasks": rows}
    if event is None:
        store.run(q.START_RUN, params)
    else:
        store.run(q.START_RUN_AUDITED, {**params, **event.statement_params()})
    cache.bump(store)  # cached analytics are stale now
    return run_id


def check_start(store: GraphStore, key: str, initiator_id: str, form: dict[str, Any] | None) -> None:
    """Everything :func:`start_run` refuses (form, routing), without writing: a door checks a form this way
    before it stores the form's files, so a refused form leaves no document behind."""
    _plan_start(store, key, initiator_id, form, ())


def _plan_start(store: GraphStore, key: str, initiator_id: str, form: dict[str, Any] | None,
                cc: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[Assignee], set[str]]:
    workflow = current_definition(store, key)
    definition = workflow["definition"]
    initiator = person(store, initiator_id)
    projects = {r["code"] for r in store.run(q.PROJECT_CODES)}
    clean = validate_form(definition["form"], form, projects=projects)
    # Route every step now, so a run that cannot reach its end is refused before it starts.
    first = resolve_step(store, definition["steps"][0], initiator_id, clean)
    for step in definition["steps"][1:]:
        resolve_step(store, step, initiator_id, clean)
    copied = set(cc)
    for rule in definition["cc"]:
        copied.update(a.id for a in resolve_rule(store, rule, initiator_id, clean, expand_queues=True))
    copied.discard(initiator_id)
    return workflow, initiator, clean, first, copied


def approval_rows(run: dict[str, Any], step: dict[str, Any], step_id: str, assignees: list[Assignee], *,
                  prev_id: str | None, now: int, calendar: WorkingCalendar,
                  group: str = "base") -> list[dict[str, Any]]:
    """Rows for :data:`q.START_RUN` / :data:`q.ADVANCE_RUN`: one task per assignee of the step."""
    deadline = due_at(now, step["sla"], calendar)
    return [task_row(run, assignee, kind="approval", prev_id=prev_id, now=now, due=deadline, step=step,
                     step_id=step_id, group=group) for assignee in assignees]


def task_row(run: dict[str, Any], assignee: Assignee, *, kind: str, prev_id: str | None, now: int,
             due: int | None, step: dict[str, Any] | None = None, step_id: str | None = None, group: str = "base",
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    name = step["name"] if step else _SPECIAL_TASK_NAMES[kind]
    props = {
        "id": new_id(), "kind": kind, "status": "open", "run_id": run["id"], "round": run["round"],
        "title": run["title"], "workflow_key": run.get("workflow_key"), "workflow_name": run.get("workflow_name"),
        "step_key": step["key"] if step else None, "step_name": name["zh"], "step_name_en": name["en"],
        "approval": step["approval"] if step else "single", "group": group, "created_at": now, "due_at": due,
        "assignee_kind": assignee.kind, "assignee_id": assignee.id, "assignee_name": assignee.name,
        "initiator_id": run["initiator_id"], "initiator_name": run["initiator_name"],
        "search": _search_text(run.get("search") or run["title"], name["zh"], name["en"]),
        **(extra or {}),
    }
    return {"props": {k: v for k, v in props.items() if v is not None}, "step_id": step_id, "prev_id": prev_id,
            "person_id": assignee.id if assignee.kind == "person" else None,
            "department_id": assignee.id if assignee.kind == "department" else None,
            "position_id": assignee.id if assignee.kind == "position" else None}


_SPECIAL_TASK_NAMES = {
    "revise": {"zh": "修改后重新提交", "en": "Revise and resubmit"},
    "acceptance": {"zh": "验收反馈", "en": "Acceptance feedback"},
    "adhoc": {"zh": "协作事项", "en": "Request part"},
}


def advance(store: GraphStore, run: dict[str, Any], rows: list[dict[str, Any]], *, now: int,
            changes: dict[str, Any]) -> None:
    """Move the run to its next round (cancelling what is still open); fails if another action won the race."""
    new_round = run["round"] + 1
    for row in rows:
        row["props"]["round"] = new_round
    changes = {**changes, "round": new_round, "due_at": _earliest_due(rows)}
    result = store.run(q.ADVANCE_RUN, {"run_id": run["id"], "round": run["round"], "run": changes, "now": now,
                                       "tasks": rows})
    if not result or result[0]["created"] != len(rows):
        raise Conflict("the run moved on meanwhile: reload it and try again")
    cache.bump(store)


def run_view(store: GraphStore, run_id: str) -> dict[str, Any]:
    """A run with its definition (when it follows one), tasks, copied people, decisions and comments."""
    rows = store.run(q.RUN_CONTEXT, {"run_id": run_id})
    if not rows:
        raise NotFound(f"no workflow run {run_id!r}")
    row = rows[0]
    run = {**row["run"], "form": json.loads(row["run"].get("form") or "{}")}
    decisions = [{**r["decision"], "by_id": r["by_id"], "by_name": r["by_name"]}
                 for r in store.run(q.RUN_DECISIONS, {"run_id": run_id})]
    comments = [{**r["comment"], "by_id": r["by_id"], "by_name": r["by_name"]}
                for r in store.run(q.RUN_COMMENTS, {"run_id": run_id})]
    return {"run": run, "definition": json.loads(row["definition"]) if row["definition"] else None,
            "workflow_id": row["workflow_id"], "cc": row["cc"],
            "tasks": sorted(row["tasks"], key=lambda t: (t["created_at"], t.get("round", 0), t["id"])),
            "decisions": decisions, "comments": comments}


def person(store: GraphStore, person_id: str) -> dict[str, Any]:
    rows = store.run(q.PERSON_CONTEXT, {"person_id": person_id})
    if not rows or not rows[0]["active"]:
        raise NotFound(f"no active person {person_id!r}")
    return rows[0]


def _earliest_due(rows: list[dict[str, Any]]) -> int | None:
    dues = [r["props"]["due_at"] for r in rows if r["props"].get("due_at") is not None]
    return min(dues) if dues else None


def _search_text(*parts: str | None) -> str:
    return " ".join(p for p in parts if p).lower()
