"""Uploads: the drag-and-drop page and new versions (``POST /api/v1/documents`` is in :mod:`webapp.api`).

Each file is stored on its own (one refusal never loses the others) and answered with a result
per file; the browser script sends one file per request so it can show a progress bar and a
clear error next to each file. Everything is validated by the use case :func:`ingest.usecases.upload`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from graph.errors import DomainError, InvalidInput, NotPermitted, ObjectMissing, StateConflict
from graph.usecases import documents as cases
from ingest import usecases as files
from ingest import version_conflicts as conflicts
from webapp import services
from webapp.messages import message
from webapp.views import document_ui as ui

bp = Blueprint("uploads", __name__)

MAX_FILES = 50
_SPLIT = re.compile(r"[\s,;，；]+")


_SHORT_CODES = {"upload.mismatched": "mismatched", "upload.unsupported": "unsupported", "upload.too_large": "too_large",
                "not_found": "not_found", "document.missing": "not_found", "document.read_only": "forbidden"}


def _error_code(error: DomainError) -> str:
    """A stable code for the browser next to the readable message."""
    if isinstance(error, ObjectMissing):
        return "not_found"
    if isinstance(error, NotPermitted):
        return "forbidden"
    return _SHORT_CODES.get(error.code, "invalid")


def share_specs(values: list[str]) -> list[str]:
    """Share specs typed as ``department:FIN, person:li.na:edit`` (any separators) or given one per field."""
    return [part for value in values for part in _SPLIT.split(value or "") if part]


def _store_one(file: FileStorage, form: dict[str, Any], document_id: str | None) -> dict[str, Any]:
    filename = file.filename or ""
    try:
        result = files.upload(
            services.context(), services.actor(), files.Upload(file.stream, filename), domain=form.get("domain"),
            access=form.get("access"), shares=form["shares"], note=form.get("note", ""),
            title=form.get("title") or None, document_id=document_id, enqueue=ui.enqueue(),
            base_version=form.get("base_version"),
        )
    except StateConflict as error:  # stale base: the file is kept; the conflict page offers the choice
        return {"filename": filename, "ok": False, "error": message(error), "code": "stale_base",
                **{k: error.params[k] for k in ("base", "current", "pending")},
                "url": url_for("uploads.conflict", document_id=document_id, token=error.params["pending"])}
    except DomainError as error:
        return {"filename": filename, "ok": False, "error": message(error), "code": _error_code(error),
                "detail": str(error.params.get("reason", ""))}
    return {"filename": filename, "ok": True, "document_id": result.document_id, "version_id": result.version_id,
            "number": result.number, "created": result.created, "unchanged": result.unchanged,
            "kind": result.kind, "size": result.size, "status": "pending",
            "url": url_for("documents.page", document_id=result.document_id)}


def handle_upload(document_id: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Store every posted file; returns the per-file results and the HTTP status that sums them up."""
    files = [f for f in request.files.getlist("file") if f and (f.filename or f.content_length)]
    if not files:
        return [{"filename": "", "ok": False, "error": _("Choose at least one file."), "code": "no_file"}], 400
    if len(files) > MAX_FILES:
        return [{"filename": "", "ok": False, "error": _("At most %(n)d files at once.", n=MAX_FILES),
                 "code": "too_many"}], 400
    form = {"domain": request.form.get("domain"), "access": request.form.get("access"),
            "note": request.form.get("note", ""), "title": request.form.get("title", "").strip() if len(files) == 1
            else "", "shares": share_specs(request.form.getlist("share")) if document_id is None else [],
            "base_version": _base_version(request.form.get("base_version"))}
    results = [_store_one(f, form, document_id) for f in files]
    if any(r["ok"] for r in results):
        return results, 201 if any(r["ok"] and not r["unchanged"] for r in results) else 200
    codes = {r["code"] for r in results}
    if "stale_base" in codes:
        return results, 409
    return results, 404 if codes == {"not_found"} else 403 if codes == {"forbidden"} else 422


def _base_version(value: str | None) -> int | None:
    """The form's base version number (absent or empty: no check, as before bases were named)."""
    if not (value or "").strip():
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput("upload.base_version", field="base_version") from None
    if number < 1:
        raise InvalidInput("upload.base_version", field="base_version")
    return number


