"""``/api/v1/views``: a person's saved views through the API, the same use case as the list's button and
``huitong views``. Somebody else's view is a missing object; the limit and bad input are clear 400s."""

from __future__ import annotations

from flask import Flask
from web_support import new_person

from graph import tokens
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context, saved_views


def _bearer(store: FalkorStore, person) -> dict[str, str]:  # type: ignore[no-untyped-def]
    made = tokens.create(store, Actor(person.id, person.username, person.name, frozenset(person.roles)),
                         scope="write")
    return {"Authorization": f"Bearer {made.token}"}


def test_save_list_and_delete_own_views(app: Flask, demo: FalkorStore) -> None:
    owner, other = new_person(demo), new_person(demo)
    api = app.test_client()
    mine, theirs = _bearer(demo, owner), _bearer(demo, other)

    made = api.post("/api/v1/views", headers=mine,
                    json={"name": "  My   PDFs ", "query": "tab=mine&kind=pdf&sort=title&evil=1"})
    assert made.status_code == 201, made.json
    view = made.json
    assert view["name"] == "My PDFs" and view["query"] == "tab=mine&kind=pdf&sort=title"
    assert view["url"] == "/documents?tab=mine&kind=pdf&sort=title"

    listed = api.get("/api/v1/views", headers=mine)
    assert listed.status_code == 200 and listed.json["limit"] == saved_views.MAX_VIEWS
    assert [v["id"] for v in listed.json["items"]] == [view["id"]]
    # The page's use case sees what the API saved.
    ctx = Context(demo)
    assert [v["id"] for v in saved_views.views(ctx, Actor(owner.id, owner.username, owner.name,
                                                           frozenset(owner.roles)))] == [view["id"]]

    # Someone else neither sees nor deletes it: the answer is the one of a view that never existed.
    assert api.get("/api/v1/views", headers=theirs).json["items"] == []
    foreign = api.delete(f"/api/v1/views/{view['id']}", headers=theirs)
    never = api.delete("/api/v1/views/no-such-view", headers=theirs)
    assert foreign.status_code == never.status_code == 404
    assert {k: v for k, v in foreign.json.items() if k != "instance"} == \
        {k: v for k, v in never.json.items() if k != "instance"}

    gone = api.delete(f"/api/v1/views/{view['id']}", headers=mine)
    assert gone.status_code == 200 and gone.json == {"id": view["id"], "deleted": True}
    assert api.get("/api/v1/views", headers=mine).json["items"] == []
    assert api.delete(f"/api/v1/views/{view['id']}", headers=mine).status_code == 404
    assert api.get("/api/v1/views").status_code == 401


def test_bad_input_and_the_limit_are_clear_400s(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    api = app.test_client()
    headers = _bearer(demo, person)

    blank = api.post("/api/v1/views", headers=headers, json={"name": "   "})
    assert blank.status_code == 400 and blank.json["code"] == "saved_view.name_required"
    assert blank.json["params"]["field"] == "name"
    missing = api.post("/api/v1/views", headers=headers, json={"query": "tab=mine"})
    assert missing.status_code == 400 and missing.json["params"]["field"] == "name"
    long = api.post("/api/v1/views", headers=headers, json={"name": "x" * (saved_views.MAX_NAME + 1)})
    assert long.status_code == 400 and long.json["code"] == "saved_view.name_too_long"
    extra = api.post("/api/v1/views", headers=headers, json={"name": "a", "colour": "red"})
    assert extra.status_code == 400 and extra.json["params"]["field"] == "colour"

    for n in range(saved_views.MAX_VIEWS):
        assert api.post("/api/v1/views", headers=headers, json={"name": f"v{n}"}).status_code == 201
    full = api.post("/api/v1/views", headers=headers, json={"name": "one more"},
                    environ_base={"HTTP_ACCEPT_LANGUAGE": "en"})
    assert full.status_code == 400 and full.json["code"] == "saved_view.too_many"
    assert full.json["params"] == {"field": "name", "max": str(saved_views.MAX_VIEWS)}
    assert "30" in full.json["detail"] and "saved_view" not in full.json["detail"]
    assert len(api.get("/api/v1/views", headers=headers).json["items"]) == saved_views.MAX_VIEWS
