"""Search for a signed-in person: the readable set from the graph becomes the search engine's filter.

Every surface (results page, live results, JSON API, CLI, "more like this") goes through the use cases
:func:`search` or :func:`similar`, which take the acting person and ask :mod:`graph.permissions` for their readable
documents and hand that set to ``SearchIndex.search`` as ``allowed_document_ids`` (as the permission
bitmap's numbers, which the engine turns into its filter with one array gather): unreadable
documents are removed before anything is scored, so results, totals, facet counts and snippets
only ever come from documents the person may read. The permission cache follows the graph's
permission version, so a revoked share or a department move shows on the very next search.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import html
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from embeddings.catalog import AllowedDocuments, NumberedDocuments
from embeddings.search_index import Range, SearchIndex, SearchInputError, SearchResults
from graph import permissions, proximity
from graph.actor import Actor
from graph.store import GraphStore
from graph.usecases import Context
from graph.usecases import browse as listing
from graph.usecases import documents as cases
from ingest import index_registry
from ingest.textstore import TextStore
from settings import Settings

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
WARM_UP_EXIT_WAIT_S = 120.0  # at exit, how long a model still loading may take to finish
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_FILTER_VALUES = 20
# Date order re-sorts this many of the most relevant documents: the dense signal ranks every document
# for any query, so "all matches by date" would bury the relevant ones under recent noise.
DATE_SORT_POOL = 100
SIMILAR_LEAD_CHARS = 600
DAY_MS = 24 * 3600 * 1000

# URL/API parameter -> metadata field the index keeps per document (see ingest.index_registry.index_metadata).
FACET_FIELDS: dict[str, str] = {
    "kind": "kind", "domain": "domain", "department": "department_id", "uploader": "owner_id", "access": "access",
}
TIME_FIELD = "updated_at"
# Time-range choices: changed within the last N days, or "older" than a year.
TIME_RANGES: dict[str, int] = {"7d": 7, "30d": 30, "365d": 365, "older": 365}
SORTS = ("relevance", "date")
MODES = ("hybrid", "keyword", "dense")  # keyword alone skips the query embedding (exact words, fastest)
_MARK = re.compile(r"</?mark>")


class SearchRequestError(ValueError):
    """The request is malformed; ``str(error)`` is fit to show the user."""


class SearchUnavailable(RuntimeError):
    """The search engine cannot answer (model or index storage broken)."""


@dataclass(frozen=True)
class Query:
    text: str
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # parameter -> accepted values
    time: str | None = None
    mode: str = "hybrid"
    org_boost: bool = True  # ``boost=0`` turns the org-aware ranking off for this query (graph.proximity)

    def args(self, **changes: Any) -> dict[str, Any]:
        """URL parameters of this query with ``changes`` applied (for links: facets, sort, pages)."""
        out: dict[str, Any] = {"q": self.text, "sort": self.sort, "page": self.page, "time": self.time,
                               "mode": self.mode, "boost": None if self.org_boost else "0",
                               **{name: list(values) for name, values in self.filters.items()}}
        out.update(changes)
        defaults = {"page": 1, "sort": "relevance", "mode": "hybrid"}
        return {k: v for k, v in out.items() if v not in (None, "", []) and defaults.get(k) != v}

    def toggled(self, name: str, value: str) -> dict[str, Any]:
        """Parameters with ``value`` of facet ``name`` switched on or off (and back to page 1)."""
        if name == "time":
            return self.args(time=None if self.time == value else value, page=1)
        current = list(self.filters.get(name, ()))
        values = [v for v in current if v != value] if value in current else [*current, value]
        return self.args(**{name: values}, page=1)


@dataclass
class Result:
    document_id: str
    title: str
    score: float
    snippet_html: str  # escaped text, query terms in <mark>
    snippet: str  # the same as plain text
    ref: str | None  # where in the document the snippet comes from (page, sheet, slide...)
    kind: str | None
    domain: str | None
    access: str | None
    owner_id: str | None
    department_id: str | None
    updated_at: int | None

    def as_json(self) -> dict[str, Any]:
        return {"document_id": self.document_id, "title": self.title, "score": round(self.score, 6),
                "snippet": self.snippet, "snippet_html": self.snippet_html, "page": self.ref, "kind": self.kind,
                "domain": self.domain, "access": self.access, "owner_id": self.owner_id,
                "department_id": self.department_id, "updated_at": self.updated_at,
                "url": document_url(self.document_id)}


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int
    label: str
    selected: bool


@dataclass
class Outcome:
    query: Query
    results: list[Result]
    total: int
    facets: dict[str, list[FacetValue]]
    timings_ms: dict[str, float]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query.text, "page": self.query.page, "per_page": self.query.per_page,
            "sort": self.query.sort, "total": self.total, "pages": self.pages,
            "results": [r.as_json() for r in self.results],
            "facets": {name: [{"value": f.value, "label": f.label, "count": f.count, "selected": f.selected}
                              for f in values] for name, values in self.facets.items()},
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


def document_url(document_id: str) -> str:
    """Where a document's page lives (the documents pages own ``/documents/<id>``)."""
    from urllib.parse import quote

    return f"/documents/{quote(document_id, safe='')}"


