"""Mapping rules for bulk ingestion: which folder of an archive goes to which department, business
domain, access level and shares.

A rules file is YAML::

    defaults:                  # optional: replace the job's own defaults
      domain: general
      access: internal
    rules:                     # the first rule whose pattern matches a file wins
      - path: 财务/**           # (or "pattern")
        department: FIN        # shared (read) with this department: the file lands in its folder
        domain: finance
        access: confidential
        shares: [person:li.na:edit]
      - path: "**/*.pdf"
        domain: legal

or CSV with the header ``pattern,department,domain,access,shares`` (shares separated by ``;`` or
spaces; lines starting with ``#`` are comments; UTF-8 or GBK as Excel saves it).

Patterns are matched against the whole path inside the archive, case-insensitively: ``*`` and
``?`` stay within one folder name, ``**`` crosses folders. A pattern without wildcards names a
folder (everything beneath it) or one file. Files no rule matches get the defaults. Every problem
of a rules file is reported at once, with the rule number and line, before anything is written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graph import documents as docs
from graph.classification import ClassificationError, DomainCatalogue, parse_level, share_counts
from graph.store import GraphStore
from ingest.extract.charset import decode
from ingest.extract.model import ExtractionFailure

RULE_KEYS = ("pattern", "department", "domain", "access", "shares")
_YAML_ALIASES = {"path": "pattern", "match": "pattern", "folder": "pattern"}
MAX_RULES = 10_000
MAX_FILE_BYTES = 2 * 1024 * 1024


class MappingError(ValueError):
    """A rules file that cannot be used; ``problems`` lists every one, ``str`` all of them."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems) if len(problems) == 1
                         else f"{source}: {len(problems)} problems:\n  " + "\n  ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True)
class Placement:
    """Where one file goes: its classification and the shares a new document gets."""

    domain: str
    access: str
    shares: tuple[str, ...] = ()
    rule: int | None = None  # number of the rule that placed it (None: the defaults)

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "access": self.access, "shares": list(self.shares), "rule": self.rule}


@dataclass(frozen=True)
class Rule:
    number: int
    line: int | None
    pattern: str
    department: str | None = None
    domain: str | None = None
    access: str | None = None
    shares: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_pattern(self.pattern))

    def where(self) -> str:
        return f"rule {self.number}" + (f" (line {self.line})" if self.line else "")

    def as_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "department": self.department, "domain": self.domain,
                "access": self.access, "shares": list(self.shares)}


@dataclass(frozen=True)
class MappingRules:
    rules: tuple[Rule, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    source: str = "rules"

    def place(self, path: str, fallback: Placement) -> Placement:
        """The placement of the file at ``path``: the first matching rule over the defaults."""
        base = Placement(self.defaults.get("domain") or fallback.domain, self.defaults.get("access") or fallback.access,
                         tuple(self.defaults.get("shares") or fallback.shares))
        key = path.casefold()
        for rule in self.rules:
            if rule.regex.fullmatch(key):
                shares = tuple(dict.fromkeys(
                    ([f"department:{rule.department}"] if rule.department else []) + list(rule.shares or base.shares)))
                return Placement(rule.domain or base.domain, rule.access or base.access, shares, rule.number)
        return base

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "defaults": dict(self.defaults), "rules": [r.as_dict() for r in self.rules]}


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``*``/``?`` within a folder name, ``**`` across folders; no wildcard: the folder or file itself."""
    text = pattern.strip().replace("\\", "/").strip("/").casefold()
    if not any(c in text for c in "*?"):
        return re.compile(re.escape(text) + r"(?:/.*)?", re.DOTALL)
    out = []
    i = 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append(r"(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(r".*")
            i += 2
        elif text[i] == "*":
            out.append(r"[^/]*")
            i += 1
        elif text[i] == "?":
            out.append(r"[^/]")
            i += 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    return re.compile("".join(out), re.DOTALL)


# -- reading -----------------------------------------------------------------------------------------------


def load_rules(path: Path) -> MappingRules:
    """Read a YAML (.yaml/.yml) or CSV (.csv) rules file; raises :class:`MappingError` (format only;
    call :func:`validate` for names that must exist)."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MappingError(name, [f"cannot read the file: {error.strerror or error}"]) from None
    return parse_rules(data, name)


