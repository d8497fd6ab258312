"""``/documents``: browsing what the viewer may read — tabs (all, shared with my department,
recently changed, mine), the classification tree (domain -> data type -> access level) and
department folders with counts, filters (type, uploader, time range, title), sorting and pages.

Only the use cases of :mod:`graph.usecases.browse` decide what is listed: they start from the
viewer's readable set, so an unreadable document is never listed or counted. The results
fragment keeps itself current through ``/documents/live`` (document and new-document events).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from graph import live as bus
from graph.classification import DataType
from graph.usecases import browse as cases
from graph.usecases import page_header
from ingest.filetypes import FileKind
from ingest.thumbnails import cached
from webapp import events, services
from webapp.ui import zone
from webapp.views import document_ui as ui

bp = Blueprint("browse", __name__)

PER_PAGE = 20
MAX_LIVE_IDS = 200
TABS = {"all": _l("All I can read"), "department": _l("Shared with my department"),
        "recent": _l("Recently changed"), "mine": _l("Mine")}
# The list's sortable columns, in table order (the sort keys of each: graph.usecases.browse.SORT_COLUMNS).
COLUMNS = {"title": _l("Title"), "kind": _l("Type"), "domain": _l("Domain"), "updated": _l("Last changed"),
           "size": _l("Size"), "created": _l("Uploaded")}
KINDS = tuple(k.value for k in FileKind if k.supported)


def _day(value: str, *, end: bool = False) -> int | None:
    """A YYYY-MM-DD date in the organisation's zone (``HUITONG_TIMEZONE``) as epoch ms; ``end`` gives the start of
    the next day."""
    day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=zone())
    if end:
        day += timedelta(days=1)
    return int(day.timestamp() * 1000)


def _filters(args: Any) -> tuple[cases.BrowseFilter, dict[str, str], list[str]]:
    """The filter from the query string, the values to show back, and problems with them."""
    values = {k: (args.get(k) or "").strip()[:100] for k in
              ("tab", "domain", "data_type", "access", "kind", "uploader", "since", "until", "q", "folder", "sort")}
    problems: list[str] = []
    tab = values["tab"] if values["tab"] in TABS else "all"
    values["tab"] = tab
    owner_id = None
    if values["uploader"]:
        owner_id = cases.uploader_id(services.context(), values["uploader"])
        if owner_id is None:
            problems.append(_("There is no user %(name)s.", name=values["uploader"]))
            owner_id = "-"  # matches nothing: an unknown uploader has uploaded nothing
    times: dict[str, int | None] = {"since": None, "until": None}
    for key in times:
        if values[key]:
            try:
                times[key] = _day(values[key], end=key == "until")
            except ValueError:
                problems.append(_("%(value)s is not a date (YYYY-MM-DD).", value=values[key]))
                values[key] = ""
    where = cases.BrowseFilter(
        scope=tab, domain=values["domain"] or None,  # type: ignore[arg-type]
        data_type=values["data_type"] if values["data_type"] in {d.value for d in DataType} else None,
        access=values["access"] or None, kind=values["kind"] or None, owner_id=owner_id,
        text=values["q"] or None, department_id=values["folder"] or None,
        since=times["since"], until=times["until"],
    )
    if values["sort"] not in cases.SORTS or tab == "recent":
        values["sort"] = "updated"  # an unknown or stale key: the default order, never an error (recent: always)
    return where, values, problems


def _sort_headers(values: dict[str, str], args: dict[str, str]) -> dict[str, dict[str, str]]:
    """Per sortable column: its ``aria-sort`` state and the link that sorts by it (the other way round when it
    is the current order), keeping the tab, filters and folder; a new order starts at page 1."""
    headers = {}
    for column, (ascending, descending, first) in cases.SORT_COLUMNS.items():
        state = {ascending: "ascending", descending: "descending"}.get(values["sort"], "none")
        if state == "none":
            key = ascending if first == "ascending" else descending
        else:
            key = descending if state == "ascending" else ascending
        query: dict[str, Any] = {**args, "sort": key}
        headers[column] = {"aria": state, "href": url_for("browse.index", **query), "label": str(COLUMNS[column])}
    return headers


def _thumbnails(rows: list[dict[str, Any]]) -> set[str]:
    """The listed documents that have a picture to show: an image (made on demand if need be) or a PDF whose
    first page the worker rendered; the others get the icon of their type."""
    settings = services.settings()

    def pictured(row: dict[str, Any]) -> bool:
        if not row.get("sha256"):
            return False
        return row.get("kind") in ui.IMAGE_KINDS or (row.get("kind") == "pdf" and bool(cached(settings, row["sha256"])))

    return {r["id"] for r in rows if pictured(r)}


def _page() -> int:
    try:
        return max(int(request.args.get("page", "1")), 1)
    except ValueError:
        return 1


def _visible_folders(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Departments holding something the viewer can read (in them or below them)."""
    return [{**n, "children": _visible_folders(n["children"])} for n in nodes if n["total"]]


@bp.get("/documents")
def index() -> ResponseReturnValue:
    ctx, actor = services.context(), services.actor()
    where, values, problems = _filters(request.args)
    result = cases.browse(ctx, actor, where, sort=values["sort"], page=_page(), per_page=PER_PAGE)
    args = {k: v for k, v in values.items() if v}
    context: dict[str, Any] = {"result": result, "values": values, "args": args, "problems": problems,
                               "tabs": TABS, "headers": _sort_headers(values, args), "kinds": KINDS,
                               "thumbs": _thumbnails(result.rows), "kind_icon": ui.kind_icon,
                               "domains": ui.domain_options(), "levels": ui.level_options(),
                               "filtered": any(values[k] for k in ("domain", "data_type", "access", "kind",
                                                                   "uploader", "since", "until", "q", "folder"))}
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Target") == "doc-results":
        return render_template("documents/_results.html", **context)
    scope = cases.BrowseFilter(scope=where.scope)
    context["tree"] = cases.classification_tree(ctx, actor, scope)
    context["folders"] = _visible_folders(cases.department_folders(ctx, actor))
    context["open_folders"] = _branch(context["folders"], values["folder"])
    # The person's views, read with the header's badge numbers (the page shows both): one statement.
    context["views"] = page_header.header(ctx, actor, now=int(time.time() * 1000)).views
    context["current_view"] = next((v for v in context["views"] if v["id"] == request.args.get("view")), None)
    return render_template("documents/browse.html", **context)


def _branch(nodes: list[dict[str, Any]], wanted: str) -> set[str]:
    """The ids of the folders on the way to ``wanted`` (it included): the branch shown open in the tree."""
    for node in nodes:
        if node["id"] == wanted:
            return {node["id"]}
        below = _branch(node["children"], wanted)
        if below:
            return {node["id"], *below}
    return set()


@bp.get("/documents/live")
def live() -> ResponseReturnValue:
    """Events for a listing: changes of the listed documents the viewer may read, and new documents."""
    actor = services.actor()
    wanted = [i for i in request.args.getlist("id") if i][:MAX_LIVE_IDS]
    channels = [bus.document_channel(i) for i in cases.readable_among(services.context(), actor, wanted)]
    return events.sse_response([bus.person_channel(actor.person_id), *channels])
