"""Extraction over the real shared files (PDF ground truth, python-docx samples, CJK office files)
and generated edge cases (encodings, empty, truncated, renamed, hostile HTML, encrypted)."""

from __future__ import annotations

import functools
import io
import json
import os
import re
import struct
import wave
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from ingest.extract import Extraction, FileKind, csvfile, extract, model, ooxml
from ingest.extract.limits import Limits

SHARED = Path(os.environ.get("HUITONG_SHARED_DATA") or Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
FILES = SHARED / "files"
STATUSES = {"ok", "empty", "encrypted", "corrupt", "unsupported"}
HAN = re.compile(r"[\u4e00-\u9fff]")
CHINESE = "汇通知识图谱平台：部门协作、文档共享与语义检索。第二季度报告已经提交审批。"


@functools.cache
def _extract_shared(path: Path, password: str | None = None) -> Extraction:
    # Several tests read the same shared files; extracting each once keeps the suite fast.
    return extract(path, password=password)


def _shared(*parts: str) -> Path:
    path = FILES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (set HUITONG_SHARED_DATA)")
    return path


def _pdf_ground_truth() -> list[dict]:
    truth = FILES / "pdf" / "files.json"
    if not truth.exists():
        return []
    return json.loads(truth.read_text(encoding="utf-8"))["data"]


def _pdf_bytes(pages: list[str]) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf)
    pdf.setTitle("Quarterly report")
    pdf.setAuthor("Finance")
    for text in pages:
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


# --- shared PDFs: every entry of files.json ---------------------------------------------------

# The page tree (object 172) of this sample lies in a zeroed region of the file: pypdf cannot
# find its pages, and the extraction must say so rather than guess.
DAMAGED = {"017-unreadable-meta-data/unreadablemetadata.pdf": "/Pages"}
PASSWORDS = {"005-libreoffice-writer-password/libreoffice-writer-password.pdf": "openpassword"}


@pytest.mark.parametrize("entry", _pdf_ground_truth() or [None], ids=lambda e: e["path"] if e else "no-data")
def test_shared_pdf_matches_ground_truth(entry: dict | None) -> None:
    if entry is None:
        pytest.skip(f"shared data not found under {FILES} (set HUITONG_SHARED_DATA)")
    path = FILES / "pdf" / entry["path"]
    if not path.exists():
        pytest.skip(f"{entry['path']} is listed in files.json but not shipped (README: over 4 MB upstream)")
    if entry["path"] in DAMAGED:
        result = _extract_shared(path)
        assert result.status == "corrupt"
        assert DAMAGED[entry["path"]] in (result.reason or "")
        return
    if entry["encrypted"]:
        locked = _extract_shared(path)
        assert locked.status == "encrypted"
        assert "password" in (locked.reason or "")
        assert not locked.sections
        result = _extract_shared(path, PASSWORDS[entry["path"]])
    else:
        result = _extract_shared(path)
    assert result.kind is FileKind.PDF
    assert result.status in ("ok", "empty"), result.reason
    assert result.metadata["pages"] == entry["pages"]
    assert result.metadata["encrypted"] is entry["encrypted"]
    # One section per page with text, in page order, each citing its page.
    numbers = [int(s.ref.removeprefix("p. ")) for s in result.sections]
    assert numbers == sorted(numbers)
    assert all(1 <= n <= entry["pages"] for n in numbers)
    if result.status == "empty":
        assert "OCR" in (result.reason or "")
    # files.json's producer/date for the encrypted sample do not match its Info dictionary
    # (which says LibreOffice 6.4, 20:35:52): compare them on the others only.
    if not entry["encrypted"]:
        if entry["producer"] not in (None, "?"):
            assert result.metadata.get("producer") == entry["producer"]
        if entry["creation_date"]:
            assert result.metadata["created"][:19] == entry["creation_date"][:19]


def test_pdf_text_per_page() -> None:
    result = extract(_shared("pdf", "004-pdflatex-4-pages", "pdflatex-4-pages.pdf"))
    assert [s.ref for s in result.sections] == ["p. 1", "p. 2", "p. 3", "p. 4"]
    assert "Hello, here is some text without a meaning" in result.sections[0].text
    assert result.text.startswith(result.sections[0].text)


def test_pdf_owner_password_and_wrong_password() -> None:
    path = _shared("pdf", "005-libreoffice-writer-password", "libreoffice-writer-password.pdf")
    wrong = extract(path, password="not-it")
    assert wrong.status == "encrypted"
    assert "wrong" in (wrong.reason or "")
    owner = extract(path, password="permissionpassword")
    assert owner.status == "ok"
    assert "Lorem ipsum" in owner.text