def parse_rules(data: bytes, name: str) -> MappingRules:
    if len(data) > MAX_FILE_BYTES:
        raise MappingError(name, [f"the rules file is larger than {MAX_FILE_BYTES // 1024} KiB"])
    try:
        text, _ = decode(data)
    except ExtractionFailure as error:
        raise MappingError(name, [error.reason]) from None
    if name.lower().endswith(".csv"):
        return _parse_csv(text, name)
    return _parse_yaml(text, name)


def _parse_yaml(text: str, name: str) -> MappingRules:
    try:
        loaded = yaml.safe_load(text)
        tree = yaml.compose(text)
    except yaml.YAMLError as error:
        raise MappingError(name, [f"not valid YAML: {error}"]) from None
    if loaded is None:
        raise MappingError(name, ["the file is empty"])
    if isinstance(loaded, list):  # a bare list of rules is fine too
        loaded, lines = {"rules": loaded}, _item_lines(tree)
    elif isinstance(loaded, dict):
        lines = _item_lines(_child(tree, "rules"))
    else:
        raise MappingError(name, ["expected a mapping with 'rules' (and optionally 'defaults'), or a list of rules"])
    problems: list[str] = []
    unknown = sorted(set(map(str, loaded)) - {"rules", "defaults"})
    if unknown:
        problems.append(f"unknown top-level key(s) {', '.join(unknown)}; expected 'rules' and 'defaults'")
    defaults = loaded.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append("'defaults' must be a mapping of domain, access and shares")
        defaults = {}
    bad = sorted(set(map(str, defaults)) - {"domain", "access", "shares"})
    if bad:
        problems.append(f"defaults: unknown key(s) {', '.join(bad)}; expected domain, access, shares")
    raw_rules = loaded.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append("'rules' must be a non-empty list")
        raw_rules = []
    rules = []
    for number, item in enumerate(raw_rules, start=1):
        line = lines[number - 1] if number - 1 < len(lines) else None
        where = f"rule {number}" + (f" (line {line})" if line else "")
        if not isinstance(item, dict):
            problems.append(f"{where}: expected a mapping such as {{path: 财务/**, department: FIN}}")
            continue
        item = {_YAML_ALIASES.get(str(k), str(k)): v for k, v in item.items()}
        rule = _rule(number, line, item, where, problems)
        if rule is not None:
            rules.append(rule)
    clean_defaults = {"domain": _text(defaults.get("domain")), "access": _text(defaults.get("access")),
                      "shares": _shares(defaults.get("shares"), "defaults", problems)}
    return _finish(name, rules, {k: v for k, v in clean_defaults.items() if v}, problems)


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v
    return None


def _item_lines(node: yaml.Node | None) -> list[int]:
    if isinstance(node, yaml.SequenceNode):
        return [item.start_mark.line + 1 for item in node.value]
    return []


def _parse_csv(text: str, name: str) -> MappingRules:
    reader = csv.reader(io.StringIO(text))
    problems: list[str] = []
    header: list[str] | None = None
    rules = []
    number = 0
    for row in reader:
        line = reader.line_num
        if not row or not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            if "pattern" not in header and "path" in header:
                header[header.index("path")] = "pattern"
            unknown = [c for c in header if c not in RULE_KEYS]
            if unknown or "pattern" not in header:
                problems.append(f"line {line}: the header must name the columns {', '.join(RULE_KEYS)} "
                                f"(pattern is required){'; unknown: ' + ', '.join(unknown) if unknown else ''}")
                break
            continue
        number += 1
        if len(row) > len(header):
            problems.append(f"rule {number} (line {line}): {len(row)} cells for {len(header)} columns")
            continue
        item = {key: (row[i].strip() if i < len(row) else "") for i, key in enumerate(header)}
        rule = _rule(number, line, item, f"rule {number} (line {line})", problems)
        if rule is not None:
            rules.append(rule)
    if header is None and not problems:
        problems.append("the file is empty")
    return _finish(name, rules, {}, problems)


