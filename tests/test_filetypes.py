"""Content-based file type detection: binary magic, OOXML containers, OLE2, text sniffing, mismatches."""

from __future__ import annotations

import io
import os
import struct
import wave
import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest
from PIL import Image

from ingest.filetypes import (
    HEAD_SIZE,
    Category,
    FileKind,
    MismatchedFile,
    UnsupportedFile,
    detect,
    detect_file,
    guess_encoding,
)

SHARED = Path(os.environ.get("HUITONG_SHARED_DATA") or Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
CHINESE = "汇通知识图谱平台：部门协作、文档共享与语义检索。第二季度报告已经提交审批。"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _office_bytes(kind: FileKind) -> bytes:
    buf = io.BytesIO()
    if kind is FileKind.DOCX:
        document = docx.Document()
        document.add_paragraph("hello")
        document.save(buf)
    elif kind is FileKind.XLSX:
        workbook = openpyxl.Workbook()
        workbook.active["A1"] = "hello"
        workbook.save(buf)
    else:
        pptx.Presentation().save(buf)
    return buf.getvalue()


def _image_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (7, 5), "red").save(buf, format=fmt)
    return buf.getvalue()


def _zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            # ODF stores its "mimetype" entry uncompressed so that it can be read as magic.
            zf.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _ole_with_stream(name: str) -> bytes:
    # Only the header and a directory entry name matter to detection.
    return OLE_MAGIC + b"\x00" * 504 + name.encode("utf-16-le") + b"\x00" * 512


@pytest.mark.parametrize("kind", [FileKind.DOCX, FileKind.XLSX, FileKind.PPTX])
def test_ooxml_is_told_apart_by_its_parts_without_a_name(kind: FileKind) -> None:
    data = _office_bytes(kind)
    assert detect(data[:HEAD_SIZE], None) is kind
    assert detect(data[:HEAD_SIZE], "upload.bin") is kind


@pytest.mark.parametrize("kind", [FileKind.DOCX, FileKind.XLSX, FileKind.PPTX])
def test_detect_file_reads_content_types(tmp_path: Path, kind: FileKind) -> None:
    path = tmp_path / "blob"
    path.write_bytes(_office_bytes(kind))
    assert detect_file(path) is kind


def test_office_file_named_as_another_office_kind_is_a_mismatch() -> None:
    with pytest.raises(MismatchedFile) as err:
        detect(_office_bytes(FileKind.XLSX), "budget.docx")
    assert "DOCX" in str(err.value)
    assert "XLSX" in str(err.value)


def test_zip_named_pdf_is_a_mismatch_naming_both() -> None:
    data = _zip_bytes({"a.txt": b"hello"})
    with pytest.raises(MismatchedFile) as err:
        detect(data, "report.pdf")
    message = str(err.value)
    assert "report.pdf" in message
    assert "PDF" in message
    assert "zip" in message


def test_plain_zip_without_a_name_is_unsupported() -> None:
    with pytest.raises(UnsupportedFile, match="zip"):
        detect(_zip_bytes({"a.txt": b"hello"}), None)


def test_zip_renamed_docx_is_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "letter.docx"
    path.write_bytes(_zip_bytes({"notes/readme.txt": b"not a word file"}))
    with pytest.raises(MismatchedFile, match="zip archive"):
        detect_file(path)


def test_opendocument_is_unsupported_with_advice() -> None:
    data = _zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
    with pytest.raises(UnsupportedFile, match="OpenDocument text"):
        detect(data, None)


def test_pdf_detected_even_with_junk_before_header() -> None:
    assert detect(b"\r\n\x00junk" + b"%PDF-1.7\n1 0 obj", None) is FileKind.PDF
    with pytest.raises(MismatchedFile, match="PDF"):
        detect(b"%PDF-1.4\n", "slides.pptx")


@pytest.mark.parametrize(
    ("stream", "kind"),
    [
        ("WordDocument", FileKind.DOC),
        ("Workbook", FileKind.XLS),
        ("PowerPoint Document", FileKind.PPT),
        ("CONTENTS", FileKind.WPS),
    ],
)
def test_legacy_office_is_recognised_from_its_streams(stream: str, kind: FileKind) -> None:
    assert detect(_ole_with_stream(stream), None) is kind


def test_kingsoft_names_pick_within_the_legacy_family() -> None:
    assert detect(_ole_with_stream("WordDocument"), "报告.wps") is FileKind.WPS
    assert detect(_ole_with_stream("Workbook"), "预算.et") is FileKind.ET
    with pytest.raises(MismatchedFile):
        detect(_ole_with_stream("Workbook"), "报告.doc")


def test_real_legacy_xls_is_detected() -> None:
    path = SHARED / "files" / "cjk" / "chinese-provinces.xls"
    if not path.exists():
        pytest.skip(f"shared data not found at {SHARED}")
    assert detect_file(path) is FileKind.XLS


