"""Files at rest are private: after real uploads, an archive ingest on a real worker and indexing, nothing in
a fresh data directory is readable by another account, and ``huitong check`` warns when something is."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, run_cli

from graph.private_files import loose_entries


@pytest.fixture(scope="module")
def private_dir() -> Iterator[tuple[Path, dict[str, str]]]:
    data = Path(tempfile.mkdtemp(prefix="ht-private-"))
    os.chmod(data, 0o755)  # as a careless administrator would have made it: start-up tightens it
    env = {"HUITONG_DATA_DIR": str(data), "HUITONG_SECRET_KEY": ""}
    old_umask = os.umask(0o022)  # the caller's umask must not matter: every entry point sets its own
    try:
        yield data, env
    finally:
        os.umask(old_umask)
        run_cli("stop-graph", env=env)
        shutil.rmtree(data, ignore_errors=True)


def _modes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): oct(stat.S_IMODE(p.lstat().st_mode)) for p in loose_entries(root)}


def _archive(folder: Path) -> Path:
    target = folder / "dept.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(3):
            archive.writestr(f"报告/季度-{n}.txt", f"第 {n} 季度 预算 审批 汇总 private files test {n}\n" * 20)
    target.write_bytes(buffer.getvalue())
    return target


@pytest.mark.timeout(900)  # real processes on a shared 2-core machine: minutes under load
def test_real_upload_ingest_and_index_leave_only_private_files(private_dir: tuple[Path, dict[str, str]]) -> None:
    data, env = private_dir
    done = run_cli("demo", "--documents", "4", "--no-history", env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    sample = data / "upload.txt"
    sample.write_text("汇通 上传 的 文件 只 属于 平台 账户\n" * 30, encoding="utf-8")
    done = run_cli("upload", str(sample), "--as", "admin", "--wait", "--json", env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "ok"
    sample.unlink()
    archive = _archive(Path(tempfile.mkdtemp(prefix="ht-arch-")))
    worker = subprocess.Popen(
        [sys.executable, "-m", "webapp", "worker", "--concurrency", "1"], cwd=ROOT,
        env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        done = run_cli("ingest", str(archive), "--as", "admin", "--json", "--timeout", "240", env=env, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        assert summary["ingested"] == 3, summary
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        shutil.rmtree(archive.parent, ignore_errors=True)
    # Everything the platform wrote: blobs, texts, the chunk store, vector index, graph AOF, reports, keys.
    kinds = {p.relative_to(data).parts[0] for p in data.rglob("*") if p.is_file()}
    assert {"blobs", "graph", "search", "text"} <= kinds, kinds
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert _modes(data) == {}
    check = run_cli("check", "--json", env=env)
    assert "files" not in json.loads(check.stdout).get("warnings", {}), check.stdout


def test_check_warns_about_a_loose_file(private_dir: tuple[Path, dict[str, str]]) -> None:
    data, env = private_dir
    data.mkdir(exist_ok=True)
    loose = data / "copied-in-by-hand.txt"
    loose.write_text("x")
    os.chmod(loose, 0o644)
    try:
        check = run_cli("check", "--json", env=env)
        warning = json.loads(check.stdout)["warnings"]["files"]
        assert "copied-in-by-hand.txt" in warning and "chmod -R go-rwx" in warning
    finally:
        loose.unlink()
