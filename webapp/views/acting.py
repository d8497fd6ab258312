"""The acting person of a web request, as every use case receives it (one per request)."""

from __future__ import annotations

from flask import g

from graph.actor import Actor
from webapp.auth import client_address, current_person
from webapp.i18n import current_language


def actor() -> Actor:
    """The signed-in person as an :class:`Actor`; access decisions are memoised on it for this request."""
    if "huitong_actor" not in g:
        person = current_person()
        assert person is not None  # the routes that act require login
        g.huitong_actor = Actor(person.id, person.username, person.name, frozenset(person.roles), "web",
                                "en" if current_language() == "en" else "zh", client_address())
    found: Actor = g.huitong_actor
    return found
