"""Evaluation, construct by construct, against expectations computed by hand (LANGUAGE.md §4-14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from leadrules.check import check
from leadrules.engine import Engine, RulesError, from_ruleset, load, quantile_cuts, quantile_label

HERE = Path(__file__).parent
REFERENCE = HERE / "fixtures" / "reference.leadrules"
NOW = datetime(2027, 3, 1, 10, 0)
PARIS = 'agreement "T" {\n    currency EUR\n    timezone "Europe/Paris"\n}\n'

LEAD = """
lead {
    id            text  key
    email         text
    company_size  int
    industry      enum(saas = "Software", finance = "Financial Services", retail)
    country       text
    job_title     text
    role          enum(decision_maker, influencer, user)
    budget        money
    time_on_site  int
    visits        number
    vip           bool
    created_at    datetime
    birthday      date
}
event demo_request "Demande de démo"
event webinar "Webinaire"
event purchase "Achat" {
    amount money
}
"""


def make(tmp_path: Path, body: str, header: str = 'agreement "T" {\n    currency EUR\n}\n'
         ) -> Engine:
    path = tmp_path / "rules.leadrules"
    path.write_text(header + LEAD + body, encoding="utf-8")
    rs = check(path)
    assert rs.ok, [f"{d.span.line}: {d.message}" for d in rs.diagnostics]
    return from_ruleset(rs)


def ev(at: datetime, kind: str = "demo_request", **props) -> dict:
    return {"type": kind, "at": at, **props}


# ----------------------------------------------------------------------------- the worked example


def test_worked_example_of_section_12() -> None:
    engine = load(REFERENCE)
    lead = {"email": "anne@acme.fr", "company_size": 200, "industry": "saas", "country": "FR",
            "role": "decision_maker", "status": "new", "created_at": datetime(2027, 1, 10, 8)}
    events = [ev(datetime(2027, 2, 28, 9)), ev(datetime(2027, 1, 20, 14), "webinar_attended")]
    r = engine.evaluate(lead, events, as_of=NOW)
    assert r.score("fit") == Decimal("50")
    assert r.score("engagement") == Decimal("42.5")
    assert r.grade("temperature") == "warm"
    assert r.stage == "mql"
    assert r.fired("Décideur")
    assert not r.fired("Budget confirmé")  # budget missing: unknown, does not fire
    budget = next(c for c in r.rules() if c.label == "Budget confirmé")
    assert budget.fired is None
    webinar = next(c for c in r.rules() if c.text == "+5 per webinar_attended")
    assert (webinar.points, webinar.decayed, webinar.count) == (5, Decimal("2.5"), 1)
    assert r.qualifications["bant"].count == 2 and r.qualifications["bant"].met is None
    raw = engine.evaluate_raw(lead, events, as_of=NOW)
    assert raw["fit"] == 50 and type(raw["fit"]) is int  # whole points: integer arithmetic
    assert raw["engagement"] == Decimal("42.50") and str(raw["engagement"]) == "42.50"
    assert raw == {k: v for k, v in engine.evaluate_explained(lead, events, NOW).items()
                   if k != "explain"}


def test_load_refuses_a_file_with_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.leadrules"
    path.write_text('lead {\n    a int\n}\nscore s {\n    +1 when b > 2\n}\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load(path)
    assert info.value.diagnostics and "bad.leadrules" in str(info.value)
    import leadrules

    with pytest.raises(RulesError):
        leadrules.load(path)


# ----------------------------------------------------------------------------- three-valued logic


def test_three_valued_logic_and_rules_fire_only_when_true(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s {
    +1 when company_size >= 10 and country == "FR"  "and"
    +10 when company_size >= 10 or country == "FR"  "or"
    +100 when not (company_size >= 10)  "not"
    +1000 when budget is missing  "missing"
    +10000 when budget is present  "present"
}
segment big {
    company_size >= 10
    country == "FR"
}
segment either any {
    company_size >= 10
    country == "FR"
}
""")
    run = e.evaluate_raw
    # unknown and false = false; unknown or true = true; not unknown = unknown
    assert run({"country": "US"})["s"] == 1000
    assert run({"country": "FR"})["s"] == 10 + 1000
    assert run({})["s"] == 1000
    assert run({"company_size": 5, "budget": Decimal(1)})["s"] == 100 + 10000
    assert run({"country": "US"})["big"] is False
    assert run({"country": "FR"})["big"] is None
    assert run({"country": "FR", "company_size": 20})["big"] is True
    assert run({"country": "FR"})["either"] is True
    assert run({"country": "US"})["either"] is None
    assert run({"country": "US", "company_size": 1})["either"] is False


