"""The admin page of webhooks, robot channels and the delivery log (zh-CN by default)."""

from __future__ import annotations

from flask import Flask
from web_support import csrf_token, login, new_person

from graph.falkordb_backend import FalkorStore
from graph.queries import org

SECRET = "page-secret-0123456789"


def test_admin_adds_a_webhook_and_never_sees_its_secret(app: Flask, demo: FalkorStore) -> None:
    admin = demo.run(org.PERSON_BY_USERNAME, {"username": "admin"})[0]["id"]
    client = login(app, demo, admin, language="zh-CN")
    page = client.get("/admin/webhooks")
    assert page.status_code == 200
    assert "外发 Webhook" in page.get_data(as_text=True) and "Outgoing webhooks" not in page.get_data(as_text=True)

    token = csrf_token(client, "/admin/webhooks")
    refused = client.post("/admin/webhooks/add", data={"url": "ftp://x", "events": ["document.created"],
                                                       "secret": SECRET, "csrf_token": token}, follow_redirects=True)
    assert "请输入 http:// 或 https:// 地址。" in refused.get_data(as_text=True)
    added = client.post("/admin/webhooks/add", data={"url": "http://127.0.0.1:9/page-hook", "csrf_token": token,
                                                     "events": ["document.created", "task.overdue"],
                                                     "secret": SECRET}, follow_redirects=True)
    text = added.get_data(as_text=True)
    assert "Webhook 已添加" in text and "http://127.0.0.1:9/page-hook" in text and SECRET not in text

    missing = client.post("/admin/webhooks/deliveries/nope/replay", data={"csrf_token": token}, follow_redirects=True)
    assert "该投递记录已不存在。" in missing.get_data(as_text=True)
    robot = client.post("/admin/webhooks/channels/add", data={
        "kind": "dingtalk", "url": "http://127.0.0.1:9/robot/send", "department": "NO-SUCH", "kinds": ["overdue"],
        "csrf_token": token}, follow_redirects=True)
    assert "没有编码为 NO-SUCH 的部门。" in robot.get_data(as_text=True)


def test_members_cannot_open_it(app: Flask, demo: FalkorStore) -> None:
    member = new_person(demo)
    client = login(app, demo, member.id)
    assert client.get("/admin/webhooks").status_code == 403
