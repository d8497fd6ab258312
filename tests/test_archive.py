"""The safe archive walker: zip, tar and folders, every unsafe member refused with its reason."""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_ingest_support import GBK_NAME, mixed_archive

from ingest import archive
from ingest.archive import ArchiveError, Limits, UnsafePath, safe_path


@dataclass
class Seen:
    """A member as the walk gave it, its bytes read while the walk was on it (as callers must)."""

    error: str | None
    data: bytes | None = None
    read_error: Exception | None = None


def _walk(path: Path, **limits: int | float) -> dict[str, Seen]:
    seen: dict[str, Seen] = {}
    for entry in archive.walk(path, Limits(**limits)):  # type: ignore[arg-type]
        assert entry.path not in seen, "every member appears once"
        seen[entry.path] = item = Seen(entry.error)
        try:
            with entry.open() as stream:
                item.data = stream.read()
        except Exception as error:
            item.read_error = error
    return seen


def _read(item: Seen) -> bytes:
    if item.read_error is not None:
        raise item.read_error
    assert item.data is not None
    return item.data


def test_the_mixed_zip_is_walked_safely(tmp_path: Path) -> None:
    path = tmp_path / "mixed.zip"
    expected = mixed_archive(path, tag="walk")
    entries = _walk(path)
    assert set(entries) == set(expected.stored) | set(expected.duplicates) | set(expected.failed)
    for name in (*expected.stored, *expected.duplicates):
        assert entries[name].error is None, (name, entries[name].error)
    for name, word in expected.failed.items():
        assert word in (entries[name].error or ""), (name, entries[name].error)
        assert isinstance(entries[name].read_error, ArchiveError)  # a refused member cannot be opened
    assert "第三季度会议纪要" in _read(entries[GBK_NAME]).decode("utf-8")
    assert _read(entries["nested/inner.zip/deeper/b.md"]).startswith("# 内层文档".encode())


def test_nested_archives_stop_at_the_depth_limit(tmp_path: Path) -> None:
    level3 = io.BytesIO()
    with zipfile.ZipFile(level3, "w") as zf:
        zf.writestr("deep.txt", "three levels down")
    level2 = io.BytesIO()
    with zipfile.ZipFile(level2, "w") as zf:
        zf.writestr("l3.zip", level3.getvalue())
        zf.writestr("two.txt", "two levels down")
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("l2.zip", level2.getvalue())
        zf.writestr("bad.zip", b"this is not a zip at all")
    deep = _walk(path, max_depth=3)
    assert _read(deep["l2.zip/l3.zip/deep.txt"]) == b"three levels down"
    assert "not one" in (deep["bad.zip"].error or "")
    shallow = _walk(path, max_depth=2)
    assert _read(shallow["l2.zip/two.txt"]) == b"two levels down"
    assert "nested deeper than 2" in (shallow["l2.zip/l3.zip"].error or "")


def test_tar_gz_links_traversal_gbk_names_and_nested_zip(tmp_path: Path) -> None:
    path = tmp_path / "bundle.tar.gz"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.md", "# x")

    def add(tar: tarfile.TarFile, name: str, data: bytes = b"", **kind: object) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        for key, value in kind.items():
            setattr(info, key, value)
        tar.addfile(info, io.BytesIO(data) if data else None)

    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT, encoding="gbk") as tar:
        add(tar, "docs/说明.txt", "中文名称".encode())
        add(tar, "docs/inner.zip", inner.getvalue())
        add(tar, "../../etc/cron.d/evil", b"* * * * * root sh")
        add(tar, "/abs/path.txt", b"x")
        add(tar, "docs/link", type=tarfile.SYMTYPE, linkname="/etc/shadow")
        add(tar, "docs/hard", type=tarfile.LNKTYPE, linkname="docs/说明.txt")
        add(tar, "docs/fifo", type=tarfile.FIFOTYPE)
    entries = _walk(path)
    assert _read(entries["docs/说明.txt"]) == "中文名称".encode()
    assert _read(entries["docs/inner.zip/x.md"]) == b"# x"
    assert ".." in (entries["../../etc/cron.d/evil"].error or "")
    assert "absolute" in (entries["/abs/path.txt"].error or "")
    assert "link" in (entries["docs/link"].error or "") and "link" in (entries["docs/hard"].error or "")
    assert "regular file" in (entries["docs/fifo"].error or "")


