"""Celery beat's periodic tasks (``huitong beat`` runs exactly one beat; see docker-compose.yml)."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab

REMINDERS_EVERY_SECONDS = 60.0
TRENDS_EVERY_SECONDS = 3600.0
DELIVERIES_EVERY_SECONDS = 5.0
WATCH_EVERY_SECONDS = 5.0
NOTICES_EVERY_SECONDS = 10.0
PURGE_EVERY_SECONDS = 3600.0

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "workflow-reminders": {
        "task": "huitong.workflow_reminders",
        "schedule": REMINDERS_EVERY_SECONDS,
        # A late scan is pointless once the next one is due: let the broker drop it.
        "options": {"expires": REMINDERS_EVERY_SECONDS},
    },
    "search-reembed": {  # a no-op unless the configured embedding model differs from the one serving search
        "task": "huitong.reembed",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "trend-warnings": {
        "task": "huitong.trend_warnings",
        "schedule": TRENDS_EVERY_SECONDS,
        "options": {"expires": TRENDS_EVERY_SECONDS},
    },
    "deliveries": {
        "task": "huitong.deliveries",
        "schedule": DELIVERIES_EVERY_SECONDS,
        "options": {"expires": DELIVERIES_EVERY_SECONDS},
    },
    "notices": {
        "task": "huitong.notices",
        "schedule": NOTICES_EVERY_SECONDS,
        "options": {"expires": NOTICES_EVERY_SECONDS},
    },
    "notice-digest": {  # 00:00 UTC (Celery's time zone) = 08:00 in Shanghai, before the working day
        "task": "huitong.notice_digest",
        "schedule": crontab(hour=0, minute=0),
    },
    "purge-trash": {  # documents past HUITONG_TRASH_DAYS in the trash, not under legal hold
        "task": "huitong.purge_trash",
        "schedule": PURGE_EVERY_SECONDS,
        "options": {"expires": PURGE_EVERY_SECONDS},
    },
    "watch-folder": {
        "task": "huitong.watch_folder",
        "schedule": WATCH_EVERY_SECONDS,
        "options": {"expires": WATCH_EVERY_SECONDS},
    },
}


def install(app: Celery) -> None:
    """Add our entries to the app's beat schedule (kept alongside any others)."""
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE, **_ldap_sync()}


def _ldap_sync() -> dict[str, dict[str, Any]]:
    """The LDAP org sync, when a mapping file is configured and HUITONG_LDAP_SYNC_MINUTES is not 0."""
    from settings import get_settings

    settings = get_settings()
    if settings.ldap_sync_mapping is None or not settings.ldap_sync_minutes:
        return {}
    every = settings.ldap_sync_minutes * 60.0
    return {"ldap-sync": {"task": "huitong.ldap_sync", "schedule": every, "options": {"expires": every}}}
