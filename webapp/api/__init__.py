"""The REST API ``/api/v1``: personal access tokens or the browser session, RFC 7807 problems, OpenAPI.

Importing the package registers every operation on :data:`bp`; :func:`init_api` installs it in an app.
"""

from __future__ import annotations

from flask import Flask

from webapp.api import (  # noqa: F401 - registers the operations
    access_requests,
    documents,
    notification_prefs,
    openapi,
    saved_views,
    work,
)
from webapp.api.core import bp, install

__all__ = ["bp", "init_api"]


def init_api(app: Flask) -> None:
    """Register the blueprint; bearer tokens are read before the login guard (call after ``init_auth``)."""
    install(app)
    app.register_blueprint(bp)
