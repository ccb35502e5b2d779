"""A rules-file calendar (`ast.Calendar`) plus the agreement's time zone -> a BusinessCalendar,
and SLA durations -> their deadlines.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from leadrules import ast
from leadrules.businesstime import BusinessCalendar, add_business, add_business_days
from leadrules.calendars import CalendarError, business_calendar

__all__ = ["CalendarError", "Due", "business_calendar", "deadline", "plain"]

# Durations in plain (not business) time, as the team agreed: a month is 30 days, a year 365.
_PLAIN = {
    "minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1),
    "weeks": timedelta(weeks=1), "months": timedelta(days=30), "years": timedelta(days=365),
}


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
