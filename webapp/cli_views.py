"""Saved views of the documents list from the command line: ``huitong views list|save|delete --as U``.

Attached to the ``huitong`` group by one import in :mod:`webapp.cli`; each command acts as the person through
the use cases the web pages call (:mod:`graph.usecases.saved_views`). Somebody else's view answers exactly
like a missing one.
"""

from __future__ import annotations

from typing import Any

import click

from webapp.cli import main
from webapp.cli_knowledge import MESSAGES
from webapp.cli_trash import _act

MESSAGES.update({
    "saved_view.missing": "not found: no such saved view, or it is not yours",
    "saved_view.name_required": "give the view a name",
    "saved_view.name_too_long": "a view's name is at most {max} characters",
    "saved_view.too_many": "at most {max} saved views: delete one first",
})


@main.group("views")
def views_group() -> None:
    """A person's saved views of the documents list (a named filter and sort)."""


@views_group.command("list")
@click.option("--as", "username", required=True, help="User name of the person whose views to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def views_list(username: str, as_json: bool) -> None:
    """List the person's saved views (id, name, query)."""
    from graph.usecases import saved_views

    def run(ctx: Any, actor: Any) -> dict[str, Any]:
        found = saved_views.views(ctx, actor)
        return {"views": [{"id": v["id"], "name": v["name"], "query": v["query"]} for v in found]}

    _act(username, as_json, run)


@views_group.command("save")
@click.argument("name")
@click.option("--query", default="", help="The list's query string, e.g. 'tab=mine&kind=pdf&sort=title'.")
@click.option("--as", "username", required=True, help="User name of the person the view is for.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def views_save(name: str, query: str, username: str, as_json: bool) -> None:
    """Save a named view of the documents list for the person."""
    from urllib.parse import parse_qsl

    from graph.usecases import saved_views

    def run(ctx: Any, actor: Any) -> dict[str, Any]:
        made = saved_views.save_view(ctx, actor, name, dict(parse_qsl(query)))
        return {"id": made["id"], "name": made["name"], "query": made["query"]}

    _act(username, as_json, run)


@views_group.command("delete")
@click.argument("view_id")
@click.option("--as", "username", required=True, help="User name of the view's owner.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def views_delete(view_id: str, username: str, as_json: bool) -> None:
    """Delete one of the person's saved views."""
    from graph.usecases import saved_views

    def run(ctx: Any, actor: Any) -> dict[str, Any]:
        saved_views.delete_view(ctx, actor, view_id)
        return {"id": view_id, "deleted": True}

    _act(username, as_json, run)
