"""Template helpers every page shares: local times in the organisation's zone, translated role names.

Times are stored as epoch milliseconds (UTC); pages and CSV exports show them in ``HUITONG_TIMEZONE``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context
from flask_babel import lazy_gettext as _l

from settings import get_settings

ROLE_NAMES = {"admin": _l("Administrator"), "manager": _l("Manager"), "member": _l("Member"),
              "designer": _l("Workflow designer"), "auditor": _l("Auditor")}
FORMATS = {"minute": "%Y-%m-%d %H:%M", "second": "%Y-%m-%d %H:%M:%S", "day": "%Y-%m-%d"}


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    """The organisation's time zone (the app's settings; outside an app, the environment's)."""
    settings = current_app.config.get("HUITONG") if has_app_context() else None
    return _zone((settings or get_settings()).timezone)


def local_time(value: int | float | datetime | str | None, precision: str = "minute") -> str:
    """Epoch milliseconds, an aware datetime or an ISO text as local time; "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(value / 1000, zone())
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if moment.tzinfo is None:  # stored naive times are UTC
        moment = moment.replace(tzinfo=_zone("UTC"))
    return moment.astimezone(zone()).strftime(FORMATS.get(precision, FORMATS["minute"]))


def role_name(role: str) -> str:
    return str(ROLE_NAMES.get(role, role))


def install(app: Flask) -> None:
    """The ``local_time`` filter and ``role_name`` global for every template."""
    app.add_template_filter(local_time, "local_time")
    app.add_template_global(role_name, "role_name")
