"""Extracted text per version, kept as JSON files beside the blobs (never in the graph).

``<data_dir>/text/ab/<version_id>.json`` holds the sections (text + where it came from), the
extraction status and the metadata the extractor found. Files are replaced atomically.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.extract import Extraction, Section
from settings import Settings

_VERSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class StoredText:
    version_id: str
    status: str
    reason: str | None
    sections: list[Section] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


class TextStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Settings) -> TextStore:
        return cls(settings.data_dir / "text")

    def path(self, version_id: str) -> Path:
        if not isinstance(version_id, str) or not _VERSION_ID.match(version_id):
            raise ValueError(f"not a version id: {version_id!r}")
        return self.root / version_id[:2] / f"{version_id}.json"

    def save(self, version_id: str, extraction: Extraction) -> Path:
        target = self.path(version_id)
        payload = {
            "version_id": version_id,
            "status": extraction.status,
            "reason": extraction.reason,
            "sections": [{"text": s.text, "ref": s.ref} for s in extraction.sections],
            "metadata": extraction.metadata,
        }
        try:
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        except FileNotFoundError:  # the first text of its folder (a mkdir per save costs as much as the write)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                # One write of the whole text: ``json.dump`` writes piece by piece, several times slower.
                out.write(json.dumps(payload, ensure_ascii=False, default=str))
            os.replace(name, target)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(name)
            raise
        return target

    def load(self, version_id: str) -> StoredText | None:
        """The stored text of a version, or None when it has not been extracted (yet)."""
        try:
            payload = json.loads(self.path(version_id).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return StoredText(
            version_id=payload["version_id"],
            status=payload["status"],
            reason=payload.get("reason"),
            sections=[Section(text=s["text"], ref=s["ref"]) for s in payload.get("sections", [])],
            metadata=payload.get("metadata") or {},
        )