def test_comparisons_between_in_and_missing_values(tmp_path: Path) -> None:
    e = make(tmp_path, """
list nordics = {"SE", "NO", "DK"}
score s {
    +1 when company_size between 50 and 1000
    +2 when industry in {saas, finance}
    +4 when country not in nordics
    +8 when budget >= 10_000 EUR
    +16 when visits < 2.5
    +32 when company_size != 100
}
""")
    run = e.evaluate_raw
    assert run({})["s"] == 0  # every comparison with a missing value is unknown
    assert run({"company_size": 50})["s"] == 1 + 32
    assert run({"company_size": 1000})["s"] == 1 + 32
    assert run({"company_size": 1001})["s"] == 32
    assert run({"company_size": 100})["s"] == 1
    assert run({"industry": "finance"})["s"] == 2
    assert run({"industry": "retail", "country": "FR"})["s"] == 4
    assert run({"country": "SE"})["s"] == 0
    assert run({"budget": Decimal("10000")})["s"] == 8
    assert run({"budget": Decimal("9999.99")})["s"] == 0
    assert run({"visits": Decimal("2.49")})["s"] == 16
    assert run({"visits": Decimal("2.5")})["s"] == 0


def test_text_tests_are_case_insensitive_and_matches_uses_patterns(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s {
    +1 when job_title contains "DIRECT"
    +2 when job_title starts with "chief"
    +4 when job_title ends with "OFFICER"
    +8 when job_title matches "^C[A-Z]O\\\\b"
    +16 when email.domain in {"Gmail.com", "yahoo.fr"}
    +32 when email.domain ends with ".fr"
}
""")
    run = e.evaluate_raw
    assert run({"job_title": "Directrice marketing"})["s"] == 1
    assert run({"job_title": "Chief Revenue Officer"})["s"] == 2 + 4
    assert run({"job_title": "CTO and co-founder"})["s"] == 8
    assert run({"job_title": "cto"})["s"] == 0  # matches is case-sensitive
    assert run({"email": "Anne@GMAIL.COM"})["s"] == 16
    assert run({"email": "anne@orange.FR"})["s"] == 32
    assert run({"email": "no-at-sign"})["s"] == 0
    assert run({})["s"] == 0


# ----------------------------------------------------------------------------- decay and windows


def test_decay_by_each_events_own_age_and_its_boundaries(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s decay 40% every 10 days {
    +10 per webinar
}
""")
    def score(*ages: timedelta) -> Decimal:
        return e.evaluate_raw({}, [ev(NOW - a, "webinar") for a in ages], NOW)["s"]
    day = timedelta(days=1)
    assert score(timedelta(0)) == 10
    assert score(10 * day - timedelta(seconds=1)) == 10  # floor(age / D) = 0
    assert score(10 * day) == 6  # one period: 1 - 40 %
    assert score(20 * day) == 2  # two periods: 1 - 80 %
    assert score(30 * day) == 0  # max(0, 1 - 120 %)
    assert score(100 * day) == 0
    assert score(timedelta(0), 10 * day, 20 * day) == 18
    assert score(-day) == 0  # an event after `as of` is ignored
    assert str(score(10 * day)) == "6.00"


