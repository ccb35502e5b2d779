"""A rules-file calendar (`ast.Calendar`) -> its working week, read once for every stage: the
checker, the code generator, the report and the rendered agreement all read days and hours here.
"""

from __future__ import annotations

from datetime import time

from leadrules import ast

# Days as the language accepts them: English or French, short or long.
DAYS = {
    "mon": 0, "monday": 0, "lun": 0, "lundi": 0, "tue": 1, "tuesday": 1, "mar": 1, "mardi": 1,
    "wed": 2, "wednesday": 2, "mer": 2, "mercredi": 2, "thu": 3, "thursday": 3, "jeu": 3,
    "jeudi": 3, "fri": 4, "friday": 4, "ven": 4, "vendredi": 4, "sat": 5, "saturday": 5,
    "sam": 5, "samedi": 5, "sun": 6, "sunday": 6, "dim": 6, "dimanche": 6,
}
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
END_OF_DAY = 24 * 60

Week = tuple[tuple[tuple[int, int], ...], ...]


class CalendarError(ValueError):
    """A calendar that cannot be used; the message names the place and the fix."""


def day_number(name: str) -> int | None:
    """0 for Monday … 6 for Sunday, or None for a word that is not a day."""
    return DAYS.get(name.lower())


def day_range(first: str, last: str) -> list[int] | None:
    """The days from `first` to `last` (a range may wrap the week: sat-mon), or None."""
    lo, hi = day_number(first), day_number(last)
    if lo is None or hi is None:
        return None
    return list(range(lo, hi + 1)) if lo <= hi else [*range(lo, 7), *range(hi + 1)]


def minutes(text: str) -> int | None:
    """Minutes after midnight of an "HH:MM" time (24:00 is the midnight closing the day)."""
    hh, _, mm = text.partition(":")
    if not (hh.isdigit() and mm.isdigit() and len(mm) == 2):
        return None
    h, m = int(hh), int(mm)
    if (h, m) == (24, 0):
        return END_OF_DAY
    return h * 60 + m if h < 24 and m < 60 else None


def clock(minute: int) -> time:
    """The clock time of a minute of the day; the end of the day reads 00:00, as businesstime
    reads an end of 00:00."""
    return time(0) if minute == END_OF_DAY else time(minute // 60, minute % 60)


def week(cal: ast.Calendar) -> Week:
    """Working windows per weekday (Monday first) as (start, end) minutes, sorted. Several
    `hours` lines add up; a day no line names has none. Parts that cannot be read are left out
    (the checker reports them: LR107, LR108)."""
    days: list[set[tuple[int, int]]] = [set() for _ in range(7)]
    for line in cal.hours:
        windows = [(minutes(a), minutes(b)) for a, b in line.windows]
        windows = [(a, b) for a, b in windows if a is not None and b is not None and a < b]
        for first, last in line.days:
            for d in day_range(first, last) or ():
                days[d].update(windows)
    return tuple(tuple(sorted(d)) for d in days)


def business_calendar(cal: ast.Calendar | None, timezone: str = "UTC"):
    """The `businesstime.BusinessCalendar` of `cal` in `timezone`. Without a calendar, or one
    without `hours`, Monday to Friday 09:00-18:00. Raises CalendarError for a calendar the
    checker would refuse."""
    from leadrules.businesstime import BusinessCalendar

    if cal is None:
        return BusinessCalendar(timezone=timezone)
    holidays = frozenset(h.value for h in cal.holidays)
    if not cal.hours:
        return BusinessCalendar(timezone=timezone, holidays=holidays)
    for line in cal.hours:
        for name in (n for pair in line.days for n in pair):
            if day_number(name) is None:
                raise CalendarError(f"{line.span}: '{name}' is not a day of the week (write mon, "
                                    "tue, wed, thu, fri, sat or sun)")
        for a, b in line.windows:
            for text in (a, b):
                if minutes(text) is None:
                    raise CalendarError(f"{line.span}: '{text}' is not a time of day (write it "
                                        "as HH:MM)")
    hours: list[list[tuple[time, time]]] = [[] for _ in range(7)]
    for line in cal.hours:
        windows = [(clock(minutes(a)), clock(minutes(b))) for a, b in line.windows]
        for first, last in line.days:
            for d in day_range(first, last):
                hours[d].extend(windows)
    try:
        return BusinessCalendar(timezone=timezone, hours=tuple(tuple(w) for w in hours),
                                holidays=holidays)
    except ValueError as exc:
        raise CalendarError(f"{cal.span}: the calendar '{cal.name}' cannot be used: {exc}"
                            ) from None


def agreement_calendar(rs) -> ast.Calendar | None:
    """The calendar business time is counted on: the one the sales SLA names, else the one
    named `business`, else none. Evaluation and the report both use this one."""
    sales = rs.sla_sales
    named = sales.first(ast.SlaCalendar) if sales is not None else None
    if named is not None and named.name in rs.calendars:
        return rs.calendars[named.name]
    return rs.calendars.get("business")
