"""Why a file gave no text, in the reader's language.

The graph keeps the extractor's reason as English text (for logs and the audit trail); older versions
have no reason code. The document page never shows that text: it is matched here against the phrases
the extractors use and said again in the reader's language, or replaced by a sentence for its status.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _

_SECONDS = re.compile(r"longer than ([0-9.]+) s")
_MEBIBYTES = re.compile(r"allowed memory \(([0-9]+) MiB\)")

# First match wins: the more specific phrases come first.
_PHRASES: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("rights management",
     lambda r: _("The document is protected by rights management (DRM); its text cannot be read.")),
    ("password", lambda r: _("The document is password-protected; its text cannot be read.")),
    ("took longer than", lambda r: _("Reading the file took longer than %(seconds)s s and was stopped.",
                                     seconds=_found(_SECONDS, r))),
    ("allowed memory", lambda r: _("Reading the file needed more memory or time than allowed (%(memory_mb)s MiB).",
                                   memory_mb=_found(_MEBIBYTES, r))),
    ("too large to open safely", lambda r: _("The image is too large to open safely.")),
    ("extractor stopped", lambda r: _("The reader stopped on this file; it is probably damaged.")),
    ("libreoffice is not installed",
     lambda r: _("LibreOffice is not installed on the server, so this file cannot be read.")),
    ("ocr is not available", lambda r: _("Text recognition (OCR) is not available on the server.")),
    ("ocr found no text",
     lambda r: _("There is no text layer, and text recognition (OCR) found no text in the page images.")),
    ("ocr failed", lambda r: _("There is no text layer, and text recognition (OCR) failed.")),
    ("no text layer", lambda r: _("There is no text layer (a scan or images only).")),
    ("the file is empty", lambda r: _("The file is empty.")),
    ("safety limit", lambda r: _("The file would unpack to more than the safety limit.")),
    ("not supported for extraction", lambda r: _("Text cannot be extracted from this kind of file.")),
)

_BY_STATUS: dict[str, Callable[[], str]] = {
    "empty": lambda: _("No text was found in this file."),
    "encrypted": lambda: _("The document is password-protected; its text cannot be read."),
    "corrupt": lambda: _("The file is damaged; its text cannot be read."),
    "unsupported": lambda: _("Text cannot be extracted from this kind of file."),
}


def _found(pattern: re.Pattern[str], reason: str) -> str:
    match = pattern.search(reason)
    return match.group(1) if match else "?"


def status_reason(status: str | None, reason: str | None) -> str:
    """The reader's words for why a version with ``status`` gave no text ("" when there is nothing to say)."""
    lowered = (reason or "").lower()
    for phrase, say in _PHRASES:
        if phrase in lowered:
            return say(lowered)
    said = _BY_STATUS.get(status or "")
    return said() if said else ""