def test_folder_symlinks_inside_are_read_outside_refused(tmp_path: Path) -> None:
    root = tmp_path / "share"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "real.txt").write_text("inside")
    outside = tmp_path / "secret.txt"
    outside.write_text("outside")
    os.symlink(root / "a" / "b" / "real.txt", root / "a" / "inside-link.txt")
    os.symlink(outside, root / "a" / "outside-link.txt")
    os.symlink(tmp_path, root / "loop")
    entries = _walk(root)
    assert _read(entries["a/b/real.txt"]) == b"inside"
    assert _read(entries["a/inside-link.txt"]) == b"inside"
    assert "outside" in (entries["a/outside-link.txt"].error or "")
    assert "not followed" in (entries["loop"].error or "")
    assert set(entries) == {"a/b/real.txt", "a/inside-link.txt", "a/outside-link.txt", "loop"}


def test_bomb_limits_count_total_member_size(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(30):
            zf.writestr(f"f{i}.txt", b"a" * 1000)
    with pytest.raises(ArchiveError, match="over the limit of 20 files"):
        list(archive.walk(path, Limits(max_files=20)))
    with pytest.raises(ArchiveError, match="unpack to"):
        list(archive.walk(path, Limits(max_total_bytes=10_000)))
    entries = _walk(path, max_member_bytes=999)
    assert all("per-file limit" in (e.error or "") for e in entries.values())
    # a tar stream that inflates far beyond its compressed size is stopped as a whole
    tgz = tmp_path / "zeros.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = 8 * 1024 * 1024
        tar.addfile(info, io.BytesIO(b"\0" * info.size))
    with pytest.raises(ArchiveError, match="ratio"):
        list(archive.walk(tgz))


def test_lying_sizes_and_damage_fail_alone(tmp_path: Path) -> None:
    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("good.txt", b"good")
        zf.writestr("bad.txt", b"original bytes")
    raw = bytearray(path.read_bytes())
    at = raw.find(b"original bytes")
    raw[at:at + 8] = b"TAMPERED"  # the CRC no longer matches
    path.write_bytes(bytes(raw))
    entries = _walk(path)
    assert _read(entries["good.txt"]) == b"good"
    with pytest.raises(zipfile.BadZipFile):
        _read(entries["bad.txt"])
    not_archive = tmp_path / "plain.bin"
    not_archive.write_bytes(b"\x00\x01 nothing")
    with pytest.raises(ArchiveError, match="not a zip or tar"):
        list(archive.walk(not_archive))


def test_name_decoding_heuristics() -> None:
    def info(raw: bytes, extra: bytes = b"") -> zipfile.ZipInfo:
        made = zipfile.ZipInfo(raw.decode("cp437"))
        made.extra = extra
        return made

    assert archive.zip_member_name(info("财务报表.xlsx".encode("gbk"))) == "财务报表.xlsx"
    assert archive.zip_member_name(info("财务报表.xlsx".encode())) == "财务报表.xlsx"  # UTF-8 without the flag
    assert archive.zip_member_name(info(b"plain.txt")) == "plain.txt"
    raw = "会议.txt".encode("gbk")
    unicode_field = struct.pack("<B I", 1, zlib.crc32(raw)) + "会议纪要.txt".encode()
    extra = struct.pack("<HH", 0x7075, len(unicode_field)) + unicode_field
    assert archive.zip_member_name(info(raw, extra)) == "会议纪要.txt"
    assert archive.tar_member_name("说明.txt".encode("gbk").decode("utf-8", "surrogateescape")) == "说明.txt"


@pytest.mark.parametrize("name,reason", [
    ("../a", ".."), ("a/../../b", ".."), ("/etc/passwd", "absolute"), ("C:\\Windows\\x", "absolute"),
    ("c:x", "absolute"), ("a\\..\\..\\b", ".."), ("a\x00b", "NUL"), ("./", "empty"),
])
def test_unsafe_names(name: str, reason: str) -> None:
    with pytest.raises(UnsafePath, match=reason):
        safe_path(name)


def test_safe_names_are_normalised() -> None:
    assert safe_path("./a//b/./c.txt") == "a/b/c.txt"
    assert safe_path("财务\\2024\\报表.xlsx") == "财务/2024/报表.xlsx"


def test_a_truncated_tar_keeps_what_was_read(tmp_path: Path) -> None:
    whole = tmp_path / "whole.tar.gz"
    with tarfile.open(whole, "w:gz") as tar:
        for i in range(3):
            data = os.urandom(200_000)  # incompressible, so the cut lands inside the last member
            info = tarfile.TarInfo(f"part{i}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[:450_000])
    entries = _walk(cut)
    assert len(_read(entries["part0.bin"])) == 200_000
    assert "damaged after" in (entries["cut.tar.gz"].error or "")
    with pytest.raises(ArchiveError, match="not a zip or tar"):  # too little left to tell what it was
        list(archive.walk(_truncated(whole, tmp_path / "head.tar.gz", 100)))


def _truncated(source: Path, target: Path, size: int) -> Path:
    target.write_bytes(source.read_bytes()[:size])
    return target
