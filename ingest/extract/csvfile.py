"""CSV/TSV: rows as tab-separated lines in blocks, each later block led again by the header row."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ingest.extract.model import Extraction, SectionBuilder, finish
from ingest.extract.plain import read_text
from ingest.filetypes import FileKind

ROWS_PER_SECTION = 200


def extract_csv(path: Path) -> Extraction:
    text, metadata = read_text(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(text[:20_000])
    lines: list[str] = []
    columns = 0
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        lines.append("\t".join(" ".join(cell.split()) for cell in row).rstrip("\t"))
        columns = max(columns, len(row))
    builder = SectionBuilder()
    for start in range(0, len(lines), ROWS_PER_SECTION):
        if builder.full:
            break
        block = lines[start : start + ROWS_PER_SECTION]
        builder.start(f"rows {start + 1}-{start + len(block)}")
        if start:
            # The header makes a block readable on its own, as the chunker will see it.
            builder.add(lines[0])
        for line in block:
            builder.add(line)
    metadata.update(rows=len(lines), columns=columns, delimiter=delimiter)
    return finish(FileKind.CSV, builder, metadata, "the file has no rows")


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","
