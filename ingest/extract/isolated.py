"""Run an extractor that can hang or blow up in a child process bounded in time and memory.

OCR engines, LibreOffice and the legacy-format parsers are native code or parse hostile binary
structures: one file can loop forever, allocate without end or crash. The parent (a worker) hands the
job to ``python -m ingest.extract.isolated`` in a new session; the child lowers its own rlimits
(address space, CPU seconds, file size, no core dumps) before it imports anything heavy, and programs
it starts (LibreOffice) inherit them. Past the wall-clock limit the parent kills the whole process
group. Either way the file gets a status and a reason code, and the worker goes on with the batch.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Any

from ingest.extract.limits import Limits
from ingest.extract.model import Extraction, Section, Status
from ingest.filetypes import FileKind

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[2]
_MAX_STDERR = 2000
# Generous beside the wall-clock limit: several threads burn CPU seconds faster than the clock.
_CPU_FACTOR, _CPU_SLACK = 4, 30
_MAX_FILE_BYTES = 1024 * 1024 * 1024


def failure(kind: FileKind | None, status: Status, code: str, reason: str, **params: Any) -> Extraction:
    """An extraction that ended without text, with a reason code the doors translate (``reason`` is the
    English text kept for logs and the audit trail)."""
    metadata = {"reason_code": code, "reason_params": params}
    return Extraction(kind, kind.mime if kind else None, status, reason, [], metadata)


def run(job: dict[str, Any], kind: FileKind, limits: Limits) -> Extraction:
    """The child's Extraction for ``job`` (see ``_serve``), or a failure naming the limit it hit."""
    with tempfile.TemporaryDirectory(prefix="ht-isolated-") as workdir:
        payload = json.dumps({**job, "kind": kind.value, "workdir": workdir,
                              "limits": limits.inside_child().as_json()}).encode()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH")) if p)}
        proc = subprocess.Popen([sys.executable, "-m", "ingest.extract.isolated"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env,
                                cwd=workdir)
        try:
            out, err = proc.communicate(payload, timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.communicate()
            seconds = int(limits.timeout_s) if float(limits.timeout_s).is_integer() else limits.timeout_s
            return failure(kind, "unsupported", "extract.timeout",
                           f"extraction took longer than {seconds} s and was stopped", seconds=seconds)
        finally:
            _kill_group(proc.pid)  # helpers the child started (LibreOffice) go with it
    return _outcome(kind, limits, proc.returncode, out, err)


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _outcome(kind: FileKind, limits: Limits, returncode: int, out: bytes, err: bytes) -> Extraction:
    if returncode == 0:
        try:
            return _decode(json.loads(out))
        except (ValueError, KeyError, TypeError):
            log.warning("extractor child answered garbage for a %s file", kind.value)
    stderr = err.decode("utf-8", "replace")[-_MAX_STDERR:]
    log.info("extractor child for a %s file ended with %s: %s", kind.value, returncode, stderr)
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL) or "MemoryError" in stderr:
        return failure(kind, "unsupported", "extract.too_costly",
                       f"reading the file needed more than the allowed memory ({limits.memory_mb} MiB) or CPU time",
                       memory_mb=limits.memory_mb)
    return failure(kind, "corrupt", "extract.crashed",
                   f"the extractor stopped on this file (exit status {returncode})", exit_status=returncode)


def _encode(extraction: Extraction) -> dict[str, Any]:
    return {"kind": extraction.kind.value if extraction.kind else None, "status": extraction.status,
            "reason": extraction.reason, "sections": [[s.text, s.ref] for s in extraction.sections],
            "metadata": extraction.metadata}


def _decode(data: dict[str, Any]) -> Extraction:
    kind = FileKind(data["kind"]) if data["kind"] else None
    return Extraction(kind, kind.mime if kind else None, data["status"], data["reason"],
                      [Section(text=t, ref=r) for t, r in data["sections"]], dict(data["metadata"]))


# -- the child -----------------------------------------------------------------------------------------------


def _lower_limits(limits: Limits) -> None:
    memory = limits.memory_mb * 1024 * 1024
    cpu = int(limits.timeout_s * _CPU_FACTOR) + _CPU_SLACK
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, _MAX_FILE_BYTES), (resource.RLIMIT_CORE, 0)):
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 5))


def _serve(job: dict[str, Any]) -> Extraction:
    limits = Limits.from_json(job["limits"])
    _lower_limits(limits)
    # Imported only now, under the limits: these pull in the native libraries.
    from ingest.extract import core, scans
    from ingest.extract.model import ExtractionFailure
    from ingest.ocr import OcrUnavailable

    kind, path = FileKind(job["kind"]), Path(job["path"])
    try:
        if job["op"] == "ocr_pages":
            return scans.ocr_pdf_pages(path, job["pages"], limits, job.get("password"))
        return core.extract_in_process(path, kind, job.get("password"), limits, Path(job["workdir"]))
    except ExtractionFailure as exc:
        return Extraction(kind, kind.mime, exc.status, exc.reason, [], exc.metadata())
    except OcrUnavailable as exc:
        return failure(kind, "unsupported", "extract.ocr_unavailable", f"OCR is not available: {exc}")


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    try:
        result = _serve(job)
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        sys.exit(3)
    sys.stdout.write(json.dumps(_encode(result), ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
