"""No 500 anywhere: every route of ``app.url_map`` gets Hypothesis-generated path, query and form values (GET, and
POST with a valid CSRF token) from a signed-in member — and the admin routes from an administrator — on a graph
of its own. Values are what attackers and clumsy clients send: NUL and control bytes, CR/LF, overlong and CJK
text, huge and negative numbers, far-future dates, hostile redirect targets, path traversal.

The parameter names come from the views' own source (``request.args.get("x")``...), so new parameters are fuzzed
without touching this file. Examples per route are bounded (and derandomised) so the whole walk stays short.
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from web_support import ADMIN_PASSWORD, PASSWORD, csrf_token, random_address, sign_in

from graph import accounts
from graph.demo_org import load_demo_org
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from ingest import uploads
from settings import Settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = 4  # random examples per route, on top of the fixed sweep of PROBES
# Every route first gets each of these in every parameter at once (path included): the classic 500s.
PROBES = ("a\x00b", "\r\nSet-Cookie: x=1", "275760-09-13", "99999999999999999999", "/\\evil.example", "财务" * 3000)
# Streams never end (their own tests read them with a timeout); logout would end the fuzzing session.
SKIP = {"events.stream", "documents.stream", "account.logout", "static"}
COMMON_NAMES = ("page", "q", "next", "version", "since", "until", "k")
_NAME = re.compile(r"""request\.(?:args|form|values)\.(?:get|getlist)\(\s*["']([A-Za-z0-9_\-\[\]]+)["']""")
_PARSE = re.compile(r"""(?:get|getlist|_arg|_param|args|one|many|value)\(\s*["']([a-z][a-z0-9_]{0,30})["']""")

HOSTILE = [
    "\x00", "a\x00b", "\r\nSet-Cookie: x=1", "\x1b[31m", "\u202eexe.pdf", "../../../../etc/passwd", "..\\..\\win.ini",
    "/\\evil.example", "//evil.example", "https://evil.example/", "javascript:alert(1)", "=cmd|' /C calc'!A0",
    "275760-09-13", "9999-12-31", "10000-01-01", "0000-00-00", "-1", "0", "99999999999999999999999", "1e308",
    "NaN", "' OR 1=1 --", "MATCH (n) DETACH DELETE n", "${7*7}{{7*7}}", "<script>alert(1)</script>", "财务" * 3000,
    "x" * 20000, "%00", "%0d%0a", "\ud7ff", "𠀀𠀁", " ", "",
]
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.dates().map(str),
)


def _names_in(path: str) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    return sorted(set(_NAME.findall(text)) | set(_PARSE.findall(text)))


@pytest.fixture(scope="module")
def fuzz_app(settings: Settings, graph_server: EmbeddedServer):  # type: ignore[no-untyped-def]
    from webapp import create_app

    name = f"fuzz_{uuid.uuid4().hex[:10]}"
    graph = FalkorStore(graph_server, name)
    graph.ensure_schema()
    load_demo_org(graph, ADMIN_PASSWORD)
    member = accounts.create_person(graph, username=f"fuzz.{uuid.uuid4().hex[:6]}", name="模糊 测试",
                                    department_code="FIN", password=PASSWORD)
    app_settings = settings.model_copy(update={"graph_name": name})
    document = uploads.upload(graph, app_settings, io.BytesIO("模糊测试 fuzz 文档\n".encode() * 50), "fuzz.txt",
                               member.id, "general", "internal", enqueue=None, client="test")
    app = create_app(app_settings)
    app.config.update(TESTING=True, HUITONG_DOCUMENT_ENQUEUE=lambda *_args, **_kw: None)
    yield app, member, document.document_id
    graph.drop_all()
    graph.close()


def _client(app: Flask, login: str, password: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = random_address()
    assert sign_in(client, login, password).status_code == 302
    return client, csrf_token(client, "/account")


def _walk(app: Flask, client: FlaskClient, token: str, rules: list[Any], known_ids: list[str]) -> list[str]:
    failures: list[str] = []
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        names = _names_in(view.__code__.co_filename)
        if rule.endpoint.startswith("search."):
            names += _names_in(str(ROOT / "ingest" / "search.py"))
        names = sorted(set(names) | set(COMMON_NAMES))
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        try:
            _fuzz_rule(client, token, rule, methods, names, known_ids)
        except Exception as error:
            failures.append(f"{rule.rule}: {type(error).__name__}: {str(error)[:600]}")
    return failures


def _fuzz_rule(client: FlaskClient, token: str, rule: Any, methods: list[str], names: list[str],
               known_ids: list[str]) -> None:
    converters = rule._converters

    def send(method: str, path_values: dict[str, str], params: dict[str, str]) -> None:
        path = rule.build(path_values, append_unknown=False)[1]
        if method == "GET":
            response = client.get(path, query_string=params)
        else:
            response = client.post(path, data={**params, "csrf_token": token})
        assert response.status_code < 500, f"{method} {path[:200]} {str(params)[:300]} -> {response.status_code}"
        response.close()

    for probe in PROBES:
        path_values = {arg: sorted(c.items)[0] if getattr(c, "items", None) else probe for arg, c in converters.items()}
        for method in methods:
            send(method, path_values, dict.fromkeys(names, probe))

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        path_values = {}
        for arg, converter in converters.items():
            choices = getattr(converter, "items", None)
            if choices:  # any(...) converters: only their words route at all
                path_values[arg] = data.draw(st.sampled_from(sorted(choices)))
            else:
                path_values[arg] = data.draw(st.one_of(st.sampled_from(known_ids), values.filter(bool)))
        chosen = data.draw(st.lists(st.sampled_from(names), max_size=5, unique=True))
        send(data.draw(st.sampled_from(methods)), path_values, {name: data.draw(values) for name in chosen})

    run()


@pytest.mark.timeout(900)  # real processes on a shared 2-core machine: minutes under load
def test_no_route_answers_500_to_generated_input(fuzz_app) -> None:  # type: ignore[no-untyped-def]
    app, member, document_id = fuzz_app
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint not in SKIP]
    member_client, member_token = _client(app, member.username, PASSWORD)
    known = [document_id, member.id, "no-such-id"]
    failures = _walk(app, member_client, member_token, [r for r in rules if not r.rule.startswith("/admin")], known)
    admin_client, admin_token = _client(app, "admin", ADMIN_PASSWORD)
    failures += _walk(app, admin_client, admin_token, [r for r in rules if r.rule.startswith("/admin")], known)
    assert not failures, "\n".join(failures)
