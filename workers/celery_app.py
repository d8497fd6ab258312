"""The Celery application, configured from settings.

In embedded mode the bundled server (reached over its unix socket) is both broker and result
backend; otherwise ``HUITONG_BROKER_URL`` names a Redis server.

Reliability: a task is acknowledged only when it has finished (``acks_late``), and a worker lost
mid-task rejects it back to the queue. When a worker dies so hard that nothing rejects anything
(``kill -9``, a machine gone), Redis still holds the task as "unacked": after
``HUITONG_TASK_VISIBILITY_SECONDS`` any live worker puts it back in the queue. That timeout must stay
above the longest task bound (:data:`TASK_TIME_LIMIT_SECONDS`), or a slow task still running would be
handed out twice.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import socket
import threading
import time
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, worker_init, worker_process_init, worker_ready, worker_shutdown

from embeddings.embedder import threads_per_process, use_threads
from graph.private_files import start_private
from settings import Settings, get_settings
from workers.broker import HEARTBEAT_PREFIX, SENT_AT_HEADER

log = logging.getLogger("huitong.workers")

# The longest any task may run: its hard bound (the soft one gives it a minute to clean up first).
TASK_TIME_LIMIT_SECONDS = 3600
TASK_SOFT_TIME_LIMIT_SECONDS = TASK_TIME_LIMIT_SECONDS - 60
HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL_SECONDS = 30


def make_celery(settings: Settings) -> Celery:
    url = settings.effective_broker_url
    tasks = ["workers.tasks", "workers.ingest_tasks", "workers.reembed"]
    app = Celery("huitong", broker=url, backend=url, include=tasks)
    transport = {"visibility_timeout": settings.task_visibility_seconds}
    # kombu sweeps for abandoned tasks every interval x throttle seconds (default 100 s); every 10 s is
    # one cheap sorted-set range query, and a dead worker's task is back within visibility + 10 s.
    sweep = {"unacked_restore_interval": 10, "unacked_restore_throttle": 1}
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a worker killed mid-task leaves the task queued for another
        task_reject_on_worker_lost=True,
        task_time_limit=TASK_TIME_LIMIT_SECONDS,
        task_soft_time_limit=TASK_SOFT_TIME_LIMIT_SECONDS,
        broker_transport_options={**transport, **sweep},
        result_backend_transport_options=transport,
        worker_prefetch_multiplier=1,
        result_expires=24 * 3600,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
    )
    if settings.task_visibility_seconds <= TASK_TIME_LIMIT_SECONDS:
        log.warning("HUITONG_TASK_VISIBILITY_SECONDS=%d is not above the longest task bound (%d s): a slow task "
                    "may be handed to a second worker while the first still runs",
                    settings.task_visibility_seconds, TASK_TIME_LIMIT_SECONDS)
    return app


start_private(get_settings().data_dir)  # workers and beat write blobs, texts and indexes: all private
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
    _die_with_parent()


def _die_with_parent() -> None:
    """A pool process whose main process was killed stops too: its task goes back to the queue (it was
    never acknowledged) and runs on a live worker, instead of finishing here a second time unseen."""
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


@before_task_publish.connect
def _stamp_sent_at(headers: dict[str, Any] | None = None, **_: object) -> None:
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


# -- liveness: each worker's main process keeps a key with a short TTL alive in the broker ---------------

_stopped = threading.Event()


def heartbeat_key(hostname: str) -> str:
    return f"{HEARTBEAT_PREFIX}{hostname}"


def _beat(hostname: str) -> None:
    from graph import live as bus

    key = heartbeat_key(hostname)
    while True:
        try:
            bus.client(get_settings()).set(key, str(time.time()), ex=HEARTBEAT_TTL_SECONDS)
        except Exception as error:  # the broker may be restarting; keep trying
            log.warning("worker heartbeat not written: %s", error)
        if _stopped.wait(HEARTBEAT_SECONDS):
            return


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: object) -> None:
    hostname = str(getattr(sender, "hostname", None) or socket.gethostname())
    _stopped.clear()
    threading.Thread(target=_beat, args=(hostname,), name="huitong-heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat(sender: Any = None, **_: object) -> None:
    _stopped.set()
    from graph import live as bus

    with contextlib.suppress(Exception):
        bus.client(get_settings()).delete(heartbeat_key(str(getattr(sender, "hostname", ""))))
