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
# Graph node labels as people call them (share targets, access paths, the graph's contents).
NODE_NAMES = {"Person": _l("Person"), "Department": _l("Department"), "Position": _l("Position"),
              "Project": _l("Project"), "Document": _l("Document"), "Group": _l("Group"), "Version": _l("Version"),
              "Task": _l("Task"), "Workflow": _l("Workflow"), "WorkflowRun": _l("Workflow run"),
              "Decision": _l("Decision"), "Comment": _l("Comment"), "Domain": _l("Domain")}
# Values of the demo workflows' choice fields (stored as codes; shown in the reader's language).
OPTION_NAMES = {"travel": _l("Travel"), "entertainment": _l("Entertainment"), "office": _l("Office supplies"),
                "training": _l("Training"), "other": _l("Other"), "purchase": _l("Purchase"), "sales": _l("Sales"),
                "service": _l("Service"), "low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
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


def node_name(label: str | None) -> str:
    return str(NODE_NAMES.get(label or "", label or ""))


def option_name(value: object) -> str:
    return str(OPTION_NAMES.get(str(value), value))


def install(app: Flask) -> None:
    """The ``local_time`` filter and ``role_name`` / ``node_name`` globals for every template."""
    app.add_template_filter(local_time, "local_time")
    app.add_template_global(role_name, "role_name")
    app.add_template_global(node_name, "node_name")
    app.add_template_global(option_name, "option_name")