# -- parsing requests ---------------------------------------------------------------------------------------

Getter = Callable[[str], list[str]]


def _int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SearchRequestError(f"{name} must be a whole number, got {raw[:20]!r}") from None
    if not low <= value <= high:
        raise SearchRequestError(f"{name} must be between {low} and {high}")
    return value


def parse_query(get_list: Getter, *, per_page_param: str = "k", default_per_page: int = 10) -> Query:
    """A :class:`Query` from request parameters (``get_list(name)`` gives every value of one parameter)."""

    def one(name: str) -> str | None:
        values = get_list(name)
        return values[-1].strip() if values else None

    text = (one("q") or "").strip()
    if not text:
        raise SearchRequestError("type something to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise SearchRequestError(f"the query is too long (at most {MAX_QUERY_CHARS} characters)")
    sort = one("sort") or "relevance"
    if sort not in SORTS:
        raise SearchRequestError(f"sort must be one of {', '.join(SORTS)}")
    mode = one("mode") or "hybrid"
    if mode not in MODES:
        raise SearchRequestError(f"mode must be one of {', '.join(MODES)}")
    time_range = one("time") or None
    if time_range is not None and time_range not in TIME_RANGES:
        raise SearchRequestError(f"time must be one of {', '.join(TIME_RANGES)}")
    filters: dict[str, tuple[str, ...]] = {}
    for name in FACET_FIELDS:
        values = tuple(dict.fromkeys(v.strip()[:200] for v in get_list(name) if v.strip()))
        if len(values) > MAX_FILTER_VALUES:
            raise SearchRequestError(f"at most {MAX_FILTER_VALUES} values of {name}")
        if values:
            filters[name] = values
    return Query(
        text=text,
        page=_int(one("page"), "page", 1, 1, MAX_PAGE),
        per_page=_int(one(per_page_param), per_page_param, default_per_page, 1, MAX_PER_PAGE),
        sort=sort, filters=filters, time=time_range, mode=mode,
        org_boost=(one("boost") or "1").lower() not in ("0", "off", "false", "no"),
    )


def _engine_filters(query: Query, now_ms: int) -> dict[str, Range | tuple[str, ...]]:
    out: dict[str, Range | tuple[str, ...]] = {FACET_FIELDS[name]: values for name, values in query.filters.items()}
    if query.time == "older":
        out[TIME_FIELD] = Range(high=now_ms - TIME_RANGES["older"] * DAY_MS)
    elif query.time:
        out[TIME_FIELD] = Range(low=now_ms - TIME_RANGES[query.time] * DAY_MS)
    return out


# -- the engine, one per process --------------------------------------------------------------------------


def engine(settings: Settings) -> SearchIndex:
    """The process-wide index (the same object the ingestion pipeline writes through in this process)."""
    return index_registry.search_index(settings)


def readable(store: GraphStore, person_id: str) -> frozenset[str]:
    """The person's readable documents (exact; an unknown or deactivated person reads nothing)."""
    return frozenset(permissions.readable_document_ids(store, person_id))


def readable_numbers(store: GraphStore, person_id: str, *, without: str | None = None) -> NumberedDocuments:
    """The same set as :func:`readable` (minus ``without``), as numbers of the permission index.

    Converting ~100k ids into a Python set and back into an index mask cost ~45 ms per search at 1M
    chunks; the bitmap's numbers cost a copy and one gather.
    """
    found = permissions.readable_set(store, person_id)
    bitmap = found.bitmap  # a fresh bitmap: ours to change
    if without is not None:
        number = found.numbering.numbers.get(without)
        if number is not None:
            bitmap.discard(number)
    return NumberedDocuments(found.numbering, found.numbers())


def _run(index: SearchIndex, text: str, allowed: AllowedDocuments, **kwargs: Any) -> SearchResults:
    try:
        return index.search(text, allowed, **kwargs)
    except SearchInputError as error:
        raise SearchRequestError(str(error)) from None
    except (OSError, RuntimeError) as error:  # model files or index storage gone
        log.exception("search failed")
        raise SearchUnavailable(f"the search engine is unavailable: {error}") from error


def plain(snippet_html: str) -> str:
    return html.unescape(_MARK.sub("", snippet_html))


def _result(hit: Any) -> Result:
    meta = hit.metadata

    def text(name: str) -> str | None:
        value = meta.get(name)
        return None if value is None else str(value)

    stamp = meta.get(TIME_FIELD)
    return Result(hit.document_id, text("title") or text("filename") or hit.document_id, float(hit.score),
                  hit.snippet_html, plain(hit.snippet_html), hit.ref or None, text("kind"), text("domain"),
                  text("access"), text("owner_id"), text("department_id"),
                  int(stamp) if isinstance(stamp, int | float) else None)


def search(ctx: Context, actor: Actor, query: Query, *, index: SearchIndex | None = None,
           labels: bool = True) -> Outcome:
    """One page of results for the actor, with facets over everything they may read that matches (labels in
    the actor's language)."""
    assert ctx.settings is not None
    index = index or engine(ctx.settings)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    allowed = readable_numbers(ctx.store, actor.person_id)
    timings["permissions"] = (time.perf_counter() - start) * 1000
    now = int(time.time() * 1000)
    filters = _engine_filters(query, now)
    fields = [*FACET_FIELDS.values(), TIME_FIELD]
    if query.sort == "date":
        found = _run(index, query.text, allowed, per_page=DATE_SORT_POOL, filters=filters, facet_fields=fields,
                     snippets=False, mode=query.mode)
        pool = sorted(found.hits, key=lambda h: (-(_stamp(h.metadata) or 0), h.document_id))
        chosen = pool[(query.page - 1) * query.per_page: query.page * query.per_page]
        hits = _date_page(index, query.text, chosen) if chosen else []
        total = len(pool)
    elif _boosting(ctx.settings, query):
        found, hits = _boosted_page(ctx, actor, index, query, allowed, filters, fields)
        total = found.total
    else:
        found = _run(index, query.text, allowed, per_page=query.per_page, page=query.page, filters=filters,
                     facet_fields=fields, mode=query.mode)
        hits, total = found.hits, found.total
    timings.update({f"engine_{k}": v for k, v in found.timings_ms.items()})
    facets = _facets(found.facets, query, now)
    if labels:
        facets = label_facets(ctx, facets, actor.lang)
    timings["total"] = (time.perf_counter() - start) * 1000
    return Outcome(query, [_result(h) for h in hits], total, facets, timings)


def _boost_pool(settings: Settings, query: Query) -> int:
    """The re-ranked pool, whole pages of the query's size (so pages never straddle its edge)."""
    return -(-settings.search_boost_pool // query.per_page) * query.per_page


def _boosting(settings: Settings, query: Query) -> bool:
    return (settings.search_org_boost and query.org_boost and query.sort == "relevance"
            and query.page * query.per_page <= _boost_pool(settings, query))


def _boosted_page(ctx: Context, actor: Actor, index: SearchIndex, query: Query, allowed: AllowedDocuments,
                  filters: dict[str, Range | tuple[str, ...]], fields: list[str]) -> tuple[SearchResults, list[Any]]:
    """The page after the org-aware boost (graph.proximity) re-ranked the top fused results; the one place it
    is applied. Deeper pages (beyond the pool) keep the engine's order: the pool holds the same documents."""
    settings = ctx.settings
    assert settings is not None
    found = _run(index, query.text, allowed, per_page=_boost_pool(settings, query), page=1, filters=filters,
                 facet_fields=fields, mode=query.mode)
    weights = proximity.Weights(settings.search_boost_own, settings.search_boost_near, settings.search_boost_project)
    ranked = proximity.rerank(ctx.store, actor, found.hits, weights, _department_of)
    start = (query.page - 1) * query.per_page
    return found, [dataclasses.replace(h, score=score) for h, score, _ in ranked[start:start + query.per_page]]


def _department_of(hit: Any) -> str | None:
    """The owner's primary department the index keeps per document (what the org boost compares)."""
    value = hit.metadata.get("department_id")
    return str(value) if value else None


def _stamp(meta: Mapping[str, object]) -> int | None:
    value = meta.get(TIME_FIELD)
    return int(value) if isinstance(value, int | float) else None


def _date_page(index: SearchIndex, text: str, chosen: list[Any]) -> list[Any]:
    """Snippets for the chosen page: the same query restricted to those (already readable) documents."""
    ids = frozenset(h.document_id for h in chosen)
    # keyword mode: the snippet is taken from the keyword signal's best chunk, and no second embedding is paid
    snippets = {h.document_id: h for h in _run(index, text, ids, per_page=len(ids), mode="keyword").hits}
    return [snippets.get(h.document_id, h) for h in chosen]


def _facets(raw: dict[str, list[tuple[str, int]]], query: Query, now_ms: int) -> dict[str, list[FacetValue]]:
    out: dict[str, list[FacetValue]] = {}
    for name, field_name in FACET_FIELDS.items():
        chosen = set(query.filters.get(name, ()))
        values = raw.get(field_name, [])
        seen = {value for value, _ in values}
        out[name] = [FacetValue(value, count, value, value in chosen) for value, count in values]
        # a selected value with no match stays visible, so it can be switched off
        out[name] += [FacetValue(value, 0, value, True) for value in sorted(chosen - seen)]
    out["time"] = _time_buckets(raw.get(TIME_FIELD, []), query.time, now_ms)
    return out


def _time_buckets(values: list[tuple[str, int]], chosen: str | None, now_ms: int) -> list[FacetValue]:
    counts = dict.fromkeys(TIME_RANGES, 0)
    for raw, count in values:
        try:
            age_days = (now_ms - float(raw)) / DAY_MS
        except ValueError:
            continue
        for name, days in TIME_RANGES.items():
            if (age_days > days) if name == "older" else (age_days <= days):
                counts[name] += count
    return [FacetValue(name, count, name, name == chosen) for name, count in counts.items()
            if count or name == chosen]


# -- labels ---------------------------------------------------------------------------------------------------


def label_facets(ctx: Context, facets: dict[str, list[FacetValue]], lang: str) -> dict[str, list[FacetValue]]:
    """Facet values with names people read (department and uploader names, domain and level labels)."""
    from graph.classification import ClassificationError, DomainCatalogue, parse_level

    english = lang == "en"
    names: dict[str, dict[str, str]] = {name: {} for name in facets}
    if facets.get("department"):
        for row in listing.department_names(ctx):
            names["department"][row["id"]] = (row["name_en"] if english and row["name_en"] else row["name"]) or ""
    people = [f.value for f in facets.get("uploader", [])]
    if people:
        names["uploader"] = listing.person_names(ctx, people)
    catalogue = DomainCatalogue()
    for value in facets.get("domain", []):
        with contextlib.suppress(ClassificationError):  # a code no longer configured keeps its code
            names["domain"][value.value] = catalogue.get(value.value).label("en" if english else "zh")
    for value in facets.get("access", []):
        with contextlib.suppress(ClassificationError):
            names["access"][value.value] = parse_level(value.value).label("en" if english else "zh")
    return {name: [FacetValue(f.value, f.count, names.get(name, {}).get(f.value) or f.label, f.selected)
                   for f in values] for name, values in facets.items()}


# -- per-document helpers ----------------------------------------------------------------------------------


def similar(ctx: Context, actor: Actor, document_id: str, *, k: int = 5,
            index: SearchIndex | None = None) -> list[Result]:
    """Documents like this one among those the actor may read (a document they may not read: ObjectMissing)."""
    assert ctx.settings is not None
    document = cases.open_document(ctx, actor, document_id, explicit=False)
    stored = TextStore.from_settings(ctx.settings).load(document["current_version_id"]) \
        if document.get("current_version_id") else None
    lead = stored.text[:SIMILAR_LEAD_CHARS] if stored else ""
    text = " ".join(part for part in (document.get("title") or "", lead) if part).strip()
    if not text:
        return []
    allowed = readable_numbers(ctx.store, actor.person_id, without=document_id)
    found = _run(index or engine(ctx.settings), text, allowed, per_page=k, snippets=False)
    return [_result(h) for h in found.hits]


# -- warming up ----------------------------------------------------------------------------------------------


def warm_up(store: GraphStore, settings: Settings) -> dict[str, float]:
    """Load the model, catch the index up and build the permission cache now, not on the first search."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    index = engine(settings)
    index.embedder  # noqa: B018 - loading is the point (the first forward pass is many times slower)
    timings["model"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    index.refresh()
    timings["index"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    permissions.cache_for(store).warm()
    timings["permissions"] = (time.perf_counter() - start) * 1000
    return timings


def start_warm_up(get_store: Callable[[], GraphStore], settings: Settings) -> threading.Thread:
    """Warm up in the background so the process starts serving at once; failures are logged, not raised."""

    def run() -> None:
        try:
            timings = warm_up(get_store(), settings)
            log.info("search warmed up: %s", {k: round(v) for k, v in timings.items()})
        except Exception:  # a missing model or graph must not kill the web process: searches report it
            if not threading.main_thread().is_alive():
                return  # the process is exiting: imports refuse to start (nothing is wrong, nothing to say)
            log.warning("search warm-up failed; the first search will retry", exc_info=True)

    thread = threading.Thread(target=run, name="search-warm-up", daemon=True)
    thread.start()
    # A process told to exit while the model loads must let the load finish: a daemon thread that comes back
    # from ONNX Runtime's session set-up into a finalising interpreter is unwound through C++ and aborts it.
    atexit.register(thread.join, WARM_UP_EXIT_WAIT_S)
    return thread
