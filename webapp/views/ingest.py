"""``/admin/ingest``: bulk ingestion of archives from the browser, with job history, live progress and reports.

The uploaded archive is kept under ``data_dir/ingest/uploads`` until its job ends; a worker walks it
(``huitong.ingest_plan``) and the batches run on every worker. The job page polls a small progress
fragment with htmx until the job is finished. Validation lives in :mod:`ingest.jobs` and
:mod:`ingest.mapping`; refused uploads come back to the form with every problem.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.datastructures import FileStorage

from graph.classification import LEVELS, DomainCatalogue
from graph.errors import ObjectMissing
from ingest import job_usecases, jobs
from ingest.archive import ArchiveError
from ingest.mapping import MappingError, parse_rules
from ingest.reasons import Refusal
from webapp import services
from webapp.auth import roles_required
from webapp.downloads import content_disposition
from webapp.messages import stored_message
from webapp.services import actor

bp = Blueprint("ingest_admin", __name__, url_prefix="/admin/ingest")

PAGE_SIZE = 20
_JOB_ID = re.compile(r"^[0-9a-f-]{36}$")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f/\\]")


@bp.app_template_global()
def failure_reason(record: Mapping[str, Any]) -> Markup:
    """Why a file (or a whole job) failed, in the reader's language; old records keep their stored sentence."""
    return stored_message(record.get("error_code"), record.get("error_params"), record.get("error"))


def _refused(error: Refusal) -> str:
    return stored_message(error.reason.code, error.reason.params, str(error))


def _form_context(**extra: object) -> dict[str, object]:
    try:
        page = max(int(request.args.get("page", "1")), 1)
    except ValueError:
        page = 1
    rows, total = job_usecases.list_jobs(services.store(), actor(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return {"jobs": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
            "page_url": lambda number: url_for("ingest_admin.index", page=number),
            "domains": list(DomainCatalogue()), "levels": [level.value for level in LEVELS],
            "values": request.form, **extra}


@bp.get("")
@roles_required("admin")
def index() -> ResponseReturnValue:
    return render_template("ingest/index.html", **_form_context(errors=[]))


def _upload_folder() -> Path:
    folder = services.settings().data_dir / "ingest" / jobs.UPLOADS / secrets.token_hex(12)
    folder.mkdir(parents=True)
    return folder


def _display_name(upload: FileStorage) -> str:
    """The archive's own name (Chinese kept), as the job's source; never used as a path."""
    name = PurePath(str(upload.filename or "").replace("\\", "/")).name
    return _UNSAFE_NAME.sub("_", name).strip()[:200] or "archive"


@bp.post("")
@roles_required("admin")
def start() -> ResponseReturnValue:
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        return render_template("ingest/index.html", **_form_context(errors=[_("Choose an archive to upload.")])), 400
    errors: list[str] = []
    rules = None
    mapping = request.files.get("mapping")
    if mapping is not None and mapping.filename:
        try:
            rules = parse_rules(mapping.read(), _display_name(mapping))
        except MappingError as error:
            errors.extend(f"{error.source}: {p}" for p in error.problems)
    shares = tuple(s for s in re.split(r"[\s,;]+", request.form.get("shares", "")) if s)
    options = jobs.JobOptions(domain=request.form.get("domain", "general"),
                              access=request.form.get("access", "internal"), shares=shares, rules=rules,
                              index=request.form.get("index") == "on")
    folder = _upload_folder()
    if not errors:
        source = _display_name(upload)
        path = folder / "archive"
        upload.save(path)
        from workers.ingest_tasks import enqueue_plan  # web -> workers: enqueue only

        try:
            started = job_usecases.start(services.store(), services.settings(), actor(), path, options,
                                         source=source, enqueue_plan=enqueue_plan)
        except MappingError as error:
            errors.extend(error.problems)
        except (ArchiveError, jobs.JobError) as error:
            errors.append(_refused(error))
    if errors:
        shutil.rmtree(folder, ignore_errors=True)
        return render_template("ingest/index.html", **_form_context(errors=errors)), 400
    if started.resumed:
        shutil.rmtree(folder, ignore_errors=True)  # the interrupted job still has its own copy
    return redirect(url_for("ingest_admin.job", job_id=started.id))


def _progress(job_id: str) -> jobs.Progress:
    try:
        return job_usecases.progress(services.store(), actor(), job_id)
    except ObjectMissing:
        abort(404)  # a job one may not see is a missing job


@bp.get("/<job_id>")
@roles_required("admin")
def job(job_id: str) -> ResponseReturnValue:
    return render_template("ingest/job.html", state=_progress(job_id))


@bp.get("/<job_id>/progress")
@roles_required("admin")
def progress(job_id: str) -> ResponseReturnValue:
    state = _progress(job_id)
    if request.accept_mimetypes.best == "application/json":
        return state.as_dict()
    return render_template("ingest/_progress.html", state=state)


@bp.get("/<job_id>/report.<fmt>")
@roles_required("admin")
def report(job_id: str, fmt: str) -> ResponseReturnValue:
    try:
        body, mime = job_usecases.report(services.store(), actor(), job_id, fmt)
    except ObjectMissing:
        abort(404)
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": content_disposition(f"ingest-{job_id}.{fmt}")})
