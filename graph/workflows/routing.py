"""Who is responsible for a step: a department or position queue, or people found by a role rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows.errors import RoutingError

BUDGET_OWNER_POSITION = "BUDGET-OWNER"


@dataclass(frozen=True)
class Assignee:
    kind: str  # "person", "department" or "position" (the last two are claimable queues)
    id: str
    name: str

    @property
    def is_queue(self) -> bool:
        return self.kind != "person"


def resolve_step(store: GraphStore, step: dict[str, Any], initiator_id: str, form: dict[str, Any]) -> list[Assignee]:
    """The assignees of a step: one queue or person for a single-approver step; for 或签 (any) each rule's queue
    stays ONE item a member claims; only 会签 (all) expands a queue into its people, since each must sign."""
    single = step["approval"] == "single"
    found: list[Assignee] = []
    for rule in step["responsible"]:
        for assignee in resolve_rule(store, rule, initiator_id, form, expand_queues=step["approval"] == "all"):
            if assignee not in found:
                found.append(assignee)
    if not found:
        raise RoutingError(f"step {step['key']!r}: nobody is responsible")
    return found[:1] if single else found


def resolve_rule(store: GraphStore, rule: dict[str, Any], initiator_id: str, form: dict[str, Any], *,
                 expand_queues: bool = False) -> list[Assignee]:
    kind = rule["kind"]
    if kind in ("department", "position"):
        rows = store.run(q.QUEUE_BY_CODE, {"kind": kind, "code": rule["code"]})
        if not rows:
            raise RoutingError(f"unknown {kind} code {rule['code']!r}")
        queue = rows[0]
        if not queue["members"]:
            raise RoutingError(f"{kind} {rule['code']!r} has no active members to handle its queue")
        if not expand_queues:
            return [Assignee(kind, queue["id"], queue["name"])]
        return _people(store, sorted(queue["members"]))
    if kind == "department_head":
        rows = store.run(q.DEPARTMENT_HEADS, {"code": rule["code"]})
        if not rows:
            raise RoutingError(f"department {rule['code']!r} is unknown or has no head")
        return [Assignee("person", r["id"], r["name"]) for r in rows]
    if kind == "person":
        rows = store.run(q.PERSON_BY_USERNAME, {"username": rule["username"]})
        if not rows or not rows[0]["active"]:
            raise RoutingError(f"no active person with user name {rule['username']!r}")
        return [Assignee("person", rows[0]["id"], rows[0]["name"])]
    if kind == "initiator_head":
        return _initiator_head(store, initiator_id)
    if kind == "budget_owner":
        return _budget_owner(store, form.get(rule["field"]))
    raise RoutingError(f"unknown responsible kind {kind!r}")


def _initiator_head(store: GraphStore, initiator_id: str) -> list[Assignee]:
    # The head of the initiator's own department; a head's own request goes one level up.
    rows = store.run(q.INITIATOR_HEADS, {"person_id": initiator_id})
    for key in ("head", "parent_head"):
        for row in rows:
            if row[f"{key}_id"]:
                return [Assignee("person", row[f"{key}_id"], row[f"{key}_name"])]
    raise RoutingError("the initiator belongs to no department with a head")


def _budget_owner(store: GraphStore, project_code: Any) -> list[Assignee]:
    if not project_code:
        raise RoutingError("no project selected: its budget owner cannot be found")
    rows = store.run(q.BUDGET_OWNERS, {"code": project_code, "position": BUDGET_OWNER_POSITION})
    if not rows:
        raise RoutingError(f"unknown project {project_code!r}")
    owner = rows[0]
    if not owner["id"]:
        raise RoutingError(f"project {project_code!r} has no budget owner")
    return [Assignee("person", owner["id"], owner["name"])]


def _people(store: GraphStore, ids: list[str]) -> list[Assignee]:
    rows = store.run(q.PEOPLE_BY_ID, {"ids": ids})
    by_id = {r["id"]: r for r in rows if r["active"]}
    return [Assignee("person", i, by_id[i]["name"]) for i in ids if i in by_id]
