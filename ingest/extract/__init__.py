"""Text and metadata extraction for every supported kind of file.

``extract(path)`` detects the kind from the content and returns an ``Extraction`` whose
``sections`` keep the document's structure (pages, headings, sheets, slides) for the chunker.
"""

from ingest.extract.core import extract
from ingest.extract.model import (
    MAX_TEXT_BYTES,
    MAX_TEXT_CHARS,
    Extraction,
    Section,
    Status,
)
from ingest.filetypes import FileKind

__all__ = ["MAX_TEXT_BYTES", "MAX_TEXT_CHARS", "Extraction", "FileKind", "Section", "Status", "extract"]
