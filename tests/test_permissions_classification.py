"""The three-level classification: domains, data types, access levels and the counting table."""

from __future__ import annotations

import itertools

import pytest

from graph.classification import (
    COUNTING_SHARES,
    LEVELS,
    AccessLevel,
    ClassificationError,
    DataType,
    Domain,
    DomainCatalogue,
    ShareKind,
    classify,
    data_type_for_kind,
    effective_level,
    parse_level,
    parse_share_access,
    share_counts,
)


def test_levels_are_ordered_by_restriction_not_alphabet() -> None:
    assert [level.value for level in LEVELS] == ["public", "internal", "confidential", "secret"]
    assert AccessLevel.PUBLIC < AccessLevel.INTERNAL < AccessLevel.CONFIDENTIAL < AccessLevel.SECRET
    assert AccessLevel.CONFIDENTIAL > AccessLevel.INTERNAL  # alphabetically it would be smaller
    assert max(LEVELS) is AccessLevel.SECRET and AccessLevel.SECRET.label("zh") == "绝密"


@pytest.mark.parametrize(("raw", "level"), [("public", "public"), (" Internal ", "internal"),
                                            ("CONFIDENTIAL", "confidential"), (AccessLevel.SECRET, "secret")])
def test_parse_level_accepts_the_four_levels(raw: str, level: str) -> None:
    assert parse_level(raw).value == level


@pytest.mark.parametrize("raw", ["", "  ", "top-secret", "公开", None, 3])
def test_parse_level_refuses_anything_else(raw: object) -> None:
    with pytest.raises(ClassificationError):
        parse_level(raw)  # type: ignore[arg-type]


def test_unknown_stored_levels_fail_closed_as_secret() -> None:
    for stored in (None, "", "bogus", 7):
        assert effective_level(stored) is AccessLevel.SECRET
        assert share_counts(stored, ShareKind.PERSON)
        assert not share_counts(stored, ShareKind.DEPARTMENT)


def test_counting_table_is_the_written_policy() -> None:
    everything = set(ShareKind)
    assert COUNTING_SHARES[AccessLevel.PUBLIC] == everything
    assert COUNTING_SHARES[AccessLevel.INTERNAL] == everything
    assert COUNTING_SHARES[AccessLevel.CONFIDENTIAL] == everything - {ShareKind.POSITION}
    assert COUNTING_SHARES[AccessLevel.SECRET] == {ShareKind.PERSON}
    # A stricter level never counts more kinds of share than a looser one.
    for looser, stricter in itertools.pairwise(LEVELS):
        assert COUNTING_SHARES[stricter] <= COUNTING_SHARES[looser]


@pytest.mark.parametrize(("kind", "data_type"), [("xlsx", "structured"), ("CSV", "structured"), (".xls", "structured"),
                                                 ("pdf", "unstructured"), ("docx", "unstructured"),
                                                 ("mp4", "unstructured"), ("md", "unstructured")])
def test_data_type_follows_the_file_kind(kind: str, data_type: str) -> None:
    assert data_type_for_kind(kind) is DataType(data_type)


def test_data_type_needs_a_kind() -> None:
    with pytest.raises(ClassificationError, match="file kind"):
        data_type_for_kind("")


def test_domains_resolve_by_code_or_either_label() -> None:
    catalogue = DomainCatalogue()
    assert catalogue.get("finance") == catalogue.get("财务") == catalogue.get("FINANCE") == catalogue.get("Finance")
    assert catalogue.get("法务").label("en") == "Legal" and catalogue.get("rnd").label("zh") == "研发"
    assert {"finance", "hr", "business", "legal", "rnd", "admin"} <= set(catalogue.codes())
    with pytest.raises(ClassificationError, match="unknown business domain"):
        catalogue.get("astrology")
    with pytest.raises(ClassificationError, match="required"):
        catalogue.get(" ")


def test_domain_list_is_configurable_and_validated() -> None:
    custom = DomainCatalogue.from_mapping({"ops": {"zh": "运营", "en": "Operations"}})
    assert custom.codes() == ("ops",) and len(custom) == 1 and custom.get("运营").code == "ops"
    with pytest.raises(ClassificationError, match="twice"):
        DomainCatalogue([Domain("a", "甲", "A"), Domain("A", "乙", "B")])
    with pytest.raises(ClassificationError, match="both labels"):
        DomainCatalogue([Domain("a", "", "A")])
    with pytest.raises(ClassificationError, match="'zh' and 'en'"):
        DomainCatalogue.from_mapping({"ops": {"zh": "运营"}})
    with pytest.raises(ClassificationError, match="at least one"):
        DomainCatalogue([])


def test_classify_validates_all_three_levels() -> None:
    result = classify("人力", "xlsx", "confidential")
    assert (result.domain.code, result.data_type, result.level) == ("hr", DataType.STRUCTURED,
                                                                    AccessLevel.CONFIDENTIAL)
    with pytest.raises(ClassificationError, match="access level"):
        classify("hr", "xlsx", "restricted")
    assert parse_share_access(" EDIT ") == "edit"
    with pytest.raises(ClassificationError, match="share access"):
        parse_share_access("admin")
