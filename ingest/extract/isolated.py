"""Run an extractor that can hang or blow up in a child process bounded in time and memory.

OCR engines, LibreOffice and the legacy-format parsers are native code or parse hostile binary
structures: one file can loop forever, allocate without end or crash. The parent (a worker) hands the
job to a resident ``python -m ingest.extract.isolated --serve`` child in a new session (``resident.py``:
kept between files, as starting one costs more than reading a typical PDF); the child lowers its own
rlimits (address space, file size, no core dumps; a CPU budget per file) before it imports anything
heavy, and programs it starts (LibreOffice) inherit them. Past the wall-clock limit the parent kills the
whole process group. Either way the file gets a status and a reason code, and the worker goes on with the batch.
"""

from __future__ import annotations

import json
import logging
import resource
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from ingest.extract import resident
from ingest.extract.limits import Limits
from ingest.extract.model import Extraction, Section, Status
from ingest.filetypes import FileKind

log = logging.getLogger(__name__)

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
    child_limits = json.dumps(limits.inside_child().as_json(), sort_keys=True)
    try:
        child = resident.POOL.take(child_limits)
        with tempfile.TemporaryDirectory(prefix="ht-isolated-job-") as workdir:
            answer = child.ask({**job, "kind": kind.value, "workdir": workdir}, limits.timeout_s)
    except resident.ChildDied as died:
        return _outcome(kind, limits, died.returncode, b"", died.stderr)
    if answer is None:
        seconds = int(limits.timeout_s) if float(limits.timeout_s).is_integer() else limits.timeout_s
        return failure(kind, "unsupported", "extract.timeout",
                       f"extraction took longer than {seconds} s and was stopped", seconds=seconds)
    if answer.pop("recycle", False):
        child.kill()  # it ran out of memory: a fresh child for the next file
    else:
        resident.POOL.give_back(child_limits, child)
    try:
        return _decode(answer)
    except (ValueError, KeyError, TypeError):
        log.warning("extractor child answered garbage for a %s file", kind.value)
        return _outcome(kind, limits, 1, b"", b"")


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
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, _MAX_FILE_BYTES),
                         (resource.RLIMIT_CORE, 0)):
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def _cpu_budget(limits: Limits) -> None:
    """A fresh CPU budget for the next file: the soft limit (SIGXCPU) moves to what the child used so far
    plus the budget; the hard limit stays as it was, so the budget can be renewed."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + limits.timeout_s * _CPU_FACTOR) + _CPU_SLACK
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


def _serve(job: dict[str, Any], limits: Limits) -> Extraction:
    from ingest.extract import core, scans
    from ingest.extract.model import ExtractionFailure
    from ingest.ocr import OcrUnavailable

    kind, path = FileKind(job["kind"]), Path(job["path"])
    try:
        if job["op"] == "ocr_pages":
            return scans.ocr_pdf_pages(path, job["pages"], limits, job.get("password"))
        if job["op"] == "pdf_thumbnail":
            from ingest.extract.pdf_thumbnail import render_first_page

            return render_first_page(path, Path(job["target"]), int(job["size"]), limits)
        return core.extract_in_process(path, kind, job.get("password"), limits, Path(job["workdir"]))
    except ExtractionFailure as exc:
        return Extraction(kind, kind.mime, exc.status, exc.reason, [], exc.metadata())
    except OcrUnavailable as exc:
        return failure(kind, "unsupported", "extract.ocr_unavailable", f"OCR is not available: {exc}")


def serve(limits: Limits) -> None:
    """The child's loop: one job per line on stdin, one answer per line on stdout, until stdin closes
    (the parent ended). Heavy modules are imported only after the limits are lowered: they pull in the
    native libraries."""
    _lower_limits(limits)
    from ingest.extract import core, scans  # noqa: F401 - imported once, before the first file
    from ingest.ocr import OcrUnavailable  # noqa: F401

    out = sys.stdout.buffer
    out.write(b"ready\n")
    out.flush()
    for line in sys.stdin.buffer:
        _cpu_budget(limits)
        job = json.loads(line)
        try:
            answer = _encode(_serve(job, limits))
        except MemoryError:
            answer = _encode(failure(FileKind(job["kind"]), "unsupported", "extract.too_costly",
                                     f"reading the file needed more than the allowed memory ({limits.memory_mb} MiB)",
                                     memory_mb=limits.memory_mb))
            answer["recycle"] = True
        out.write(json.dumps(answer, ensure_ascii=False, default=str).encode() + b"\n")
        out.flush()


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] != "--serve":
        sys.exit("usage: python -m ingest.extract.isolated --serve LIMITS_JSON")
    try:
        serve(Limits.from_json(json.loads(sys.argv[2])))
    except MemoryError:
        print("MemoryError", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
