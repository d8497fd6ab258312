"""Stream names of OLE2 compound files (legacy Office, WPS/Works), read with olefile."""

from __future__ import annotations

from pathlib import Path

import olefile

# A directory with more entries than this is not an office document (and would cost time to list).
_MAX_ENTRIES = 10_000


def ole_streams(path: Path) -> set[str] | None:
    """Names of the top-level streams and storages of the compound file at ``path``, or None when it
    cannot be parsed (damaged: the extractor will say so)."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            entries = ole.listdir(streams=True, storages=True)
    except Exception:  # olefile raises plain OSError/ValueError/IndexError on damaged directories
        return None
    return {entry[0] for entry in entries[:_MAX_ENTRIES] if entry}
