"""The acting person of a web request: one helper for every view, kept in :mod:`webapp.services`."""

from __future__ import annotations

from webapp.services import actor

__all__ = ["actor"]
