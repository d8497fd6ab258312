"""``/documents/<id>``: one document — metadata and its edit form, classification, sharing with
"why can I see this?", "who can see this?" and a share preview, versions and diffs, text preview,
download, thumbnail, comments, provenance, related knowledge — and its live-event stream.

Every read goes through :mod:`graph.documents` / :mod:`ingest.pipeline`, which check and audit;
a person who may not read the document gets 403 with the reason (404 when it does not exist).
The page is cut into parts (``documents/_<part>.html``) that the browser re-fetches when the
document's SSE stream says something changed.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from graph import comments, permissions
from graph import documents as docs
from ingest import pipeline
from ingest.thumbnails import ThumbnailError, thumbnail
from webapp import events, services
from webapp.views import document_ui as ui
from workers import bus

bp = Blueprint("documents", __name__, url_prefix="/documents")

PARTS = ("summary", "text", "versions", "shares", "comments", "timeline", "related")
PREVIEW_CHARS = 20_000
READERS_PER_PAGE = 20
SHARE_KINDS = ("department", "person", "project", "position")
TIMELINE_LABELS = {
    "uploaded": _l("uploaded"), "new_version": _l("new version"), "changed": _l("details changed"),
    "shared": _l("shared"), "unshared": _l("share removed"), "downloaded": _l("downloaded"), "read": _l("text read"),
    "viewed": _l("viewed"), "extracted": _l("text extracted"), "compared": _l("versions compared"),
    "document.comment": _l("commented"),
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

def _document(document_id: str, *, audited: bool) -> dict[str, Any]:
    """The document as the viewer may see it; the full page view is audited, part refreshes are not."""
    store, viewer = services.store(), ui.me()
    if audited:
        return docs.view_document(store, viewer, document_id, client=ui.client())
    access = docs.require_read(store, viewer, document_id)
    doc = docs.get_document(store, document_id)
    if doc is None:
        raise docs.NotFound("no such document")
    edit = permissions.can_edit(store, viewer, document_id)
    return {**doc, "access_reason": access.explain("en"), "access_reason_zh": access.explain("zh"),
            "access_path": access.path, "can_edit": edit.allowed,
            "can_change_level": edit.allowed and edit.reason_kind in ("owner", "admin")}


def _part_context(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    store, viewer, document_id = services.store(), ui.me(), doc["id"]
    if name in ("summary", "versions", "text"):
        versions = docs.list_versions(store, viewer, document_id)
        current = next((v for v in versions if v["current"]), versions[0] if versions else None)
        context: dict[str, Any] = {"versions": versions, "current": current,
                                   "status": ui.display_status(doc, current),
                                   "is_image": doc.get("kind") in ui.IMAGE_KINDS}
        if name == "text":
            stored = pipeline.read_text(store, services.settings(), viewer, document_id, client=ui.client())
            text = stored.text if stored else None
            context.update(text=text[:PREVIEW_CHARS] if text else text,
                           truncated=bool(text and len(text) > PREVIEW_CHARS), stored=stored)
        return context
    if name == "shares":
        return {"shares": docs.shares_of(store, viewer, document_id)}
    if name == "comments":
        return {"comments": comments.list_comments(store, viewer, document_id)}
    if name == "timeline":
        return {"timeline": docs.timeline(store, viewer, document_id)}
    if name == "related":
        return {"related": docs.related(store, viewer, document_id)}
    raise ValueError(name)


def _page_context(document_id: str) -> dict[str, Any]:
    doc = _document(document_id, audited=True)
    context: dict[str, Any] = {"doc": doc, "lang": ui.lang(), "parts": PARTS, "share_kinds": SHARE_KINDS,
                               "domains": ui.domain_options(), "levels": ui.level_options(), "errors": {},
                               "values": {"title": doc["title"], "domain": doc["domain"], "access": doc["access"],
                                          "revision": doc["revision"]}}
    for name in PARTS:
        context.update(_part_context(name, doc))
    return context


def timeline_label(kind: str, action: str) -> str:
    return str(TIMELINE_LABELS.get(kind, TIMELINE_LABELS.get(action, action)))


bp.add_app_template_global(timeline_label, "doc_timeline_label")


# -- the page and its parts ---------------------------------------------------------------------------------

@bp.get("/<document_id>")
def page(document_id: str) -> ResponseReturnValue:
    try:
        return render_template("documents/page.html", **_page_context(document_id))
    except docs.DocumentError as error:
        return ui.refused(error)


@bp.get("/<document_id>/part/<any(summary, text, versions, shares, comments, timeline, related):name>")
def part(document_id: str, name: str) -> ResponseReturnValue:
    try:
        doc = _document(document_id, audited=False)
        return render_template(f"documents/_{name}.html", doc=doc, lang=ui.lang(), **_part_context(name, doc))
    except docs.DocumentError as error:
        return ui.refused(error)


@bp.get("/<document_id>/events")
def stream(document_id: str) -> ResponseReturnValue:
    """The document's live events, for a person allowed to read it (checked when the stream opens)."""
    try:
        docs.require_read(services.store(), ui.me(), document_id)
    except docs.DocumentError as error:
        return ui.refused(error)
    return events.sse_response([bus.document_channel(document_id)])


