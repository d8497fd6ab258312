"""``/account/tokens``: a person's API tokens — list (scope, expiry, last use), make one (shown once), revoke.

A thin door over :mod:`graph.tokens`, the same use cases as ``huitong token``.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import tokens
from graph.errors import DomainError
from webapp import services
from webapp.messages import message

bp = Blueprint("account_tokens", __name__, url_prefix="/account/tokens")
DAYS = (30, 90, 365)


def _page(created: tokens.Created | None = None, error: str | None = None, status: int = 200) -> ResponseReturnValue:
    rows = tokens.list_tokens(services.store(), services.actor())
    return render_template("account/tokens.html", tokens=rows, created=created, error=error, days=DAYS,
                           scopes=tokens.SCOPES), status


@bp.get("")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("")
def create() -> ResponseReturnValue:
    days_text = request.form.get("days", "")
    try:
        made = tokens.create(services.store(), services.actor(), scope=request.form.get("scope", ""),
                             days=int(days_text) if days_text.isdigit() else None,
                             name=request.form.get("name", ""))
    except DomainError as error:
        return _page(error=message(error), status=400)
    return _page(created=made, status=201)


@bp.post("/<token_id>/revoke")
def revoke(token_id: str) -> ResponseReturnValue:
    done = tokens.revoke(services.store(), services.actor(), token_id)  # someone else's: the one 404
    flash(_("Token revoked.") if done else _("This token was already revoked."), "success")
    return redirect(url_for("account_tokens.index"), 303)
