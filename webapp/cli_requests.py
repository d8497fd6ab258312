"""The person's own work from the command line: ``huitong inbox --as U`` and ``huitong request-access DOC_ID
--as U``.

Attached to the ``huitong`` group by one import in :mod:`webapp.cli`; each command acts as the person through
the use cases the web pages and ``/api/v1`` call (:mod:`graph.workflows.inbox`,
:mod:`graph.usecases.access_requests`), so ``inbox --json`` prints the rows ``GET /api/v1/tasks`` answers
with, and ``request-access`` answers the same for every id (only the per-person limit is an error).
"""

from __future__ import annotations

import time
from typing import Any

import click

from webapp.cli import main
from webapp.cli_knowledge import MESSAGES
from webapp.cli_trash import _act

MESSAGES.update({
    "access_request.too_many": "you asked for access many times in a short while; try again in {seconds} s",
    "inbox.bad_tab": "unknown inbox tab {value!r} (known: {known})",
})


@main.command("inbox")
@click.option("--as", "username", required=True, help="User name of the person whose open tasks to list.")
@click.option("--tab", default="mine", show_default=True,
              help="mine (my tasks), queues (claimable), started (my runs) or copied (抄送 to me).")
@click.option("--search", "-q", "search", default=None, help="Only tasks whose run or step matches this text.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--per-page", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--json", "as_json", is_flag=True, help="Print the page as JSON (the rows of GET /api/v1/tasks).")
def inbox_command(username: str, tab: str, search: str | None, page: int, per_page: int, as_json: bool) -> None:
    """The person's inbox (待办): open tasks, overdue first, then by deadline."""
    from graph.workflows import inbox

    def run(ctx: Any, actor: Any) -> dict[str, Any]:
        found = inbox.inbox_page(ctx.store, actor, tab, now=int(time.time() * 1000), search=search, page=page,
                                 per_page=per_page, approvable=False)
        return {"items": found.rows, "page": found.page, "per_page": found.per_page, "has_next": found.has_next}

    if as_json:
        _act(username, True, run)
        return
    _act(username, False, lambda ctx, actor: _lines(run(ctx, actor)))


def _lines(page: dict[str, Any]) -> dict[str, Any]:
    """Plain output: one line per row (id, run title, step, deadline), then the page's summary."""
    for row in page["items"]:
        click.echo(f"{row.get('id', '')}  {row.get('title') or ''}  {row.get('step_name') or ''}  "
                   f"{row.get('due_at') or '-'}")
    return {"page": page["page"], "rows": len(page["items"]), "more": page["has_next"]}


@main.command("request-access")
@click.argument("document_id")
@click.option("--as", "username", required=True, help="User name of the person asking for access.")
@click.option("--note", default="", help="Why you ask (shown to the owner; at most 500 characters).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def request_access_command(document_id: str, username: str, note: str, as_json: bool) -> None:
    """申请权限: ask the owner of a document to share it with you. The answer is the same whether the id names
    a document or not."""
    from graph.usecases import access_requests

    def run(ctx: Any, actor: Any) -> dict[str, Any]:
        access_requests.request_access(ctx, actor, document_id, note)
        return {"id": document_id, "requested": True}

    _act(username, as_json, run)
