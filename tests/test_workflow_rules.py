"""Pure rules of the workflow engine: the working calendar and definition / form validation."""

from __future__ import annotations

import copy
import json

import pytest
from workflow_support import HOUR, at

from graph.workflows.definitions import DefinitionError, FormError, validate_definition, validate_form
from graph.workflows.sla import CalendarError, WorkingCalendar, due_at
from graph.workflows.templates import TEMPLATES, template

CAL = WorkingCalendar.with_holidays(["2026-04-06"], extra_workdays=["2026-04-12"])  # Qingming Mon off, Sun on


@pytest.mark.parametrize(("start", "sla", "expected"), [
    ("2026-03-02 10:00", {"working_days": 1}, "2026-03-03 10:00"),
    ("2026-03-06 17:00", {"working_hours": 2}, "2026-03-09 10:00"),  # Friday evening runs over the weekend
    ("2026-03-02 07:30", {"working_hours": 1}, "2026-03-02 10:00"),  # before opening: the clock starts at 9
    ("2026-03-02 20:00", {"working_days": 1}, "2026-03-03 18:00"),  # after closing: starts next morning
    ("2026-04-03 12:00", {"working_days": 1}, "2026-04-07 12:00"),  # Friday + holiday Monday
    ("2026-04-11 10:00", {"working_hours": 3}, "2026-04-12 12:00"),  # Saturday -> make-up Sunday
    ("2026-03-07 10:00", {"hours": 5}, "2026-03-07 15:00"),  # clock hours ignore the calendar
])
def test_deadlines_on_the_working_calendar(start: str, sla: dict, expected: str) -> None:
    assert due_at(at(start), sla, CAL) == at(expected)


def test_working_time_between_and_bad_calendars() -> None:
    assert CAL.working_ms_between(at("2026-03-06 17:00"), at("2026-03-09 10:00")) == 2 * HOUR
    assert CAL.working_ms_between(at("2026-03-09 10:00"), at("2026-03-06 17:00")) == 0
    assert due_at(at("2026-03-02 10:00"), None, CAL) is None
    with pytest.raises(CalendarError):
        WorkingCalendar(workdays=frozenset()).add_working_ms(at("2026-03-02 10:00"), HOUR)
    with pytest.raises(CalendarError):
        due_at(0, {"fortnights": 1}, CAL)


def test_templates_are_valid_and_json_round_trip() -> None:
    for item in TEMPLATES:
        normalised = validate_definition(copy.deepcopy(item))
        assert validate_definition(json.loads(json.dumps(normalised))) == normalised


def test_definition_errors_list_every_problem_with_its_path() -> None:
    bad = template("expense")
    bad["key"] = "Bad Key"
    bad["steps"][0]["approval"] = "majority"
    bad["steps"][1]["on_reject"] = {"to": "step", "step": "payment"}  # a later step
    bad["steps"][2]["sla"] = {"hours": -1}
    bad["steps"][3]["responsible"] = {"kind": "astrologer"}
    bad["steps"].append(copy.deepcopy(bad["steps"][3]))
    bad["form"][0]["type"] = "colour"
    with pytest.raises(DefinitionError) as caught:
        validate_definition(bad)
    text = "\n".join(caught.value.errors)
    for expected in ("key:", "steps[0].approval", "steps[1].on_reject.step", "steps[2].sla.hours",
                     "steps[3].responsible[0]", "steps[4].key: duplicate", "form[0].type"):
        assert expected in text
    with pytest.raises(DefinitionError, match="JSON"):
        validate_definition({"key": "x", "steps": [], "name": {1, 2}})
    with pytest.raises(DefinitionError, match="at least one step"):
        validate_definition({"key": "x", "name": "X", "steps": []})


def test_form_values_are_cleaned_or_refused() -> None:
    fields = validate_definition(template("expense"))["form"]
    clean = validate_form(fields, {"amount": 12.5, "category": "office", "project": "ERP-2026",
                                   "spent_on": "2026-03-01", "reason": " 打印机墨盒 ", "invoice": {"name": "a.pdf"}},
                          projects={"ERP-2026"})
    assert clean["amount"] == "12.50" and clean["reason"] == "打印机墨盒" and clean["invoice"] == [
        {"name": "a.pdf", "document_id": None}]
    with pytest.raises(FormError) as caught:
        validate_form(fields, {"amount": "1e400", "category": "yacht", "project": "X", "spent_on": "2026-02-30",
                               "reason": "x", "invoice": "a.pdf", "extra": 1}, projects={"ERP-2026"})
    assert set(caught.value.errors) == {"amount", "category", "project", "spent_on", "reason", "invoice", "extra"}
    with pytest.raises(FormError, match="required"):
        validate_form(fields, {}, projects=set())
