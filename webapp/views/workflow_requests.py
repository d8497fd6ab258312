"""``/workflows/requests``: ad-hoc cross-department requests (one run, one task per department)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import accounts, directory
from graph.errors import ObjectMissing
from graph.workflows import FormError, NotFound, requests, usecases
from webapp import services
from webapp.services import actor
from webapp.ui import zone
from webapp.views import workflow_ui as ui
from webapp.views.workflows import MAX_REQUEST_ROWS, bp, missing


def _departments() -> list[dict[str, Any]]:
    return accounts.list_departments(services.store())


def _deadline(raw: str) -> int | None:
    try:
        return int(datetime.fromisoformat(raw).replace(tzinfo=zone()).timestamp() * 1000)
    except ValueError:
        return None


def _row_count() -> int:
    try:
        return max(1, min(int(request.values.get("rows", "3")), MAX_REQUEST_ROWS))
    except ValueError:
        return 3


@bp.route("/requests/new", methods=["GET", "POST"])
def request_new() -> ResponseReturnValue:
    rows = _row_count()
    if request.method == "GET":
        return render_template("workflows/request_new.html", rows=rows, departments=_departments(), values={},
                               errors={})
    values = request.form.to_dict()
    parts, numbers = [], []
    for i in range(rows):
        part = {k: values.get(f"parts-{i}-{k}", "").strip() for k in ("department", "content", "criteria",
                                                                      "deadline")}
        if not any(part.values()):
            continue  # blank rows are simply unused
        numbers.append(i)
        parts.append({**part, "deadline": _deadline(part["deadline"]) or part["deadline"] or None})
    cc: list[str] = []
    try:
        for name in filter(None, (n.strip().lower() for n in values.get("cc", "").split(","))):
            found = directory.active_person_id(services.store(), name)
            if found is None:
                raise FormError({"cc": _("no active person with user name %(name)s", name=name)})
            cc.append(found)
        run_id = usecases.start_request(services.store(), actor(), values.get("title", ""), parts,
                                        now=ui.now_ms(), cc=cc)
    except FormError as error:
        errors = {}
        for key, message in error.errors.items():
            # The domain numbers the parts it was given; the page numbers its rows (blank rows skipped).
            if key.startswith("parts[") and "]" in key:
                index = int(key[6:key.index("]")])
                key = f"parts-{numbers[index]}-{key[key.index(']') + 2:]}" if index < len(numbers) else "parts"
            errors[key] = ui.form_message(message)
        return render_template("workflows/request_new.html", rows=rows, departments=_departments(), values=values,
                               errors=errors), 422
    flash(_("Request sent to %(count)d department(s).", count=len(parts)), "success")
    return redirect(url_for("workflows.request_page", run_id=run_id))


@bp.get("/requests/<run_id>")
def request_page(run_id: str) -> ResponseReturnValue:
    store = services.store()
    try:
        view = usecases.view_run(store, ui.actor(), run_id)
    except (NotFound, ObjectMissing):
        return missing()
    if view["run"].get("kind") != "adhoc":
        return redirect(url_for("workflows.run_page", run_id=run_id))
    progress = requests.request_progress(store, run_id, now=ui.now_ms())
    return render_template("workflows/request.html", progress=progress, run=view["run"], view=view)