# -- metadata ------------------------------------------------------------------------------------------

@bp.post("/<document_id>/metadata")
def edit_metadata(document_id: str) -> ResponseReturnValue:
    store, form = services.store(), request.form
    values = {k: form.get(k, "") for k in ("title", "domain", "access", "revision")}
    try:
        revision = int(values["revision"])
    except ValueError:
        revision = -1
    try:
        current = docs.version_of_document(store, document_id, None) if docs.get_document(store, document_id) \
            else None
        new_revision = pipeline.update_metadata(
            store, services.settings(), ui.me(), document_id, revision, title=values["title"] or None,
            domain=values["domain"] or None, access=values["access"] or None, client=ui.client(),
            reindex=bool(current and current.get("indexed_at")),
        )
    except docs.Conflict as error:
        return _edit_refused(document_id, values, _("Nothing was saved: %(reason)s", reason=str(error)), 409,
                             conflict=True)
    except docs.NotFound as error:
        return ui.refused(error)
    except docs.Forbidden as error:
        return _edit_refused(document_id, values, str(error), 403)
    except docs.DocumentError as error:
        return _edit_refused(document_id, values, str(error), 422)
    ui.announce(document_id, "metadata", revision=new_revision)
    flash(_("Saved."), "success")
    return redirect(url_for("documents.page", document_id=document_id), 303)


def _edit_refused(document_id: str, values: dict[str, str], message: str, status: int, *,
                  conflict: bool = False) -> ResponseReturnValue:
    """The page again with what the editor typed kept in the form and the reason above it."""
    try:
        context = _page_context(document_id)
    except docs.DocumentError as error:
        return ui.refused(error)
    if not context["doc"]["can_edit"]:
        return ui.refused(docs.Forbidden(message))
    # After a conflict the form carries the CURRENT revision: saving again is a deliberate overwrite.
    context["values"] = {**values, "revision": context["doc"]["revision"] if conflict else values["revision"]}
    context["errors"] = {None: [message]}
    context["conflict"] = conflict
    return render_template("documents/page.html", **context), status


# -- sharing -------------------------------------------------------------------------------------------

def _spec_from(values: Any) -> str:
    kind = (values.get("kind") or "").strip().lower()
    code = (values.get("code") or "").strip()
    access = (values.get("access") or "read").strip().lower()
    if kind not in SHARE_KINDS or not code:
        raise docs.DocumentError(_("Choose what to share with and give its code or user name."))
    return f"{kind}:{code}:{access}"


def _require_manager(document_id: str) -> None:
    """Owners and administrators see who can read and preview shares."""
    access = permissions.can_edit(services.store(), ui.me(), document_id)
    if access.reason_kind == "unknown_document":
        raise docs.NotFound("no such document")
    docs.require_read(services.store(), ui.me(), document_id)
    if not access.allowed or access.reason_kind not in ("owner", "admin"):
        raise docs.Forbidden(_("Only the owner or an administrator can see this."))


@bp.post("/<document_id>/share")
def share(document_id: str) -> ResponseReturnValue:
    try:
        made = docs.share(services.store(), ui.me(), document_id, _spec_from(request.form), client=ui.client())
    except (docs.NotFound, docs.Forbidden) as error:
        if isinstance(error, docs.NotFound) and docs.get_document(services.store(), document_id) is None:
            return ui.refused(error)
        flash(str(error), "error")
    except docs.DocumentError as error:
        flash(str(error), "error")
    else:
        flash(_("Shared with %(name)s.", name=made.name or made.ref), "success")
        ui.announce(document_id, "share")
        ui.announce_new(document_id)  # people who just gained access: their listings may now include it
    return redirect(url_for("documents.page", document_id=document_id) + "#sharing", 303)


@bp.post("/<document_id>/unshare")
def unshare(document_id: str) -> ResponseReturnValue:
    try:
        removed = docs.unshare(services.store(), ui.me(), document_id, _spec_from(request.form), client=ui.client())
    except docs.DocumentError as error:
        if docs.get_document(services.store(), document_id) is None:
            return ui.refused(docs.NotFound("no such document"))
        flash(str(error), "error")
    else:
        flash(_("Share removed.") if removed else _("There was no such share."), "success" if removed else "error")
        if removed:
            ui.announce(document_id, "share")
    return redirect(url_for("documents.page", document_id=document_id) + "#sharing", 303)


