"""``/api/v1/documents`` and ``/api/v1/search``: list, get, upload, new version, download, share, classify,
search. Each handler is a thin door over the use cases the web pages call."""

from __future__ import annotations

from flask import jsonify, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from graph.usecases import browse
from graph.usecases import documents as cases
from ingest import search as service
from ingest import usecases as files
from webapp import services
from webapp.api import models as m
from webapp.api.core import actor, bp, operation, page_links, problem
from webapp.views.uploads import handle_upload

MISSING = {404: m.Problem}
UPLOAD_FORM = {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                   "domain": {"type": "string"}, "access": {"type": "string"},
                   "share": {"type": "array", "items": {"type": "string"}}, "note": {"type": "string"},
                   "title": {"type": "string"}},
}
VERSION_FORM = {"type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}, "note": {"type": "string"},
                               # the version the caller worked from: a stale one answers 409 (code stale_base)
                               "base_version": {"type": "integer", "minimum": 1}}}
UPLOADED = {201: m.UploadResults, 200: m.UploadResults, 400: m.UploadResults, 413: m.UploadResults,
            422: m.UploadResults}


@operation("GET", "/documents", summary="Documents the caller may read, filtered, sorted and paged",
           tag="documents", query=m.DocumentQuery, responses={200: m.DocumentPage, 400: m.Problem})
def list_documents(query: m.DocumentQuery) -> ResponseReturnValue:
    where = browse.BrowseFilter(scope=query.scope, domain=query.domain, data_type=query.data_type,
                                access=query.access, kind=query.kind, status=query.status, text=query.q,
                                department_id=query.department_id)
    page = browse.browse(services.context(), actor(), where, sort=query.sort, page=query.page,
                         per_page=query.per_page)
    return jsonify(items=page.rows, total=page.total, page=page.page, per_page=page.per_page,
                   next=page_links(page.page, page.per_page, page.page < page.pages))


@operation("GET", "/documents/<document_id>", summary="One document, with why the caller may read it",
           tag="documents", responses={200: m.Document, **MISSING})
def get_document(document_id: str) -> ResponseReturnValue:
    return jsonify(cases.open_document(services.context(), actor(), document_id))


@operation("POST", "/documents", summary="Upload files as new documents (multipart; one result per file)",
           tag="documents", multipart=UPLOAD_FORM, responses=UPLOADED)
def upload() -> ResponseReturnValue:
    return _uploaded(*handle_upload(request.form.get("document_id") or None))


@operation("POST", "/documents/<document_id>/versions", summary="Upload a new version of a document",
           tag="documents", multipart=VERSION_FORM,
           responses={**UPLOADED, 403: m.UploadResults, 409: m.UploadResults, **MISSING})
def new_version(document_id: str) -> ResponseReturnValue:
    # A stranger's answer is the missing document's, whatever they posted.
    cases.open_document(services.context(), actor(), document_id, explicit=False)
    return _uploaded(*handle_upload(document_id))


def _uploaded(results: list[dict[str, object]], status: int) -> ResponseReturnValue:
    return jsonify(results=results, stored=sum(bool(r["ok"]) for r in results),
                   failed=sum(not r["ok"] for r in results)), status


@operation("GET", "/documents/<document_id>/download", summary="The bytes of the current version",
           tag="documents", responses={200: "binary", **MISSING})
def download(document_id: str) -> ResponseReturnValue:
    found = files.download(services.context(), actor(), document_id, request.args.get("version_id") or None)
    response = send_file(found.path, mimetype=found.mime or "application/octet-stream", as_attachment=True,
                         download_name=found.filename, conditional=True)
    response.headers["X-Content-SHA256"] = found.sha256
    return response


@operation("POST", "/documents/<document_id>/shares", summary="Share a document (department, project, position "
           "or person; read or edit)", tag="documents", body=m.ShareIn,
           responses={201: m.Shared, 400: m.Problem, 403: m.Problem, **MISSING})
def share(document_id: str, body: m.ShareIn) -> ResponseReturnValue:
    made = cases.share(services.context(), actor(), document_id, body.share)
    return jsonify(kind=made.kind, ref=made.ref, access=made.access, target_id=made.target_id, name=made.name), 201


@operation("PUT", "/documents/<document_id>/classification", summary="Change business domain, access level "
           "or title (with the revision last read)", tag="documents", body=m.ClassifyIn,
           responses={200: m.Revision, 400: m.Problem, 403: m.Problem, 409: m.Problem, **MISSING})
def classify(document_id: str, body: m.ClassifyIn) -> ResponseReturnValue:
    revision = files.edit_details(services.context(), actor(), document_id, body.revision, title=body.title,
                                  domain=body.domain, access=body.access)
    return jsonify(revision=revision)


SEARCH_QUERY = [("q", True, {"type": "string", "minLength": 1, "maxLength": 500}),
                ("k", False, {"type": "integer", "minimum": 1, "maximum": 100}),
                ("page", False, {"type": "integer", "minimum": 1, "maximum": 1000}),
                ("sort", False, {"type": "string", "enum": ["relevance", "date"]}),
                ("mode", False, {"type": "string", "enum": ["hybrid", "keyword", "dense"]}),
                ("time", False, {"type": "string", "enum": ["7d", "30d", "365d", "older"]}),
                *[(name, False, {"type": "array", "items": {"type": "string", "maxLength": 100}})
                  for name in ("kind", "domain", "department", "uploader", "access")]]


@operation("GET", "/search", summary="Search by meaning and keyword among readable documents (paged by page/k)",
           tag="search", responses={200: m.SearchResults, 400: m.Problem, 503: m.Problem})
def search() -> ResponseReturnValue:
    try:
        query = service.parse_query(request.args.getlist)
        outcome = service.search(services.context(), actor(), query)
    except service.SearchRequestError as error:
        return problem(400, "search.invalid", str(error))
    except service.SearchUnavailable as error:
        return problem(503, "search.unavailable", str(error), headers={"Retry-After": "5"})
    body = outcome.as_json()
    body["next"] = page_links(outcome.query.page, outcome.query.per_page, outcome.query.page < outcome.pages)
    return jsonify(body)


search.api_operation.query_parameters = SEARCH_QUERY  # type: ignore[attr-defined]


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over the limit: the same per-file answer as any refused file (nothing was stored)."""
    limit = services.settings().max_upload_mb
    text = _("The upload is larger than the limit of %(mb)d MiB; nothing was stored.", mb=limit)
    return _uploaded([{"filename": "", "ok": False, "error": text, "code": "too_large"}], 413)
