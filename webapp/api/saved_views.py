"""``/api/v1/views``: the caller's saved views of the documents list, listed, made and deleted through the
same use cases as the list's "Save view" button and ``huitong views`` (:mod:`graph.usecases.saved_views`).
Somebody else's view answers exactly like a missing one (404)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from graph.store import Row
from graph.usecases import saved_views as cases
from webapp import services
from webapp.api import models as m
from webapp.api.core import actor, operation


class SavedView(BaseModel):
    id: str
    name: str
    query: str
    url: str
    created_at: int | None = None


class SavedViews(BaseModel):
    items: list[SavedView]
    limit: int


class SavedViewIn(BaseModel):
    """A name and the documents list's query string (e.g. ``tab=mine&kind=pdf&sort=title``); keys the list
    does not know are dropped, as on the page."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=cases.MAX_NAME * 4)
    query: str = Field(default="", max_length=4000)


class Deleted(BaseModel):
    id: str
    deleted: bool


def _shown(row: Row) -> dict[str, Any]:
    query = str(row.get("query") or "")
    return {"id": row["id"], "name": row["name"], "query": query, "created_at": row.get("created_at"),
            "url": url_for("browse.index") + (f"?{query}" if query else "")}


@operation("GET", "/views", summary="My saved views of the documents list", tag="documents",
           responses={200: SavedViews})
def list_views() -> ResponseReturnValue:
    rows = cases.views(services.context(), actor())
    return jsonify(items=[_shown(r) for r in rows], limit=cases.MAX_VIEWS)


@operation("POST", "/views", summary="Save a named view of the documents list (at most 30 each)",
           tag="documents", body=SavedViewIn, responses={201: SavedView, 400: m.Problem})
def save_view(body: SavedViewIn) -> ResponseReturnValue:
    made = cases.save_view(services.context(), actor(), body.name, dict(parse_qsl(body.query)))
    return jsonify(_shown(made)), 201


@operation("DELETE", "/views/<view_id>", summary="Delete one of my saved views", tag="documents",
           responses={200: Deleted, 404: m.Problem})
def delete_view(view_id: str) -> ResponseReturnValue:
    cases.delete_view(services.context(), actor(), view_id)
    return jsonify(id=view_id, deleted=True)