def test_encrypted_ooxml_keeps_its_named_kind() -> None:
    data = _ole_with_stream("EncryptedPackage")
    assert detect(data, "salaries.xlsx") is FileKind.XLSX
    with pytest.raises(UnsupportedFile, match="password-protected"):
        detect(data, None)


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        ("PNG", FileKind.PNG),
        ("JPEG", FileKind.JPEG),
        ("GIF", FileKind.GIF),
        ("WEBP", FileKind.WEBP),
        ("TIFF", FileKind.TIFF),
    ],
)
def test_images(fmt: str, kind: FileKind) -> None:
    data = _image_bytes(fmt)
    assert detect(data, None) is kind
    assert kind.category is Category.IMAGE
    assert not kind.has_text


def test_jpg_and_jpeg_names_are_one_kind_but_png_named_jpg_is_not() -> None:
    assert detect(_image_bytes("JPEG"), "photo.JPG") is FileKind.JPEG
    with pytest.raises(MismatchedFile, match="PNG"):
        detect(_image_bytes("PNG"), "photo.jpg")


def test_wav_audio() -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<800h", *range(800)))
    assert detect(buf.getvalue(), "memo.wav") is FileKind.WAV
    assert FileKind.WAV.category is Category.AUDIO


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Minutes of the weekly meeting.\nAll present.\n", FileKind.TXT),
        ("<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>", FileKind.HTML),
        ("<!-- saved page -->\n<html lang='zh'><body>你好</body></html>", FileKind.HTML),
        ('name,dept,budget\nLi,Finance,100\nWang,HR,200\nZhao,IT,"1,300"\n', FileKind.CSV),
        ("id\tname\n1\tA\n2\tB\n", FileKind.CSV),
        ("# Title\n\nSome text with a [link](https://example.org).\n\n## Part\n", FileKind.MD),
    ],
)
def test_text_kinds_are_sniffed_without_a_name(text: str, kind: FileKind) -> None:
    assert detect(text.encode(), None) is kind


def test_prose_with_commas_is_not_csv() -> None:
    text = "First, we met. Then we talked, at length, about it.\nNothing else happened.\nThe end, finally, came.\n"
    assert detect(text.encode(), None) is FileKind.TXT


def test_extension_decides_among_text_kinds() -> None:
    html = b"<html><body><p>hello</p></body></html>"
    assert detect(html, "page.txt") is FileKind.TXT
    assert detect(b"plain words only\n", "notes.md") is FileKind.MD
    assert detect(b"plain words only\n", "notes.html") is FileKind.HTML


def test_text_named_as_binary_kind_is_a_mismatch() -> None:
    with pytest.raises(MismatchedFile, match="text"):
        detect(b"just some words\n", "scan.pdf")


def test_unknown_binary() -> None:
    blob = bytes(range(256)) * 8
    with pytest.raises(UnsupportedFile, match="unrecognised binary"):
        detect(blob, None)
    with pytest.raises(MismatchedFile, match="unrecognised binary"):
        detect(blob, "contract.docx")


def test_empty_content() -> None:
    assert detect(b"", "empty.txt") is FileKind.TXT
    with pytest.raises(UnsupportedFile, match="empty"):
        detect(b"", None)


def test_kind_properties() -> None:
    assert FileKind.PDF.mime == "application/pdf"
    assert FileKind.XLSX.category is Category.SPREADSHEET
    assert FileKind.HTML.has_text
    assert FileKind.DOC.supported and FileKind.DOC.category is Category.DOCUMENT
    assert FileKind.MP4.category is Category.VIDEO


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (CHINESE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + CHINESE.encode("utf-8"), "utf-8-sig"),
        (CHINESE.encode("gbk"), "gb18030"),
        (CHINESE.encode("gb18030"), "gb18030"),
        (CHINESE.encode("utf-16"), "utf-16"),
        (("Quarterly report " * 20).encode("utf-16-le"), "utf-16-le"),
        (("Quarterly report " * 20).encode("utf-16-be"), "utf-16-be"),
    ],
)
def test_guess_encoding(data: bytes, expected: str) -> None:
    assert guess_encoding(data) == expected


def test_gbk_cut_mid_character_still_detected() -> None:
    data = (CHINESE * 10).encode("gbk")
    assert guess_encoding(data[:101]) == "gb18030"


def test_western_8bit_text_is_not_taken_for_chinese() -> None:
    text = "Le comité a validé le budget prévu pour l'été; la réunion est reportée à février. " * 5
    encoding = guess_encoding(text.encode("cp1252"))
    assert encoding is not None
    assert encoding != "gb18030"
    # charset-normalizer may pick a sibling 8-bit code page; the accented letters must survive.
    assert "Le comité a validé le budget prévu pour l'été" in text.encode("cp1252").decode(encoding)


def test_gbk_text_file_is_text_kind() -> None:
    assert detect(CHINESE.encode("gbk"), None) is FileKind.TXT
    assert detect(CHINESE.encode("utf-16"), "notes.txt") is FileKind.TXT
