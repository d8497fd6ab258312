"""OCR and bounded extractors end to end: the CLI upload of an image of text is searchable, and a batch
with a file that makes its extractor hang still lands the other files."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from documents_helpers import People, org_graph
from helpers import run_cli
from test_ocr_legacy import text_image

from graph import document_rows
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from graph.queries import org as org_queries
from ingest import processing, uploads
from ingest.extract import limits
from ingest.textstore import TextStore
from settings import Settings

SENTENCE = "档案室将于下周三整理二〇二五年度采购合同。"


@pytest.fixture(scope="module")
def org(graph_server: EmbeddedServer) -> Iterator[FalkorStore]:
    with org_graph(graph_server) as graph:
        yield graph


@pytest.mark.slow
@pytest.mark.timeout(1200)  # two CLI processes, each loading the OCR or the embedding model
def test_cli_upload_of_an_image_of_text_is_found_by_search(store: FalkorStore, tmp_path: Path) -> None:
    username = f"scanner.{uuid.uuid4().hex[:8]}"
    store.run(org_queries.UPSERT_PEOPLE, {"rows": [{"id": f"person-{username}", "username": username,
                                                    "name": "Scan Tester", "email": f"{username}@huitong.example",
                                                    "now": 0, "password_hash": None}]})
    path = tmp_path / "notice.png"
    text_image(SENTENCE, "Archive notice: purchase contracts").save(path)
    done = run_cli("upload", str(path), "--as", username, "--wait", "--json", timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == "ok" and report["kind"] == "png"
    assert report["chunks"] > 0
    found = run_cli("search", "下周三整理采购合同", "--as", username, "--k", "20", "--json", timeout=300)
    assert found.returncode == 0, found.stderr
    assert report["document_id"] in [row["document_id"] for row in json.loads(found.stdout.strip().splitlines()[-1])]


def test_a_file_that_hangs_its_extractor_is_reported_and_the_batch_lands(
        org: FalkorStore, settings: Settings, shared_data: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = shared_data / "files" / "legacy" / "testWORD.doc"
    if not legacy.exists():
        pytest.skip("shared legacy files absent")
    owner = People(org).one("RND-PLT")["id"]
    note = tmp_path / "note.txt"
    note.write_text(f"批次中的普通文本 {uuid.uuid4().hex}", encoding="utf-8")
    made = [uploads.upload(org, settings, p, p.name, owner, "rnd", "internal", enqueue=None)
               for p in (legacy, note)]
    # LibreOffice needs seconds to start: under a 0.3 s limit it stands for a converter that hangs.
    monkeypatch.setattr(limits, "current", lambda: limits.Limits(timeout_s=0.3))
    results = processing.process_versions_now(org, settings, [u.version_id for u in made], index=False)
    hung, plain = (results[u.version_id] for u in made)
    assert not isinstance(hung, Exception) and not isinstance(plain, Exception)
    assert hung.status == "unsupported" and "longer than 0.3 s" in (hung.reason or "")
    assert plain.status == "ok"
    assert document_rows.get_document(org, made[0].document_id)["status"] == "unsupported"
    stored = TextStore.from_settings(settings).load(made[0].version_id)
    assert stored is not None and stored.metadata["reason_code"] == "extract.timeout"


@pytest.mark.parametrize(("language", "words"), [
    ("zh-CN", ["文件信息", "识别自图片/扫描件（OCR）", "尺寸", "拍摄时间", "相机", "文档受密码保护"]),
    ("en", ["About the file", "Recognised by OCR", "Dimensions", "Taken", "Camera", "password-protected"]),
])
def test_file_details_speak_the_readers_language(app, language: str, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    from flask import render_template

    meta = {"width": 1920, "height": 1080, "camera_make": "Huawei", "camera_model": "P60",
            "created": "2026-05-01T09:30:00", "ocr": {"engine": "rapidocr", "refs": ["p. 1", "p. 3"]},
            "reason_code": "extract.password", "reason_params": {}}
    with app.test_request_context("/", headers={"Accept-Language": language}):
        html = render_template("documents/_file_details.html", meta=meta)
    for word in [*words, "1920 × 1080 px", "Huawei P60", "2026-05-01 09:30:00", "p. 1, p. 3"]:
        assert word in html
    with app.test_request_context("/", headers={"Accept-Language": language}):
        media = render_template("documents/_file_details.html", meta={"duration_s": 3725.4, "codec": "AAC LC",
                                                                      "sample_rate": 44100, "channels": 2})
    assert "1:02:05" in media and "AAC LC" in media and "44100 Hz" in media
    with app.test_request_context("/", headers={"Accept-Language": language}):
        assert not render_template("documents/_file_details.html", meta={"pages": 3}).strip()
