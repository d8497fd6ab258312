"""The run and task pages as people expect them: the submitted form first, whose task it is, withdrawal in
sight, one status, names instead of codes; the designer's explicit acceptance option and its diagram."""

from __future__ import annotations

import json
import re

from flask import Flask
from test_workflow_pages import HEAD, INITIATOR, ORG, post, start_expense, text, wf  # noqa: F401 - wf is a fixture
from web_support import login
from workflow_support import current_tasks

from graph.falkordb_backend import FalkorStore


def _zh(client):  # type: ignore[no-untyped-def]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    return client


def test_task_page_form_first_heading_says_whose_task_and_withdraw_in_sight(app: Flask, wf: FalkorStore) -> None:  # noqa: F811
    initiator = _zh(login(app, wf, INITIATOR))
    run_id = start_expense(initiator)
    (task,) = current_tasks(wf, run_id)
    head = _zh(login(app, wf, HEAD))
    page = text(head.get(f"/workflows/tasks/{task['id']}"))
    assert page.index('id="form-title"') < page.index('name="do" value="approve"')  # what is asked, then actions
    assert re.search(r'id="panel-[^"]+">你的任务：|id="panel-[^"]+">你的任务: ', page)
    assert post(initiator, f"/workflows/tasks/{task['id']}/urge", {"comment": "请尽快"}).status_code == 303
    mine = text(initiator.get(f"/workflows/tasks/{task['id']}"))
    heading = re.search(r'id="panel-[^"]+">(.*?)</h2>', mine, re.S).group(1)
    assert "你的任务" not in heading and ORG.names[HEAD] in heading  # the head's task, as the initiator sees it
    run_page = text(initiator.get(f"/workflows/runs/{run_id}"))
    assert '<section class="withdraw"' in run_page and '<details class="withdraw"' not in run_page
    assert post(initiator, f"/workflows/runs/{run_id}/withdraw", {"comment": "不需要了"}).status_code == 303
    meta = re.search(r'<p class="run-meta">(.*?)</p>', text(initiator.get(f"/workflows/runs/{run_id}")), re.S).group(1)
    assert meta.count("已撤回") == 1  # not "已撤回 · 已撤回"


def test_detail_names_rules_and_says_how_the_run_ends(app: Flask, wf: FalkorStore) -> None:  # noqa: F811
    client = _zh(login(app, wf, INITIATOR))
    expense = text(client.get("/workflows/expense"))
    assert "initiator_head" not in expense and "发起人的部门负责人" in expense
    assert "无验收反馈" in expense
    assert "以发起人的验收反馈结束" in text(client.get("/workflows/project-initiation"))


def test_designer_offers_acceptance_explicitly_and_draws_the_flow(app: Flask, wf: FalkorStore) -> None:  # noqa: F811
    admin = _zh(login(app, wf, ORG.admin))
    page = text(admin.get("/workflows/design?template=project-initiation"))
    assert 'id="designer-diagram"' in page
    labels = json.loads(re.search(r'id="designer-labels">(.*?)</script>', page, re.S).group(1))
    assert "验收反馈" in labels["acceptance"] and labels["diagram"] == "流程图"
    data = json.loads(re.search(r'id="designer-data">(.*?)</script>', page, re.S).group(1))
    assert data["definition"]["acceptance"] is True  # the template asks for it; the others do not