def test_halflife_and_when_rules_decay_by_their_most_recent_matching_event(tmp_path: Path
                                                                          ) -> None:
    e = make(tmp_path, """
score h halflife 10 days {
    +8 per webinar
}
score w decay 50% every 7 days {
    +40 when demo_request within 30 days  "demo"
    +20 when demo_request within 30 days or webinar within 30 days  "either"
    +5 when company_size > 1
}
""")
    day = timedelta(days=1)
    r = e.evaluate_raw({}, [ev(NOW - 10 * day, "webinar"), ev(NOW - 20 * day, "webinar")], NOW)
    assert r["h"] == Decimal("4") + Decimal("2")
    r = e.evaluate_raw({}, [ev(NOW - 5 * day, "webinar")], NOW)
    assert r["h"] == Decimal("5.66")  # 8 * 0.5 ** 0.5 = 5.6568…
    events = [ev(NOW - 15 * day), ev(NOW - 8 * day), ev(NOW - 1 * day, "webinar")]
    r = e.evaluate_raw({"company_size": 5}, events, NOW)
    # demo: most recent demo is 8 days old: one period, 50 % -> 20; either: the webinar is the
    # most recent match (1 day old): 20; field rules never decay: 5
    assert r["w"] == 20 + 20 + 5
    r = e.evaluate_raw({}, [ev(NOW - 31 * day)], NOW)
    assert r["w"] == 0


def test_event_windows_exclude_their_start_and_include_as_of(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s {
    +1 when demo_request within 7 days
    +10 per demo_request within 7 days
}
grade last by days since last demo_request {
    recent when <= 7
    old otherwise
}
""")
    week = timedelta(days=7)
    assert e.evaluate_raw({}, [ev(NOW - week)], NOW)["s"] == 0  # as_of - D < at
    assert e.evaluate_raw({}, [ev(NOW - week + timedelta(seconds=1))], NOW)["s"] == 11
    assert e.evaluate_raw({}, [ev(NOW)], NOW)["s"] == 11  # at <= as_of
    assert e.evaluate_raw({}, [ev(NOW + timedelta(seconds=1))], NOW)["s"] == 0
    assert e.evaluate_raw({}, [ev(NOW - week)], NOW)["last"] == "recent"
    assert e.evaluate_raw({}, [ev(NOW - 8 * timedelta(days=1))], NOW)["last"] == "old"
    assert e.evaluate_raw({}, [], NOW)["last"] == "old"


def test_aggregates_count_sum_and_days_since_last(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s {
    +1 when count(webinar within 30 days) >= 2  "two webinars"
    +10 when sum(purchase.amount within 365 days) >= 1_000 EUR  "spent"
    +100 when days since last purchase <= 30  "recent"
    +1000 when count(purchase) == 3
}
""")
    day = timedelta(days=1)
    events = [ev(NOW - 2 * day, "webinar"), ev(NOW - 29 * day, "webinar"),
              ev(NOW - 40 * day, "purchase", amount=Decimal("600")),
              ev(NOW - 400 * day, "purchase", amount=Decimal("900")),
              ev(NOW - 31 * day, "purchase", amount=Decimal("500")),
              ev(NOW - 1 * day, "purchase")]  # no amount: skipped by the sum
    r = e.evaluate_raw({}, events, NOW)
    assert r["s"] == 1 + 10 + 100
    # Three purchases, the last 31 days ago: days since last is 31, count is 3.
    r = e.evaluate_raw({}, events[:-1], NOW)
    assert r["s"] == 1 + 10 + 1000
    # 30 days and 23 hours: whole days, so 30.
    r = e.evaluate_raw({}, events[:2] + [ev(NOW - 31 * day + timedelta(hours=1), "purchase")],
                       NOW)
    assert r["s"] == 1 + 100
    r = e.evaluate_raw({}, events[:1], NOW)
    assert r["s"] == 0


