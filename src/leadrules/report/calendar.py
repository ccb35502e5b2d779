"""A rules-file calendar (`ast.Calendar`) plus the agreement's time zone -> a BusinessCalendar,
and SLA durations -> their deadlines.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal

from leadrules import ast
from leadrules.businesstime import (
    BusinessCalendar,
    add_business,
    add_business_days,
)

_DAYS = {
    "mon": 0, "monday": 0, "lun": 0, "lundi": 0,
    "tue": 1, "tuesday": 1, "mar": 1, "mardi": 1,
    "wed": 2, "wednesday": 2, "mer": 2, "mercredi": 2,
    "thu": 3, "thursday": 3, "jeu": 3, "jeudi": 3,
    "fri": 4, "friday": 4, "ven": 4, "vendredi": 4,
    "sat": 5, "saturday": 5, "sam": 5, "samedi": 5,
    "sun": 6, "sunday": 6, "dim": 6, "dimanche": 6,
}

# Durations in plain (not business) time, as the team agreed: a month is 30 days, a year 365.
_PLAIN = {
    "minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1),
    "weeks": timedelta(weeks=1), "months": timedelta(days=30), "years": timedelta(days=365),
}


class CalendarError(ValueError):
    """A calendar the report cannot use; the message names the line and the fix."""


def _clock(text: str, span: ast.Span) -> time:
    hh, _, mm = text.partition(":")
    try:
        h, m = int(hh), int(mm)
    except ValueError:
        raise CalendarError(f"{span}: '{text}' is not a time of day (write it as HH:MM)") from None
    if h == 24 and m == 0:
        return time(0)  # the midnight closing the day, as businesstime reads an end of 00:00
    if not (0 <= h < 24 and 0 <= m < 60):
        raise CalendarError(f"{span}: '{text}' is not a time of day (write it as HH:MM)")
    return time(h, m)


def _day(name: str, span: ast.Span) -> int:
    try:
        return _DAYS[name.lower()]
    except KeyError:
        raise CalendarError(
            f"{span}: '{name}' is not a day of the week (write mon, tue, wed, thu, fri, sat "
            "or sun)") from None


def business_calendar(cal: ast.Calendar | None, timezone: str = "UTC") -> BusinessCalendar:
    """The working calendar of `cal` in `timezone`. Several `hours` lines add up; a day no line
    names has no working hours. Without a calendar (or without `hours`), Monday to Friday
    09:00-18:00."""
    if cal is None:
        return BusinessCalendar(timezone=timezone)
    if not cal.hours:
        return BusinessCalendar(timezone=timezone,
                                holidays=frozenset(h.value for h in cal.holidays))
    week: list[list[tuple[time, time]]] = [[] for _ in range(7)]
    for line in cal.hours:
        windows = [(_clock(a, line.span), _clock(b, line.span)) for a, b in line.windows]
        for first, last in line.days:
            lo, hi = _day(first, line.span), _day(last, line.span)
            days = range(lo, hi + 1) if lo <= hi else [*range(lo, 7), *range(0, hi + 1)]
            for d in days:
                week[d].extend(windows)
    try:
        return BusinessCalendar(timezone=timezone, hours=tuple(tuple(w) for w in week),
                                holidays=frozenset(h.value for h in cal.holidays))
    except ValueError as e:
        raise CalendarError(f"{cal.span}: the calendar '{cal.name}' cannot be used: {e}") from None


def plain(duration: ast.Duration) -> timedelta:
    """A non-business duration as elapsed time."""
    return _PLAIN[duration.unit] * float(duration.amount)


def deadline(cal: BusinessCalendar, start: datetime, within: ast.Duration) -> datetime:
    """The instant by which something promised `within` of `start` must have happened.

    Business minutes and hours count working time; business days (and weeks, as five working
    days each) land at the same clock time on the N-th working day, a fraction of a day giving
    the benefit of the doubt to the next whole day. Plain durations are elapsed time.
    """
    if not within.business or within.unit in ("months", "years"):
        return start + plain(within)
    if within.unit in ("minutes", "hours"):
        return add_business(cal, start, plain(within))
    days = Decimal(within.amount) * (5 if within.unit == "weeks" else 1)
    return add_business_days(cal, start, int(days.to_integral_value(rounding=ROUND_CEILING)))


class Due:
    """The deadline of a promise made at `start`, computed only when a cheaper bound cannot
    answer. A deadline in business days keeps the clock time of its start on a later date, so
    it is never before start + N days (less a daylight-saving shift, at most 3 hours in any
    zone), and never after start + enough whole weeks to hold N working days and every holiday
    of the calendar."""

    __slots__ = ("cal", "start", "within", "_at", "_lo", "_hi")

    def __init__(self, cal: BusinessCalendar, start: datetime, within: ast.Duration):
        self.cal, self.start, self.within = cal, start, within
        self._at: datetime | None = None
        self._lo = self._hi = None
        if within.business and within.unit in ("days", "weeks"):
            days = int((Decimal(within.amount) * (5 if within.unit == "weeks" else 1))
                       .to_integral_value(rounding=ROUND_CEILING))
            per_week = sum(1 for day in cal.hours if day)
            if per_week:
                weeks = -(-(days + len(cal.holidays)) // per_week) + 1
                self._lo = start + timedelta(days=days) - _MOST_DST_SHIFT
                self._hi = start + timedelta(weeks=weeks, days=1)

    @property
    def at(self) -> datetime:
        if self._at is None:
            self._at = deadline(self.cal, self.start, self.within)
        return self._at

    def covers(self, instant: datetime) -> bool:
        """`instant` is at or before the deadline."""
        if self._lo is not None and instant <= self._lo:
            return True
        if self._hi is not None and instant > self._hi:
            return False
        return instant <= self.at

    def passed(self, instant: datetime) -> bool:
        """The deadline is at or before `instant`."""
        if self._hi is not None and instant >= self._hi:
            return True
        if self._lo is not None and instant < self._lo:
            return False
        return self.at <= instant


_MOST_DST_SHIFT = timedelta(hours=3)
