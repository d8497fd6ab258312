"""Login, logout, the person's own account page and password change, and the admin password reset."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from graph import accounts
from webapp import services
from webapp.auth import (
    audit,
    client_address,
    current_person,
    end_session,
    public,
    roles_required,
    safe_next,
    session_token,
    start_session,
)

bp = Blueprint("account", __name__)


def _home() -> str:
    return url_for("home.index")


@bp.get("/login")
@public
def login() -> ResponseReturnValue:
    if current_person() is not None:
        return redirect(safe_next(request.args.get("next"), _home()))
    return render_template("account/login.html", next=request.args.get("next", ""), login_value="")


@bp.post("/login")
@public
def login_submit() -> ResponseReturnValue:
    if "local" not in services.settings().auth_method_set:
        abort(404)  # local passwords switched off (HUITONG_AUTH_METHODS): as if there were no such form
    login_value = request.form.get("login", "")[:320]
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    outcome = accounts.authenticate(services.store(), login_value, password, client=client_address())
    person = outcome.person
    target_id = person.id if person else None
    if outcome.status == "ok" and person is not None:
        start_session(person)
        audit("login.success", target_kind="person", target_id=person.id, actor=person, detail={"method": "local"})
        return redirect(safe_next(target, _home()))
    detail: dict[str, object] = {"login": accounts.normalise_login(login_value), "reason": outcome.status,
                                 "method": "local"}
    audit("login.failure", target_kind="person" if person else None, target_id=target_id, detail=detail)
    if outcome.failure is not None and outcome.failure.delayed:
        # This wrong password started (or lengthened) a wait: the throttle itself is an event to review.
        audit("login.throttle", target_kind="person" if person else None, target_id=target_id,
              detail={**detail, "delays": [{"scope": scope, "seconds": s} for scope, s in outcome.failure.delayed]})
    if outcome.status == "throttled":
        message, status = _throttled_message(outcome.retry_at_ms), 429
    elif outcome.status == "inactive":
        message, status = _("This account is deactivated. Ask an administrator."), 403
    else:
        message, status = _("Wrong username, e-mail or password."), 401
    return render_template("account/login.html", next=target, login_value=login_value, error=message), status


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    person = current_person()
    if person is not None:
        audit("logout", target_kind="person", target_id=person.id)
    end_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("account.login"))


@bp.get("/account")
def profile() -> ResponseReturnValue:
    from graph import notifications
    from graph.usecases import notifications as notices

    return render_template("account/profile.html", person=current_person(), notice_kinds=notifications.KINDS,
                           notice_prefs=notices.preferences(services.context(), services.actor()))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    person = current_person()
    assert person is not None  # guaranteed by the global login requirement
    if request.method == "GET":
        return render_template("account/password.html")
    new, repeat = request.form.get("new_password", ""), request.form.get("repeat_password", "")
    error = None
    if new != repeat:
        error = _("The two new passwords differ.")
    else:
        try:
            accounts.change_password(services.store(), person.id, request.form.get("current_password", ""), new,
                                     keep_session=session_token(), client=client_address())
        except accounts.Throttled as problem:
            if problem.failure is not None:
                audit("password.throttle", target_kind="person", target_id=person.id,
                      detail={"delays": [{"scope": scope, "seconds": s} for scope, s in problem.failure.delayed]})
            audit("password.change_refused", target_kind="person", target_id=person.id, detail={"reason": "throttled"})
            return render_template("account/password.html", error=_throttled_message(problem.retry_at_ms)), 429
        except accounts.InvalidPassword as problem:
            error = _password_message(str(problem))
    if error:
        audit("password.change_refused", target_kind="person", target_id=person.id, detail={"reason": error})
        return render_template("account/password.html", error=error), 400
    audit("password.change", target_kind="person", target_id=person.id)
    flash(_("Your password has been changed. Your other sessions were signed out."), "info")
    return redirect(url_for("account.profile"))


@bp.route("/admin/people/<person_id>/password", methods=["GET", "POST"])
@roles_required("admin")
def reset_password(person_id: str) -> ResponseReturnValue:
    target = accounts.person_by_id(services.store(), person_id)
    if target is None:
        abort(404)
    if request.method == "GET":
        return render_template("account/reset.html", target=target)
    new = request.form.get("new_password", "")
    try:
        accounts.set_password(services.store(), target.id, new)
    except accounts.InvalidPassword as problem:
        return render_template("account/reset.html", target=target, error=_password_message(str(problem))), 400
    audit("password.reset", target_kind="person", target_id=target.id)
    flash(_("The password of %(name)s has been reset; their sessions were signed out.", name=target.name), "info")
    return redirect(url_for("account.reset_password", person_id=target.id))


def _throttled_message(retry_at_ms: int) -> str:
    seconds = max(1, -(-(retry_at_ms - accounts.now_ms()) // 1000))
    until = datetime.fromtimestamp(retry_at_ms / 1000, tz=UTC).strftime("%H:%M:%S UTC")
    return _("Too many failed attempts from your address. Try again in %(seconds)d s (after %(time)s).",
             seconds=seconds, time=until)


def _password_message(problem: str) -> str:
    """The domain's (English) reason in the UI language."""
    messages = {
        "the password is empty": _("The password is empty."),
        "the current password is wrong": _("The current password is wrong."),
        "the new password must differ from the current one": _("The new password must differ from the current one."),
    }
    if problem in messages:
        return messages[problem]
    if problem.startswith("the password must have at least"):
        return _("The password must have at least %(n)d characters.", n=accounts.MIN_PASSWORD_LENGTH)
    return problem
