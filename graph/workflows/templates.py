"""Built-in workflow templates: expense approval 报销审批, project initiation 项目立项, contract review 合同审核.

They route against the demo organisation's codes (departments FIN, FIN-TRS, LEGAL, RND; positions
ACCOUNTANT, GM, BUDGET-OWNER). Installing is idempotent: an unchanged template is not republished.
"""

from __future__ import annotations

import copy
from typing import Any

from graph.store import GraphStore
from graph.workflows.runs import publish


def _n(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


EXPENSE: dict[str, Any] = {
    "key": "expense",
    "name": _n("报销审批", "Expense approval"),
    "description": _n("费用报销：部门负责人、预算负责人、财务审核、出纳付款",
                      "Expense claim through head, budget owner, finance and treasury"),
    "form": [
        {"name": "amount", "type": "money", "label": _n("报销金额", "Amount (CNY)"), "required": True, "min": 0.01,
         "max": 1_000_000},
        {"name": "category", "type": "select", "label": _n("费用类别", "Category"), "required": True,
         "options": ["travel", "entertainment", "office", "training", "other"]},
        {"name": "project", "type": "select", "label": _n("所属项目", "Project"), "required": True,
         "source": "projects"},
        {"name": "spent_on", "type": "date", "label": _n("发生日期", "Date spent"), "required": True},
        {"name": "reason", "type": "text", "label": _n("事由", "Reason"), "required": True, "min_length": 2,
         "max_length": 500},
        {"name": "invoice", "type": "file", "label": _n("发票", "Invoices"), "required": True, "multiple": True},
    ],
    "steps": [
        {"key": "head", "name": _n("部门负责人审批", "Department head approval"),
         "responsible": {"kind": "initiator_head"}, "sla": {"working_days": 1}, "on_reject": {"to": "initiator"}},
        {"key": "budget", "name": _n("预算负责人审批", "Budget owner approval"),
         "responsible": {"kind": "budget_owner", "field": "project"}, "sla": {"working_days": 2},
         "requirements": [{"key": "within_budget", "label": _n("在项目预算范围内", "Within the project budget")}],
         "on_reject": {"to": "initiator"}},
        {"key": "finance", "name": _n("财务审核", "Finance review"),
         "responsible": {"kind": "position", "code": "ACCOUNTANT"}, "sla": {"working_days": 2},
         "requirements": [{"key": "invoice_matches", "label": _n("发票与金额一致", "Invoices match the amount")},
                          {"key": "policy_ok", "label": _n("符合报销制度", "Complies with the expense policy")}],
         "attachments": ["invoice"], "on_reject": {"to": "step", "step": "head"}},
        {"key": "payment", "name": _n("出纳付款", "Payment"),
         "responsible": {"kind": "department", "code": "FIN-TRS"}, "sla": {"working_days": 3},
         "fields": [{"name": "paid_on", "type": "date", "label": _n("付款日期", "Paid on"), "required": True},
                    {"name": "reference", "type": "text", "label": _n("付款流水号", "Payment reference"),
                     "required": True}],
         "on_reject": {"to": "initiator"}},
    ],
}

PROJECT_INITIATION: dict[str, Any] = {
    "key": "project-initiation",
    "name": _n("项目立项", "Project initiation"),
    "description": _n("新项目立项：部门负责人、财务与研发会签、总经理审批", "New project: head, finance and R&D "
                                                               "countersign, general manager"),
    "acceptance": True,  # the initiator confirms the project set-up was done as asked
    "form": [
        {"name": "project_name", "type": "text", "label": _n("项目名称", "Project name"), "required": True,
         "min_length": 2, "max_length": 100},
        {"name": "budget", "type": "money", "label": _n("预算", "Budget (CNY)"), "required": True, "min": 1},
        {"name": "starts_on", "type": "date", "label": _n("计划开始", "Planned start"), "required": True},
        {"name": "team_size", "type": "number", "label": _n("团队人数", "Team size"), "integer": True, "min": 1,
         "max": 500},
        {"name": "proposal", "type": "file", "label": _n("立项报告", "Proposal"), "required": True},
    ],
    "cc": [{"kind": "department_head", "code": "GMO"}],
    "steps": [
        {"key": "head", "name": _n("部门负责人审批", "Department head approval"),
         "responsible": {"kind": "initiator_head"}, "sla": {"working_days": 2}},
        {"key": "countersign", "name": _n("财务与研发会签", "Finance and R&D countersign"), "approval": "all",
         "responsible": [{"kind": "department_head", "code": "FIN"}, {"kind": "department_head", "code": "RND"}],
         "sla": {"working_days": 3},
         "requirements": [{"key": "feasible", "label": _n("可行性已评估", "Feasibility assessed")}],
         "on_reject": {"to": "step", "step": "head"}},
        {"key": "gm", "name": _n("总经理审批", "General manager approval"),
         "responsible": {"kind": "position", "code": "GM"}, "sla": {"working_days": 2}, "on_reject": {"to": "end"}},
    ],
}

CONTRACT_REVIEW: dict[str, Any] = {
    "key": "contract-review",
    "name": _n("合同审核", "Contract review"),
    "description": _n("合同审核：部门负责人、法务、财务或签、总经理签批", "Contract review: head, legal, finance "
                                                             "(any one), general manager"),
    "form": [
        {"name": "contract_title", "type": "text", "label": _n("合同名称", "Contract title"), "required": True},
        {"name": "counterparty", "type": "text", "label": _n("合同相对方", "Counterparty"), "required": True},
        {"name": "amount", "type": "money", "label": _n("合同金额", "Amount (CNY)"), "required": True, "min": 0},
        {"name": "contract_type", "type": "select", "label": _n("合同类型", "Type"), "required": True,
         "options": ["purchase", "sales", "service", "other"]},
        {"name": "contract", "type": "file", "label": _n("合同文本", "Contract text"), "required": True},
    ],
    "steps": [
        {"key": "head", "name": _n("部门负责人审批", "Department head approval"),
         "responsible": {"kind": "initiator_head"}, "sla": {"working_hours": 8}},
        {"key": "legal", "name": _n("法务审核", "Legal review"),
         "responsible": {"kind": "department", "code": "LEGAL"}, "sla": {"working_days": 3},
         "requirements": [{"key": "terms", "label": _n("条款合规", "Terms are compliant")},
                          {"key": "party", "label": _n("相对方资质已核验", "Counterparty verified")}],
         "attachments": ["contract"],
         "fields": [{"name": "risk", "type": "select", "label": _n("风险等级", "Risk level"), "required": True,
                     "options": ["low", "medium", "high"]}],
         "on_reject": {"to": "initiator"}},
        {"key": "finance", "name": _n("财务审核（或签）", "Finance review (any one)"), "approval": "any",
         "responsible": [{"kind": "department", "code": "FIN"}], "sla": {"working_days": 2},
         "on_reject": {"to": "step", "step": "legal"}},
        {"key": "gm", "name": _n("总经理签批", "General manager sign-off"),
         "responsible": {"kind": "position", "code": "GM"}, "sla": {"working_days": 2}, "on_reject": {"to": "end"}},
    ],
}

TEMPLATES: tuple[dict[str, Any], ...] = (EXPENSE, PROJECT_INITIATION, CONTRACT_REVIEW)


def template(key: str) -> dict[str, Any]:
    """A copy of a built-in template (a designer may start from it)."""
    for item in TEMPLATES:
        if item["key"] == key:
            return copy.deepcopy(item)
    raise KeyError(key)


def install_templates(store: GraphStore, *, now: int, by: str | None = None) -> list[dict[str, Any]]:
    """Publish every built-in template; unchanged ones are left as they are (``created`` False)."""
    return [publish(store, copy.deepcopy(item), now=now, by=by) for item in TEMPLATES]
