"""Home page and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from webapp import services
from webapp.i18n import LANGUAGES

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("index.html", counts=services.store().counts())


@bp.post("/lang")
def set_language() -> ResponseReturnValue:
    language = request.form.get("lang", "")
    if language in LANGUAGES:
        session["lang"] = language
    target = request.form.get("next") or ""
    # Only local paths: never bounce the browser to another site.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("home.index")
    return redirect(target)