def test_events_as_mappings_tuples_and_the_data_layers_events(tmp_path: Path) -> None:
    from leadrules.data import Event

    e = make(tmp_path, "score s {\n    +1 per demo_request\n}\n")
    at = NOW - timedelta(hours=1)
    assert e.evaluate_raw({}, [{"type": "demo_request", "at": at}], NOW)["s"] == 1
    assert e.evaluate_raw({}, [("demo_request", at, {})], NOW)["s"] == 1
    assert e.evaluate_raw({}, [Event("demo_request", at.replace(tzinfo=UTC), {})], NOW)["s"] == 1
    assert e.evaluate_raw({}, [{"type": "demo_request", "at": at.isoformat()}], NOW)["s"] == 1
    assert e.evaluate_raw({}, [{"type": "other", "at": at}], NOW)["s"] == 0


def test_naive_times_are_in_the_agreements_time_zone(tmp_path: Path) -> None:
    e = make(tmp_path, "score s {\n    +1 when demo_request within 1 hours\n}\n",
             header=PARIS)
    paris = ZoneInfo("Europe/Paris")
    # 09:30 in Paris is 08:30 UTC in winter.
    assert e.evaluate_raw({}, [ev(datetime(2027, 3, 1, 9, 30))], NOW)["s"] == 1
    aware = datetime(2027, 3, 1, 8, 30, tzinfo=UTC)
    assert e.evaluate_raw({}, [ev(aware)], NOW)["s"] == 1
    assert e.evaluate_raw({}, [ev(datetime(2027, 3, 1, 8, 30))], NOW)["s"] == 0
    # Across the spring change (28 March 2027, 02:00 -> 03:00), real elapsed time counts.
    after = datetime(2027, 3, 28, 3, 30)
    assert e.evaluate_raw({}, [ev(datetime(2027, 3, 28, 1, 45))], after)["s"] == 1
    assert e.evaluate_raw({}, [ev(datetime(2027, 3, 28, 1, 45, tzinfo=paris))], after)["s"] == 1


def test_business_windows_follow_the_calendar(tmp_path: Path) -> None:
    from leadrules.businesstime import BusinessCalendar, add_business

    header = (PARIS + 'calendar business {\n    hours mon-fri 09:00-18:00\n    holidays 2027-05-03\n}\n')
    e = make(tmp_path, """
score s {
    +1 when demo_request within 4 business hours
    +10 when demo_request within 2 business days
}
""", header=header)
    monday = datetime(2027, 5, 10, 11, 0)  # Monday 11:00
    # 4 business hours before Monday 11:00: Friday 16:00 (2 h on Friday, 2 h on Monday).
    cal = BusinessCalendar("Europe/Paris", holidays=frozenset({date(2027, 5, 3)}))
    start = add_business(cal, monday, -timedelta(hours=4))
    assert start.replace(tzinfo=None) == datetime(2027, 5, 7, 16, 0)
    assert e.evaluate_raw({}, [ev(datetime(2027, 5, 7, 16, 1))], monday)["s"] == 11
    assert e.evaluate_raw({}, [ev(datetime(2027, 5, 7, 16, 0))], monday)["s"] == 10
    # 2 business days before Monday 11:00: Thursday 11:00.
    assert e.evaluate_raw({}, [ev(datetime(2027, 5, 6, 11, 1))], monday)["s"] == 10
    assert e.evaluate_raw({}, [ev(datetime(2027, 5, 6, 10, 59))], monday)["s"] == 0
    # A holiday is not a business day: before Tuesday 4 May 11:00, 2 days back is Thursday.
    tuesday = datetime(2027, 5, 4, 11, 0)
    assert e.evaluate_raw({}, [ev(datetime(2027, 4, 29, 11, 1))], tuesday)["s"] == 10


