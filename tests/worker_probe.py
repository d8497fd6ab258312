"""A task for the worker-recovery test only (loaded into test workers with ``celery -I worker_probe``).

It records who started and who finished it, in files the test reads, and runs long enough to be
killed in the middle.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from workers.celery_app import app


@app.task(name="huitong.test_probe")
def probe(folder: str, seconds: float) -> str:
    me = f"{os.environ.get('PROBE_WORKER', socket.gethostname())}:{os.getpid()}"
    with open(Path(folder) / "started", "a") as log:
        log.write(me + "\n")
    time.sleep(seconds)
    with open(Path(folder) / "finished", "a") as log:
        log.write(me + "\n")
    return me
