"""The workflow engine on the real embedded graph with the demo organisation and built-in templates."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from workflow_support import (
    FORMS,
    HOUR,
    NOW,
    TEMPLATE_KEYS,
    Org,
    actor_for,
    approve_current,
    approve_to_end,
    at,
    current_tasks,
    queue_members,
    step_inputs,
)

from graph.demo_org import load_demo_org
from graph.workflows import FormError, NotAllowed, actions, inbox, reminders, requests, run_actions, runs, templates
from graph.workflows.errors import Conflict, RoutingError

ORG = Org()
INITIATOR = ORG.staff("RND-PLT")
OUTSIDER = ORG.staff("MKT-BRD")


@pytest.fixture
def wf(fresh_store) -> Iterator[object]:  # type: ignore[no-untyped-def]
    load_demo_org(fresh_store, "pw")
    templates.install_templates(fresh_store, now=NOW)
    yield fresh_store


def start(store, key: str = "expense", who: str = INITIATOR, **kw) -> str:  # type: ignore[no-untyped-def]
    return runs.start_run(store, key, who, FORMS[key], now=NOW, **kw)


def only_task(store, run_id: str) -> dict:  # type: ignore[no-untyped-def]
    (task,) = current_tasks(store, run_id)
    return task


# -- definitions and versions ---------------------------------------------------------------------


def test_templates_install_once_as_step_chains(wf) -> None:  # type: ignore[no-untyped-def]
    again = templates.install_templates(wf, now=NOW + HOUR)
    assert [r["created"] for r in again] == [False, False, False]
    assert wf.counts()["Workflow"] == 3
    listed = {w["key"]: w["version"] for w in runs.list_workflows(wf)}
    assert listed == {"expense": 1, "project-initiation": 1, "contract-review": 1}
    workflow = runs.current_definition(wf, "expense")
    from graph.queries import workflows as q
    steps = wf.run(q.WORKFLOW_STEPS, {"id": workflow["id"]})
    assert [s["key"] for s in steps] == ["head", "budget", "finance", "payment"]


def test_publishing_a_new_version_leaves_running_runs_alone(wf) -> None:  # type: ignore[no-untyped-def]
    old_run = start(wf)
    changed = templates.template("expense")
    changed["steps"] = changed["steps"][:1] + changed["steps"][2:]  # drop the budget owner step
    published = runs.publish(wf, changed, now=NOW)
    assert published["version"] == 2 and published["created"]
    new_run = start(wf)
    assert runs.run_view(wf, old_run)["run"]["version"] == 1
    assert runs.run_view(wf, new_run)["run"]["version"] == 2
    approve_to_end(wf, old_run, NOW)
    approve_to_end(wf, new_run, NOW)
    old_steps = [t.get("step_key") for t in runs.run_view(wf, old_run)["tasks"] if t["kind"] == "approval"]
    new_steps = [t.get("step_key") for t in runs.run_view(wf, new_run)["tasks"] if t["kind"] == "approval"]
    assert old_steps == ["head", "budget", "finance", "payment"]
    assert new_steps == ["head", "finance", "payment"]


def test_publish_refuses_unknown_codes(wf) -> None:  # type: ignore[no-untyped-def]
    bad = templates.template("expense")
    bad["steps"][2]["responsible"] = {"kind": "department", "code": "NO-SUCH"}
    with pytest.raises(runs.DefinitionError, match="NO-SUCH"):
        runs.publish(wf, bad, now=NOW)
    assert runs.current_definition(wf, "expense")["version"] == 1


def test_bad_form_starts_nothing(wf) -> None:  # type: ignore[no-untyped-def]
    form = {**FORMS["expense"], "amount": "12.345", "project": "NOPE", "spent_on": "yesterday"}
    form.pop("reason")
    with pytest.raises(FormError) as caught:
        runs.start_run(wf, "expense", INITIATOR, form, now=NOW)
    assert set(caught.value.errors) == {"amount", "project", "spent_on", "reason"}
    assert "WorkflowRun" not in wf.counts()


# -- the paths of every template --------------------------------------------------------------------


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_approve_path_ends_with_acceptance_feedback_only_when_the_definition_asks(wf, key: str) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf, key)
    approve_to_end(wf, run_id, NOW)
    view = runs.run_view(wf, run_id)
    asks = bool(view["definition"].get("acceptance"))
    assert asks == (key == "project-initiation")  # an explicit option of the definition, not a silent extra step
    if asks:
        assert view["run"]["status"] == "awaiting_feedback" and view["run"]["outcome"] == "approved"
        feedback = only_task(wf, run_id)
        assert feedback["kind"] == "acceptance" and feedback["assignee_id"] == INITIATOR
        with pytest.raises(FormError):
            actions.give_feedback(wf, feedback["id"], INITIATOR, accepted=True, rating=6, now=NOW + 9 * HOUR)
        actions.give_feedback(wf, feedback["id"], INITIATOR, accepted=True, rating=5, comment="很快 fast",
                              now=NOW + 9 * HOUR)
        view = runs.run_view(wf, run_id)
        assert view["run"]["rating"] == 5 and view["run"]["accepted"] is True
        assert [d["kind"] for d in view["decisions"]][-1] == "feedback"
    else:
        assert not current_tasks(wf, run_id)
        assert all(t["kind"] != "acceptance" for t in view["tasks"])
        assert view["run"]["outcome"] == "approved" and view["run"]["finished_at"] >= NOW
    assert view["run"]["status"] == "closed"
    for task in view["tasks"]:
        assert task["created_at"] >= NOW and task["completed_at"] >= task["created_at"]
        assert task["outcome"] in ("approved", "cancelled", "accepted")
        if task["kind"] == "approval":
            assert task["due_at"] > task["created_at"]
    kinds = [d["kind"] for d in view["decisions"]]
    assert kinds.count("approve") == sum(t.get("outcome") == "approved" for t in view["tasks"])
    claimed = [t for t in view["tasks"] if t.get("queue_id")]
    assert claimed and all(t["claimed_at"] for t in claimed)  # every template has a queue step


def test_acceptance_must_be_a_yes_or_no(wf) -> None:  # type: ignore[no-untyped-def]
    bad = {**templates.template("expense"), "acceptance": "yes"}
    with pytest.raises(runs.DefinitionError, match="acceptance"):
        runs.publish(wf, bad, now=NOW)


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_reject_and_return_loop(wf, key: str) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf, key)
    approve_current(wf, run_id, NOW)  # first step
    definition = runs.run_view(wf, run_id)["definition"]
    second = definition["steps"][1]
    task = current_tasks(wf, run_id)[0]
    with pytest.raises(FormError):
        actions.reject(wf, task["id"], actor_for(wf, task), now=NOW + HOUR, comment="  ")
    actions.reject(wf, task["id"], actor_for(wf, task), now=NOW + HOUR, comment="材料不全 incomplete")
    view = runs.run_view(wf, run_id)
    target = second["on_reject"]
    if target["to"] == "initiator":
        revise = only_task(wf, run_id)
        assert view["run"]["status"] == "revising" and revise["kind"] == "revise"
        with pytest.raises(NotAllowed):
            actions.resubmit(wf, revise["id"], OUTSIDER, now=NOW + 2 * HOUR)
        actions.resubmit(wf, revise["id"], INITIATOR, now=NOW + 2 * HOUR, comment="补充材料 added")
        assert current_tasks(wf, run_id)[0]["step_key"] == definition["steps"][0]["key"]
    else:
        assert {t["step_key"] for t in current_tasks(wf, run_id)} == {target["step"]}
    approve_to_end(wf, run_id, NOW + 3 * HOUR)
    view = runs.run_view(wf, run_id)
    assert view["run"]["outcome"] == "approved"
    assert [d["kind"] for d in view["decisions"]].count("reject") == 1


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_withdraw_only_before_anybody_acts(wf, key: str) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf, key)
    with pytest.raises(NotAllowed):
        run_actions.withdraw(wf, run_id, OUTSIDER, now=NOW)
    run_actions.withdraw(wf, run_id, INITIATOR, now=NOW + HOUR, reason="写错了 wrong amount")
    view = runs.run_view(wf, run_id)
    assert view["run"]["status"] == "withdrawn"
    assert {t["status"] for t in view["tasks"]} == {"cancelled"}
    task = view["tasks"][0]
    with pytest.raises(Conflict):
        actions.approve(wf, task["id"], actor_for(wf, task), now=NOW + 2 * HOUR, **step_inputs(wf, task))
    acted = start(wf, key)
    approve_current(wf, acted, NOW)
    with pytest.raises(Conflict, match="already acted"):
        run_actions.withdraw(wf, acted, INITIATOR, now=NOW + HOUR)


@pytest.mark.parametrize("key", TEMPLATE_KEYS)
def test_admin_reassigns_and_the_old_assignee_loses_the_task(wf, key: str) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf, key)
    task = only_task(wf, run_id)
    old, new = task["assignee_id"], ORG.staff("RND-DATA")
    with pytest.raises(NotAllowed, match="administrator"):
        actions.reassign(wf, task["id"], old, to_kind="person", to_id=new, now=NOW)
    actions.reassign(wf, task["id"], ORG.admin, to_kind="person", to_id=new, now=NOW + HOUR, comment="休假 on leave")
    with pytest.raises(NotAllowed):
        actions.approve(wf, task["id"], old, now=NOW + 2 * HOUR)
    assert [t["id"] for t in inbox.my_tasks(wf, new, now=NOW)] == [task["id"]]
    assert inbox.my_tasks(wf, old, now=NOW) == []
    actions.approve(wf, task["id"], new, now=NOW + 2 * HOUR, **step_inputs(wf, task))
    assert current_tasks(wf, run_id)[0]["step_key"] != task["step_key"]
    # ... and to a queue, which its members then claim
    queued = only_task(wf, start(wf, key))
    fin = ORG.staff("FIN-ACC")
    from graph.demo_org import node_id
    actions.reassign(wf, queued["id"], ORG.admin, to_kind="department", to_id=node_id("dept", "FIN-ACC"), now=NOW)
    assert [t["id"] for t in inbox.queue_tasks(wf, fin, now=NOW)] == [queued["id"]]
    actions.claim(wf, queued["id"], fin, now=NOW + HOUR)
    assert inbox.queue_tasks(wf, fin, now=NOW) == [] and len(inbox.my_tasks(wf, fin, now=NOW)) == 1


def test_countersign_with_one_rejection_goes_back(wf) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf, "project-initiation")
    approve_current(wf, run_id, NOW)
    signers = current_tasks(wf, run_id)
    assert len(signers) == 2 and {t["assignee_id"] for t in signers} == {ORG.head["FIN"], ORG.head["RND"]}
    first, second = sorted(signers, key=lambda t: t["assignee_id"] != ORG.head["FIN"])
    actions.approve(wf, first["id"], first["assignee_id"], now=NOW + HOUR, checklist=["feasible"])
    assert runs.run_view(wf, run_id)["run"]["current_step"] == "countersign"  # 会签 waits for both
    actions.reject(wf, second["id"], second["assignee_id"], now=NOW + 2 * HOUR, comment="研发资源不足")
    (back,) = current_tasks(wf, run_id)
    assert back["step_key"] == "head"  # on_reject: to the chosen earlier step
    approve_current(wf, run_id, NOW + 3 * HOUR)
    again = current_tasks(wf, run_id)
    assert len(again) == 2  # a new countersign round: both sign again
    # first one rejects this time: the other signer's task is cancelled
    actions.reject(wf, again[0]["id"], again[0]["assignee_id"], now=NOW + 4 * HOUR, comment="预算过高")
    with pytest.raises(Conflict):
        actions.approve(wf, again[1]["id"], again[1]["assignee_id"], now=NOW + 5 * HOUR, checklist=["feasible"])


def test_any_of_step_completes_with_the_first_approval_and_return_to_earlier_step(wf) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf, "contract-review")
    approve_current(wf, run_id, NOW)
    approve_current(wf, run_id, NOW + HOUR)  # legal
    (finance,) = current_tasks(wf, run_id)  # 或签 to a department: ONE queue item, not a task per member
    assert finance["approval"] == "any" and finance["assignee_kind"] == "department"
    member = ORG.members["FIN"][-1]
    with pytest.raises(Conflict, match="earlier step"):
        actions.return_task(wf, finance["id"], member, now=NOW, comment="x", to_step="gm")
    actions.return_task(wf, finance["id"], member, now=NOW + 2 * HOUR, comment="请重审", to_step="head")
    assert [t["step_key"] for t in current_tasks(wf, run_id)] == ["head"]
    approve_current(wf, run_id, NOW + 3 * HOUR)
    approve_current(wf, run_id, NOW + 4 * HOUR)
    (finance,) = current_tasks(wf, run_id)
    actions.approve(wf, finance["id"], member, now=NOW + 5 * HOUR)
    assert [t["step_key"] for t in current_tasks(wf, run_id)] == ["gm"]
    view = runs.run_view(wf, run_id)
    approved = next(t for t in view["tasks"] if t["id"] == finance["id"])
    assert approved["assignee_id"] == member and approved["queue_id"] == finance["assignee_id"]
    assert not [t for t in view["tasks"] if t.get("outcome") == "cancelled"]  # nothing made only to be cancelled


def test_add_signer_and_delegate(wf) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf)
    head_task = only_task(wf, run_id)
    head = head_task["assignee_id"]
    extra = ORG.staff("RND-PLT", 1)
    added = actions.add_signer(wf, head_task["id"], head, extra, now=NOW + HOUR, comment="请技术把关")
    with pytest.raises(Conflict, match="already"):
        actions.add_signer(wf, head_task["id"], head, extra, now=NOW + HOUR)
    actions.approve(wf, head_task["id"], head, now=NOW + 2 * HOUR)
    assert runs.run_view(wf, run_id)["run"]["current_step"] == "head"  # waits for the added signer
    delegate_to = ORG.staff("RND-PLT", 2)
    actions.delegate(wf, added, extra, delegate_to, now=NOW + 3 * HOUR)
    with pytest.raises(NotAllowed):
        actions.approve(wf, added, extra, now=NOW + 4 * HOUR)
    actions.approve(wf, added, delegate_to, now=NOW + 4 * HOUR)
    assert runs.run_view(wf, run_id)["run"]["current_step"] == "budget"


def test_request_more_information(wf) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf)
    task = only_task(wf, run_id)
    actions.request_info(wf, task["id"], task["assignee_id"], now=NOW + HOUR, question="发票抬头是否正确？")
    with pytest.raises(Conflict):
        actions.approve(wf, task["id"], task["assignee_id"], now=NOW + HOUR)
    notes = inbox.notifications(wf, INITIATOR)
    assert [n["kind"] for n in notes] == ["info_requested"] and "发票" in notes[0]["text"]
    with pytest.raises(NotAllowed):
        actions.provide_info(wf, task["id"], OUTSIDER, now=NOW + 2 * HOUR, answer="?")
    actions.provide_info(wf, task["id"], INITIATOR, now=NOW + 2 * HOUR, answer="正确 yes")
    actions.approve(wf, task["id"], task["assignee_id"], now=NOW + 3 * HOUR)
    kinds = [d["kind"] for d in runs.run_view(wf, run_id)["decisions"]]
    assert kinds == ["request_info", "provide_info", "approve"]


# -- authorisation --------------------------------------------------------------------------------


def test_nobody_acts_on_tasks_that_are_not_theirs(wf) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf, "contract-review")
    task = only_task(wf, run_id)
    on_task = {
        "approve": lambda who: actions.approve(wf, task["id"], who, now=NOW),
        "reject": lambda who: actions.reject(wf, task["id"], who, now=NOW, comment="no"),
        "return": lambda who: actions.return_task(wf, task["id"], who, now=NOW, comment="no"),
        "delegate": lambda who: actions.delegate(wf, task["id"], who, OUTSIDER, now=NOW),
        "open": lambda who: actions.open_task(wf, task["id"], who, now=NOW),
        "add_signer": lambda who: actions.add_signer(wf, task["id"], who, ORG.staff("IT-SEC"), now=NOW),
        "request_info": lambda who: actions.request_info(wf, task["id"], who, now=NOW, question="?"),
    }
    for name, act in on_task.items():
        for who in (OUTSIDER, INITIATOR):
            with pytest.raises(NotAllowed):
                act(who)
            assert name and runs.run_view(wf, run_id)["decisions"] == []
    with pytest.raises(NotAllowed, match="takes no part"):
        run_actions.comment(wf, run_id, OUTSIDER, "hello", now=NOW)
    opened = actions.open_task(wf, task["id"], task["assignee_id"], now=NOW + 5)
    assert opened["first_opened_at"] == NOW + 5
    assert actions.open_task(wf, task["id"], task["assignee_id"], now=NOW + 9)["first_opened_at"] == NOW + 5
    approve_current(wf, run_id, NOW + HOUR)
    legal = only_task(wf, run_id)  # LEGAL queue
    members = queue_members(wf, legal)
    with pytest.raises(NotAllowed, match="not in the queue"):
        actions.claim(wf, legal["id"], OUTSIDER, now=NOW)
    actions.claim(wf, legal["id"], members[0], now=NOW + 2 * HOUR)
    with pytest.raises(NotAllowed):  # claimed: the rest of the queue no longer acts on it
        actions.approve(wf, legal["id"], members[1], now=NOW + 2 * HOUR, **step_inputs(wf, legal))
    with pytest.raises(FormError) as missing:  # checklist and the required field are enforced
        actions.approve(wf, legal["id"], members[0], now=NOW + 2 * HOUR)
    assert {"checklist.terms", "checklist.party", "risk"} <= set(missing.value.errors)
    # urge: initiator only, at most one nudge per hour
    with pytest.raises(NotAllowed):
        actions.urge(wf, legal["id"], OUTSIDER, now=NOW)
    assert actions.urge(wf, legal["id"], INITIATOR, now=NOW + 3 * HOUR) == 1
    assert actions.urge(wf, legal["id"], INITIATOR, now=NOW + 3 * HOUR + 60_000) == 0
    assert [n["kind"] for n in inbox.notifications(wf, members[0])] == ["urge"]
    comment_id = run_actions.comment(wf, run_id, members[1], "我来看看", now=NOW + 3 * HOUR)  # queue member takes part
    assert comment_id in {c["id"] for c in runs.run_view(wf, run_id)["comments"]}


# -- SLA, reminders, escalation ---------------------------------------------------------------------


def test_sla_breach_reminder_then_warning_then_escalation(wf) -> None:  # type: ignore[no-untyped-def]
    run_id = start(wf)  # Monday 10:00; the head step has one working day: due Tuesday 10:00
    task = only_task(wf, run_id)
    assert task["due_at"] == at("2026-03-03 10:00")
    head = task["assignee_id"]
    assert head == ORG.head["RND-PLT"]
    policy = reminders.ReminderPolicy(remind_before_ms=4 * HOUR, escalate_after_ms=24 * HOUR)
    assert reminders.run_reminders(wf, now=at("2026-03-03 05:00"), policy=policy) == []

    soon = reminders.run_reminders(wf, now=at("2026-03-03 07:00"), policy=policy)
    assert [(n["kind"], n["person_id"]) for n in soon] == [("due_soon", head)]
    assert reminders.run_reminders(wf, now=at("2026-03-03 08:00"), policy=policy) == []

    late = reminders.run_reminders(wf, now=at("2026-03-03 11:00"), policy=policy)
    assert {(n["kind"], n["person_id"]) for n in late} == {("overdue", head), ("overdue", ORG.head["RND"])}
    assert inbox.my_tasks(wf, head, now=at("2026-03-03 11:00"))[0]["overdue"] is True

    escalated = reminders.run_reminders(wf, now=at("2026-03-04 10:30"), policy=policy)
    assert {(n["kind"], n["person_id"]) for n in escalated} == {("escalation", ORG.head["HQ"])}
    assert reminders.run_reminders(wf, now=at("2026-03-04 12:00"), policy=policy) == []
    assert runs.run_view(wf, run_id)["tasks"][0]["escalated_at"] == at("2026-03-04 10:30")
    kinds = sorted(n["kind"] for n in inbox.notifications(wf, head))
    assert kinds == ["due_soon", "overdue"]
    n = inbox.notifications(wf, ORG.head["HQ"], unread_only=True)[0]
    assert inbox.mark_read(wf, ORG.head["HQ"], n["id"], now=NOW) and not inbox.mark_read(wf, head, n["id"], now=NOW)
    # Done tasks are never reminded again.
    actions.approve(wf, task["id"], head, now=at("2026-03-04 13:00"))
    later = reminders.run_reminders(wf, now=at("2026-03-09 12:00"), policy=policy)
    assert all(x["task_id"] != task["id"] for x in later)


# -- inbox and cross-department requests ---------------------------------------------------------------


def test_inbox_lists_sorts_filters_and_counts(wf) -> None:  # type: ignore[no-untyped-def]
    head = ORG.head["RND-PLT"]
    early = start(wf, "contract-review")  # head step due after 8 working hours
    later = start(wf, "expense")
    mine = inbox.my_tasks(wf, head, now=NOW)
    assert [t["run_id"] for t in mine] == [early, later]  # soonest deadline first
    tomorrow = at("2026-03-03 11:00")
    flagged = inbox.my_tasks(wf, head, now=tomorrow)
    assert flagged[0]["overdue"] and flagged[1]["overdue"]
    assert [t["run_id"] for t in inbox.my_tasks(wf, head, now=NOW, search="服务器")] == [early]
    assert [t["run_id"] for t in inbox.my_tasks(wf, head, now=NOW, workflow_key="expense")] == [later]
    assert inbox.my_tasks(wf, head, now=NOW, search="no such words") == []
    assert {r["id"] for r in inbox.started_runs(wf, INITIATOR, now=NOW)} == {early, later}
    copied = start(wf, "project-initiation")
    assert [r["id"] for r in inbox.copied_runs(wf, ORG.head["GMO"], now=NOW)] == [copied]
    counts = inbox.counts(wf, head, now=tomorrow)
    assert counts["mine"] == 3 and counts["overdue"] == 2 and counts["queues"] == 0
    assert inbox.counts(wf, INITIATOR, now=NOW)["started"] == 3
    assert inbox.counts(wf, ORG.head["GMO"], now=NOW)["copied"] == 1


def test_cross_department_request_and_its_progress(wf) -> None:  # type: ignore[no-untyped-def]
    deadline = at("2026-03-06 18:00")
    with pytest.raises(FormError) as bad:
        requests.start_request(wf, INITIATOR, "年度审计准备", [
            {"department": "NOPE", "content": "x", "criteria": "y", "deadline": deadline},
            {"department": "FIN", "content": "", "criteria": "y", "deadline": NOW - 1}], now=NOW)
    assert set(bad.value.errors) == {"parts[0].department", "parts[1].content", "parts[1].deadline"}
    run_id = requests.start_request(wf, INITIATOR, "年度审计准备 audit prep", [
        {"department": "FIN", "content": "提供 2025 年报表", "criteria": "报表经负责人签字", "deadline": deadline},
        {"department": "LEGAL", "content": "合同清单", "criteria": "覆盖全部在履行合同", "deadline": deadline},
        {"department": "IT", "content": "系统访问日志", "criteria": "导出 90 天日志", "deadline": NOW + HOUR},
    ], now=NOW)
    progress = requests.request_progress(wf, run_id, now=NOW + 2 * HOUR)
    assert [p["state"] for p in progress["parts"]] == ["open", "open", "open"]
    assert progress["overdue"] == 1 and progress["percent"] == 0
    fin, it = progress["parts"][0], progress["parts"][2]
    fin_member = ORG.members["FIN"][0]
    with pytest.raises(NotAllowed):
        actions.approve(wf, fin["task_id"], ORG.members["LEGAL"][0], now=NOW)
    actions.claim(wf, fin["task_id"], fin_member, now=NOW + HOUR)
    actions.approve(wf, fin["task_id"], fin_member, now=NOW + 2 * HOUR, comment="已上传")
    actions.reject(wf, it["task_id"], ORG.members["IT"][0], now=NOW + 3 * HOUR, comment="日志只保留 30 天")
    progress = requests.request_progress(wf, run_id, now=NOW + 3 * HOUR)
    assert [p["state"] for p in progress["parts"]] == ["done", "open", "declined"]
    assert progress["percent"] == 67 and progress["status"] == "running"
    legal = progress["parts"][1]
    actions.approve(wf, legal["task_id"], ORG.members["LEGAL"][0], now=NOW + 4 * HOUR)
    progress = requests.request_progress(wf, run_id, now=NOW + 4 * HOUR)
    assert progress["status"] == "awaiting_feedback" and progress["percent"] == 100
    feedback = only_task(wf, run_id)
    actions.give_feedback(wf, feedback["id"], INITIATOR, accepted=False, rating=3, now=NOW + 5 * HOUR,
                          comment="IT 部分未完成")
    assert runs.run_view(wf, run_id)["run"]["accepted"] is False


def test_routing_failure_is_clear(wf) -> None:  # type: ignore[no-untyped-def]
    definition = copy.deepcopy(templates.template("expense"))
    definition["key"] = "expense-no-owner"
    runs.publish(wf, definition, now=NOW)
    form = {**FORMS["expense"], "project": "MOBILE-3"}
    try:
        run_id = runs.start_run(wf, "expense-no-owner", INITIATOR, form, now=NOW)
    except RoutingError as error:  # acceptable only with a clear message
        assert "budget owner" in str(error)
    else:
        assert runs.run_view(wf, run_id)["run"]["status"] == "running"
