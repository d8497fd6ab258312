"""Why an archive member (or a whole ingest job) failed: stored as a code and parameters, worded on the page in
the reader's language; the English sentence stays for the command line and the reports; records written before
codes existed are shown as they were stored; parameters never inject markup."""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from test_ingest_support import add_encrypted
from ui_support import english_words

from graph.falkordb_backend import FalkorStore
from ingest import archive, jobs
from ingest.reasons import ENGLISH, Reason
from settings import Settings
from webapp.i18n import babel
from webapp.messages import MESSAGES, stored_message
from webapp.views.ingest import failure_reason

SAMPLE = {"name": "报表.zip", "files": 120, "limit": "20", "size": "3.0 GiB", "ratio": "500", "seen": 7,
          "format": "zip"}
CJK = re.compile(r"[\u4e00-\u9fff]")
DETAIL_SPAN = re.compile(r' <span class="reason-detail" translate="no">.*?</span>')


@pytest.fixture(scope="module")
def words() -> Iterator[Flask]:
    """The app's catalogue without the app: the package's own translations, as the command line finds them."""
    app = Flask("webapp.messages")
    babel.init_app(app)
    with app.test_request_context():
        yield app


def _said(language: str, code: str | None, params: object, text: str | None = None) -> str:
    with force_locale(language):
        return str(stored_message(code, params, text))


def test_every_code_has_an_english_sentence_and_a_page_message() -> None:
    page_codes = {code for code in MESSAGES if code.startswith("ingest.")}
    assert page_codes == set(ENGLISH)


@pytest.mark.parametrize("code", sorted(ENGLISH))
def test_each_code_reads_in_chinese_and_in_english(words: Flask, code: str) -> None:
    params = json.dumps(SAMPLE | {"detail": "OSError: [Errno 5] Input/output error"}, ensure_ascii=False)
    chinese, english = _said("zh_Hans_CN", code, params), _said("en", code, params)
    for said in (chinese, english):
        assert "%(" not in said and code not in said
        assert said.endswith('<span class="reason-detail" translate="no">OSError: [Errno 5] Input/output error</span>')
    sentence = DETAIL_SPAN.sub("", chinese)
    assert CJK.search(sentence) and not english_words(f"<p>{sentence}</p>", {"报表.zip"}), sentence
    assert not CJK.search(DETAIL_SPAN.sub("", english).replace("报表.zip", "")) and english != chinese
    assert _said("zh_Hans_CN", code, {})  # parameters lost: still a sentence, no error


def test_the_english_sentences_keep_their_words() -> None:
    assert Reason.of("ingest.encrypted_member").text == "encrypted (password-protected) member - cannot be read"
    assert Reason.of("ingest.too_deep", limit=3).text == "archive nested deeper than 3 levels - not unpacked"
    failure = Reason.failure("ingest.unreadable", OSError("disk on fire"))
    assert failure.text == "cannot read the member: OSError: disk on fire"
    record = failure.record()
    assert record["error_code"] == "ingest.unreadable" and json.loads(record["error_params"]) == failure.params
    assert Reason.of("upload.mismatched", filename="a.pdf", detail="named PDF, holds EXE").text == \
        "named PDF, holds EXE"  # another area's code: its own words are the sentence


def test_records_without_a_known_code_show_their_stored_text(words: Flask) -> None:
    legacy = "encrypted (password-protected) member - cannot be read"
    assert _said("zh_Hans_CN", None, None, legacy) == legacy
    assert _said("zh_Hans_CN", "ingest.from_the_future", '{"x": 1}', legacy) == legacy
    assert _said("en", None, "not json", "<b>old</b>") == "&lt;b&gt;old&lt;/b&gt;"
    assert _said("zh_Hans_CN", None, None, None) == ""
    with force_locale("zh_Hans_CN"):
        assert str(failure_reason({"path": "a.txt", "error": legacy})) == legacy
        assert "加密" in str(failure_reason({"error": legacy, "error_code": "ingest.encrypted_member",
                                             "error_params": "{}"}))


