"""Archives for the ingestion tests: one zip holding every case the walker must handle.

(No tests here: the builders are shared by test_archive*.py and test_ingest*.py.)
"""

from __future__ import annotations

import io
import shutil
import stat
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import docx
import openpyxl

GBK_NAME = "会议纪要/第三季度总结.txt"
ZEROS = 24 * 1024 * 1024  # compresses about 1000:1


class _RawNameInfo(zipfile.ZipInfo):
    """A member whose name bytes are written as given, without the UTF-8 flag (as Windows tools do)."""

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw.decode("cp437"))
        self._raw = raw

    def _encodeFilenameFlags(self):  # zipfile's own hook
        return self._raw, self.flag_bits & ~0x800


def docx_bytes(title: str, body: str) -> bytes:
    document = docx.Document()
    document.add_heading(title, level=1)
    document.add_paragraph(body)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pdf_bytes(text: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFont("STSong-Light", 12)
    for i, line in enumerate(text.splitlines() or [text]):
        page.drawString(72, 760 - 16 * i, line)
    page.save()
    return out.getvalue()


README = b"Huitong ingestion test readme: the R&D team keeps design notes here.\n"


@dataclass(frozen=True)
class Expected:
    """What a run of the mixed archive must produce."""

    stored: tuple[str, ...]  # paths that become a document (one per distinct content)
    duplicates: tuple[str, ...]  # paths whose bytes another path already has
    failed: dict[str, str]  # path -> a word the error must contain
    unreadable: tuple[str, ...]  # stored, but extraction failed

    @property
    def files(self) -> int:
        return len(self.stored) + len(self.duplicates) + len(self.failed)


def mixed_archive(path: Path, *, tag: str = "") -> Expected:
    """The zip of the ingestion tests; ``tag`` changes every text so separate tests never share bytes."""
    mark = f" [{tag}]" if tag else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("财务/2024/预算说明.md", f"# 预算说明{mark}\n\n财务部 2024 年度预算编制说明，差旅费用上限调整。\n")
        zf.writestr("财务/2024/报表.xlsx", xlsx_bytes([["项目", "金额"], ["差旅" + mark, 12000], ["培训", 8000]]))
        zf.writestr("研发/设计/spec.docx", docx_bytes("Storage design" + mark, "The NAND controller design notes."))
        zf.writestr("研发/readme.txt", README + mark.encode())
        zf.writestr("legal/contract.pdf", pdf_bytes(f"采购合同{mark}\nSupply contract, payment in 30 days."))
        zf.writestr("dup/copy-of-readme.txt", README + mark.encode())
        zf.writestr("nested/inner.zip", inner_zip_tagged(mark))
        zf.writestr(_RawNameInfo(GBK_NAME.encode("gbk")), f"第三季度会议纪要{mark}：销售额同比增长。\n".encode())
        zf.writestr("broken/damaged.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\n" + b"\0junk" * 64
                    + mark.encode())
        zf.writestr("bomb/zeros.txt", b"\0" * ZEROS)
        zf.writestr("../evil.txt", b"escaped")
        zf.writestr("/etc/absolute.txt", b"absolute")
        link = zipfile.ZipInfo("links/passwd-link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    add_encrypted(path, "secret/salaries.txt", f"confidential salaries{mark}\n".encode())
    return Expected(
        stored=("财务/2024/预算说明.md", "财务/2024/报表.xlsx", "研发/设计/spec.docx", "研发/readme.txt",
                "legal/contract.pdf", "nested/inner.zip/a.txt", "nested/inner.zip/deeper/b.md", GBK_NAME,
                "broken/damaged.pdf"),
        duplicates=("dup/copy-of-readme.txt",),
        failed={"bomb/zeros.txt": "ratio", "../evil.txt": "..", "/etc/absolute.txt": "absolute",
                "links/passwd-link": "link", "secret/salaries.txt": "encrypted"},
        unreadable=("broken/damaged.pdf",),
    )


def inner_zip_tagged(mark: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", f"Inner archive note{mark}: quarterly logistics review for the Suzhou warehouse.\n")
        zf.writestr("deeper/b.md", f"# 内层文档{mark}\n\n嵌套压缩包里的 Markdown 文件，记录采购流程。\n")
    return out.getvalue()


def add_encrypted(archive: Path, name: str, data: bytes) -> None:
    """Append a password-protected member: with Info-ZIP's ``zip -P`` when installed (real ZipCrypto),
    else by setting the encryption flag of a stored member, which is all a reader can see before decrypting."""
    zip_tool = shutil.which("zip")
    if zip_tool:
        work = archive.parent / f".enc-{archive.stem}"
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        subprocess.run([zip_tool, "-q", "-P", "pw-1234", str(archive.resolve()), name], cwd=work, check=True)
        shutil.rmtree(work)
        return
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr(name, data)
    raw = bytearray(archive.read_bytes())
    encoded = name.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            if raw[start + name_at:start + name_at + len(encoded)] == encoded:
                raw[start + flag_at] |= 0x1
            start += 4
    archive.write_bytes(bytes(raw))


def check_first_run(summary: dict, expected: Expected) -> None:
    """The summary of the first ingestion of :func:`mixed_archive`."""
    assert summary["status"] == "done"
    assert summary["files"] == expected.files
    assert summary["ingested"] == len(expected.stored)
    assert summary["duplicates"] == len(expected.duplicates) and summary["versions"] == 0
    failed = {f["path"]: f["error"] for f in summary["failed"]}
    assert set(failed) == set(expected.failed)
    for path, word in expected.failed.items():
        assert word in failed[path], (path, failed[path])
    assert [u["path"] for u in summary["unreadable"]] == list(expected.unreadable)


def many_files(folder: Path, count: int, tag: str) -> tuple[int, int]:
    """``count`` small real files (DOCX, PDF, Markdown, text; Chinese and English) under ``folder``, every
    tenth a copy of another; returns (distinct contents, copies)."""
    distinct = copies = 0
    for i in range(count):
        sub = folder / f"dept-{i % 5}" / f"year-{2020 + i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        if i % 10 == 9:
            source = next(sub.parent.parent.rglob(f"f{i - 1:04d}.*"))
            (sub / f"copy-{i:04d}{source.suffix}").write_bytes(source.read_bytes())
            copies += 1
            continue
        text = f"{tag} 文件 {i}: 第 {i} 号报告，关于仓储与物流的季度回顾。Report {i} on logistics and storage."
        kind = i % 4
        if kind == 0:
            (sub / f"f{i:04d}.docx").write_bytes(docx_bytes(f"Report {i}", text * 20))
        elif kind == 1:
            (sub / f"f{i:04d}.pdf").write_bytes(pdf_bytes(text))
        elif kind == 2:
            (sub / f"f{i:04d}.md").write_text(f"# 报告 {i}\n\n{text * 10}\n", encoding="utf-8")
        else:
            (sub / f"f{i:04d}.txt").write_text(text * 10, encoding="utf-8")
        distinct += 1
    return distinct, copies