def _rule(number: int, line: int | None, item: Mapping[str, Any], where: str, problems: list[str]) -> Rule | None:
    unknown = sorted(set(item) - set(RULE_KEYS))
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(RULE_KEYS)}")
    pattern = _text(item.get("pattern"))
    if not pattern:
        problems.append(f"{where}: 'path' (the folder pattern) is required")
        return None
    try:
        return Rule(number, line, pattern, _text(item.get("department")), _text(item.get("domain")),
                    _text(item.get("access")), _shares(item.get("shares"), where, problems))
    except re.error as error:
        problems.append(f"{where}: bad pattern {pattern!r}: {error}")
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _shares(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items = [s for s in re.split(r"[;\s,]+", value) if s]
    elif isinstance(value, list) and all(isinstance(s, str) for s in value):
        items = [s.strip() for s in value if s.strip()]
    else:
        problems.append(f"{where}: 'shares' must be a list such as [department:FIN, person:li.na:edit]")
        return ()
    for item in items:
        try:
            docs.ShareSpec.parse(item)
        except docs.DocumentError as error:
            problems.append(f"{where}: {error}")
    return tuple(items)


def _finish(name: str, rules: list[Rule], defaults: dict[str, Any], problems: list[str]) -> MappingRules:
    if len(rules) > MAX_RULES:
        problems.append(f"more than {MAX_RULES} rules")
    if problems:
        raise MappingError(name, problems)
    return MappingRules(tuple(rules), defaults, name)


def rules_from_dict(data: Mapping[str, Any]) -> MappingRules:
    """Rebuild rules stored with a job (already validated)."""
    rules = tuple(Rule(i, None, r["pattern"], r.get("department"), r.get("domain"), r.get("access"),
                       tuple(r.get("shares") or ())) for i, r in enumerate(data.get("rules") or [], start=1))
    return MappingRules(rules, dict(data.get("defaults") or {}), str(data.get("source") or "rules"))


# -- validation against the graph ------------------------------------------------------------------------------


def validate(store: GraphStore, rules: MappingRules, fallback: Placement,
             catalogue: DomainCatalogue | None = None) -> None:
    """Check every domain, access level, department and share target exists and every share counts under
    the level the rule gives; raises :class:`MappingError` with all the problems."""
    catalogue = catalogue or DomainCatalogue()
    problems: list[str] = []
    resolved: dict[str, str | None] = {}
    base = rules.place("\x00no rule matches this\x00", fallback)
    checks: Iterable[tuple[str, str | None, str | None, tuple[str, ...]]] = [
        ("job defaults", fallback.domain, fallback.access, fallback.shares),
        *([("defaults", rules.defaults.get("domain"), rules.defaults.get("access"), base.shares)]
          if rules.defaults else []),
        *((r.where(), r.domain, r.access, _rule_shares(r, base)) for r in rules.rules),
    ]
    for where, domain, access, shares in checks:
        level = access or (fallback.access if where == "job defaults" else base.access)
        if domain:
            try:
                catalogue.get(domain)
            except ClassificationError as error:
                problems.append(f"{where}: {error}")
        try:
            level = parse_level(level).value
        except ClassificationError as error:
            problems.append(f"{where}: {error}")
            continue
        for share in shares:
            problem = _share_problem(store, share, level, resolved)
            if problem:
                problems.append(f"{where}: {problem}")
    if problems:
        raise MappingError(rules.source, problems)


def _rule_shares(rule: Rule, base: Placement) -> tuple[str, ...]:
    return tuple(([f"department:{rule.department}"] if rule.department else []) + list(rule.shares or base.shares))


def _share_problem(store: GraphStore, share: str, level: str, resolved: dict[str, str | None]) -> str | None:
    if share not in resolved:
        try:
            docs.resolve_share(store, share)
            resolved[share] = None
        except docs.DocumentError as error:
            resolved[share] = str(error)
    if resolved[share]:
        return resolved[share]
    spec = docs.ShareSpec.parse(share)
    if not share_counts(level, spec.kind):
        return (f"a {level} document cannot be shared with a {spec.kind.value.lower()} ({spec.ref}); "
                "lower the access level or share with named people")
    return None
