"""Helpers of the workflow tests: demo people, standard forms, and a driver that plays each assignee."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from graph.demo_org import build_org, node_id
from graph.queries import workflows as q
from graph.store import GraphStore
from graph.workflows import actions
from graph.workflows.runs import run_view

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3_600_000


def at(text: str) -> int:
    """Epoch ms of a local Shanghai time such as ``2026-03-02 10:00`` (a Monday)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).timestamp() * 1000)


NOW = at("2026-03-02 10:00")

FORMS: dict[str, dict[str, Any]] = {
    "expense": {"amount": "1280.50", "category": "travel", "project": "ERP-2026", "spent_on": "2026-02-20",
                "reason": "客户拜访差旅 client visit", "invoice": [{"name": "invoice-001.pdf", "document_id": None}]},
    "project-initiation": {"project_name": "智能客服 Smart service desk", "budget": 500000, "starts_on": "2026-04-01",
                           "team_size": 6, "proposal": {"name": "proposal.docx"}},
    "contract-review": {"contract_title": "服务器采购合同", "counterparty": "示例供应商有限公司", "amount": "98000",
                        "contract_type": "purchase", "contract": {"name": "contract.pdf"}},
}
TEMPLATE_KEYS = tuple(FORMS)


class Org:
    """Who is who in the demo organisation (deterministic: same seed as the loader)."""

    def __init__(self) -> None:
        rows = build_org()
        self.names = {p["id"]: p["name"] for p in rows.people}
        dept_code = {d["id"]: d["code"] for d in rows.departments}
        self.members: dict[str, list[str]] = {}
        for m in rows.memberships:
            self.members.setdefault(str(dept_code[m["department_id"]]), []).append(str(m["person_id"]))
        self.head = {str(dept_code[h["department_id"]]): str(h["person_id"]) for h in rows.heads}
        self.admin = node_id("person", "admin")

    def staff(self, code: str, n: int = 0) -> str:
        """The n-th ordinary member (not the head) of a department."""
        return [p for p in self.members[code] if p != self.head[code]][n]


def current_tasks(store: GraphStore, run_id: str, *statuses: str) -> list[dict[str, Any]]:
    view = run_view(store, run_id)
    wanted = statuses or ("open", "info_requested")
    return [t for t in view["tasks"] if t["round"] == view["run"]["round"] and t["status"] in wanted]


def queue_members(store: GraphStore, task: dict[str, Any]) -> list[str]:
    rows = store.run(q.QUEUE_BY_ID, {"kind": task["assignee_kind"], "id": task["assignee_id"]})
    return sorted(rows[0]["members"])


def actor_for(store: GraphStore, task: dict[str, Any]) -> str:
    return task["assignee_id"] if task["assignee_kind"] == "person" else queue_members(store, task)[0]


def step_inputs(store: GraphStore, task: dict[str, Any]) -> dict[str, Any]:
    """What a conscientious approver supplies: every checklist item, required fields and attachments."""
    definition = run_view(store, task["run_id"])["definition"]
    step = next(s for s in definition["steps"] if s["key"] == task["step_key"])
    samples = {"text": "已核对 checked", "date": "2026-03-05", "number": 1, "money": "1.00"}
    values = {f["name"]: (f.get("options") or [None])[0] if f["type"] == "select" else samples.get(f["type"])
              for f in step["fields"] if f["required"]}
    return {"checklist": [r["key"] for r in step["requirements"]], "values": values,
            "attachments": {name: {"name": f"{name}.pdf"} for name in step["attachments"]}}


def approve_current(store: GraphStore, run_id: str, now: int) -> list[str]:
    """Approve every open task of the current round; returns the actors."""
    acted = []
    for task in current_tasks(store, run_id, "open"):
        if task["kind"] != "approval":
            continue
        actor = actor_for(store, task)
        actions.approve(store, task["id"], actor, now=now, comment="同意 approved", **step_inputs(store, task))
        acted.append(actor)
        if run_view(store, run_id)["run"]["round"] != task["round"]:
            break  # an any-of step completed with the first approval
    return acted


def approve_to_end(store: GraphStore, run_id: str, now: int, limit: int = 20) -> int:
    """Approve round after round until the run waits for acceptance feedback; returns rounds walked."""
    for walked in range(limit):
        if run_view(store, run_id)["run"]["status"] != "running":
            return walked
        approve_current(store, run_id, now + walked * HOUR)
    raise AssertionError("the run did not finish")
