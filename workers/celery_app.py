"""The Celery application, configured from settings.

In embedded mode the bundled server (reached over its unix socket) is both broker and result
backend; otherwise ``HUITONG_BROKER_URL`` names a Redis server.
"""

from __future__ import annotations

from celery import Celery

from settings import Settings, get_settings


def make_celery(settings: Settings) -> Celery:
    url = settings.effective_broker_url
    app = Celery("huitong", broker=url, backend=url, include=["workers.tasks", "workers.ingest_tasks"])
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a worker killed mid-task leaves the task queued for another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
    )
    return app


app = make_celery(get_settings())
