"""Result counts that mean something, through the doors: a nonsense query returns ``[]`` from
``huitong search --json`` and "no results" with a hint on the results page, in Chinese and English."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from helpers import run_cli
from test_search_api import SearchDocs, member_client, search_docs  # noqa: F401  (fixtures)

NONSENSE = ["xqzvbnmw", "*", '"']


@pytest.mark.slow  # a subprocess that loads the model
def test_cli_nonsense_query_is_an_empty_list(search_docs: SearchDocs) -> None:  # noqa: F811
    for query in NONSENSE:
        result = run_cli("search", query, "--as", search_docs.member_username, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == [], query


@pytest.mark.parametrize(("lang", "words"), [("zh", ["没有结果", "0 篇文档", "请换个说法"]),
                                             ("en", ["No results.", "0 documents", "Try other or fewer words"])])
def test_results_page_says_no_results_with_a_hint(member_client: FlaskClient, lang: str,  # noqa: F811
                                                  words: list[str]) -> None:
    for query in NONSENSE:
        page = member_client.get("/search", query_string={"q": query}, headers={"Accept-Language": lang})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "data-no-results" in html, query
        assert 'class="search-results"' not in html
        for word in words:
            assert word in html, (query, word)


def test_counts_and_facets_cover_the_same_results(member_client: FlaskClient, search_docs: SearchDocs) -> None:  # noqa: F811
    body = member_client.get("/api/v1/search", query_string={"q": "差旅费报销", "k": "100"}).get_json()
    readable = len(search_docs.readable)
    assert 1 <= body["total"] == len(body["results"]) < readable + 1
    for name in ("kind", "access", "uploader"):  # every result has one value of each (time buckets overlap)
        assert sum(v["count"] for v in body["facets"][name]) == body["total"], name
