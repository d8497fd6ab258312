"""Working calendar and SLA deadlines (pure: every function takes the times it works on).

A working day runs 09:00–18:00 local time (Asia/Shanghai by default), Monday to Friday, minus
public holidays, plus make-up working days (调休) that fall on weekends. "N working days" means
N × the length of a working day of working time, so a task created Monday 10:00 with a one-day
SLA is due Tuesday 10:00 — the same rule a person applies when counting working days.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOUR_MS = 3_600_000
# A calendar that never reaches a working day (every day a holiday) must not loop forever.
_MAX_DAYS_SCANNED = 3660


class CalendarError(ValueError):
    """The calendar cannot place a deadline (no working day within ten years, bad SLA)."""


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str = "Asia/Shanghai"
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.day_end <= self.day_start:
            raise CalendarError("a working day must end after it starts")

    @classmethod
    def with_holidays(cls, holidays: Iterable[str | date], extra_workdays: Iterable[str | date] = (),
                      **options: object) -> WorkingCalendar:
        """A calendar from ISO dates (as a JSON settings file would hold them)."""
        return cls(holidays=frozenset(_as_date(d) for d in holidays),
                   extra_workdays=frozenset(_as_date(d) for d in extra_workdays), **options)  # type: ignore[arg-type]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_length_ms(self) -> int:
        start = datetime.combine(date(2000, 1, 3), self.day_start)
        return int((datetime.combine(date(2000, 1, 3), self.day_end) - start).total_seconds() * 1000)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() in self.workdays and day not in self.holidays

    def add_working_ms(self, start_ms: int, duration_ms: int) -> int:
        """The instant reached after ``duration_ms`` of working time counted from ``start_ms``."""
        if duration_ms < 0:
            raise CalendarError("a duration cannot be negative")
        zone = self.zone
        moment = datetime.fromtimestamp(start_ms / 1000, zone)
        remaining = timedelta(milliseconds=duration_ms)
        for _ in range(_MAX_DAYS_SCANNED):
            day = moment.date()
            opens = datetime.combine(day, self.day_start, zone)
            closes = datetime.combine(day, self.day_end, zone)
            if self.is_working_day(day) and moment < closes:
                moment = max(moment, opens)
                available = closes - moment
                if remaining <= available:
                    return int((moment + remaining).timestamp() * 1000)
                remaining -= available
            moment = datetime.combine(day + timedelta(days=1), self.day_start, zone)
        raise CalendarError("no working day found within ten years: check the holiday list")

    def working_ms_between(self, start_ms: int, end_ms: int) -> int:
        """Working time elapsed from ``start_ms`` to ``end_ms`` (0 when end is not after start)."""
        zone = self.zone
        moment = datetime.fromtimestamp(start_ms / 1000, zone)
        end = datetime.fromtimestamp(end_ms / 1000, zone)
        total = timedelta()
        while moment < end:
            day = moment.date()
            opens = datetime.combine(day, self.day_start, zone)
            closes = datetime.combine(day, self.day_end, zone)
            if self.is_working_day(day):
                lo, hi = max(moment, opens), min(end, closes)
                if hi > lo:
                    total += hi - lo
            moment = datetime.combine(day + timedelta(days=1), time(0), zone)
        return int(total.total_seconds() * 1000)


DEFAULT_CALENDAR = WorkingCalendar()


def due_at(start_ms: int, sla: dict[str, float] | None, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> int | None:
    """Deadline for an SLA of ``{"hours": n}`` (clock hours), ``{"working_hours": n}`` or ``{"working_days": n}``."""
    if not sla:
        return None
    (unit, amount), = sla.items()
    if unit == "hours":
        return start_ms + int(amount * HOUR_MS)
    if unit == "working_hours":
        return calendar.add_working_ms(start_ms, int(amount * HOUR_MS))
    if unit == "working_days":
        return calendar.add_working_ms(start_ms, int(amount * calendar.day_length_ms))
    raise CalendarError(f"unknown SLA unit {unit!r}")


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
