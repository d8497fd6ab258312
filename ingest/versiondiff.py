"""Text differences between two versions: a unified diff and an HTML side-by-side table.

Every piece of document text in the HTML is escaped (difflib escapes the lines; we escape the
column titles), so a document containing markup cannot inject it into the page.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

# difflib's side-by-side table is quadratic in the worst case: beyond this, compare the heads only.
MAX_LINES = 4000
# difflib's navigation columns: links named "f", "n" and "t" (first, next, top), English letters no reader can
# use (and read out one by one by screen readers). The table is read top to bottom without them.
_NAVIGATION = re.compile(r'<t([dh]) class="diff_next"[^>]*>.*?</t\1>|<colgroup></colgroup>')
# What difflib writes into a table with no lines to show, in English: the page says it in the reader's language.
_PLACEHOLDER = re.compile(r"&nbsp;(?:No Differences Found|Empty File)&nbsp;")


@dataclass(frozen=True)
class TextDiff:
    unified: str
    html: str  # a <table> fragment, escaped
    added: int
    removed: int
    truncated: bool
    old_empty: bool = False  # a side without any text (the page says so; difflib would in English)
    new_empty: bool = False

    @property
    def identical(self) -> bool:
        return self.added == 0 and self.removed == 0


def diff_texts(old: str, new: str, old_label: str = "old", new_label: str = "new", *, context: int = 3) -> TextDiff:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    truncated = len(old_lines) > MAX_LINES or len(new_lines) > MAX_LINES
    old_lines, new_lines = old_lines[:MAX_LINES], new_lines[:MAX_LINES]
    unified = list(difflib.unified_diff(old_lines, new_lines, old_label, new_label, n=context, lineterm=""))
    added = sum(1 for line in unified if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in unified if line.startswith("-") and not line.startswith("---"))
    table = _PLACEHOLDER.sub("", _NAVIGATION.sub("", difflib.HtmlDiff(tabsize=4, wrapcolumn=80).make_table(
        old_lines, new_lines, html.escape(old_label), html.escape(new_label), context=True, numlines=context
    )))
    return TextDiff("\n".join(unified), table, added, removed, truncated, not old_lines, not new_lines)
