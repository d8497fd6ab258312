"""File names as people send them are not fit to store: one cleaner for every way a file comes in.

A name with CR/LF once made every later download of its document answer 500 (a header cannot hold a line
break); path parts (``../../x``, ``C:\\x``) and invisible characters (a right-to-left override turns
``report‮fdp.exe`` into something that reads like a PDF) mislead whoever sees it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

MAX_FILENAME_CHARS = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean_filename(name: object, max_chars: int = MAX_FILENAME_CHARS) -> str:
    """The last path part of ``name``, without control or invisible format characters; "" when nothing is left."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = _CONTROL.sub(" ", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # bidi overrides, zero-width marks
    text = PurePosixPath(text.replace("\\", "/")).name.strip()
    if text in (".", ".."):
        return ""
    if len(text) > max_chars:  # keep the extension: it decides how the file is opened
        suffix = PurePosixPath(text).suffix[:16]
        text = text[: max_chars - len(suffix)] + suffix
    return text
