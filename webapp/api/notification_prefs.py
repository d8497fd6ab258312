"""``/api/v1/notifications/preferences``: the caller's own notification preferences (muted kinds, daily
digest), read and changed through the same use case as the account page and ``huitong notifications prefs``
(:func:`graph.usecases.notifications.update_preferences`)."""

from __future__ import annotations

from typing import Literal

from flask import jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict

from graph.usecases import notifications as cases
from webapp import services
from webapp.api import models as m
from webapp.api.core import actor, operation


class Preferences(BaseModel):
    muted: list[str]
    digest: Literal["daily", "off"]
    kinds: list[str]


class PreferencesIn(BaseModel):
    """What to change; a field left out keeps its value. ``muted`` replaces the muted kinds."""

    model_config = ConfigDict(extra="forbid")
    muted: list[str] | None = None
    digest: Literal["daily", "off"] | None = None


@operation("GET", "/notifications/preferences", summary="My notification preferences", tag="notifications",
           responses={200: Preferences})
def preferences() -> ResponseReturnValue:
    return jsonify(cases.in_words(cases.preferences(services.context(), actor())))


@operation("PUT", "/notifications/preferences", summary="Change my notification preferences (muted kinds, "
           "daily digest)", tag="notifications", body=PreferencesIn, responses={200: Preferences, 400: m.Problem})
def set_preferences(body: PreferencesIn) -> ResponseReturnValue:
    digest = None if body.digest is None else cases.DIGEST_WORDS[body.digest]
    saved = cases.update_preferences(services.context(), actor(), muted=body.muted, digest=digest)
    return jsonify(cases.in_words(saved))