@bp.get("/<document_id>/share-preview")
def share_preview(document_id: str) -> ResponseReturnValue:
    store = services.store()
    try:
        _require_manager(document_id)
        spec = docs.resolve_share(store, _spec_from(request.args))
        assert spec.target_id is not None
        preview = permissions.share_preview(store, document_id, spec.kind, spec.target_id, spec.access)
    except (docs.NotFound, docs.Forbidden) as error:
        if isinstance(error, docs.NotFound) and docs.get_document(store, document_id) is None:
            return ui.refused(error)
        if isinstance(error, docs.Forbidden):
            return ui.refused(error)
        return render_template("documents/_share_preview.html", error=str(error)), 422
    except (docs.DocumentError, ValueError) as error:
        return render_template("documents/_share_preview.html", error=str(error)), 422
    return render_template("documents/_share_preview.html", preview=preview, spec=spec, error=None)


@bp.get("/<document_id>/readers")
def readers(document_id: str) -> ResponseReturnValue:
    try:
        _require_manager(document_id)
        page_no = max(int(request.args.get("page", "1")), 1)
    except docs.DocumentError as error:
        return ui.refused(error)
    except ValueError:
        page_no = 1
    result = permissions.who_can_read(services.store(), document_id, page_no, READERS_PER_PAGE)
    pages = max(1, -(-result.total // READERS_PER_PAGE))
    return render_template("documents/_readers.html", result=result, pages=pages, lang=ui.lang(),
                           document_id=document_id)


# -- comments --------------------------------------------------------------------------------------------

@bp.post("/<document_id>/comments")
def comment(document_id: str) -> ResponseReturnValue:
    try:
        comments.add_comment(services.store(), ui.me(), document_id, request.form.get("text", ""),
                             client=ui.client())
    except (docs.NotFound, docs.Forbidden) as error:
        return ui.refused(error)
    except docs.DocumentError as error:
        flash(str(error), "error")
    else:
        ui.announce(document_id, "comment")
    return redirect(url_for("documents.page", document_id=document_id) + "#comments", 303)


# -- content: download, thumbnail, diff ----------------------------------------------------------------------

@bp.get("/<document_id>/download")
def download(document_id: str) -> ResponseReturnValue:
    try:
        found = pipeline.open_download(services.store(), services.settings(), ui.me(), document_id,
                                       request.args.get("version") or None, client=ui.client())
    except docs.DocumentError as error:
        return ui.refused(error)
    return send_file(found.path, mimetype=found.mime, as_attachment=True, download_name=found.filename,
                     etag=found.sha256, max_age=0)


@bp.get("/<document_id>/thumbnail")
def thumb(document_id: str) -> ResponseReturnValue:
    store = services.store()
    try:
        docs.require_read(store, ui.me(), document_id)
        version = docs.version_of_document(store, document_id, request.args.get("version") or None)
    except docs.DocumentError as error:
        return ui.refused(error)
    if version.get("kind") not in ui.IMAGE_KINDS:
        abort(404)
    try:
        path = thumbnail(services.settings(), version["sha256"])
    except ThumbnailError:
        abort(404)
    response = send_file(path, mimetype="image/png", etag=version["sha256"], max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/<document_id>/diff")
def diff(document_id: str) -> ResponseReturnValue:
    store, viewer = services.store(), ui.me()
    try:
        doc = _document(document_id, audited=False)
        versions = docs.list_versions(store, viewer, document_id)
    except docs.DocumentError as error:
        return ui.refused(error)
    old, new = request.args.get("old"), request.args.get("new")
    if not old or not new:
        if len(versions) < 2:
            return render_template("documents/diff.html", doc=doc, versions=versions, result=None, old=None,
                                   new=None, error=_("This document has only one version."))
        new, old = versions[0]["id"], versions[1]["id"]
    try:
        result = pipeline.diff_versions(store, services.settings(), viewer, document_id, old, new, client=ui.client())
    except docs.NotFound as error:
        return render_template("documents/diff.html", doc=doc, versions=versions, result=None, old=old, new=new,
                               error=str(error)), 404
    except docs.DocumentError as error:
        return render_template("documents/diff.html", doc=doc, versions=versions, result=None, old=old, new=new,
                               error=str(error)), 409
    return render_template("documents/diff.html", doc=doc, versions=versions, result=result, old=old, new=new,
                           error=None)
