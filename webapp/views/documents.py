"""``/documents/<id>``: one document — metadata and its edit form, classification, sharing with
"why can I see this?", "who can see this?" and a share preview, versions and diffs, text preview,
download, thumbnail, comments, provenance, related knowledge — and its live-event stream.

Every action is a use case (:mod:`graph.usecases.documents`, :mod:`ingest.usecases`) taking the signed-in
person; this module only translates. A person who may not read the document gets exactly the answer of
a missing one (404, see :mod:`webapp.views.errors`). The page is cut into parts (``documents/_<part>.html``)
that the browser re-fetches when the document's SSE stream announces a change of THEIR kind
(:data:`PART_EVENTS`); a part refresh is not a page open, so it is not audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from graph import live
from graph.errors import DomainError, InvalidInput, NotPermitted, StateConflict
from graph.usecases import comments, provenance
from graph.usecases import documents as cases
from ingest import usecases as files
from ingest.thumbnails import ThumbnailBusy, ThumbnailError, cached, thumbnail
from webapp import events, services
from webapp.auth import audit
from webapp.downloads import as_download
from webapp.messages import message
from webapp.status_reasons import status_reason
from webapp.views import document_ui as ui
from webapp.views.errors import answer

bp = Blueprint("documents", __name__, url_prefix="/documents")

PARTS = ("summary", "text", "versions", "shares", "comments", "timeline", "related")
PREVIEW_CHARS = 20_000
READERS_PER_PAGE = 20
THUMBNAIL_RETRY_SECONDS = 2  # decodes take well under a second each: a slot frees up quickly
SHARE_KINDS = ("department", "person", "project", "position")
# Which announced changes (graph.live.CHANGES) make each part of the page reload.
PART_EVENTS: dict[str, tuple[str, ...]] = {
    "summary": ("metadata", "version", "status"), "text": ("version", "status"),
    "versions": ("version", "status"), "shares": ("share", "metadata"), "comments": ("comment",),
    "timeline": ("version", "status", "metadata", "share", "comment"), "related": ("status", "metadata"),
}
TIMELINE_LABELS = {
    "uploaded": _l("uploaded"), "new_version": _l("new version"), "changed": _l("details changed"),
    "shared": _l("shared"), "unshared": _l("share removed"), "downloaded": _l("downloaded"), "read": _l("text read"),
    "viewed": _l("viewed"), "extracted": _l("text extracted"), "compared": _l("versions compared"),
    "commented": _l("commented"), "decided": _l("decided"),
}


@bp.app_template_global()
def doc_domain(code: str | None) -> str:
    return ui.domain_label(code)


@bp.app_template_global()
def doc_level(level: str | None) -> str:
    return ui.level_label(level)


@bp.app_template_global()
def doc_data_type(value: str | None) -> str:
    return ui.data_type_label(value)


@bp.app_template_global()
def doc_status(status: str) -> str:
    return ui.status_label(status)


@bp.app_template_global()
def doc_status_reason(status: str | None, reason: str | None) -> str:
    return status_reason(status, reason)


@bp.app_template_filter("doc_size")
def doc_size(size: int | None) -> str:
    if not isinstance(size, int):
        return "—"
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return "—"


# -- loading -----------------------------------------------------------------------------------------


@bp.app_template_global("doc_part_events")
def part_events(name: str) -> str:
    """The htmx trigger of a part: the SSE events of the changes that alter it."""
    return ", ".join(f"sse:{live.change_event(what)}" for what in PART_EVENTS[name])


def _part_context(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    ctx, actor, document_id = services.context(), services.actor(), doc["id"]
    if name in ("summary", "versions", "text"):
        versions = cases.versions(ctx, actor, document_id)
        current = next((v for v in versions if v["current"]), versions[0] if versions else None)
        context: dict[str, Any] = {"versions": versions, "current": current,
                                   "status": ui.display_status(doc, current),
                                   "is_image": doc.get("kind") in ui.IMAGE_KINDS}
        if name == "text":
            stored = files.text(ctx, actor, document_id)
            text = stored.text if stored else None
            context.update(text=text[:PREVIEW_CHARS] if text else text,
                           truncated=bool(text and len(text) > PREVIEW_CHARS), stored=stored)
        return context
    if name == "shares":
        return {"shares": cases.shares(ctx, actor, document_id)}
    if name == "comments":
        return {"comments": comments.comments(ctx, actor, document_id)}
    if name == "timeline":
        return {"timeline": provenance.timeline(ctx, actor, document_id)}
    if name == "related":
        return {"related": cases.related(ctx, actor, document_id)}
    raise ValueError(name)


def _page_context(document_id: str, *, explicit: bool = True) -> dict[str, Any]:
    ctx, actor = services.context(), services.actor()
    doc = cases.open_document(ctx, actor, document_id, explicit=explicit)
    context: dict[str, Any] = {"doc": doc, "lang": ui.lang(), "parts": PARTS, "share_kinds": SHARE_KINDS,
                               "domains": ui.domain_options(), "levels": ui.level_options(), "errors": {},
                               "values": {"title": doc["title"], "domain": doc["domain"], "access": doc["access"],
                                          "revision": doc["revision"]},
                               "reads": (provenance.reads(ctx, actor, document_id, limit=provenance.READS_ON_PAGE)
                                         if doc["can_see_reads"] else None), "reads_shown": provenance.READS_ON_PAGE}
    for name in PARTS:
        context.update(_part_context(name, doc))
    return context


def timeline_label(kind: str, action: str) -> str:
    return str(TIMELINE_LABELS.get(kind, TIMELINE_LABELS.get(action, action)))


bp.add_app_template_global(timeline_label, "doc_timeline_label")


# -- the page and its parts ---------------------------------------------------------------------------------

@bp.get("/<document_id>")
def page(document_id: str) -> ResponseReturnValue:
    return render_template("documents/page.html", **_page_context(document_id))


@bp.get("/<document_id>/part/<any(summary, text, versions, shares, comments, timeline, related):name>")
def part(document_id: str, name: str) -> ResponseReturnValue:
    doc = cases.open_document(services.context(), services.actor(), document_id, explicit=False)
    return render_template(f"documents/_{name}.html", doc=doc, lang=ui.lang(), **_part_context(name, doc))


@bp.get("/<document_id>/events")
def stream(document_id: str) -> ResponseReturnValue:
    """The document's live events, for a person allowed to read it (checked when the stream opens)."""
    return events.sse_response(cases.watch(services.context(), services.actor(), document_id))


