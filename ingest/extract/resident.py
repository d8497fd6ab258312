"""The bounded child processes of ``ingest.extract.isolated``, kept alive between files.

Starting a Python child per file costs more than reading a typical PDF (interpreter start and the
extractors' imports: 0.3-1 s), so a child serves file after file. Each child lowered its own rlimits
(address space, file size, no core dumps) when it started; before each file it gives itself a fresh CPU
budget. A child that overruns the wall-clock limit is killed with its whole process group, one that
dies (crash, memory, CPU) is reported by its exit status; the next file gets a fresh child. Children
are recycled after ``JOBS_PER_CHILD`` files (memory fragmentation, leaks in native libraries).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
JOBS_PER_CHILD = 500
STARTUP_S = 180.0  # the child's own imports under a busy machine; a file's time limit starts after them
_IDLE_PER_LIMITS = 2  # children kept waiting per set of limits (threads of a web process extract in parallel)
_MAX_STDERR = 2000


class ChildDied(Exception):
    """The child ended before it answered (crash, CPU or memory limit, killed)."""

    def __init__(self, returncode: int, stderr: bytes) -> None:
        super().__init__(f"extractor child ended with {returncode}")
        self.returncode, self.stderr = returncode, stderr


class Child:
    """One resident extractor process (``python -m ingest.extract.isolated --serve LIMITS``)."""

    def __init__(self, limits_json: str) -> None:
        self.home = tempfile.mkdtemp(prefix="ht-isolated-")
        self._stderr = open(os.path.join(self.home, "stderr"), "w+b")  # noqa: SIM115 - lives as long as the child
        python_path = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(  # noqa: S603 - our own module under this interpreter
            [sys.executable, "-m", "ingest.extract.isolated", "--serve", limits_json],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, start_new_session=True,
            env={**os.environ, "PYTHONPATH": python_path}, cwd=self.home)
        self.jobs = 0
        self._buffer = bytearray()
        if self._line(time.monotonic() + STARTUP_S) is None:
            self.kill()
            raise ChildDied(-signal.SIGKILL, b"the extractor child did not start in time")

    def ask(self, job: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """The child's answer to ``job``; None when it took longer than ``timeout_s`` (the child is then
        killed). Raises ``ChildDied`` when the child ended without answering."""
        self.jobs += 1
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(job, ensure_ascii=False).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._died()
        line = self._line(time.monotonic() + timeout_s)
        if line is None:
            self.kill()
            return None
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _line(self, deadline: float) -> bytes | None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while (end := self._buffer.find(b"\n")) < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self._died()
                self._buffer += chunk
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        return line

    def _died(self) -> None:
        self.kill()
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - _MAX_STDERR))
        raise ChildDied(self.proc.returncode, self._stderr.read())

    def kill(self) -> None:
        """End the child and every program it started (LibreOffice), and remove its folder."""
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            with suppress(OSError):
                stream.close() if stream else None
        self._stderr.close()
        shutil.rmtree(self.home, ignore_errors=True)


class _Pool:
    """Idle children per set of limits, of this process only (a forked worker starts its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[Child]] = {}
        self._pid = os.getpid()

    def take(self, limits_json: str) -> Child:
        with self._lock:
            if self._pid != os.getpid():  # inherited through a fork: those children belong to the parent
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(limits_json)
            if idle:
                return idle.pop()
        return Child(limits_json)

    def give_back(self, limits_json: str, child: Child) -> None:
        with self._lock:
            idle = self._idle.setdefault(limits_json, [])
            if child.jobs < JOBS_PER_CHILD and len(idle) < _IDLE_PER_LIMITS and self._pid == os.getpid():
                idle.append(child)
                return
        child.kill()

    def close(self) -> None:
        with self._lock:
            children = [c for idle in self._idle.values() for c in idle] if self._pid == os.getpid() else []
            self._idle = {}
        for child in children:
            child.kill()


POOL = _Pool()
atexit.register(POOL.close)