def test_scanned_pdf_is_empty_with_reason_without_ocr() -> None:
    result = extract(_shared("pdf", "019-grayscale-image", "grayscale-image.pdf"), limits=Limits(ocr=False))
    assert result.status == "empty"
    assert result.metadata["pages"] == 1


# --- shared DOCX -------------------------------------------------------------------------------


def _docx_files() -> list[Path]:
    return sorted((FILES / "docx").rglob("*.docx")) or [Path("no-data")]


@pytest.mark.parametrize("path", _docx_files(), ids=lambda p: p.name)
def test_shared_docx_extracts_or_says_why(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"shared data not found under {FILES} (set HUITONG_SHARED_DATA)")
    result = _extract_shared(path)
    assert result.kind is FileKind.DOCX
    # Every sample is a valid Word file: some simply hold no text (blank, images only, empty tables).
    assert result.status in ("ok", "empty"), result.reason
    if result.status == "empty":
        assert result.reason
        assert not result.sections
    else:
        assert result.text.strip()
        assert all(s.ref for s in result.sections)


def test_docx_tables_and_headings() -> None:
    tables = extract(_shared("docx", "features", "steps", "test_files", "tbl-having-applied-style.docx"))
    assert tables.status == "ok"
    assert "\t" in tables.text
    styled = extract(_shared("docx", "features", "steps", "test_files", "par-known-styles.docx"))
    assert len(styled.sections) >= 2
    assert any(s.ref != "body" for s in styled.sections)


def test_generated_docx_sections_follow_heading_path(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "预算说明"
    document.core_properties.author = "财务部"
    document.add_paragraph("导言：本文说明预算。")
    document.add_heading("总则", level=1)
    document.add_paragraph("第一条 适用范围。")
    document.add_heading("审批", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "部门", "金额"
    table.cell(1, 0).text, table.cell(1, 1).text = "财务", "100"
    document.add_heading("附则", level=1)
    document.add_paragraph("本办法自发布之日起施行。")
    path = tmp_path / "budget.docx"
    document.save(str(path))

    result = extract(path)
    assert result.status == "ok"
    assert [s.ref for s in result.sections] == ["body", "总则", "总则 > 审批", "附则"]
    assert "部门\t金额\n财务\t100" in result.sections[2].text
    assert result.metadata["title"] == "预算说明"
    assert result.metadata["author"] == "财务部"
    assert result.metadata["created"]


# --- shared CJK files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "phrases", "min_han"),
    [
        ("stress009.docx", FileKind.DOCX, ["NANDrive 微型固态硬盘设计方案", "固态硬盘", "技术规格"], 850),
        ("stress020.xlsx", FileKind.XLSX, ["2019年泰州市7月份银行业金融机构存贷款情况", "本外币各项存款"], 150),
        ("chinese-tables.pdf", FileKind.PDF, ["盐城"], 400),
        ("test_4182.pdf", FileKind.PDF, ["数字"], 1300),
    ],
)
def test_cjk_files_give_chinese_text(name: str, kind: FileKind, phrases: list[str], min_han: int) -> None:
    result = _extract_shared(_shared("cjk", name))
    assert result.kind is kind
    assert result.status == "ok", result.reason
    for phrase in phrases:
        assert phrase in result.text
    assert len(HAN.findall(result.text)) >= min_han
    assert "\ufffd" not in result.text


def test_cjk_pptx_keeps_japanese() -> None:
    result = extract(_shared("cjk", "with_japanese.pptx"))
    assert result.status == "ok"
    assert result.sections[0].ref == "slide 1"
    assert re.search(r"[\u3040-\u30ff]", result.text)  # kana
    assert result.metadata["slides"] == len(result.sections)


def test_cjk_legacy_xls_gives_chinese_text() -> None:
    result = extract(_shared("cjk", "chinese-provinces.xls"))
    assert (result.status, result.kind) == ("ok", FileKind.XLS)
    assert "安徽省" in result.text


def test_no_shared_file_crashes_extraction() -> None:
    # The legacy folder has its own, stricter test (test_ocr_legacy.py): each file there costs a child process.
    paths = [p for p in sorted(_shared().rglob("*")) if p.is_file() and p.parent.name not in ("retrieval", "legacy")]
    assert paths
    for path in paths:
        result = _extract_shared(path)
        assert result.status in STATUSES, path
        assert (result.reason is None) == (result.status == "ok"), path


# --- generated edge cases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("gbk", b""), ("gb18030", b""), ("utf-16", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b"")],
)
def test_chinese_text_in_any_encoding(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(prefix + (CHINESE + "\r\n第二行。\r\n").encode(encoding))
    result = extract(path)
    assert result.status == "ok"
    assert result.kind is FileKind.TXT
    assert result.text == CHINESE + "\n第二行。"
    assert result.sections[0].ref == "lines 1-3"


def test_long_text_is_cut_into_line_blocks(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("\n".join(f"line {i}" for i in range(1, 451)), encoding="utf-8")
    result = extract(path)
    assert [s.ref for s in result.sections] == ["lines 1-200", "lines 201-400", "lines 401-450"]


def test_text_cap_truncates_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model, "MAX_TEXT_CHARS", 1000)
    path = tmp_path / "big.txt"
    path.write_text("数据" * 5000, encoding="utf-8")
    result = extract(path)
    assert result.status == "ok"
    assert len(result.text) <= 1000
    assert result.metadata["truncated"] is True


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing.pdf"
    path.write_bytes(b"")
    result = extract(path)
    assert result.status == "empty"
    assert result.kind is FileKind.PDF
    assert result.reason == "the file is empty"


def test_whitespace_only_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n\t\n", encoding="utf-8")
    result = extract(path)
    assert result.status == "empty"
    assert result.reason


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    data = _pdf_bytes([f"Page {i} of the quarterly report" for i in range(1, 6)])
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    result = extract(path)
    assert result.kind is FileKind.PDF
    assert result.status == "corrupt"
    assert result.reason
    assert not result.sections


def test_generated_pdf_metadata(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(_pdf_bytes(["First page", "Second page"]))
    result = extract(path)
    assert [s.text for s in result.sections] == ["First page", "Second page"]
    assert result.metadata["title"] == "Quarterly report"
    assert result.metadata["author"] == "Finance"
    assert result.metadata["pages"] == 2
    assert "ReportLab" in result.metadata["producer"]


def test_aes_encrypted_pdf(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf_bytes(["机密 secret figures"]))))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="AES-256")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    assert extract(path).status == "encrypted"
    opened = extract(path, password="s3cret")
    assert opened.status == "ok"
    assert "secret figures" in opened.text