# -- metadata ------------------------------------------------------------------------------------------

@bp.post("/<document_id>/metadata")
def edit_metadata(document_id: str) -> ResponseReturnValue:
    form = request.form
    values = {k: form.get(k, "") for k in ("title", "domain", "access", "revision")}
    try:
        revision = int(values["revision"])
    except ValueError:
        revision = -1
    try:
        files.edit_details(services.context(), services.actor(), document_id, revision,
                           title=values["title"] or None, domain=values["domain"] or None,
                           access=values["access"] or None)
    except (StateConflict, NotPermitted, InvalidInput) as error:
        return _edit_refused(document_id, values, error)
    flash(_("Saved."), "success")
    return redirect(url_for("documents.page", document_id=document_id), 303)


def _edit_refused(document_id: str, values: dict[str, str], error: DomainError) -> ResponseReturnValue:
    """The page again with what the editor typed kept in the form and the reason above it."""
    context = _page_context(document_id, explicit=False)
    if not context["doc"]["can_edit"]:
        raise error
    conflict = isinstance(error, StateConflict)
    # After a conflict the form carries the CURRENT revision: saving again is a deliberate overwrite.
    context["values"] = {**values, "revision": context["doc"]["revision"] if conflict else values["revision"]}
    context["errors"] = {None: [message(error)]}
    context["conflict"] = conflict
    return render_template("documents/page.html", **context), error.status


# -- sharing -------------------------------------------------------------------------------------------

def spec_from(values: Any) -> str:
    """``KIND:CODE:ACCESS`` from the form; a malformed one is refused by the use case, after its access check
    (so a stranger's answer is the missing document's, whatever they typed)."""
    kind = (values.get("kind") or "").strip().lower()
    code = (values.get("code") or "").strip()
    access = (values.get("access") or "read").strip().lower()
    return f"{kind}:{code}:{access}" if kind in SHARE_KINDS and code else ""


def _back_to_sharing(document_id: str) -> ResponseReturnValue:
    return redirect(url_for("documents.page", document_id=document_id) + "#sharing", 303)


@bp.post("/<document_id>/share")
def share(document_id: str) -> ResponseReturnValue:
    try:
        made = cases.share(services.context(), services.actor(), document_id, spec_from(request.form))
    except (InvalidInput, NotPermitted) as error:
        flash(message(error), "error")
    else:
        flash(_("Shared with %(name)s.", name=made.name or made.ref), "success")
    return _back_to_sharing(document_id)


