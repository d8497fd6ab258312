"""Three-level classification of documents: business domain -> data type -> access level.

The domain says which part of the business a document belongs to (a configurable list with
Chinese and English labels), the data type whether its content is structured (tables) or
unstructured (prose, slides, media), derived from the file kind, and the access level bounds
which share paths count (see docs/permissions.md). Everything here is pure: no graph access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class ClassificationError(ValueError):
    """A domain, data type or access level that is not one of the configured values."""


@dataclass(frozen=True, slots=True)
class Domain:
    """One business domain (业务域) with its labels in both languages."""

    code: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


DEFAULT_DOMAINS: tuple[Domain, ...] = (
    Domain("finance", "财务", "Finance"),
    Domain("hr", "人力", "HR"),
    Domain("business", "业务", "Business"),
    Domain("legal", "法务", "Legal"),
    Domain("rnd", "研发", "R&D"),
    Domain("admin", "行政", "Administration"),
    Domain("marketing", "市场", "Marketing"),
    Domain("procurement", "采购", "Procurement"),
    Domain("it", "信息技术", "IT"),
    Domain("general", "综合", "General"),
)


class DomainCatalogue:
    """The configured list of business domains; codes are unique, lookups accept code or label."""

    def __init__(self, domains: Iterable[Domain] = DEFAULT_DOMAINS) -> None:
        self._by_code: dict[str, Domain] = {}
        for domain in domains:
            code = domain.code.strip().lower()
            if not code or not domain.zh.strip() or not domain.en.strip():
                raise ClassificationError(f"domain {domain!r} needs a code and both labels")
            if code in self._by_code:
                raise ClassificationError(f"domain code {code!r} is configured twice")
            self._by_code[code] = Domain(code, domain.zh.strip(), domain.en.strip())
        if not self._by_code:
            raise ClassificationError("at least one business domain must be configured")

    @classmethod
    def from_mapping(cls, rows: Mapping[str, Mapping[str, str]]) -> DomainCatalogue:
        """Build from configuration such as ``{"finance": {"zh": "财务", "en": "Finance"}}``."""
        try:
            return cls(Domain(code, labels["zh"], labels["en"]) for code, labels in rows.items())
        except (KeyError, TypeError) as error:
            raise ClassificationError(f"each domain needs 'zh' and 'en' labels: {error}") from error

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def get(self, value: str) -> Domain:
        """The domain for a code or for either label (case-insensitive for codes and English)."""
        if not isinstance(value, str) or not value.strip():
            raise ClassificationError("business domain is required")
        key = value.strip()
        found = self._by_code.get(key.lower())
        if found:
            return found
        for domain in self._by_code.values():
            if key in (domain.zh, domain.en) or key.lower() == domain.en.lower():
                return domain
        raise ClassificationError(f"unknown business domain {value!r}; expected one of {', '.join(self._by_code)}")


class DataType(StrEnum):
    STRUCTURED = "structured"
    UNSTRUCTURED = "unstructured"


# File kinds (ingest.filetypes.FileKind values) whose content is tabular. Everything else we accept
# (prose, slides, images, audio, video) is unstructured.
STRUCTURED_KINDS: frozenset[str] = frozenset({"xlsx", "xls", "csv", "tsv", "json", "xml", "parquet"})


def data_type_for_kind(kind: str) -> DataType:
    """Structured for spreadsheets and tables, unstructured for every other file kind."""
    if not isinstance(kind, str) or not kind.strip():
        raise ClassificationError("file kind is required to derive the data type")
    return DataType.STRUCTURED if kind.strip().lower().lstrip(".") in STRUCTURED_KINDS else DataType.UNSTRUCTURED


class AccessLevel(StrEnum):
    """Ordered from least to most restricted: public < internal < confidential < secret."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"  # noqa: S105 - an access level, not a credential

    @property
    def rank(self) -> int:
        return LEVELS.index(self)

    def label(self, lang: str = "zh") -> str:
        return _LEVEL_LABELS[self][0 if lang == "zh" else 1]

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, AccessLevel):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, AccessLevel):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, AccessLevel):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, AccessLevel):
            return NotImplemented
        return self.rank >= other.rank


LEVELS: tuple[AccessLevel, ...] = tuple(AccessLevel)
_LEVEL_LABELS = {
    AccessLevel.PUBLIC: ("公开", "public"),
    AccessLevel.INTERNAL: ("内部", "internal"),
    AccessLevel.CONFIDENTIAL: ("机密", "confidential"),
    AccessLevel.SECRET: ("绝密", "secret"),
}


class ShareKind(StrEnum):
    """What a document can be shared with; the value is the target's graph label."""

    PERSON = "Person"
    DEPARTMENT = "Department"
    PROJECT = "Project"
    POSITION = "Position"


# The policy's core table: for each access level, the share kinds whose paths count.
# Unknown or missing levels are treated as secret (fail closed).
COUNTING_SHARES: dict[AccessLevel, frozenset[ShareKind]] = {
    AccessLevel.PUBLIC: frozenset(ShareKind),
    AccessLevel.INTERNAL: frozenset(ShareKind),
    AccessLevel.CONFIDENTIAL: frozenset({ShareKind.PERSON, ShareKind.DEPARTMENT, ShareKind.PROJECT}),
    AccessLevel.SECRET: frozenset({ShareKind.PERSON}),
}

SHARE_ACCESS: tuple[str, ...] = ("read", "edit")


def parse_level(value: str | AccessLevel) -> AccessLevel:
    """Validate an access level given by a user or a form (case and surrounding space ignored)."""
    if isinstance(value, AccessLevel):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ClassificationError("access level is required")
    try:
        return AccessLevel(value.strip().lower())
    except ValueError:
        raise ClassificationError(
            f"unknown access level {value!r}; expected one of {', '.join(LEVELS)}"
        ) from None


def effective_level(stored: object) -> AccessLevel:
    """The level a stored value means for the policy: anything unknown counts as secret."""
    try:
        return AccessLevel(stored) if isinstance(stored, str) else AccessLevel.SECRET
    except ValueError:
        return AccessLevel.SECRET


def share_counts(level: object, kind: ShareKind | str) -> bool:
    """Whether a share with a target of ``kind`` grants anything on a document of ``level``."""
    return ShareKind(kind) in COUNTING_SHARES[effective_level(level)]


def levels_where_counts(kind: ShareKind) -> tuple[str, ...]:
    """The stored level values under which shares of ``kind`` count (used to write the Cypher)."""
    return tuple(level.value for level in LEVELS if kind in COUNTING_SHARES[level])


def parse_share_access(value: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in SHARE_ACCESS:
        raise ClassificationError(f"share access must be one of {', '.join(SHARE_ACCESS)}, not {value!r}")
    return value.strip().lower()


@dataclass(frozen=True, slots=True)
class Classification:
    domain: Domain
    data_type: DataType
    level: AccessLevel


def classify(domain: str, kind: str, level: str, catalogue: DomainCatalogue | None = None) -> Classification:
    """Validate all three levels at once; raises :class:`ClassificationError` naming the bad one."""
    return Classification((catalogue or DomainCatalogue()).get(domain), data_type_for_kind(kind), parse_level(level))
