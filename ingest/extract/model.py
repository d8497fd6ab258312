"""What an extraction yields, and the budget that keeps one file from flooding the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ingest.filetypes import FileKind

Status = Literal["ok", "empty", "encrypted", "corrupt", "unsupported"]

# About 2,500 pages of prose: beyond this a file is an export or a dump, and the rest of it would
# crowd every other document out of the index. The cut is reported in metadata["truncated"].
MAX_TEXT_CHARS = 5_000_000
# Plain-text formats are read whole; this bounds the read (the char cap then applies).
MAX_TEXT_BYTES = 64 * 1024 * 1024
SECTION_JOINER = "\n\n"


@dataclass(frozen=True, slots=True)
class Section:
    """A stretch of text with where it came from ("p. 3", "slide 2", "Intro > Scope", a sheet)."""

    text: str
    ref: str


@dataclass(slots=True)
class Extraction:
    kind: FileKind | None
    mime: str | None
    status: Status
    reason: str | None = None
    sections: list[Section] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return SECTION_JOINER.join(s.text for s in self.sections)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class ExtractionFailure(Exception):
    """Raised inside an extractor to end it with a given status and reason."""

    def __init__(self, status: Status, reason: str, code: str | None = None, **params: Any) -> None:
        super().__init__(reason)
        self.status: Status = status
        self.reason = reason
        # A code (and its parameters) lets the doors say the reason in the reader's language.
        self.code = code
        self.params = params

    def metadata(self) -> dict[str, Any]:
        return {"reason_code": self.code, "reason_params": self.params} if self.code else {}


class SectionBuilder:
    """Collects text into sections under a character budget.

    Structured formats call ``start(ref)`` per page/sheet/slide; heading-structured ones call
    ``heading(level, title)`` and get the heading path (``"Intro > Scope"``) as ref.
    """

    def __init__(self, default_ref: str = "", max_chars: int | None = None) -> None:
        self._sections: list[Section] = []
        self._ref = default_ref
        self._lines: list[str] = []
        self._headings: list[tuple[int, str]] = []
        self._left = MAX_TEXT_CHARS if max_chars is None else max_chars
        self.truncated = False

    @property
    def full(self) -> bool:
        return self.truncated

    def start(self, ref: str) -> None:
        self._flush()
        self._ref = ref

    def heading(self, level: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            return
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, title))
        self.start(" > ".join(t for _, t in self._headings))
        self.add(title)

    def add(self, text: str) -> None:
        if self.truncated or not text.strip():
            return
        if len(text) > self._left:
            text = text[: self._left]
            self.truncated = True
        self._left -= len(text) + 1
        self._lines.append(text)
        if self._left <= 0:
            self.truncated = True

    def sections(self) -> list[Section]:
        self._flush()
        return self._sections

    def _flush(self) -> None:
        text = "\n".join(self._lines).strip()
        if text:
            self._sections.append(Section(text=text, ref=self._ref))
        self._lines = []


def finish(kind: FileKind, builder: SectionBuilder, metadata: dict[str, Any], empty_reason: str) -> Extraction:
    """The Extraction of a file read to the end: "ok" with text, else "empty" with a reason."""
    sections = builder.sections()
    if builder.truncated:
        metadata["truncated"] = True
    metadata = {k: v for k, v in metadata.items() if v not in (None, "")}
    if not sections and kind.has_text:
        return Extraction(kind, kind.mime, "empty", empty_reason, [], metadata)
    return Extraction(kind, kind.mime, "ok", None, sections, metadata)