@bp.post("/<document_id>/unshare")
def unshare(document_id: str) -> ResponseReturnValue:
    try:
        removed = cases.unshare(services.context(), services.actor(), document_id, spec_from(request.form))
    except (InvalidInput, NotPermitted) as error:
        flash(message(error), "error")
    else:
        flash(_("Share removed.") if removed else _("There was no such share."), "success" if removed else "error")
    return _back_to_sharing(document_id)


@bp.route("/<document_id>/share-preview", methods=["GET", "POST"])
def share_preview(document_id: str) -> ResponseReturnValue:
    """Who a share would reach. The page posts the form (its CSRF token stays out of URLs and logs); a bad
    code answers 422, except to htmx, which swaps only successful answers: it gets the error with 200, so
    the error replaces the previous list instead of leaving it on screen."""
    try:
        preview, spec = cases.share_preview(services.context(), services.actor(), document_id,
                                            spec_from(request.values))
    except InvalidInput as error:
        status = 200 if request.headers.get("HX-Request") else 422
        return render_template("documents/_share_preview.html", error=message(error)), status
    return render_template("documents/_share_preview.html", preview=preview, spec=spec, error=None)


@bp.get("/<document_id>/readers")
def readers(document_id: str) -> ResponseReturnValue:
    try:
        page_no = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page_no = 1
    result = cases.who_can_read(services.context(), services.actor(), document_id, page_no, READERS_PER_PAGE)
    pages = max(1, -(-result.total // READERS_PER_PAGE))
    return render_template("documents/_readers.html", result=result, pages=pages, lang=ui.lang(),
                           document_id=document_id)


# -- comments --------------------------------------------------------------------------------------------

@bp.post("/<document_id>/comments")
def comment(document_id: str) -> ResponseReturnValue:
    try:
        comments.add_comment(services.context(), services.actor(), document_id, request.form.get("text", ""))
    except InvalidInput as error:
        flash(message(error), "error")
    return redirect(url_for("documents.page", document_id=document_id) + "#comments", 303)


# -- content: download, thumbnail, diff ----------------------------------------------------------------------

@bp.get("/<document_id>/download")
def download(document_id: str) -> ResponseReturnValue:
    found = files.download(services.context(), services.actor(), document_id, request.args.get("version") or None)
    response = send_file(found.path, mimetype=found.mime, etag=found.sha256, max_age=0)
    return as_download(response, found.filename)  # RFC 6266/5987, whatever the stored name holds


@bp.get("/<document_id>/thumbnail")
def thumb(document_id: str) -> ResponseReturnValue:
    version = cases.version(services.context(), services.actor(), document_id, request.args.get("version") or None)
    if version.get("kind") not in ui.THUMBNAIL_KINDS:
        abort(404)
    try:
        # A PDF's first page is rendered by the worker when the version is processed; the web only serves it.
        path = (cached(services.settings(), version["sha256"]) if version["kind"] == "pdf"
                else thumbnail(services.settings(), version["sha256"]))
        if path is None:
            abort(404)
    except ThumbnailBusy:  # every decode slot is busy: a passing state of the server, not of the image
        busy = make_response(answer(503, _("Too many images are being prepared right now; try again in a moment."),
                                    "thumbnail_busy"))
        busy.headers["Retry-After"] = str(THUMBNAIL_RETRY_SECONDS)
        return busy
    except ThumbnailError:
        abort(404)
    audit("document.thumbnail", target_kind="document", target_id=document_id, detail={"version": version["id"]})
    response = send_file(path, mimetype="image/png", etag=version["sha256"], max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/<document_id>/diff")
def diff(document_id: str) -> ResponseReturnValue:
    ctx, actor = services.context(), services.actor()
    doc = cases.open_document(ctx, actor, document_id, explicit=False)
    versions = cases.versions(ctx, actor, document_id)
    old, new = request.args.get("old"), request.args.get("new")
    context: dict[str, Any] = {"doc": doc, "versions": versions, "result": None, "old": old, "new": new}
    if not old or not new:
        if len(versions) < 2:
            return render_template("documents/diff.html", **context, error=_("This document has only one version."))
        new, old = versions[0]["id"], versions[1]["id"]
        context.update(old=old, new=new)
    try:
        result = files.diff(ctx, actor, document_id, old, new)
    except InvalidInput as error:
        return render_template("documents/diff.html", **context, error=message(error)), 409
    return render_template("documents/diff.html", **{**context, "result": result}, error=None)
