"""Writing many items at once, falling back to one at a time so that one bad item fails by itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from graph.errors import GraphUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


def in_bulk(items: list[T], work: Callable[[list[T]], object]) -> dict[int, Exception]:
    """Run ``work`` on all the items at once; when that fails, on each item alone, so that one bad item fails
    by itself. Returns the failures by position (a graph outage is raised: the whole work is to be retried)."""
    if not items:
        return {}
    try:
        work(items)
        return {}
    except GraphUnavailable:
        raise
    except Exception:
        log.info("a bulk write failed; writing its %d items one by one", len(items), exc_info=True)
    failed: dict[int, Exception] = {}
    for position, item in enumerate(items):
        try:
            work([item])
        except GraphUnavailable:
            raise
        except Exception as error:
            failed[position] = error
    return failed