@pytest.mark.parametrize("hours", [1, 3, 9, 13, 40])
def test_business_hours_window_agrees_with_businesstime(tmp_path: Path, hours: int) -> None:
    from leadrules.businesstime import BusinessCalendar, add_business

    header = (PARIS + 'calendar business {\n    hours mon-fri 09:00-12:30, 14:00-18:00\n}\n')
    e = make(tmp_path, f"score s {{\n    +1 when demo_request within {hours} business hours\n}}\n",
             header=header)
    cal = BusinessCalendar("Europe/Paris", hours=(((_t(9), _t(12, 30)), (_t(14), _t(18))),) * 5
                           + ((), ()))
    for now in (datetime(2027, 3, 29, 9, 30), datetime(2027, 10, 31, 16, 0),
                datetime(2027, 3, 28, 3, 0), datetime(2027, 6, 16, 13, 0)):
        start = add_business(cal, now, -timedelta(hours=hours)).replace(tzinfo=None)
        assert e.evaluate_raw({}, [ev(start)], now)["s"] == 0, (now, start)
        assert e.evaluate_raw({}, [ev(start + timedelta(seconds=1))], now)["s"] == 1


def _t(h: int, m: int = 0):
    from datetime import time

    return time(h, m)


# ----------------------------------------------------------------------------- caps and rounding


def test_clamping_order_rule_then_group_then_score(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s max 50 min -10 {
    group g max 30 {
        +15 per webinar max 20
        +10 per demo_request
    }
    +25 per purchase min 5
    -40 when vip
}
""")
    day = timedelta(days=1)
    three_webinars = [ev(NOW - day, "webinar")] * 3
    r = e.evaluate(three_webinars and {}, three_webinars, NOW)
    webinar = r.scores["s"].rules[0]
    assert (webinar.points, webinar.counted) == (45, 20)
    # rule 45 -> 20; purchase rule total 0 -> its min 5; score 25
    assert r.score("s") == 25
    demos = [ev(NOW - day)] * 2
    r = e.evaluate({}, three_webinars + demos, NOW)
    # group: 20 + 20 = 40 -> 30; + 5 (purchase min) = 35
    assert r.score("s") == 35
    assert r.scores["s"].groups[0].total == 40 and r.scores["s"].groups[0].counted == 30
    r = e.evaluate({}, three_webinars + demos + [ev(NOW - day, "purchase")] * 2, NOW)
    assert r.score("s") == 50 and r.scores["s"].total == 80  # 30 + 50 -> score max 50
    r = e.evaluate({"vip": True}, [], NOW)
    assert r.score("s") == -10  # 5 - 40 = -35 -> score min -10


def test_exact_decimals_and_rounding_half_away_from_zero(tmp_path: Path) -> None:
    e = make(tmp_path, """
score a {
    +10 when company_size > 0
}
score b {
    +34.29 when company_size > 0
}
score c = 0.5 * a + 0.5 * b
score n {
    -0.005 when company_size > 0
}
score p {
    +0.125 when company_size > 0
}
score ratio = a / (b - b)
""")
    r = e.evaluate_raw({"company_size": 1})
    assert r["c"] == Decimal("22.15")  # 22.145: a float computation gives 22.14
    assert round(0.5 * 10 + 0.5 * 34.29, 2) == 22.14  # what binary floats would say
    assert r["n"] == Decimal("-0.01")
    assert r["p"] == Decimal("0.13")
    assert r["ratio"] is None  # division by zero: unknown
    assert r["b"] == Decimal("34.29") and r["a"] == 10


def test_values_with_more_digits_than_exact_arithmetic_keeps_still_round(tmp_path: Path) -> None:
    """A lead handed to the API directly is not bounded as an export is (data.py refuses more
    than 28 digits): its scores are still rounded to the cent, never an error."""
    e = make(tmp_path, """
score s {
    +1 per 1 of visits
}
score big {
    +99_999_999_999_999_999_999_999_999_999_999 when vip
}
score u = s * 1_000_000 + 0.5 * big
""")
    r = e.evaluate_raw({"visits": 10 ** 40, "vip": True})
    assert r["s"] == 10 ** 40
    assert r["big"] == 10 ** 32 - 1
    # 10^46 + 0.5 × (10^32 − 1), kept to 28 digits by the multiplication, then to the cent.
    assert r["u"] == Decimal("10000000000000050000000000000000000000000000000.00")
    assert str(r["u"]).endswith(".00")
    explained = e.evaluate({"visits": 10 ** 40, "vip": True})
    assert explained.score("s") == 10 ** 40
    assert explained.score("u") == r["u"]


def test_per_unit_rules_count_whole_units(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s {
    +1 per 60 of time_on_site max 20
    +2 per 1000 of budget
}
""")
    run = e.evaluate_raw
    assert run({"time_on_site": 59})["s"] == 0
    assert run({"time_on_site": 60})["s"] == 1
    assert run({"time_on_site": 674})["s"] == 11
    assert run({"time_on_site": 5000})["s"] == 20
    assert run({"time_on_site": 674.0})["s"] == 11  # a float from a hand-made lead
    assert run({"budget": Decimal("2999.99")})["s"] == 4
    assert run({"budget": Decimal("-1500")})["s"] == -4  # floor(-1.5) = -2 units
    assert run({})["s"] == 0


