"""Trend notices are stored as a code with figures and worded where they are read: the notification centre
in the reader's language, e-mails and group robots in Chinese and English. Notices stored before that, with
an English text, keep showing their text."""

from __future__ import annotations

import time

from flask import Flask
from flask_babel import force_locale
from web_support import login, new_person

from graph.analytics import trend_words
from graph.falkordb_backend import FalkorStore
from graph.workflows import reminders
from settings import get_settings
from webapp.views import manage_words
from workers import channels, notice_words, notify

WARNING = {"kind": "rising_handling_time", "code": "trend.rising_handling_time",
           "params": {"scope": "报销 / 财务审核", "slope_h": 1.5, "weeks": 12, "tau": 0.8, "p": 0.001, "low_h": 0.4,
                      "rise": 0.35}}
CHINESE = "报销 / 财务审核：每周办理时长中位数正以每周 1.5 小时的速度上升，已持续 12 周（期间共上升 35%）。"
ENGLISH = ("报销 / 财务审核: the weekly median handling time rises by 1.5 hours a week over 12 weeks "
           "(+35% over the period).")
OLD_TEXT = "报销: weekly median handling time is rising by 1.5 h per week over 12 weeks (Mann-Kendall tau 0.80)"


def _coded(person_id: str, now: int) -> dict:  # type: ignore[type-arg]
    row = reminders.notification("trend_warning", {"id": f"task-{now}", "title": "报销 / 财务审核"}, person_id, now,
                                 key="coded")
    row["props"].update(trend_words.notice_fields(WARNING))
    return row


def test_a_coded_notice_reads_in_each_language(app: Flask) -> None:
    notice = _coded("p1", 1)["props"]
    assert "text" not in notice and notice["code"] == WARNING["code"]
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert manage_words.notice_text(notice) == CHINESE
        with force_locale("en"):
            assert manage_words.notice_text(notice) == ENGLISH
    assert notice_words.texts(notice) == [CHINESE, ENGLISH]
    # An old notice keeps its stored text; a notice without either says nothing more.
    assert notice_words.texts({"kind": "trend_warning", "text": OLD_TEXT}) == [OLD_TEXT]
    assert notice_words.texts({"kind": "urge"}) == []
    # Unreadable stored figures never break a page: the template shows without them.
    assert trend_words.notice_text({"code": WARNING["code"], "params": "{not json"}, str).startswith("%(scope)s")


def test_mail_and_robot_carry_both_languages() -> None:
    notice = {**_coded("p1", 2)["props"], "created_at": 1_790_000_000_000}
    mail = notify.compose(get_settings(), {"name": "钟主任", "email": "zh@example.com"}, [notice])
    body = mail.get_content()
    assert CHINESE in body and ENGLISH in body
    robot = channels.message(notice)
    assert CHINESE in robot and ENGLISH in robot
    old = channels.message({"kind": "trend_warning", "title": "报销", "text": OLD_TEXT})
    assert OLD_TEXT in old


def test_the_centre_shows_coded_and_old_notices(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    now = int(time.time() * 1000)
    old = reminders.notification("trend_warning", {"id": f"old-{now}", "title": "报销"}, person.id, now - 1000,
                                 key="old", text=OLD_TEXT)
    reminders.notify(demo, [_coded(person.id, now), old], now=now)
    zh = login(app, demo, person.id, language="zh-CN").get("/notifications/").get_data(as_text=True)
    assert CHINESE in zh and OLD_TEXT in zh and ENGLISH not in zh
    en = login(app, demo, person.id).get("/notifications/").get_data(as_text=True)
    assert ENGLISH in en and OLD_TEXT in en and CHINESE not in en


def test_the_api_gives_code_figures_and_text(app: Flask, demo: FalkorStore) -> None:
    from graph import tokens
    from graph.actor import Actor

    person = new_person(demo)
    now = int(time.time() * 1000)
    reminders.notify(demo, [_coded(person.id, now)], now=now)
    made = tokens.create(demo, Actor(person.id, person.username, person.name, frozenset(person.roles)),
                         scope="read")
    got = app.test_client().get("/api/v1/notifications", headers={"Authorization": f"Bearer {made.token}",
                                                                    "Accept-Language": "zh-CN"})
    item = next(n for n in got.json["items"] if n["kind"] == "trend_warning")
    assert item["code"] == WARNING["code"] and item["params"]["weeks"] == 12 and item["text"] == CHINESE