def test_hostile_parameters_are_escaped(words: Flask) -> None:
    hostile = {"name": "<script>alert(1)</script>.zip", "detail": '<script>alert("x")</script>'}
    for language in ("zh_Hans_CN", "en"):
        said = _said(language, "ingest.not_archive", json.dumps(hostile))
        assert "<script>" not in said and said.count("&lt;script&gt;") == 2, said
    broken = _said("zh_Hans_CN", "ingest.too_large", '{"size": "%(limit)s", "limit": "<i>"}')
    assert "<i>" not in broken and "&lt;i&gt;" in broken


def test_the_walker_gives_codes(tmp_path: Path) -> None:
    path = tmp_path / "refusals.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../evil.txt", "escaped")
    add_encrypted(path, "secret/pay.txt", b"confidential")
    codes = {e.path: e.reason.code if e.reason else None for e in archive.walk(path)}
    assert codes == {"ok.txt": None, "../evil.txt": "ingest.path_climbs", "secret/pay.txt": "ingest.encrypted_member"}
    with pytest.raises(archive.ArchiveError) as refused:
        archive.source_kind(tmp_path / "nothing-here", "上传.zip")
    assert refused.value.reason == Reason.of("ingest.source_missing", name="上传.zip")


def test_a_job_stores_codes_and_its_page_words_them(app: Flask, org: FalkorStore, owner: dict, settings: Settings,
                                                    tmp_path: Path) -> None:
    path = tmp_path / f"原因{uuid.uuid4().hex[:6]}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("财务/说明.md", f"# 说明 {uuid.uuid4()}\n")
        zf.writestr("../evil.txt", "escaped")
    add_encrypted(path, "secret/pay.txt", b"confidential")
    options = jobs.JobOptions(index=False)
    started = jobs.start_job(org, settings, path, owner["id"], options)
    queued: list[list[str]] = []
    jobs.plan_job(org, settings, started.id, lambda job_id, ids, queue: queued.append(ids))
    for ids in queued:
        jobs.run_batch(org, settings, started.id, ids)
    summary = jobs.summary(org, started.id)
    failed = {f["path"]: f for f in summary["failed"]}
    assert {p: f["error_code"] for p, f in failed.items()} == {"../evil.txt": "ingest.path_climbs",
                                                               "secret/pay.txt": "ingest.encrypted_member"}
    assert "encrypted" in failed["secret/pay.txt"]["error"]  # the report's sentence stays readable English
    rows = {r["path"]: r for r in jobs.report_rows(org, started.id)}
    assert rows["../evil.txt"]["error_code"] == "ingest.path_climbs" and rows["财务/说明.md"]["error_code"] is None
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        said = [str(failure_reason(f)) for f in jobs.progress(org, started.id).failures]
    assert len(said) == 2 and all(CJK.search(s) and not english_words(f"<p>{s}</p>", set()) for s in said), said

    # a whole job that fails (its source is no archive any more when it is walked): the job's reason is worded too
    broken = tmp_path / "broken.zip"
    broken.write_bytes(path.read_bytes())
    second = jobs.start_job(org, settings, broken, owner["id"], options)
    broken.write_text("no longer an archive")
    with pytest.raises(jobs.JobError):
        jobs.plan_job(org, settings, second.id, lambda job_id, ids, queue: None)
    job = jobs.get_job(org, second.id)
    assert job is not None and job["status"] == "failed" and job["error_code"] == "ingest.not_archive"
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert "不是" in str(failure_reason(job)) and "broken.zip" in str(failure_reason(job))


def test_a_comparison_with_an_empty_side_says_so_in_the_readers_words() -> None:
    from ingest.versiondiff import diff_texts

    first = diff_texts("", "第一行\n第二行")
    assert first.old_empty and not first.new_empty and first.added == 2
    assert "Empty File" not in first.html and "No Differences Found" not in first.html
    same = diff_texts("", "")
    assert same.identical and same.old_empty and same.new_empty and "No Differences" not in same.html
    assert not diff_texts("a", "b").old_empty


def test_the_empty_side_note_is_translated(words: Flask) -> None:
    from flask import render_template

    from ingest.versiondiff import diff_texts

    with force_locale("zh_Hans_CN"):
        page = render_template("documents/_diff_result.html", diff=diff_texts("旧的文字", ""))
    assert "较新的版本没有任何文字。" in page and "holds no text" not in page
