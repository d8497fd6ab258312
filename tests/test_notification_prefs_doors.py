"""Notification preferences through every door: the account page, ``huitong notifications prefs`` and
``/api/v1/notifications/preferences`` call one use case, so what one door saves the others show."""

from __future__ import annotations

import json

from flask import Flask
from helpers import run_cli
from web_support import csrf_token, login, new_person

from graph import notifications, tokens
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore


def _bearer(store: FalkorStore, person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    made = tokens.create(store, Actor(person.id, person.username, person.name, frozenset(person.roles)),
                         scope="write")
    return {"Authorization": f"Bearer {made.token}"}


def test_cli_shows_and_changes_preferences(demo: FalkorStore) -> None:
    person = new_person(demo)
    env = {"HUITONG_GRAPH_NAME": demo.graph_name}
    shown = run_cli("notifications", "prefs", "--as", person.username, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"muted": [], "digest": "off", "kinds": list(notifications.KINDS)}

    changed = run_cli("notifications", "prefs", "--as", person.username, "--mute", "urge", "--mute",
                      "due_soon,trend_warning", "--digest", "daily", "--json", env=env)
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["muted"] == ["due_soon", "trend_warning", "urge"]
    assert notifications.preferences(demo, person.id) == {"muted": ["due_soon", "trend_warning", "urge"],
                                                          "digest": True}

    refused = run_cli("notifications", "prefs", "--as", person.username, "--mute", "no_such_kind", "--json",
                      env=env)
    assert refused.returncode == 1 and json.loads(refused.stdout)["error"] == "notification.unknown_kind"
    assert notifications.preferences(demo, person.id)["muted"] == ["due_soon", "trend_warning", "urge"]
    nobody = run_cli("notifications", "prefs", "--as", "no.such.person", "--json", env=env)
    assert nobody.returncode == 1 and json.loads(nobody.stdout)["error"] == "person.missing"


def test_api_reads_and_changes_what_the_page_saved(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    client = login(app, demo, person.id)
    # The account page's form: the boxes left ticked are kept, every other kind is muted.
    keep = [k for k in notifications.KINDS if k != "mentioned"]
    saved = client.post("/notifications/preferences", data={"keep": keep, "digest": "1",
                                                            "csrf_token": csrf_token(client, "/account")})
    assert saved.status_code == 303

    api = app.test_client()
    headers = _bearer(demo, person)
    got = api.get("/api/v1/notifications/preferences", headers=headers)
    assert got.status_code == 200 and got.json == {"muted": ["mentioned"], "digest": "daily",
                                                   "kinds": list(notifications.KINDS)}
    # A field left out keeps its value.
    put = api.put("/api/v1/notifications/preferences", headers=headers, json={"digest": "off"})
    assert put.status_code == 200 and put.json["muted"] == ["mentioned"] and put.json["digest"] == "off"
    put = api.put("/api/v1/notifications/preferences", headers=headers, json={"muted": []})
    assert put.json == {"muted": [], "digest": "off", "kinds": list(notifications.KINDS)}

    bad = api.put("/api/v1/notifications/preferences", headers=headers, json={"muted": ["no_such_kind"]})
    assert bad.status_code == 400 and bad.json["code"] == "notification.unknown_kind"
    wrong = api.put("/api/v1/notifications/preferences", headers=headers, json={"digest": "weekly"})
    assert wrong.status_code == 400
    assert notifications.preferences(demo, person.id) == {"muted": [], "digest": False}
    assert api.get("/api/v1/notifications/preferences").status_code == 401
