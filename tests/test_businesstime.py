"""Tests for leadrules.businesstime: hand-computed cases and brute-force minute-count properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrules.businesstime import (
    BusinessCalendar,
    add_business,
    add_business_days,
    business_duration,
    is_working,
)

PARIS = ZoneInfo("Europe/Paris")
MINUTE = timedelta(minutes=1)
QUARTER = timedelta(minutes=15)
TICK = timedelta(microseconds=1)
H = timedelta(hours=1)

# 2027-03-26 is a Friday; both 2027 Paris DST changes fall on Sundays.
FRI = date(2027, 3, 26)
SPRING_FORWARD = date(2027, 3, 28)
FALL_BACK = date(2027, 10, 31)

OFFICE = BusinessCalendar()
LUNCH = BusinessCalendar(hours=(((time(9), time(12, 30)), (time(14), time(18))),) * 5 + ((), ()))
NIGHT_PARIS = BusinessCalendar("Europe/Paris", hours=(((time(1), time(4)),),) * 7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=PARIS, fold=fold)


def in_utc(instant: datetime) -> datetime:
    """Compare and shift through UTC: same-zone arithmetic is wall-clock and drops fold (PEP 495)."""
    return instant.astimezone(UTC)


# --- hand-computed cases -------------------------------------------------------------------


def test_friday_afternoon_plus_four_hours_is_monday_noon() -> None:
    assert add_business(OFFICE, utc(2027, 3, 26, 17), 4 * H) == utc(2027, 3, 29, 12)
    assert business_duration(OFFICE, utc(2027, 3, 26, 17), utc(2027, 3, 29, 12)) == 4 * H


def test_same_in_a_zone_and_result_is_in_that_zone() -> None:
    cal = BusinessCalendar("Europe/Paris")
    result = add_business(cal, paris(2027, 3, 26, 17), 4 * H)
    assert result == paris(2027, 3, 29, 12)
    assert result.tzinfo == PARIS
    assert (result.hour, result.minute) == (12, 0)


def test_naive_instants_are_read_in_the_calendar_zone() -> None:
    cal = BusinessCalendar("Europe/Paris")
    assert add_business(cal, datetime(2027, 3, 26, 17), 4 * H) == paris(2027, 3, 29, 12)
    assert business_duration(cal, datetime(2027, 3, 26, 17), paris(2027, 3, 29, 12)) == 4 * H
    assert is_working(cal, datetime(2027, 3, 26, 17, 59))
    assert not is_working(cal, datetime(2027, 3, 26, 18))


def test_holiday_is_skipped() -> None:
    cal = BusinessCalendar(holidays=frozenset({date(2027, 3, 29)}))
    assert add_business(cal, utc(2027, 3, 26, 17), 4 * H) == utc(2027, 3, 30, 12)
    assert business_duration(cal, utc(2027, 3, 26, 9), utc(2027, 3, 31, 9)) == 18 * H
    assert not is_working(cal, utc(2027, 3, 29, 10))


def test_lunch_break() -> None:
    assert add_business(LUNCH, utc(2027, 3, 22, 11), 3 * H) == utc(2027, 3, 22, 15, 30)
    assert business_duration(LUNCH, utc(2027, 3, 22, 10), utc(2027, 3, 22, 15)) == 3.5 * H
    assert add_business(LUNCH, utc(2027, 3, 22, 9), 3.5 * H) == utc(2027, 3, 22, 12, 30)
    assert not is_working(LUNCH, utc(2027, 3, 22, 13))


def test_start_on_weekend() -> None:
    assert add_business(OFFICE, utc(2027, 3, 27, 10), 2 * H) == utc(2027, 3, 29, 11)
    assert business_duration(OFFICE, utc(2027, 3, 27, 10), utc(2027, 3, 28, 23)) == timedelta(0)


def test_start_after_hours() -> None:
    assert add_business(OFFICE, utc(2027, 3, 24, 20), H) == utc(2027, 3, 25, 10)
    # Exactly at closing time nothing more accrues that day.
    assert add_business(OFFICE, utc(2027, 3, 24, 18), H) == utc(2027, 3, 25, 10)


def test_result_is_earliest_instant_so_it_lands_on_closing_time() -> None:
    assert add_business(OFFICE, utc(2027, 3, 26, 9), 9 * H) == utc(2027, 3, 26, 18)


def test_negative_delta_and_reversed_interval() -> None:
    assert add_business(OFFICE, utc(2027, 3, 29, 12), -4 * H) == utc(2027, 3, 26, 17)
    # Going back, the latest instant is where work resumes, not the previous closing time.
    assert add_business(OFFICE, utc(2027, 3, 29, 10), -H) == utc(2027, 3, 29, 9)
    assert business_duration(OFFICE, utc(2027, 3, 29, 12), utc(2027, 3, 26, 17)) == -4 * H


def test_zero_delta_returns_start_unchanged() -> None:
    start = datetime(2027, 3, 27, 3)
    assert add_business(OFFICE, start, timedelta(0)) is start


def test_spring_forward_night_window_holds_two_hours() -> None:
    assert business_duration(NIGHT_PARIS, paris(2027, 3, 28), paris(2027, 3, 29)) == 2 * H
    assert business_duration(NIGHT_PARIS, paris(2027, 3, 27), paris(2027, 3, 28)) == 3 * H
    assert add_business(NIGHT_PARIS, paris(2027, 3, 28), 1.5 * H) == paris(2027, 3, 28, 3, 30)
    assert is_working(NIGHT_PARIS, utc(2027, 3, 28, 0, 59))  # 01:59 CET
    assert is_working(NIGHT_PARIS, utc(2027, 3, 28, 1))  # 03:00 CEST


def test_fall_back_night_window_holds_four_hours() -> None:
    assert business_duration(NIGHT_PARIS, paris(2027, 10, 31), paris(2027, 11, 1)) == 4 * H
    first_0230 = add_business(NIGHT_PARIS, paris(2027, 10, 31), 1.5 * H)
    second_0230 = add_business(NIGHT_PARIS, paris(2027, 10, 31), 2.5 * H)
    assert in_utc(first_0230) == utc(2027, 10, 31, 0, 30)
    assert in_utc(second_0230) == utc(2027, 10, 31, 1, 30)
    assert (first_0230.hour, first_0230.minute, first_0230.fold) == (2, 30, 0)
    assert (second_0230.hour, second_0230.minute, second_0230.fold) == (2, 30, 1)
    back = add_business(NIGHT_PARIS, paris(2027, 10, 31, 5), -2.5 * H)
    assert in_utc(back) == utc(2027, 10, 31, 0, 30)
    assert is_working(NIGHT_PARIS, utc(2027, 10, 31, 1, 59))  # 02:59 CET, second pass


def test_always_counts_real_elapsed_time_across_dst() -> None:
    cal = BusinessCalendar.always("Europe/Paris")
    start, end = paris(2027, 3, 27, 12), paris(2027, 11, 2, 12)
    assert business_duration(cal, start, end) == end - start
    assert add_business(cal, start, 24 * H) == paris(2027, 3, 28, 13)
    assert is_working(cal, utc(2027, 10, 31, 0, 30))


def test_whole_day_window_written_with_midnight_end() -> None:
    cal = BusinessCalendar(hours=((), (), (), (), (), ((time(0), time(0)),), ()))
    assert business_duration(cal, utc(2027, 3, 22), utc(2027, 3, 29)) == 24 * H
    assert add_business(cal, utc(2027, 3, 22), 24 * H) == utc(2027, 3, 28)


def test_add_business_days() -> None:
    # Friday 10:00 + 2 business days = Tuesday 10:00.
    assert add_business_days(OFFICE, utc(2027, 3, 26, 10), 2) == utc(2027, 3, 30, 10)
    cal = BusinessCalendar(holidays=frozenset({date(2027, 3, 29)}))
    assert add_business_days(cal, utc(2027, 3, 26, 10), 2) == utc(2027, 3, 31, 10)
    # Outside working hours, counting starts from the next opening (Monday 09:00).
    assert add_business_days(OFFICE, utc(2027, 3, 27, 10), 1) == utc(2027, 3, 30, 9)
    assert add_business_days(OFFICE, utc(2027, 3, 24, 20), 1) == utc(2027, 3, 26, 9)
    assert add_business_days(OFFICE, utc(2027, 3, 22, 17, 30), 5) == utc(2027, 3, 29, 17, 30)
    start = utc(2027, 3, 27)
    assert add_business_days(OFFICE, start, 0) is start


def test_add_business_days_keeps_wall_clock_across_dst() -> None:
    cal = BusinessCalendar("Europe/Paris")
    result = add_business_days(cal, paris(2027, 3, 26, 10), 1)
    assert result == paris(2027, 3, 29, 10)
    assert in_utc(result) - utc(2027, 3, 26, 9) == 71 * H


def test_add_business_days_rejects_negative_days() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_days(OFFICE, utc(2027, 3, 26, 10), -1)


def test_calendar_without_hours_cannot_reach_a_delta() -> None:
    cal = BusinessCalendar(hours=((),) * 7)
    assert business_duration(cal, utc(2027, 1, 1), utc(2028, 1, 1)) == timedelta(0)
    with pytest.raises(ValueError, match="no working hours"):
        add_business(cal, utc(2027, 1, 1), H)
    with pytest.raises(ValueError, match="no working hours"):
        add_business_days(cal, utc(2027, 1, 1), 1)


def test_two_years_and_a_ten_year_add() -> None:
    holidays = frozenset({date(2041, 1, 1), date(2041, 12, 25), date(2042, 5, 1)})
    cal = BusinessCalendar("Europe/Paris", holidays=holidays)
    # 2040-12-31 and 2042-12-29 are Mondays: 104 weeks of 45 hours, minus three weekday holidays.
    total = business_duration(cal, paris(2040, 12, 31), paris(2042, 12, 29))
    far = add_business(cal, paris(2040, 12, 31), 10 * 52 * 45 * H)
    assert total == (104 * 45 - 3 * 9) * H
    assert business_duration(cal, paris(2040, 12, 31), far) == 10 * 52 * 45 * H


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (
            (((time(12), time(9)),),) + ((),) * 6,
            "Monday window 12:00-09:00 must end after it starts",
        ),
        ((((time(9), time(9)),),) + ((),) * 6, "must end after it starts"),
        (
            ((),) + (((time(9), time(13)), (time(12), time(18))),) + ((),) * 5,
            "Tuesday windows 09:00-13:00 and 12:00-18:00 overlap",
        ),
        ((((time(0), time(0)), (time(9), time(10))),) + ((),) * 6, "overlap"),
        (((),) * 6, "7 entries"),
    ],
)
def test_invalid_hours_are_rejected(hours: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(hours=hours)


def test_other_invalid_calendars_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="holidays"):
        BusinessCalendar(holidays=frozenset({datetime(2027, 1, 1)}))


def test_touching_windows_are_allowed_and_inputs_normalised() -> None:
    day = [[time(9), time(12)], [time(12), time(18)]]
    cal = BusinessCalendar(hours=[day] * 5 + [[], []], holidays={date(2027, 3, 29)})  # type: ignore[arg-type]
    assert cal.hours[0] == ((time(9), time(12)), (time(12), time(18)))
    assert isinstance(cal.holidays, frozenset)
    assert hash(cal) == hash(BusinessCalendar(hours=cal.hours, holidays=cal.holidays))
    assert business_duration(cal, utc(2027, 3, 22), utc(2027, 3, 23)) == 9 * H


# --- brute-force reference -------------------------------------------------------------------


def ref_is_working(cal: BusinessCalendar, instant: datetime) -> bool:
    local = instant.astimezone(ZoneInfo(cal.timezone))
    if local.date() in cal.holidays:
        return False
    t = local.time()
    return any(s <= t and (e == time(0) or t < e) for s, e in cal.hours[local.weekday()])


def ref_working_steps(
    cal: BusinessCalendar, start: datetime, end: datetime, step: timedelta
) -> list[datetime]:
    """Starts of the `step`-long slices of [start, end) that are working time."""
    steps = []
    t = start
    while t < end:
        if ref_is_working(cal, t):
            steps.append(t)
        t += step
    return steps


# Quarter-hour boundaries keep windows aligned with the minute grid; 96 stands for 24:00.
def quarter(q: int) -> time:
    return time(0) if q == 96 else time(q // 4, q % 4 * 15)


def pair_up(bounds: list[int]) -> tuple[tuple[time, time], ...]:
    return tuple((quarter(a), quarter(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=False))


any_day = st.lists(st.integers(0, 96), unique=True, max_size=6).map(sorted).map(pair_up)


@st.composite
def night_day(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    """Hours whose first window covers 01:00-04:00, where both Paris DST changes happen."""
    start = draw(st.integers(0, 4))
    end = draw(st.integers(16, 40))
    rest = draw(st.lists(st.integers(end + 1, 96), unique=True, max_size=4).map(sorted))
    return ((quarter(start), quarter(end)), *pair_up(rest))


HOLIDAY_POOL = [SPRING_FORWARD + timedelta(days=i) for i in range(-4, 5)] + [
    FALL_BACK + timedelta(days=i) for i in range(-4, 5)
]


@st.composite
def paris_calendars(draw: st.DrawFn) -> BusinessCalendar:
    day = st.one_of(night_day(), any_day)
    weekdays = [draw(day) for _ in range(6)]
    # Sunday carries both DST changes, so it usually covers the night.
    sunday = draw(st.one_of(night_day(), night_day(), any_day))
    holidays = draw(st.frozensets(st.sampled_from(HOLIDAY_POOL), max_size=3))
    return BusinessCalendar("Europe/Paris", hours=(*weekdays, sunday), holidays=holidays)


def near_dst(
    max_before: timedelta, max_after: timedelta, step: timedelta = MINUTE
) -> st.SearchStrategy[datetime]:
    """UTC instants on a `step` grid around one of the 2027 Paris DST changes."""
    anchors = st.sampled_from([utc(2027, 3, 28), utc(2027, 10, 31)])
    steps = st.integers(-(max_before // step), max_after // step)
    return st.builds(lambda a, n: a + n * step, anchors, steps)


FAST = settings(max_examples=60, deadline=None, database=None)


@FAST
@given(
    paris_calendars(), near_dst(timedelta(days=3), timedelta(days=2)), st.integers(0, 3 * 24 * 60)
)
def test_duration_matches_minute_count(
    cal: BusinessCalendar, start: datetime, minutes: int
) -> None:
    end = start + minutes * MINUTE
    expected = len(ref_working_steps(cal, start, end, MINUTE)) * MINUTE
    assert business_duration(cal, start, end) == expected
    assert business_duration(cal, end, start) == -expected
    # Instants given in another zone denote the same moments.
    assert (
        business_duration(cal, start.astimezone(PARIS), end.astimezone(ZoneInfo("Asia/Tokyo")))
        == expected
    )


@FAST
@given(paris_calendars(), near_dst(timedelta(days=2), timedelta(days=1)), st.data())
def test_add_business_matches_minute_walk(
    cal: BusinessCalendar, start: datetime, data: st.DataObject
) -> None:
    horizon = timedelta(days=3)
    ahead = ref_working_steps(cal, start, start + horizon, MINUTE)
    if ahead:
        k = data.draw(st.integers(1, len(ahead)), label="minutes ahead")
        result = add_business(cal, start, k * MINUTE)
        # The k-th working minute ends at the earliest instant where k minutes have accrued.
        assert in_utc(result) == ahead[k - 1] + MINUTE
        assert result.tzinfo == PARIS
    behind = ref_working_steps(cal, start - horizon, start, MINUTE)
    if behind:
        k = data.draw(st.integers(1, len(behind)), label="minutes behind")
        assert in_utc(add_business(cal, start, -k * MINUTE)) == behind[-k]


@FAST
@given(paris_calendars(), near_dst(timedelta(days=3), timedelta(days=3)))
def test_is_working_matches_reference(cal: BusinessCalendar, instant: datetime) -> None:
    assert is_working(cal, instant) == ref_is_working(cal, instant)


@FAST
@given(
    paris_calendars(),
    near_dst(timedelta(days=3), timedelta(days=3), step=TICK * 1000),
    st.timedeltas(min_value=-timedelta(days=10), max_value=timedelta(days=10)),
)
def test_round_trip(cal: BusinessCalendar, start: datetime, delta: timedelta) -> None:
    if not any(cal.hours):
        return
    result = add_business(cal, start, delta)
    assert business_duration(cal, start, result) == delta
    # And it is the extreme such instant: one microsecond closer to start falls short.
    if delta > timedelta(0):
        assert business_duration(cal, start, in_utc(result) - TICK) < delta
    elif delta < timedelta(0):
        assert business_duration(cal, in_utc(result) + TICK, start) < -delta


@FAST
@given(
    paris_calendars(),
    near_dst(timedelta(days=3), timedelta(days=2), step=QUARTER),
    st.integers(1, 6),
)
def test_add_business_days_matches_day_walk(
    cal: BusinessCalendar, start: datetime, days: int
) -> None:
    if not any(cal.hours):
        return
    # The anchor is the first working quarter-hour at or after start (windows are on that grid).
    anchor = start
    while not ref_is_working(cal, anchor):
        anchor += QUARTER
    local = anchor.astimezone(PARIS)
    day, counted = local.date(), 0
    while counted < days:
        day += timedelta(days=1)
        counted += bool(cal.hours[day.weekday()]) and day not in cal.holidays
    expected = datetime.combine(day, local.time(), tzinfo=PARIS).astimezone(UTC)
    assert in_utc(add_business_days(cal, start, days)) == expected