# ----------------------------------------------------------------------------- grades


def test_grades_first_row_wins_and_otherwise(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s {
    +1 per 1 of company_size
}
grade g by s {
    a when >= 70
    b when >= 40
    c otherwise
}
grade low by s {
    small when <= 10
    big otherwise
}
grade mix {
    top when g == a and low == big
    mid when g in {a, b}
    rest otherwise
}
""")
    run = e.evaluate_raw
    assert (run({"company_size": 70})["g"], run({"company_size": 69})["g"]) == ("a", "b")
    assert run({"company_size": 40})["g"] == "b" and run({"company_size": 39})["g"] == "c"
    assert run({"company_size": 10})["low"] == "small"
    assert run({"company_size": 80})["mix"] == "top"
    assert run({"company_size": 45})["mix"] == "mid"
    assert run({"company_size": 5})["mix"] == "rest"


def test_quantile_grades_need_cut_points(tmp_path: Path) -> None:
    e = make(tmp_path, """
grade freq by count(purchase within 365 days) quartiles
grade frozen by count(purchase) quartiles at 1, 2, 4
""")
    buys = [ev(NOW - timedelta(days=1), "purchase")] * 3
    r = e.evaluate_raw({}, buys, NOW)
    assert r["freq"] is None and r["freq.value"] == 3
    assert r["frozen"] == "q3"  # 2 < 3 <= 4
    assert e.evaluate_raw({}, buys[:2], NOW)["frozen"] == "q2"  # equal to a cut: group below
    assert e.evaluate_raw({}, [], NOW)["frozen"] == "q1"
    assert e.evaluate_raw({}, buys * 2, NOW)["frozen"] == "q4"
    r = e.evaluate_raw({}, buys, NOW, cuts={"freq": [0, 1, 3]})
    assert r["freq"] == "q3"
    assert e.quantile_grades == {"freq": "quartiles", "frozen": "quartiles"}
    assert quantile_cuts(range(1, 101), "quartiles") == [25, 50, 75]
    assert quantile_cuts([None, 5, 1, 3], 2) == [3]
    assert quantile_cuts([], "quintiles") == []
    assert quantile_cuts([0] * 8 + [1, 2], "quintiles") == [0, 0, 0, 0]
    assert [quantile_label(v, [25, 50, 75]) for v in (1, 25, 26, 75, 76)] == \
        ["q1", "q1", "q2", "q3", "q4"]
    assert quantile_label(None, [1]) is None


# ----------------------------------------------------------------------------- the lifecycle


LIFECYCLE = """
segment excluded any {
    email.domain in {"gmail.com"}
    job_title contains "student"
}
score fit {
    +50 when company_size >= 100
    +30 when role == decision_maker
}
qualification bant require 2 of 3 {
    budget when budget >= 5_000 EUR
    authority when role == decision_maker
    need when demo_request within 90 days
}
stages {
    lead when email is present
    mql when fit >= 50
    sql when bant
    opportunity when bant.count == 3 and bant.authority
}
disqualify when excluded "Excluded contact"
route enterprise when stage >= sql and company_size >= 500
route mid when company_size >= 100
route smb otherwise
"""


def test_qualification_require_k_of_n(tmp_path: Path) -> None:
    e = make(tmp_path, LIFECYCLE)
    run = e.evaluate_raw
    r = run({"role": "decision_maker", "budget": Decimal(6000)}, [], NOW)
    assert (r["bant"], r["bant.count"]) == (True, 2)
    r = run({"role": "user", "budget": Decimal(6000)}, [], NOW)
    assert (r["bant"], r["bant.count"]) == (False, 1)
    r = run({"role": "decision_maker"}, [], NOW)
    assert (r["bant"], r["bant.count"]) == (None, 1)  # budget unknown: could still be met
    result = e.evaluate({"role": "decision_maker"}, [], NOW)
    assert [c.met for c in result.qualifications["bant"].criteria] == [None, True, False]


def test_stage_ladder_never_skips_and_disqualify_overrides(tmp_path: Path) -> None:
    e = make(tmp_path, LIFECYCLE)
    run = e.evaluate_raw
    full = {"email": "a@acme.com", "company_size": 600, "role": "decision_maker",
            "budget": Decimal(9000)}
    demo = [ev(NOW - timedelta(days=3))]
    assert run(full, demo, NOW)["stage"] == "opportunity"
    assert run(full, demo, NOW)["route"] == "enterprise"
    assert run({**full, "email": None}, demo, NOW)["stage"] is None  # no rung, no skipping
    assert run({**full, "company_size": 10, "role": "user"}, demo, NOW)["stage"] == "lead"
    r = run({**full, "company_size": 10}, demo, NOW)
    assert (r["stage"], r["route"]) == ("lead", "smb")  # bant holds, but mql was not reached
    r = run({**full, "email": "a@gmail.com"}, demo, NOW)
    assert (r["stage"], r["disqualified"]) == ("disqualified", True)
    assert r["route"] == "mid"  # stage >= sql is false for a disqualified lead
    assert run({**full, "job_title": None}, [], NOW)["stage"] == "sql"
    result = e.evaluate({**full, "email": "a@gmail.com"}, demo, NOW)
    assert result.disqualified_by == ["Excluded contact"]


def test_routes_first_match_wins(tmp_path: Path) -> None:
    e = make(tmp_path, LIFECYCLE)
    assert e.evaluate_raw({"company_size": 200}, [], NOW)["route"] == "mid"
    assert e.evaluate_raw({}, [], NOW)["route"] == "smb"


def test_dates_and_date_times_compare_as_instants(tmp_path: Path) -> None:
    e = make(tmp_path, """
score s {
    +1 when created_at >= 2027-01-01
    +2 when created_at < 2027-02-01T12:00
    +4 when birthday <= 2000-01-01
    +8 when birthday > 2026-12-31T23:00
}
""", header=PARIS)
    run = e.evaluate_raw
    assert run({"created_at": datetime(2027, 1, 1, 0, 0)})["s"] == 1 + 2
    assert run({"created_at": datetime(2026, 12, 31, 23, 30, tzinfo=UTC)})["s"] == 1 + 2
    assert run({"created_at": datetime(2026, 12, 31, 22, 59, tzinfo=UTC)})["s"] == 2
    assert run({"created_at": datetime(2027, 2, 1, 12, 0)})["s"] == 1
    assert run({"birthday": date(1999, 12, 31)})["s"] == 4
    assert run({"birthday": date(2027, 1, 1)})["s"] == 8


def test_no_stray_keys_and_outputs_describe_the_result(tmp_path: Path) -> None:
    e = make(tmp_path, LIFECYCLE)
    raw = e.evaluate_raw({}, [], NOW)
    assert list(raw) == list(e.outputs)
    assert e.outputs == {"excluded": "segment", "fit": "score", "bant": "qualification",
                         "bant.count": "qualification count", "stage": "stage",
                         "disqualified": "disqualified", "route": "route"}
