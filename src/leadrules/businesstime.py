"""Business time: a working calendar plus instants or durations in, working durations or instants out."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "add_business",
    "add_business_days",
    "business_duration",
    "is_working",
]

Window = tuple[time, time]
DayHours = tuple[Window, ...]

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_MIDNIGHT = time(0)
_DEFAULT_HOURS: tuple[DayHours, ...] = (((time(9), time(18)),),) * 5 + ((), ())


def _since_midnight(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _window_bounds(window: Window) -> tuple[timedelta, timedelta]:
    start, end = window
    # datetime.time cannot express 24:00, so an end of 00:00 stands for the midnight closing the day.
    return _since_midnight(start), _DAY if end == _MIDNIGHT else _since_midnight(end)


def _fmt(t: time, *, is_end: bool = False) -> str:
    if is_end and t == _MIDNIGHT:
        return "24:00"
    return t.strftime("%H:%M") if not (t.second or t.microsecond) else t.isoformat()


def _fmt_window(window: Window) -> str:
    return f"{_fmt(window[0])}-{_fmt(window[1], is_end=True)}"


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working hours per weekday (0=Monday..6=Sunday) as tuples of (start, end) datetime.time, local to `timezone`; holidays are local dates with no working time.

    Hours are wall-clock hours: on a daylight-saving change a window holds whatever real time
    the clock spends inside it. A window end of 00:00 means the midnight that closes the day,
    so ``(time(0), time(0))`` is a whole day.
    """

    timezone: str = "UTC"
    hours: tuple[DayHours, ...] = _DEFAULT_HOURS
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None

        hours = tuple(tuple((start, end) for start, end in day) for day in self.hours)
        if len(hours) != 7:
            raise ValueError(f"hours needs 7 entries (Monday..Sunday), got {len(hours)}")
        for name, day in zip(_DAY_NAMES, hours, strict=True):
            _check_day(name, day)

        holidays = frozenset(self.holidays)
        for holiday in holidays:
            # A datetime is a date subclass, but it would silently never match a local day.
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise ValueError(f"holidays must be datetime.date values, got {holiday!r}")

        # Frozen, so normalise through object.__setattr__; tuples/frozenset keep the calendar hashable.
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "holidays", holidays)

    @classmethod
    def always(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A calendar that works around the clock every day, with no holidays."""
        return cls(timezone=timezone, hours=(((_MIDNIGHT, _MIDNIGHT),),) * 7)


def _check_day(name: str, day: DayHours) -> None:
    for start, end in day:
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"{name} window bounds must be datetime.time values")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(
                f"{name} window {_fmt_window((start, end))} must be a naive local time"
            )
        lo, hi = _window_bounds((start, end))
        if hi <= lo:
            raise ValueError(f"{name} window {_fmt_window((start, end))} must end after it starts")
    ordered = sorted(day, key=lambda w: _window_bounds(w)[0])
    for before, after in zip(ordered, ordered[1:], strict=False):
        if _window_bounds(after)[0] < _window_bounds(before)[1]:
            raise ValueError(
                f"{name} windows {_fmt_window(before)} and {_fmt_window(after)} overlap"
            )


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A calendar reduced to the numbers the arithmetic needs."""

    zone: ZoneInfo
    key: str
    windows: tuple[tuple[tuple[timedelta, timedelta], ...], ...]
    week_total: timedelta
    # Working time of the weekdays before index i (8 entries), so a partial week is one lookup.
    week_prefix: tuple[timedelta, ...]
    holiday_ords: tuple[int, ...]
    # Working time lost to the holidays before index i, so any span's losses are one bisect.
    holiday_lost: tuple[timedelta, ...]
    working_weekday_prefix: tuple[int, ...]
    working_days_per_week: int
    # Only holidays on weekdays that have hours remove a working day from the count.
    closed_ords: tuple[int, ...]
    holidays: frozenset[date]


@lru_cache(maxsize=256)
def _compile(cal: BusinessCalendar) -> _Compiled:
    windows = tuple(tuple(sorted(_window_bounds(w) for w in day)) for day in cal.hours)
    day_totals = [sum((hi - lo for lo, hi in day), _ZERO) for day in windows]
    week_prefix = [_ZERO]
    working_prefix = [0]
    for total in day_totals:
        week_prefix.append(week_prefix[-1] + total)
        working_prefix.append(working_prefix[-1] + (total > _ZERO))

    holiday_ords = tuple(sorted(d.toordinal() for d in cal.holidays))
    holiday_lost = [_ZERO]
    for ordinal in holiday_ords:
        holiday_lost.append(holiday_lost[-1] + day_totals[_weekday(ordinal)])

    return _Compiled(
        zone=ZoneInfo(cal.timezone),
        key=cal.timezone,
        windows=windows,
        week_total=week_prefix[-1],
        week_prefix=tuple(week_prefix),
        holiday_ords=holiday_ords,
        holiday_lost=tuple(holiday_lost),
        working_weekday_prefix=tuple(working_prefix),
        working_days_per_week=working_prefix[-1],
        closed_ords=tuple(o for o in holiday_ords if day_totals[_weekday(o)] > _ZERO),
        holidays=cal.holidays,
    )


def _weekday(ordinal: int) -> int:
    # Ordinal 1 (0001-01-01) is a Monday, which makes week arithmetic a plain divmod.
    return (ordinal - 1) % 7


# --- wall-clock arithmetic ---------------------------------------------------------------
# Local wall-clock time is handled as naive datetimes. F(t) below is the working time from
# 0001-01-01 00:00 to wall time t, ignoring daylight saving; it is non-decreasing and
# continuous, so durations are differences of F and instants are inverses of F.


def _partial_day(windows: tuple[tuple[timedelta, timedelta], ...], tod: timedelta) -> timedelta:
    return sum((min(hi, tod) - lo for lo, hi in windows if tod > lo), _ZERO)


def _cum_days(c: _Compiled, ordinal: int) -> timedelta:
    """F at the midnight that starts day `ordinal`."""
    weeks, wd = divmod(ordinal - 1, 7)
    lost = c.holiday_lost[bisect_left(c.holiday_ords, ordinal)]
    return weeks * c.week_total + c.week_prefix[wd] - lost


def _cum(c: _Compiled, wall: datetime) -> timedelta:
    ordinal = wall.toordinal()
    i = bisect_left(c.holiday_ords, ordinal)
    if i < len(c.holiday_ords) and c.holiday_ords[i] == ordinal:
        return _cum_days(c, ordinal)
    tod = wall - datetime.fromordinal(ordinal)
    return _cum_days(c, ordinal) + _partial_day(c.windows[_weekday(ordinal)], tod)


def _first_true(lo: int, hi: int, pred: Callable[[int], bool]) -> int:
    """Smallest n in [lo, hi] with pred(n), for pred monotone False..True and pred(hi) true."""
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _last_true(lo: int, hi: int, pred: Callable[[int], bool]) -> int:
    """Largest n in [lo, hi] with pred(n), for pred monotone True..False and pred(lo) true."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pred(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _wall_first(c: _Compiled, target: timedelta, lo: datetime, hi: datetime) -> datetime:
    """Earliest wall time t in [lo, hi] with F(t) >= target, given F(lo) < target <= F(hi)."""
    n = _first_true(lo.toordinal(), hi.toordinal(), lambda o: _cum_days(c, o + 1) >= target)
    # F(day n) < target <= F(day n + 1), so day n has working time and is not a holiday.
    acc = _cum_days(c, n)
    day = datetime.fromordinal(n)
    for start, end in c.windows[_weekday(n)]:
        if acc + (end - start) >= target:
            return day + start + (target - acc)
        acc += end - start
    raise AssertionError("F(day + 1) >= target guarantees a window reaches the target")


def _wall_last(c: _Compiled, target: timedelta, lo: datetime, hi: datetime) -> datetime:
    """Latest wall time t in [lo, hi] with F(t) <= target, given F(lo) <= target < F(hi)."""
    n = _last_true(lo.toordinal(), hi.toordinal(), lambda o: _cum_days(c, o) <= target)
    # F(day n) <= target < F(day n + 1), so day n has working time and is not a holiday.
    top = _cum_days(c, n + 1)
    day = datetime.fromordinal(n)
    for start, end in reversed(c.windows[_weekday(n)]):
        if top - (end - start) <= target:
            return day + end - (top - target)
        top -= end - start
    raise AssertionError("F(day) <= target guarantees a window reaches the target")


def _working_days_before(c: _Compiled, ordinal: int) -> int:
    weeks, wd = divmod(ordinal - 1, 7)
    closed = bisect_left(c.closed_ords, ordinal)
    return weeks * c.working_days_per_week + c.working_weekday_prefix[wd] - closed


# --- real time ---------------------------------------------------------------------------
# Real instants are handled as naive UTC datetimes. Between two offset transitions wall time
# is UTC plus a constant, so each such segment maps onto a plain wall-clock interval: spring
# forward leaves a gap between consecutive segments' wall intervals, fall back an overlap.


def _offset(zone: ZoneInfo, utc: datetime) -> timedelta:
    offset = zone.fromutc(utc.replace(tzinfo=zone)).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset for a concrete instant
    return offset


def _year_end(year: int) -> datetime:
    return datetime(year + 1, 1, 1) if year < MAXYEAR else datetime.max


@lru_cache(maxsize=4096)
def _transitions(key: str, year: int) -> tuple[datetime, ...]:
    """UTC instants in (Jan 1 of `year`, Jan 1 of `year` + 1] where the zone's offset changes.

    zoneinfo has no public transition list, so probe daily and bisect. A daily probe would
    only miss two changes cancelling out within one day, which no zone in tzdata does.
    """
    zone = ZoneInfo(key)
    end = _year_end(year)
    found: list[datetime] = []
    prev = datetime(year, 1, 1)
    prev_offset = _offset(zone, prev)
    while prev < end:
        probe = prev + _DAY if end - prev > _DAY else end
        offset = _offset(zone, probe)
        if offset != prev_offset:
            found.append(_bisect_transition(zone, prev, probe, prev_offset))
            prev_offset = offset
        prev = probe
    return tuple(found)


def _bisect_transition(
    zone: ZoneInfo, lo: datetime, hi: datetime, lo_offset: timedelta
) -> datetime:
    # TZif transitions fall on whole seconds and the probes do too, so seconds are exact.
    seconds = _first_true(
        1,
        int((hi - lo).total_seconds()),
        lambda s: _offset(zone, lo + timedelta(seconds=s)) != lo_offset,
    )
    return lo + timedelta(seconds=seconds)


def _segments_forward(
    c: _Compiled, start: datetime
) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """Constant-offset UTC segments (a, b, offset) from `start` onwards, in order."""
    cur, year = start, start.year
    while True:
        for stop in (*_transitions(c.key, year), _year_end(year)):
            if stop > cur:
                yield cur, stop, _offset(c.zone, cur)
                cur = stop
        if year == MAXYEAR:
            raise OverflowError("business time runs past the last representable date")
        year += 1


def _segments_backward(
    c: _Compiled, end: datetime
) -> Iterator[tuple[datetime, datetime, timedelta]]:
    """Constant-offset UTC segments (a, b, offset) before `end`, latest first."""
    cur, year = end, end.year
    while True:
        for stop in (*reversed(_transitions(c.key, year)), datetime(year, 1, 1)):
            if stop < cur:
                yield stop, cur, _offset(c.zone, stop)
                cur = stop
        if year == MINYEAR:
            raise OverflowError("business time runs past the first representable date")
        year -= 1


def _utc(c: _Compiled, instant: datetime) -> datetime:
    if instant.utcoffset() is None:
        instant = instant.replace(tzinfo=c.zone)
    return instant.astimezone(UTC).replace(tzinfo=None)


def _local(c: _Compiled, utc: datetime) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(c.zone)


def _require_hours(c: _Compiled) -> None:
    if c.week_total == _ZERO:
        raise ValueError("the calendar has no working hours")


def _next_period_start(c: _Compiled, utc: datetime) -> datetime:
    """`utc` itself if it is working time, else the start of the next working period."""
    for a, b, offset in _segments_forward(c, utc):
        lo, hi = a + offset, b + offset
        base = _cum(c, lo)
        if _cum(c, hi) > base:
            # The latest instant before any further working time accrues is where work resumes.
            return _wall_last(c, base, lo, hi) - offset
    raise AssertionError("segments never end")


# --- public API --------------------------------------------------------------------------


def business_duration(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time between two instants (naive ones are read in the calendar's zone).

    The result is real elapsed time, negative when `end` is before `start`.
    """
    c = _compile(cal)
    s, e = _utc(c, start), _utc(c, end)
    if e < s:
        return -_duration(c, e, s)
    return _duration(c, s, e)


def _duration(c: _Compiled, s: datetime, e: datetime) -> timedelta:
    total = _ZERO
    for a, b, offset in _segments_forward(c, s):
        if a >= e:
            break
        total += _cum(c, min(b, e) + offset) - _cum(c, a + offset)
    return total


def add_business(cal: BusinessCalendar, start: datetime, delta: timedelta) -> datetime:
    """The earliest instant at which `delta` of working time has elapsed since `start`.

    The result is aware, in the calendar's zone; a naive `start` is read in that zone and a
    zero `delta` returns `start` unchanged. A negative `delta` goes back in time and gives the
    latest instant from which `-delta` of working time elapses until `start`, so that
    ``business_duration(cal, start, add_business(cal, start, delta)) == delta`` either way.
    """
    if not delta:
        return start
    c = _compile(cal)
    _require_hours(c)
    s = _utc(c, start)
    if delta > _ZERO:
        remaining = delta
        for a, b, offset in _segments_forward(c, s):
            lo, hi = a + offset, b + offset
            base = _cum(c, lo)
            available = _cum(c, hi) - base
            if available >= remaining:
                return _local(c, _wall_first(c, base + remaining, lo, hi) - offset)
            remaining -= available
    else:
        remaining = -delta
        for a, b, offset in _segments_backward(c, s):
            lo, hi = a + offset, b + offset
            top = _cum(c, hi)
            available = top - _cum(c, lo)
            if available >= remaining:
                return _local(c, _wall_last(c, top - remaining, lo, hi) - offset)
            remaining -= available
    raise AssertionError("segments never end")


def add_business_days(cal: BusinessCalendar, start: datetime, days: int) -> datetime:
    """The same local clock time on the `days`-th working day after `start`.

    A working day is a weekday with hours that is not a holiday. If `start` is outside working
    time, counting starts from the beginning of the next working period instead (Saturday 10:00
    plus one day is Tuesday at the opening time of Monday's first window), so a request that
    arrives after hours is not penalised. The clock time is kept even if the target day's
    hours do not cover it; a clock time that daylight saving skips on the target day moves
    forward by the gap and a repeated one takes its first occurrence. The result is aware, in
    the calendar's zone; a naive `start` is read in that zone. `days` == 0 returns `start`
    unchanged, and negative `days` are rejected.
    """
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    if days == 0:
        return start
    c = _compile(cal)
    _require_hours(c)
    anchor = _next_period_start(c, _utc(c, start))
    wall = anchor + _offset(c.zone, anchor)
    base = wall.toordinal()
    wanted = _working_days_before(c, base + 1) + days
    # Holidays only push the answer later, so grow the bound until it holds, then bisect.
    hi = base + 7 * (days // c.working_days_per_week + 1)
    while _working_days_before(c, hi + 1) < wanted:
        hi += hi - base
    n = _first_true(base + 1, hi, lambda o: _working_days_before(c, o + 1) >= wanted)
    local = datetime.combine(date.fromordinal(n), wall.time(), tzinfo=c.zone)
    # The round trip through UTC turns a clock time skipped by daylight saving into a real one.
    return local.astimezone(UTC).astimezone(c.zone)


def is_working(cal: BusinessCalendar, instant: datetime) -> bool:
    """Whether `instant` (naive: in the calendar's zone) falls inside working hours."""
    c = _compile(cal)
    utc = _utc(c, instant)
    wall = utc + _offset(c.zone, utc)
    if wall.date() in c.holidays:
        return False
    tod = wall - datetime.fromordinal(wall.toordinal())
    return any(lo <= tod < hi for lo, hi in c.windows[wall.weekday()])