def test_permissions_only_pdf_opens_without_password(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf_bytes(["open to read"]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    path = tmp_path / "restricted.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    result = extract(path)
    assert result.status == "ok"
    assert result.metadata["encrypted"] is True
    assert "open to read" in result.text


def test_zip_renamed_docx_is_unsupported_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "contract.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("photos/readme.txt", "holiday pictures")
    result = extract(path)
    assert result.status == "unsupported"
    assert "DOCX" in (result.reason or "")
    assert "zip archive" in (result.reason or "")
    assert result.metadata["named_as"] == "docx"
    # Forcing the kind reaches the DOCX reader, which must report, not raise.
    forced = extract(path, FileKind.DOCX)
    assert forced.status == "corrupt"
    assert "word/document.xml" in (forced.reason or "")


def test_broken_xml_inside_docx_is_corrupt(tmp_path: Path) -> None:
    source = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("fine")
    document.save(source)
    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    result = extract(path)
    assert result.status == "corrupt"
    assert result.reason


def test_encrypted_office_document(tmp_path: Path) -> None:
    path = tmp_path / "salaries.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le"))
    result = extract(path)
    assert result.kind is FileKind.XLSX
    assert result.status == "encrypted"
    assert "password" in (result.reason or "")


def test_zip_bomb_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = docx.Document()
    document.add_paragraph("x" * 10_000)
    path = tmp_path / "large.docx"
    document.save(str(path))
    monkeypatch.setattr(ooxml, "MAX_UNPACKED_BYTES", 1000)
    result = extract(path)
    assert result.status == "unsupported"
    assert "safety limit" in (result.reason or "")