def _json(results: list[dict[str, Any]], status: int) -> ResponseReturnValue:
    return jsonify(results=results, stored=sum(r["ok"] for r in results),
                   failed=sum(not r["ok"] for r in results)), status


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    limit = services.settings().max_upload_mb
    message = _("The upload is larger than the limit of %(mb)d MiB; nothing was stored.", mb=limit)
    if request.path.startswith("/api/") or _wants_json():
        return _json([{"filename": "", "ok": False, "error": message, "code": "too_large"}], 413)
    flash(message, "error")
    # The form cannot be read back (reading it is what failed): the page starts afresh.
    return render_template("documents/upload.html", **_form_context(posted=False), results=[]), 413


def _form_context(*, posted: bool = True) -> dict[str, Any]:
    form = request.form if posted else {}
    return {"domains": ui.domain_options(), "levels": ui.level_options(),
            "max_bytes": services.settings().max_upload_mb * 1024 * 1024,
            "values": {"domain": form.get("domain", "general"), "access": form.get("access", "internal"),
                       "share": " ".join(request.form.getlist("share")) if posted else "",
                       "note": form.get("note", "")}}


@bp.get("/documents/upload")
def upload_page() -> ResponseReturnValue:
    return render_template("documents/upload.html", **_form_context(posted=False), results=[])


@bp.post("/documents/upload")
def upload_form() -> ResponseReturnValue:
    results, status = handle_upload()
    if _wants_json():
        return _json(results, status)
    return render_template("documents/upload.html", **_form_context(), results=results), status


@bp.post("/documents/<document_id>/versions")
def new_version(document_id: str) -> ResponseReturnValue:
    # A stranger's answer is the missing document's, whatever they posted (no file, too many files...).
    cases.open_document(services.context(), services.actor(), document_id, explicit=False)
    results, status = handle_upload(document_id)
    if _wants_json():
        return _json(results, status)
    conflict = next((r for r in results if r.get("code") == "stale_base"), None)
    if conflict is not None:
        return redirect(conflict["url"], 303)
    for result in results:
        if result["ok"]:
            flash(_("Version %(n)d stored; its text is being extracted.", n=result["number"]) if not
                  result["unchanged"] else _("This file is already the current version: nothing new was stored."),
                  "success")
        else:
            flash(result["error"], "error")
    if status == 404:
        raise ObjectMissing("document.missing")
    if status == 403:
        raise NotPermitted("document.read_only")
    return redirect(url_for("documents.page", document_id=document_id) + "#versions", 303)


# -- a new version made from a stale base: the file is kept, the uploader chooses ------------------------------


@bp.get("/documents/<document_id>/versions/pending/<token>")
def conflict(document_id: str, token: str) -> ResponseReturnValue:
    """Both files side by side: the current version and the kept upload, with the text diff when it can be made."""
    ctx, actor = services.context(), services.actor()
    pending = conflicts.held(ctx, actor, document_id, token)
    doc = cases.open_document(ctx, actor, document_id, explicit=False)
    try:
        diff: Any = conflicts.diff(ctx, actor, document_id, token)
        diff_error = None
    except DomainError as error:  # e.g. the current version's text is not extracted yet
        diff, diff_error = None, message(error)
    return render_template("documents/conflict.html", doc=doc, pending=pending, diff=diff,
                           diff_error=diff_error), 409


@bp.post("/documents/<document_id>/versions/pending/<token>")
def resolve_conflict(document_id: str, token: str) -> ResponseReturnValue:
    """``choice=add``: store the kept file as the newest version anyway; ``choice=cancel``: forget it."""
    ctx, actor = services.context(), services.actor()
    if request.form.get("choice") == "add":
        result = files.add_pending(ctx, actor, document_id, token, enqueue=ui.enqueue())
        if _wants_json():
            return jsonify(ok=True, document_id=document_id, version_id=result.version_id, number=result.number), 201
        flash(_("Version %(n)d stored; its text is being extracted.", n=result.number), "success")
    else:
        conflicts.cancel(ctx, actor, document_id, token)
        if _wants_json():
            return jsonify(ok=True, cancelled=True), 200
        flash(_("Cancelled: your file was not added."), "success")
    return redirect(url_for("documents.page", document_id=document_id) + "#versions", 303)
