"""The Celery application, configured from settings.

In embedded mode the bundled server (reached over its unix socket) is both broker and result
backend; otherwise ``HUITONG_BROKER_URL`` names a Redis server.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_init, worker_process_init

from embeddings.embedder import threads_per_process, use_threads
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


_pool_processes = 1  # set in the worker's main process before it forks its pool; the pool inherits it


@worker_init.connect
def _remember_pool_size(sender: object = None, **_: object) -> None:
    global _pool_processes
    _pool_processes = max(1, int(getattr(sender, "concurrency", 1) or 1))


@worker_process_init.connect
def _share_cores(**_: object) -> None:
    """Each pool process embeds on its share of the cores: torch's default (every core per process)
    oversubscribes the machine as soon as two processes embed at once."""
    use_threads(threads_per_process(get_settings().embedding_threads, _pool_processes))