def test_html_drops_scripts_and_splits_at_headings(tmp_path: Path) -> None:
    page = """<!DOCTYPE html><html><head><meta charset="gb2312"><title>部门公告</title>
    <style>body { color: red }</style><script>var secret = "do-not-index";</script></head>
    <body><nav>首页</nav><h1>通知</h1><p>请各部门<b>周五</b>前提交报告。<br>谢谢。</p>
    <script>alert("also hidden")</script>
    <h2>附件</h2><table><tr><th>名称</th><th>大小</th></tr><tr><td>报告.pdf</td><td>2 MB</td></tr></table>
    <noscript>enable js</noscript></body></html>"""
    path = tmp_path / "notice.html"
    path.write_bytes(page.encode("gbk"))
    result = extract(path)
    assert result.status == "ok"
    assert result.kind is FileKind.HTML
    assert result.metadata["title"] == "部门公告"
    assert result.metadata["encoding"] == "gb18030"
    text = result.text
    assert "do-not-index" not in text
    assert "also hidden" not in text
    assert "color: red" not in text
    assert "enable js" not in text
    assert [s.ref for s in result.sections] == ["body", "通知", "通知 > 附件"]
    assert "请各部门周五前提交报告。\n谢谢。" in text
    assert "名称\t大小\n报告.pdf\t2 MB" in result.sections[2].text


def test_markdown_sections_ignore_code_fences(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(
        "Intro line.\n\n# 安装\n\nRun it:\n\n```sh\n# not a heading\n```\n\n"
        "## 配置\n\nSet it.\n\nUsage\n-----\nUse it.\n",
        encoding="utf-8",
    )
    result = extract(path)
    assert [s.ref for s in result.sections] == ["body", "安装", "安装 > 配置", "安装 > Usage"]
    assert "# not a heading" in result.sections[1].text
    assert result.metadata["title"] == "安装"


def test_csv_blocks_repeat_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvfile, "ROWS_PER_SECTION", 3)
    rows = ["姓名,部门,预算", *(f"员工{i},财务部,{i * 100}" for i in range(1, 6))]
    path = tmp_path / "budget.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    result = extract(path)
    assert result.status == "ok"
    assert [s.ref for s in result.sections] == ["rows 1-3", "rows 4-6"]
    assert result.sections[1].text.splitlines()[0] == "姓名\t部门\t预算"
    assert "员工5\t财务部\t500" in result.text
    assert result.metadata["rows"] == 6
    assert result.metadata["columns"] == 3


def test_xlsx_sheets_and_rows(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "收入"
    sheet.append(["月份", "金额"])
    sheet.append(["一月", 1200.0])
    workbook.create_sheet("空表")
    workbook.create_sheet("支出").append(["房租", 300])
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    result = extract(path)
    assert result.status == "ok"
    assert [(s.ref, s.text) for s in result.sections] == [("收入", "月份\t金额\n一月\t1200"), ("支出", "房租\t300")]
    assert result.metadata["sheets"] == 3


def test_pptx_slides_with_notes(tmp_path: Path) -> None:
    presentation = pptx.Presentation()
    for title in ("季度回顾", "下一步"):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"{title}的要点"
    presentation.slides[1].notes_slide.notes_text_frame.text = "讲者备注"
    path = tmp_path / "deck.pptx"
    presentation.save(str(path))
    result = extract(path)
    assert [s.ref for s in result.sections] == ["slide 1", "slide 2"]
    assert "季度回顾的要点" in result.sections[0].text
    assert "Notes: 讲者备注" in result.sections[1].text
    assert result.metadata["slides"] == 2


def test_image_metadata_and_truncated_image(tmp_path: Path) -> None:
    image = Image.new("RGB", (640, 480), "blue")
    exif = Image.Exif()
    exif[0x013B] = "张三"
    path = tmp_path / "photo.jpg"
    image.save(path, format="JPEG", exif=exif)
    result = extract(path)
    assert (result.status, result.kind) == ("ok", FileKind.JPEG)
    assert (result.metadata["width"], result.metadata["height"]) == (640, 480)
    assert not result.sections

    png = tmp_path / "chart.png"
    Image.new("RGB", (300, 200), "white").save(png)
    data = png.read_bytes()
    png.write_bytes(data[: len(data) - 30])
    broken = extract(png)
    assert broken.kind is FileKind.PNG
    assert broken.status == "corrupt"


def test_wav_duration(tmp_path: Path) -> None:
    path = tmp_path / "memo.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<16000h", *([0] * 16000)))
    result = extract(path)
    assert result.status == "ok"
    assert result.kind is FileKind.WAV
    assert result.metadata["duration_s"] == pytest.approx(2.0)
    assert result.metadata["sample_rate"] == 8000


def test_random_binary_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 64)
    result = extract(path)
    assert result.status == "unsupported"
    assert result.kind is None


def test_extraction_text_joins_sections() -> None:
    result = Extraction(FileKind.TXT, "text/plain", "ok", None, [model.Section("a", "x"), model.Section("b", "y")])
    assert result.text == "a\n\nb"
