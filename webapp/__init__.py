"""Huitong's web application: Flask app factory, blueprints, htmx templates, JSON API and CLI."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from settings import Settings, get_settings
from webapp.i18n import LANGUAGES, babel, current_language, select_locale

csrf = CSRFProtect()


def _secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept (0600) in the data directory."""
    configured = settings.secret_key.get_secret_value()
    if configured:
        return configured
    path = settings.data_dir / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several processes start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    for _ in range(50):  # another process may be between creating and writing the file
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"secret key file {path} is empty")


def _store_for(app: Flask):  # type: ignore[no-untyped-def]
    from webapp import services

    with app.app_context():
        return services.store()


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    from graph.private_files import start_private

    start_private(settings.data_dir)  # umask 077 and a 0700 data directory before anything is written
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        HUITONG=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        BABEL_DEFAULT_LOCALE="zh_CN",
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    from webapp.views import assets, health, home

    app.register_blueprint(assets.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(home.bp)

    from webapp.auth import init_auth
    from webapp.views import account, audit

    init_auth(app)
    app.register_blueprint(account.bp)

    from webapp.sso import init_sso

    init_sso(app)  # OpenID Connect and LDAP sign-in, as HUITONG_AUTH_METHODS says
    app.register_blueprint(audit.bp)

    from webapp.views import admin_org

    app.register_blueprint(admin_org.bp)

    from webapp.views import org_impact

    app.register_blueprint(org_impact.bp)

    from webapp.views import decisions as decision_views

    app.register_blueprint(decision_views.bp)

    from webapp.views import admin_hooks

    app.register_blueprint(admin_hooks.bp)

    from webapp import events
    from webapp.views import inbox, notifications, workflows

    app.register_blueprint(events.bp)
    app.register_blueprint(workflows.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(notifications.bp)
    from webapp.views import pickers

    app.register_blueprint(pickers.bp)

    from webapp.views import ingest as ingest_views

    app.register_blueprint(ingest_views.bp)

    from webapp.views import browse, documents, uploads

    app.register_blueprint(uploads.bp)
    app.register_blueprint(browse.bp)
    from webapp.views import browse_actions

    app.register_blueprint(browse_actions.bp)
    app.register_blueprint(documents.bp)

    from webapp.views import trash as trash_views

    app.register_blueprint(trash_views.bp)

    from webapp.views import manage

    app.register_blueprint(manage.bp)

    from ingest import search as search_service
    from webapp.views import search

    app.register_blueprint(search.bp)
    search_service.start_warm_up(lambda: _store_for(app), settings)

    from webapp.api import init_api

    init_api(app)  # /api/v1: tokens read before the login guard (so after init_auth), RFC 7807 problems
    from webapp.views import account_tokens

    app.register_blueprint(account_tokens.bp)

    from webapp.views import errors

    errors.install(app)  # styled, translated error answers; refusals of use cases (DomainError) as 404/403/...
    from webapp.input_guard import init_input_guard

    # After errors.install: its 413 answer gives way to one naming the limit; the guard runs before every view.
    init_input_guard(app)  # bad input: 400 in the reader's language before any view; one redirect check

    from webapp import ui

    ui.install(app)  # local times in the organisation's zone, role names

    @app.context_processor
    def _template_globals() -> dict[str, object]:
        return {"languages": LANGUAGES, "current_language": current_language}

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        )
        return response

    return app
