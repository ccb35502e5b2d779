"""Calendars are read in one place: French and English day names, wrapping ranges and 24:00 mean
the same to the checker, the evaluator, the report and the rendered agreement."""

from datetime import datetime, time

from leadrules import calendars
from leadrules.check import check
from leadrules.engine import load

RULES = """
agreement "A" {
    timezone "Europe/Paris"
}
calendar business {
    hours {days} 09:00-18:00
}
lead {
    id text key
}
event demo "Démo"
score s {
    +10 when demo within 1 business days "Démo récente"
}
"""


def _rules(tmp_path, days: str):
    path = tmp_path / f"{days}.leadrules"
    path.write_text(RULES.replace("{days}", days), encoding="utf-8")
    return path


def test_french_and_english_day_names_give_the_same_week(tmp_path) -> None:
    english, french = _rules(tmp_path, "mon-fri"), _rules(tmp_path, "lundi-vendredi")
    assert check(french).diagnostics == []
    week = calendars.week(check(english).calendars["business"])
    assert calendars.week(check(french).calendars["business"]) == week
    assert week[:5] == (((540, 1080),),) * 5 and week[5:] == ((), ())
    # A demo on Friday 17:00, evaluated on Monday 10:00: one working day has not passed yet.
    demo = [{"type": "demo", "at": datetime(2027, 3, 5, 17)}]
    as_of = datetime(2027, 3, 8, 10)
    later = datetime(2027, 3, 9, 12)  # Tuesday noon: 1 + 9 + 3 working hours, over a day
    for path in (english, french):
        assert load(path).evaluate_raw({"id": "x"}, demo, as_of)["s"] == 10
        assert load(path).evaluate_raw({"id": "x"}, demo, later)["s"] == 0


def test_ranges_wrap_the_week_and_24_00_closes_the_day() -> None:
    assert calendars.day_range("sat", "mon") == [5, 6, 0]
    assert calendars.day_range("lun", "fry") is None
    assert calendars.minutes("24:00") == calendars.END_OF_DAY
    assert calendars.clock(calendars.END_OF_DAY) == time(0)
    assert calendars.minutes("9:5") is None


def test_the_report_and_the_evaluator_count_on_the_same_calendar(tmp_path) -> None:
    rs = check(_rules(tmp_path, "lun-ven"))
    chosen = calendars.agreement_calendar(rs)
    assert chosen is rs.calendars["business"]
    cal = calendars.business_calendar(chosen, rs.timezone)
    assert cal.hours[0] == ((time(9), time(18)),) and cal.hours[6] == ()
