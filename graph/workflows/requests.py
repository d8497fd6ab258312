"""Ad-hoc cross-department requests: one request split into parts, one per department, and its progress.

A request is a ``WorkflowRun`` of kind ``adhoc`` that follows no definition; each part is a task
in the department's queue with its content, completion criteria and deadline. Members claim and
complete (or decline) parts with :func:`graph.workflows.actions.approve` / ``reject``; when every
part is finished the initiator gives acceptance feedback, as for any run.
"""

from __future__ import annotations

from typing import Any

from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows.definitions import FormError
from graph.workflows.errors import RoutingError
from graph.workflows.routing import Assignee, resolve_rule
from graph.workflows.runs import new_id, person, run_view, task_row

MAX_PARTS = 50


def start_request(store: GraphStore, initiator_id: str, title: str, parts: list[dict[str, Any]], *, now: int,
                  cc: list[str] | tuple[str, ...] = ()) -> str:
    """Open a request; each part is ``{"department": code, "content", "criteria", "deadline": epoch ms}``."""
    initiator = person(store, initiator_id)
    errors: dict[str, str] = {}
    if not isinstance(title, str) or not title.strip():
        errors["title"] = "required"
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
        raise FormError({"parts": f"between 1 and {MAX_PARTS} parts"})
    queues: list[Assignee] = []
    for i, part in enumerate(parts):
        if not isinstance(part, dict):
            errors[f"parts[{i}]"] = "must be an object"
            continue
        for key in ("content", "criteria"):
            if not isinstance(part.get(key), str) or not part[key].strip():
                errors[f"parts[{i}].{key}"] = "required"
        deadline = part.get("deadline")
        if isinstance(deadline, bool) or not isinstance(deadline, int) or deadline <= now:
            errors[f"parts[{i}].deadline"] = "a future time (epoch ms)"
        try:
            queues.append(resolve_rule(store, {"kind": "department", "code": part.get("department")}, initiator_id,
                                       {})[0])
        except RoutingError as error:
            errors[f"parts[{i}].department"] = str(error)
    if errors:
        raise FormError(errors)
    run_id = new_id()
    run = {"id": run_id, "kind": "adhoc", "title": title.strip(), "status": "running", "round": 1, "started_at": now,
           "initiator_id": initiator_id, "initiator_name": initiator["name"], "workflow_key": "adhoc",
           "workflow_name": "跨部门协作", "workflow_name_en": "Cross-department request",
           "search": f"{title.strip()} 跨部门协作 {initiator['name']}".lower()}
    rows = [task_row(run, queue, kind="adhoc", prev_id=None, now=now, due=part["deadline"],
                     extra={"content": part["content"].strip(), "criteria": part["criteria"].strip(),
                            "department_code": part["department"], "part": i + 1})
            for i, (part, queue) in enumerate(zip(parts, queues, strict=True))]
    run["due_at"] = max(part["deadline"] for part in parts)
    store.run(q.START_RUN, {"initiator_id": initiator_id, "workflow_id": None, "run": run,
                            "cc": sorted(set(cc) - {initiator_id}), "tasks": rows})
    return run_id


def request_progress(store: GraphStore, run_id: str, *, now: int) -> dict[str, Any]:
    """Each part's state (open, claimed, done, declined, overdue) and the totals of the set."""
    view = run_view(store, run_id)
    parts = []
    for task in sorted((t for t in view["tasks"] if t["kind"] == "adhoc"), key=lambda t: t["part"]):
        finished = task["status"] == "done"
        state = task["outcome"] if finished else ("claimed" if task["assignee_kind"] == "person" else "open")
        if task["status"] == "info_requested":
            state = "info_requested"
        parts.append({"part": task["part"], "task_id": task["id"], "department": task["department_code"],
                      "content": task["content"], "criteria": task["criteria"], "state": state,
                      "assignee": task["assignee_name"], "due_at": task["due_at"],
                      "completed_at": task.get("completed_at"),
                      "overdue": not finished and task["due_at"] < now,
                      "late": finished and task["completed_at"] > task["due_at"]})
    done = sum(p["state"] == "done" for p in parts)
    declined = sum(p["state"] == "declined" for p in parts)
    return {"run_id": run_id, "title": view["run"]["title"], "status": view["run"]["status"], "parts": parts,
            "total": len(parts), "done": done, "declined": declined,
            "overdue": sum(p["overdue"] for p in parts),
            "percent": round(100 * (done + declined) / len(parts)) if parts else 100}
