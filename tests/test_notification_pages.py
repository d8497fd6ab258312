"""The notification centre and the account page's notification preferences, in the browser's words."""

from __future__ import annotations

import re

from flask import Flask
from test_workflow_pages import HEAD, INITIATOR, post, start_expense, text, wf  # noqa: F401 - wf is a fixture
from web_support import login

from graph import notifications
from graph.falkordb_backend import FalkorStore
from graph.workflows import runs


def test_a_task_arriving_shows_in_the_centre_with_a_link_to_it(app: Flask, wf: FalkorStore) -> None:  # noqa: F811
    run_id = start_expense(login(app, wf, INITIATOR))
    head = login(app, wf, HEAD)
    head.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = text(head.get("/notifications/"))
    assert "给你的新任务" in page  # task_arrived, in the reader's language
    (task,) = [t for t in runs.run_view(wf, run_id)["tasks"] if t["status"] == "open"]
    assert f'value="/workflows/tasks/{task["id"]}"' in page
    (notice_id,) = re.findall(r'/notifications/([0-9a-f-]{36})/read', page)[:1]
    opened = post(head, f"/notifications/{notice_id}/read", {"next": f"/workflows/tasks/{task['id']}"})
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/workflows/tasks/{task['id']}")
    elsewhere = post(head, f"/notifications/{notice_id}/read", {"next": "/documents//evil.example"})
    assert elsewhere.headers["Location"].endswith("/notifications/")  # never an open redirect


def test_preferences_on_the_account_page_mute_kinds_and_choose_the_digest(app: Flask, wf: FalkorStore) -> None:  # noqa: F811
    head = login(app, wf, HEAD)
    head.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    page = text(head.get("/account"))
    assert page.count('name="keep"') == len(notifications.KINDS) and "每日摘要" in page
    keep = [k for k in notifications.KINDS if k != "task_arrived"]
    saved = post(head, "/notifications/preferences", {"keep": keep, "digest": "1"}, "/account")
    assert saved.status_code == 303
    assert notifications.preferences(wf, HEAD) == {"muted": ["task_arrived"], "digest": True}
    page = text(head.get("/account"))
    assert re.search(r'value="task_arrived"\s*>', page) and re.search(r'value="1" checked', page)
    start_expense(login(app, wf, INITIATOR))
    assert "给你的新任务" not in text(head.get("/notifications/"))
