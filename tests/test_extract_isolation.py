"""PDF text and audio/video metadata are read in the bounded child process: a PDF crafted to keep pypdf
busy for minutes is stopped and reported, the worker goes on, and the next file is read by a fresh child;
the reasons of files without text are said in the reader's language."""

from __future__ import annotations

import io
import struct
import time
import wave
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ingest.extract import extract
from ingest.extract.limits import Limits
from ingest.filetypes import FileKind


def _pdf(content: bytes) -> bytes:
    """A one-page PDF whose page content stream is ``content`` (deflated), with a correct cross-reference."""
    stream = zlib.compress(content, 9)
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
               b"<</Length %d/Filter/FlateDecode>>stream\n" % len(stream) + stream + b"\nendstream",
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Root 1 0 R/Size %d>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_that_keeps_pypdf_busy_is_stopped_and_the_next_file_is_read(tmp_path: Path) -> None:
    # 9 KiB on disk; 300,000 one-character lines took pypdf 289 s in a worker before it was isolated.
    hostile = tmp_path / "hostile.pdf"
    hostile.write_bytes(_pdf(b"BT /F1 12 Tf 72 712 Td " + b"(x) Tj 0 -1 Td " * 300_000 + b"ET"))
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(_pdf(b"BT /F1 12 Tf 72 712 Td (Quarterly report of the archive) Tj ET"))
    limits = Limits(ocr=False, timeout_s=2)
    started = time.perf_counter()
    stopped = extract(hostile, limits=limits)
    assert time.perf_counter() - started < 60
    assert (stopped.kind, stopped.status) == (FileKind.PDF, "unsupported")
    assert stopped.metadata["reason_code"] == "extract.timeout"
    assert stopped.metadata["reason_params"] == {"seconds": 2}
    for _ in range(2):  # a fresh child, kept for the file after
        read = extract(plain, limits=limits)
        assert read.status == "ok" and "Quarterly report of the archive" in read.text


def test_audio_is_read_in_the_child_under_the_name_it_was_uploaded_with(tmp_path: Path) -> None:
    """Blobs are named by hash: the child gets the view with the upload's extension (mutagen reads it)."""
    blob = tmp_path / "3f2a9c"
    with wave.open(str(blob), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack("<8000h", *([0] * 8000)))
    view = tmp_path / "view" / "blob.wav"
    view.parent.mkdir()
    view.symlink_to(blob)
    result = extract(view, FileKind.WAV, filename="memo.wav", limits=Limits(ocr=False, timeout_s=60))
    assert result.status == "ok"
    assert result.metadata["duration_s"] == pytest.approx(1.0)
    assert result.metadata["codec"] == "PCM"


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _mjpeg_avi(width: int, height: int, frames: int, fps: int) -> bytes:
    """A Motion-JPEG AVI (RIFF: main header, one video stream header and format, the frames)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(buffer, format="JPEG")
    frame = buffer.getvalue()
    avih = struct.pack("<14I", 1_000_000 // fps, 0, 0, 0x10, frames, 0, 1, 0, width, height, 0, 0, 0, 0)
    strh = struct.pack("<4s4sIHHIIIIIIIIhhhh", b"vids", b"MJPG", 0, 0, 0, 0, 1, fps, 0, frames, len(frame),
                       0xFFFFFFFF, 0, 0, 0, width, height)
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0)
    streams = _chunk(b"LIST", b"strl" + _chunk(b"strh", strh) + _chunk(b"strf", strf))
    header = _chunk(b"LIST", b"hdrl" + _chunk(b"avih", avih) + streams)
    movi = _chunk(b"LIST", b"movi" + b"".join(_chunk(b"00dc", frame) for _ in range(frames)))
    return _chunk(b"RIFF", b"AVI " + header + movi)


def test_video_codec_frame_size_and_rate_are_read_and_shown(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from flask import render_template

    path = tmp_path / "site-visit.avi"
    path.write_bytes(_mjpeg_avi(320, 240, frames=50, fps=25))
    result = extract(path, limits=Limits(ocr=False, timeout_s=60))
    assert (result.kind, result.status) == (FileKind.AVI, "ok")
    meta = result.metadata
    assert (meta["video_codec"], meta["width"], meta["height"], meta["frame_rate"]) == ("JPEG", 320, 240, 25)
    assert meta["duration_s"] == pytest.approx(2.0)
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        html = render_template("documents/_file_details.html", meta=meta)
    for said in ("视频编码", "JPEG", "25 帧/秒", "320 × 240 px", "0:02"):
        assert said in html


@pytest.mark.parametrize(("language", "status", "reason", "said"), [
    ("zh-CN", "encrypted", "the PDF is password-protected; a password is needed to open it", "密码"),
    ("zh-CN", "unsupported", "extraction took longer than 300 s and was stopped", "300"),
    ("zh-CN", "empty", "no text layer (a scan or images only: needs OCR)", "文字层"),
    ("zh-CN", "corrupt", "KeyError: '/Root'", "损坏"),
    ("en", "corrupt", "KeyError: '/Root'", "damaged"),
    ("en", "empty", "the file is empty", "The file is empty."),
])
def test_status_reasons_are_said_in_the_readers_language(app, language: str, status: str, reason: str,  # type: ignore[no-untyped-def]
                                                         said: str) -> None:
    from webapp.status_reasons import status_reason

    with app.test_request_context("/", headers={"Accept-Language": language}):
        text = status_reason(status, reason)
    assert said in text
    assert "KeyError" not in text
    if language == "zh-CN":
        assert not any(ch.isascii() and ch.isalpha() for ch in text), text
