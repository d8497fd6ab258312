"""Why a member of an archive (or a whole ingest job) failed: a stable code and its parameters.

A file record keeps three things: the code, its parameters (JSON) and an English sentence. The
sentence is what the command line, the JSON/CSV reports and the logs show (their language is
English); pages word the code in the reader's language at the edge (:mod:`webapp.messages`), so the
code, not the sentence, is the contract. Technical detail (an exception's own text) travels as the
``detail`` parameter and is shown as it is, after the sentence. Records written before codes existed
hold only the sentence, and are shown as they are.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

DETAIL = "detail"

# The English sentence of every code (the CLI's and the reports' language). Pages use the msgids of the same
# codes in webapp/messages.py; tests check that both name the same codes.
ENGLISH: dict[str, str] = {
    "ingest.path_nul": "the name contains a NUL character",
    "ingest.path_absolute": "absolute path refused",
    "ingest.path_climbs": "path climbs out of the archive (..) - refused",
    "ingest.path_empty": "empty name",
    "ingest.source_missing": "%(name)s is neither a folder nor a file",
    "ingest.not_archive": "%(name)s is not a zip or tar archive (tar.gz, tgz, tar.bz2, tar.xz) nor a folder",
    "ingest.too_many_files": "the archive holds %(files)s entries; with the rest that is over the limit of "
                             "%(limit)s files",
    "ingest.archive_too_large": "the archive would unpack to %(size)s; with the rest that is over the limit of "
                                "%(limit)s",
    "ingest.file_limit": "over the limit of %(limit)s files",
    "ingest.too_large": "larger (%(size)s) than the per-file limit of %(limit)s",
    "ingest.total_limit": "the archive unpacks to more than the limit of %(limit)s",
    "ingest.ratio": "compression ratio %(ratio)s:1 is over the limit of %(limit)s:1 (possible zip bomb) - "
                    "not unpacked",
    "ingest.link_folder": "symbolic link to a folder - not followed",
    "ingest.link_outside": "symbolic link pointing outside the folder - not followed",
    "ingest.link_inside": "link inside the archive - not followed",
    "ingest.not_regular": "not a regular file (device, pipe...) - skipped",
    "ingest.unreadable": "cannot read the member",
    "ingest.too_deep": "archive nested deeper than %(limit)s levels - not unpacked",
    "ingest.nested_too_large": "nested archive larger than what is left of the %(limit)s limit",
    "ingest.nested_unreadable": "nested archive unreadable",
    "ingest.nested_longer": "nested archive is longer than its declared size - refused",
    "ingest.not_that_archive": "named like a %(format)s archive but is not one",
    "ingest.over_limits": "archive over the limits - not unpacked",
    "ingest.over_limits_after": "archive over the limits after %(seen)s entries - the rest is not unpacked",
    "ingest.damaged": "the archive is damaged",
    "ingest.damaged_after": "archive damaged after %(seen)s entries",
    "ingest.encrypted_member": "encrypted (password-protected) member - cannot be read",
    "ingest.duplicate_path": "the archive holds this path more than once; only the first copy is ingested",
    "ingest.over_size_limit": "the file is larger than the upload limit of %(limit)s",
    "ingest.store_failed": "cannot store the member",
    "ingest.missing_bytes": "the stored bytes of this file are missing",
    "ingest.document_vanished": "the document vanished while it was being ingested",
    "ingest.failed": "the file could not be ingested",
    "ingest.unknown_person": "the user is not a known, active person",
    "ingest.source_name": "the source needs a name",
}


@dataclass(frozen=True)
class Reason:
    """One refusal: ``code`` (a key of :data:`ENGLISH`, or a domain error code) and its parameters."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, **params: Any) -> Reason:
        return cls(code, params)

    @classmethod
    def failure(cls, code: str, error: BaseException, **params: Any) -> Reason:
        """``code`` with the exception's own words as the detail."""
        return cls(code, {**params, DETAIL: f"{type(error).__name__}: {error}"[:300]})

    @property
    def text(self) -> str:
        """The English sentence (what the CLI and the reports show), the detail after a colon."""
        template = ENGLISH.get(self.code, "")
        words = {k: v for k, v in self.params.items() if k != DETAIL}
        try:
            sentence = template % words if words else template
        except (KeyError, ValueError, TypeError):
            sentence = template
        detail = self.params.get(DETAIL)
        if detail:
            sentence = f"{sentence}: {detail}" if sentence else str(detail)
        return (sentence or self.code)[:500]

    def __str__(self) -> str:
        return self.text

    def record(self) -> dict[str, str]:
        """What a file or job record keeps: the sentence, the code and the parameters as JSON."""
        return {"error": self.text, "error_code": self.code,
                "error_params": json.dumps(self.params, ensure_ascii=False, default=str)}


NO_REASON: dict[str, None] = {"error": None, "error_code": None, "error_params": None}


def reason_of(error: BaseException, fallback: str = "ingest.failed") -> Reason:
    """The coded reason an exception carries (see :class:`Refusal`), else ``fallback`` with its words as the
    detail."""
    found = getattr(error, "reason", None)
    return found if isinstance(found, Reason) and found.code else Reason.failure(fallback, error)


class Refusal(ValueError):
    """An error with a :class:`Reason`; ``str`` is the English sentence (for logs and the command line).
    Made from plain words, its reason has no code (the empty one) and those words as the detail."""

    def __init__(self, reason: Reason | str) -> None:
        self.reason = reason if isinstance(reason, Reason) else Reason("", {DETAIL: reason})
        super().__init__(str(reason))


def parse_params(raw: object) -> dict[str, Any]:
    """Stored parameters (JSON text, or a map) as a dict; anything unreadable is no parameters."""
    if isinstance(raw, dict):
        return dict(raw)
    value = None
    if isinstance(raw, str) and raw:
        with suppress(ValueError):
            value = json.loads(raw)
    return value if isinstance(value, dict) else {}
