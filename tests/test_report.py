"""leadrules report on a generated review period whose true SLA figures are known by
construction, on the real X Education export, and through the command line.

The generated period: 100 MQLs on six hand-computed entry instants in Europe/Paris, across a
weekend, both 2027 daylight-saving changes and two holidays, each with its 4-business-hour
deadline worked out by hand; 73 touched in time, 17 late, 10 never; 20 hot leads under a
30-minute promise. Every activity problem the report must list is planted and counted.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from math import ceil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrules import ast, data
from leadrules.check import check
from leadrules.cli import main
from leadrules.report import compute, metrics
from leadrules.report.calendar import CalendarError, Due, business_calendar, deadline

PARIS = ZoneInfo("Europe/Paris")

RULES = """\
agreement "Generated review" {
    currency EUR
    timezone "Europe/Paris"
    effective 2027-01-01 to 2027-12-31
}

calendar office {
    hours mon-fri 09:00-18:00
    holidays 2027-03-29, 2027-11-01
}

lead {
    id          text      from "Lead ID"  key
    email       text      from "Email"
    source      enum(seo, sea, event)  from "Source"
    intent      int       from "Intent"
    created_at  datetime  from "Created"
    mql_at      datetime  from "MQL date"
    sql_at      datetime  from "SQL date"
    opp_at      datetime  from "Opportunity date"
}

event call       "Call"
event email_sent "Email sent"
event webinar    "Webinar"

score engagement "Engagement" {
    +1 per 1 of intent
}

grade temperature "Temperature" by engagement {
    hot  "Hot"  when >= 60
    warm "Warm" when >= 25
    cold "Cold" otherwise
}

stages {
    lead        "Lead"        when email is present
                entered at created_at
    mql         "MQL"         when mql_at is present
                entered at mql_at
    sql         "SQL"         when sql_at is present
                entered at sql_at
    opportunity "Opportunity" when opp_at is present
                entered at opp_at
}

sla marketing "Volume" {
    revenue target 1_200_000 EUR per year
    marketing share 50%
    average deal 10_000 EUR
    conversion lead -> mql 50%
    conversion mql -> sql 20%
    conversion sql -> opportunity 25%
    conversion opportunity -> customer 50%
    deliver at least 50 mql per month
}

sla sales "Follow-up" {
    calendar office
    touches call, email_sent
    first touch within 4 business hours of mql
    first touch within 30 minutes of mql when temperature == hot
    attempts at least 3 within 2 business days of mql
    accept or reject within 2 business days of sql
    recycle to nurturing after 90 days without opportunity
}

channels by source {
    seo   "Search"  cost 1_000 EUR per month
    sea   "Ads"     cost 3_000 EUR per month
    event "Events"  cost 6_000 EUR per quarter
}
"""

AS_OF = "2027-12-01T11:00"
FROM, TO = "2027-03-01", "2027-12-31"

# (MQL entry, local wall time in Paris, written without offset in the export;
#  its 4-business-hour deadline in UTC, worked out by hand on the calendar above)
TEMPLATES = (
    # Fri 17:00 CET: 1 h on Friday; weekend with the spring change on Sunday 28; Monday 29 is
    # a holiday; Tuesday 09:00 CEST + 3 h = 12:00 CEST = 10:00 UTC.
    (datetime(2027, 3, 26, 17, 0), datetime(2027, 3, 30, 10, 0, tzinfo=UTC)),
    # Wed 10:00 CET + 4 h = 14:00 CET = 13:00 UTC.
    (datetime(2027, 3, 24, 10, 0), datetime(2027, 3, 24, 13, 0, tzinfo=UTC)),
    # Thu 16:30 CET: 1.5 h; Friday 09:00 + 2.5 h = 11:30 CET = 10:30 UTC.
    (datetime(2027, 3, 25, 16, 30), datetime(2027, 3, 26, 10, 30, tzinfo=UTC)),
    # Saturday: nothing until Tuesday 09:00 CEST (Sunday the clocks change, Monday is a
    # holiday); + 4 h = 13:00 CEST = 11:00 UTC.
    (datetime(2027, 3, 27, 11, 0), datetime(2027, 3, 30, 11, 0, tzinfo=UTC)),
    # Tue 20:00 CEST, after hours: Wednesday 09:00 + 4 h = 13:00 CEST = 11:00 UTC.
    (datetime(2027, 3, 30, 20, 0), datetime(2027, 3, 31, 11, 0, tzinfo=UTC)),
    # Fri 16:00 CEST: 2 h; the autumn change on Sunday 31; Monday 1 November is a holiday;
    # Tuesday 09:00 CET + 2 h = 11:00 CET = 10:00 UTC.
    (datetime(2027, 10, 29, 16, 0), datetime(2027, 11, 2, 10, 0, tzinfo=UTC)),
)

# Business minutes from entry to a touch made k real minutes after it (k <= 45), per template:
# the Saturday and the after-hours entries only start counting at the next opening.
STARTS_AT_ENTRY = (True, True, True, False, False, True)

MQLS = 100
IN_TIME = range(0, 73)
LATE = range(73, 90)
NEVER = range(90, 100)


def is_hot(i: int) -> bool:
    return i % 5 == 0


def hot_delay(i: int) -> int:
    """Real minutes from entry to first touch of an in-time hot lead."""
    return 40 if i % 10 == 5 else 10 + i % 15


def local(naive: datetime) -> datetime:
    return naive.replace(tzinfo=PARIS).astimezone(UTC)


def iso_z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def first_touch(i: int) -> tuple[datetime | None, int | None]:
    """Lead i's first touch (UTC) and the business minutes it took, by construction."""
    entry_local, due = TEMPLATES[i % 6]
    entry = local(entry_local)
    if i in NEVER:
        return None, None
    if i in IN_TIME and is_hot(i):
        k = hot_delay(i)
        return entry + timedelta(minutes=k), (k if STARTS_AT_ENTRY[i % 6] else 0)
    if i in IN_TIME:
        m = 1 + i % 90
        return due - timedelta(minutes=m), 240 - m
    m = 1 + i % 60
    return due + timedelta(minutes=m), 240 + m


def expected() -> dict:
    delays = sorted(first_touch(i)[1] for i in range(MQLS) if first_touch(i)[1] is not None)
    hot = [i for i in range(MQLS) if is_hot(i)]
    hot_in_time = [i for i in hot if i in IN_TIME and hot_delay(i) <= 30]
    march = sum(1 for i in range(MQLS) if i % 6 != 5)
    return {
        "in_time": len(IN_TIME), "late": len(LATE), "never": len(NEVER), "pending": 2,
        "median_minutes": statistics.median(delays),
        "p90_minutes": delays[ceil(0.9 * len(delays)) - 1],
        "hot_due": len(hot), "hot_in_time": len(hot_in_time),
        "hot_never": sum(1 for i in hot if i in NEVER),
        "attempts_met": sum(1 for i in range(90) if i % 2 == 0),
        "attempts_missed": sum(1 for i in range(MQLS) if i >= 90 or i % 2 == 1),
        "sql_in_time": 15, "sql_late": 5,
        "mql_march": march, "mql_october": MQLS - march, "mql_december": 2,
        # Leads still below opportunity, last stage entered before 2027-09-02, not nurtured.
        "recycle": sum(1 for i in range(5, MQLS) if i % 6 != 5 and i not in (10, 12)),
        "unknown_lead": 3, "unreadable": 2, "out_of_range": 2, "duplicate": 4,
        "missing_type": 1,
    }


def write(folder: Path) -> dict[str, Path]:
    """The rules, leads and activities files of the generated period, in `folder`."""
    rules = folder / "review.leadrules"
    rules.write_text(RULES, encoding="utf-8")
    leads_rows = []
    acts: list[list[str]] = []

    def act(lead: str, kind: str, at: str) -> None:
        acts.append([lead, kind, at])

    for i in range(MQLS):
        key = f"L{i:03d}"
        entry_local, _ = TEMPLATES[i % 6]
        created = entry_local - timedelta(days=3)
        sql_local = entry_local + timedelta(days=1) if i < 20 else None
        opp_local = sql_local + timedelta(days=2) if i < 5 else None
        leads_rows.append([
            key, f"{key.lower()}@example.com", ("seo", "sea", "event")[i % 3],
            "80" if is_hot(i) else "30", created.isoformat(timespec="minutes"),
            entry_local.isoformat(timespec="minutes"),
            sql_local.isoformat(timespec="minutes") if sql_local else "",
            opp_local.isoformat(timespec="minutes") if opp_local else "",
            "yes" if i < 3 else "no"])
        entry = local(entry_local)
        touched, _ = first_touch(i)
        if touched is not None:
            act(key, "Call" if i % 2 else "call", iso_z(touched))
            if i % 2 == 0:
                act(key, "Email sent", iso_z(touched + timedelta(minutes=1)))
                act(key, "email-sent", iso_z(touched + timedelta(minutes=2)))
        if i in LATE or i >= 95:
            # A call before the lead became an MQL is no follow-up of it.
            act(key, "call", iso_z(entry - timedelta(days=1)))
        if i in NEVER:
            act(key, "webinar", iso_z(entry + timedelta(minutes=5)))  # not a touch
        if sql_local is not None:
            sql = local(sql_local)
            if i < 15:
                act(key, "accepted", iso_z(sql + timedelta(hours=1)))
            else:
                act(key, "rejected", iso_z(sql + timedelta(days=10)))
        if i in (10, 12):
            act(key, "nurturing", iso_z(entry + timedelta(days=100)))
    for j, day in enumerate(("2027-12-01T09:00", "2027-12-01T10:00")):
        key = f"P{j}"
        leads_rows.append([key, f"p{j}@example.com", "seo", "30", "2027-11-28T10:00", day, "",
                           "", ""])
    for j in range(50):
        leads_rows.append([f"N{j:02d}", f"n{j}@example.com", ("seo", "sea", "event")[j % 3],
                           "10", f"2027-04-{1 + j % 28:02d}T10:00", "", "", "", "no"])
    # Planted problems.
    for j in range(3):
        act(f"ghost-{j}", "call", "2027-03-24T12:00:00Z")
    act("L001", "call", "yesterday")
    act("L002", "call", "2027-13-45T10:00")
    act("L003", "call", "1900-01-01T00:00")
    act("L004", "call", "2028-01-01T10:00")
    act("L005", "", "2027-03-24T12:00:00Z")
    first_1, _ = first_touch(1)
    first_3, _ = first_touch(3)
    act("L001", "Call", iso_z(first_1))
    act("L001", "call", iso_z(first_1))
    act("L003", "Call", iso_z(first_3))
    act("L003", "call", iso_z(first_3))

    leads = folder / "leads.csv"
    with open(leads, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Lead ID", "Email", "Source", "Intent", "Created", "MQL date", "SQL date",
                    "Opportunity date", "Won"])
        w.writerows(leads_rows)
    activities = folder / "activities.csv"
    with open(activities, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Lead ID", "type", "at"])
        w.writerows(acts)
    return {"rules": rules, "leads": leads, "activities": activities}


# ============================================================================ fixtures

XEDUCATION = Path(__file__).parents[2] / "shared" / "data" / "xeducation-leads.csv"
XEDUCATION_RULES = Path(__file__).parents[1] / "rules" / "xeducation.leadrules"
EXPECTED = expected()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    return write(tmp_path_factory.mktemp("period"))


def options(files, **more) -> compute.Options:
    return compute.Options(
        leads=str(files["leads"]), activities=str(files["activities"]),
        start=date.fromisoformat(FROM), end=date.fromisoformat(TO),
        as_of=datetime.fromisoformat(AS_OF), **more)


@pytest.fixture(scope="module")
def report(files) -> compute.Report:
    rs = check(files["rules"])
    assert rs.ok, rs.diagnostics
    return compute.build(rs, options(files, outcome="Won"))


def rule(report, text: str) -> metrics.TouchRule:
    return next(r for r in report.follow_up.first_touch if r.text.startswith(text))


# ============================================================================ follow-up


def test_first_touch_within_four_business_hours(report):
    r = rule(report, "first touch within 4 business hours of mql")
    assert r.counts == {metrics.IN_TIME: 73, metrics.LATE: 17, metrics.OVERDUE: 10,
                        metrics.PENDING: 2}
    assert r.measured == 100
    assert r.share == Decimal("0.73")


def test_time_to_first_touch_median_and_p90(report):
    r = rule(report, "first touch within 4 business hours of mql")
    assert r.median == timedelta(minutes=EXPECTED["median_minutes"])
    assert r.p90 == timedelta(minutes=EXPECTED["p90_minutes"])


def test_each_lead_first_touch_matches_construction(report):
    r = rule(report, "first touch within 4 business hours of mql")
    by_key = {t.key: t for t in r.leads}
    for i in range(MQLS):
        touched, minutes = first_touch(i)
        t = by_key[f"L{i:03d}"]
        assert t.touched == touched, i
        if touched is None:
            assert t.due == TEMPLATES[i % 6][1], i
        assert t.business == (timedelta(minutes=minutes) if minutes is not None else None), i


def test_condition_specific_promise_for_hot_leads(report):
    r = rule(report, "first touch within 30 minutes of mql when temperature == hot")
    assert r.condition == "temperature == hot"
    assert r.measured == EXPECTED["hot_due"] == 20
    assert r.counts[metrics.IN_TIME] == EXPECTED["hot_in_time"] == 8
    assert r.counts[metrics.OVERDUE] == EXPECTED["hot_never"] == 2
    assert r.share == Decimal("0.4")


def test_attempts_ignore_duplicates_and_touches_before_entry(report):
    (a,) = report.follow_up.attempts
    assert (a.met, a.missed, a.pending) == (EXPECTED["attempts_met"],
                                             EXPECTED["attempts_missed"], 2)
    # L001 has one touch; its two duplicate rows would have made three.
    assert ("L001", 1) in a.missed_keys


def test_accept_or_reject(report):
    (d,) = report.follow_up.decisions
    assert (d.in_time, d.late, d.overdue, d.pending) == (15, 5, 0, 0)
    # Accepted one real hour after the SQL date: a working hour for the six SQLs dated on a
    # Thursday or Friday morning/afternoon, no working time for the nine dated on a weekend or
    # after hours; the five rejections come ten days later. Sorted, the 10th and 11th are 1 h.
    assert d.median == timedelta(hours=1)


def test_never_touched_list(report):
    keys = [t.key for t in report.follow_up.never_touched]
    assert sorted(keys) == [f"L{i:03d}" for i in NEVER]


def test_recycling_list(report):
    due = {r.key for r in report.follow_up.recycle}
    assert len(due) == EXPECTED["recycle"]
    assert "L010" not in due and "L012" not in due  # sent to nurturing already
    assert "L000" not in due  # reached opportunity
    assert "L005" not in due  # last stage entered in October: not 90 days yet
    assert "P0" not in due


# ============================================================================ volume, conversion


def test_monthly_volume_against_plan(report):
    months = {m.label: m for m in report.volume.months}
    assert months["2027-03"].actual["mql"] == EXPECTED["mql_march"] == 84
    assert months["2027-10"].actual["mql"] == EXPECTED["mql_october"] == 16
    assert months["2027-12"].actual["mql"] == 2
    assert months["2027-12"].current and not months["2027-11"].current
    # 1 200 000 × 50 % / 10 000 = 60 customers; / (20 % × 25 % × 50 %) = 2 400 MQLs a year
    assert months["2027-03"].plan["mql"] == 200
    assert months["2027-03"].plan["customer"] == 5
    assert report.volume.totals["lead"] == 152
    assert report.volume.totals["mql"] == 102


def test_pacing_of_the_month_in_progress(report):
    pace = report.volume.pace
    assert pace.label == "2027-12"
    # Wednesday December 1, 11:00: 2 h of the month's 23 working days × 9 h = 207 h.
    assert pace.elapsed == Decimal(2) / Decimal(207)
    assert pace.actual["mql"] == 2
    # A stage is behind only when a whole lead short of what the pace expects by now: none of
    # the 0.4 SQL expected two hours into the month is late yet; 0 of 3.9 leads is.
    from leadrules.report.view import build

    (table,) = [t for s in build(report, "en").sections for t in s.tables
                if t.headers[-1] == "Pace"]
    verdicts = {row[0]: (row[1], row[2], row[-1]) for row in table.rows}
    assert verdicts["Lead"] == ("0", "3.9", "behind")
    assert verdicts["MQL"] == ("2", "1.9", "on track")
    assert verdicts["SQL"] == ("0", "0.4", "on track")


def test_commitment(report):
    ((stage, period, promised, delivered, need),) = report.volume.commitments
    assert (stage, period, promised, need) == ("mql", "month", 50, 200)
    months = Decimal(9) + Decimal(1) / 31  # March 1 to December 1
    assert delivered == Decimal(102) / months


def test_conversion_against_assumed_rates(report):
    steps = {(s.source, s.target): s for s in report.steps}
    assert (steps["lead", "mql"].entered, steps["lead", "mql"].converted) == (152, 102)
    assert (steps["mql", "sql"].entered, steps["mql", "sql"].converted) == (102, 20)
    assert steps["mql", "sql"].assumed == Decimal("0.20")
    # Three leads won (the outcome column): customers without a date.
    assert (steps["opportunity", "customer"].entered,
            steps["opportunity", "customer"].converted) == (5, 3)
    assert report.volume.undated["customer"] == 3


def test_channels_cost_and_volume(report):
    rows = {r.name: r for r in report.channels.rows}
    assert rows["seo"].leads == 34 + 17 + 2  # L every third, N every third, both P leads
    months = Decimal(9) + Decimal(1) / 31
    assert rows["seo"].cost == Decimal(1000) * 12 / 12 * months
    assert rows["event"].cost == Decimal(6000) * 4 / 12 * months
    assert rows["sea"].counts["mql"] == 33


# ============================================================================ outcome


def test_outcome_per_grade_and_stage(report):
    o = report.outcome
    assert (o.leads, o.converted, o.unknown) == (150, 3, 2)
    temperature = next(b for b in o.breakdowns if b.name == "temperature")
    bands = {b.value: b for b in temperature.bands}
    assert (bands["hot"].leads, bands["hot"].converted) == (20, 1)  # L000 is hot
    assert (bands["warm"].leads, bands["warm"].converted) == (80, 2)
    assert bands["hot"].lift == (Decimal(1) / 20) / (Decimal(3) / 150)
    assert temperature.ordered is True


def test_auc_by_mann_whitney_with_ties():
    y = [True, False]
    assert metrics.auc([(Decimal(2), True), (Decimal(1), False)]) == 1
    assert metrics.auc([(Decimal(1), True), (Decimal(2), False)]) == 0
    assert metrics.auc([(Decimal(1), t) for t in y]) == Decimal("0.5")
    # positives 3, 2 (tie with a negative), negatives 2, 1: pairs won 1+1+0.5+1 = 3.5 of 4
    pairs = [(Decimal(3), True), (Decimal(2), True), (Decimal(2), False), (Decimal(1), False)]
    assert metrics.auc(pairs) == Decimal("0.875")
    assert metrics.auc([(Decimal(1), True)]) is None


def test_percentile_is_nearest_rank():
    values = list(range(1, 11))
    assert metrics.percentile(values, 0.9) == 9
    assert metrics.percentile(values, 0.5) == 5
    assert metrics.percentile([7], 0.9) == 7
    assert metrics.percentile([], 0.9) is None


# ============================================================================ inputs


def test_every_activity_row_is_used_or_listed(report):
    log = report.log
    p = log.problems
    assert len(p["unknown lead"]) == EXPECTED["unknown_lead"]
    assert len(p["unreadable timestamp"]) == EXPECTED["unreadable"]
    assert len(p["timestamp out of range"]) == EXPECTED["out_of_range"]
    assert len(p["duplicate"]) == EXPECTED["duplicate"]
    assert len(p["missing type"]) == EXPECTED["missing_type"]
    assert log.used + log.problem_count == log.rows
    assert {x.at for x in p["unreadable timestamp"]} == {"yesterday", "2027-13-45T10:00"}
    assert {x.detail for x in p["timestamp out of range"]} == {
        "before 1990", "after the report's as-of instant"}


def _convert(files, tmp_path, fmt: str) -> Path:
    with open(files["activities"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if fmt == "jsonl":
        path = tmp_path / "activities.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "activities.parquet"
    pq.write_table(pa.table({k: [r[k] for r in rows] for k in rows[0]}), path)
    return path


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_activities_from_json_lines_and_parquet(files, report, tmp_path, fmt):
    path = _convert(files, tmp_path, fmt)
    rs = check(files["rules"])
    again = compute.build(rs, compute.Options(
        leads=str(files["leads"]), activities=str(path), start=date(2027, 3, 1),
        end=date(2027, 12, 31), as_of=datetime.fromisoformat(AS_OF)))
    assert rule(again, "first touch within 4").counts == rule(report, "first touch within 4").counts
    assert {k: len(v) for k, v in again.log.problems.items()} == \
        {k: len(v) for k, v in report.log.problems.items()}


def test_activity_types_written_as_the_event_labels(files, report, tmp_path):
    """A CRM that writes "Appel commercial" for the event `call "Appel commercial"` gets the
    same follow-up figures as one that writes `call`: labels name events in the log too."""
    rules = tmp_path / "labels.leadrules"
    rules.write_text(files["rules"].read_text(encoding="utf-8").replace(
        'event call       "Call"', 'event call       "Appel commercial"'), encoding="utf-8")
    with open(files["activities"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    activities = tmp_path / "activities.csv"
    with open(activities, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows({**r, "type": "Appel commercial" if r["type"] == "call" else r["type"]}
                      for r in rows)
    rs = check(rules)
    assert rs.ok, rs.diagnostics
    again = compute.build(rs, options({"activities": activities, "leads": files["leads"]},
                                      outcome="Won"))
    assert [r.counts for r in again.follow_up.first_touch] == \
        [r.counts for r in report.follow_up.first_touch]
    assert again.follow_up.attempts == report.follow_up.attempts
    assert again.log.types["call"] == report.log.types["call"] > 0


def test_business_calendar_from_rules():
    rs = check("rules.leadrules", text=RULES.replace(
        "hours mon-fri 09:00-18:00", "hours mon-thu, sat 09:00-12:30, 14:00-18:00\n"
        "    hours fri 08:00-24:00"))
    assert rs.ok, rs.diagnostics
    cal = business_calendar(rs.calendars["office"], rs.timezone)
    two = ((time(9), time(12, 30)), (time(14), time(18)))
    assert cal.hours[0] == two and cal.hours[5] == two
    assert cal.hours[4] == ((time(8), time(0)),)
    assert cal.hours[6] == ()
    assert date(2027, 11, 1) in cal.holidays
    assert cal.timezone == "Europe/Paris"


def test_calendar_problems_are_reported_in_words():
    bad = ast.Calendar("x", (ast.Hours((("mon", "fry"),), (("09:00", "18:00"),)),), ())
    with pytest.raises(CalendarError, match="'fry' is not a day of the week"):
        business_calendar(bad)
    bad = ast.Calendar("x", (ast.Hours((("mon", "fri"),), (("18:00", "09:00"),)),), ())
    with pytest.raises(CalendarError, match="cannot be used"):
        business_calendar(bad)


def test_deadlines_in_business_days_and_plain_time():
    rs = check("rules.leadrules", text=RULES)
    cal = business_calendar(rs.calendars["office"], rs.timezone)
    friday = local(datetime(2027, 3, 26, 17, 0))
    # 2 business days: Monday 29 is a holiday -> Tuesday, Wednesday at 17:00 CEST
    assert deadline(cal, friday, ast.Duration(Decimal(2), "days", True)) == \
        datetime(2027, 3, 31, 15, 0, tzinfo=UTC)
    assert deadline(cal, friday, ast.Duration(Decimal(30), "minutes")) == \
        friday + timedelta(minutes=30)
    assert deadline(cal, friday, ast.Duration(Decimal(90), "days")) == \
        friday + timedelta(days=90)


def test_outcome_values_that_cannot_be_read_are_listed(files, tmp_path):
    text = files["leads"].read_text(encoding="utf-8").replace(",yes\n", ",maybe\n", 1)
    leads = tmp_path / "leads.csv"
    leads.write_text(text, encoding="utf-8")
    rs = check(files["rules"])
    r = compute.build(rs, compute.Options(
        leads=str(leads), activities=str(files["activities"]), start=date(2027, 3, 1),
        end=date(2027, 12, 31), as_of=datetime.fromisoformat(AS_OF), outcome="Won"))
    assert [(p.row, p.value) for p in r.outcome_problems] == [(2, "maybe")]
    assert r.outcome.converted == 2


def test_parse_outcome():
    assert compute.parse_outcome("1") is True
    assert compute.parse_outcome("Won") is True
    assert compute.parse_outcome("closed lost") is False
    assert compute.parse_outcome("") is None
    with pytest.raises(ValueError):
        compute.parse_outcome("perhaps")


# ============================================================================ real data


@pytest.mark.skipif(not XEDUCATION.exists(), reason=f"{XEDUCATION} is not there")
@pytest.mark.skipif(not XEDUCATION_RULES.exists(), reason=f"{XEDUCATION_RULES} is not there")
def test_xeducation_hot_converts_more_than_warm_more_than_cold(tmp_path):
    activities = tmp_path / "activities.csv"
    activities.write_text("Prospect ID,type,at\n", encoding="utf-8")
    rs = check(XEDUCATION_RULES)
    assert rs.ok
    r = compute.build(rs, compute.Options(leads=str(XEDUCATION), activities=str(activities),
                                          outcome="Converted",
                                          as_of=datetime(2027, 6, 1)))
    assert (r.outcome.leads, r.outcome.converted) == (9237, 3559)
    temperature = next(b for b in r.outcome.breakdowns if b.name == "temperature")
    rate = {b.value: b.rate for b in temperature.bands}
    assert rate["hot"] > rate["warm"] > rate["cold"]
    assert temperature.ordered is True
    assert all(a.auc is not None and a.auc > Decimal("0.5") for a in r.outcome.aucs)
    assert r.lead_problems == []


# ============================================================================ command line


def run(files, *args):
    return CliRunner().invoke(main, [
        "report", str(files["rules"]), "--leads", str(files["leads"]),
        "--activities", str(files["activities"]), "--from", FROM, "--to", TO,
        "--as-of", AS_OF, *map(str, args)])


def test_cli_html_is_standalone_and_escaped(files, tmp_path):
    out = tmp_path / "report.html"
    result = run(files, "--outcome", "Won", "-o", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert page.count("<svg") >= 4  # funnel, pacing, time to first touch, conversion by grade
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<script" not in page
    assert "73.0%" in page
    assert "L090" in page and "ghost-0" in page
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_json_and_per_lead_csv(files, tmp_path):
    leads_out = tmp_path / "results.csv"
    problems_out = tmp_path / "problems.csv"
    result = run(files, "--format", "json", "--leads-out", leads_out,
                 "--problems-out", problems_out)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (first,) = [r for r in data["follow_up"]["first_touch"] if r["condition"] is None]
    assert first["counts"]["in time"] == 73 and first["kept"] == 0.73
    assert len(data["not_used"]["activities"]["duplicate"]) == 4
    rows = {r["lead"]: r for r in csv.DictReader(io.StringIO(leads_out.read_text()))}
    assert len(rows) == 152
    assert rows["L000"]["temperature"] == "hot"
    assert rows["L090"]["first_touch"] == metrics.OVERDUE
    minutes = first_touch(7)[1]
    assert float(rows["L007"]["first_touch_business_hours"]) == pytest.approx(minutes / 60,
                                                                            abs=1e-4)
    problems = list(csv.DictReader(io.StringIO(problems_out.read_text())))
    assert len(problems) == 12
    assert {p["reason"] for p in problems} >= {"duplicate", "unknown lead"}


def test_cli_markdown(files):
    result = run(files, "--format", "md")
    assert result.exit_code == 0, result.output
    assert "## Sales follow-up" in result.stdout
    assert "| First touch within 4\u00a0business hours of entering MQL | 100 | 73 | 17 | 10 | " \
        "2 | 73.0% |" in result.stdout


def test_cli_bad_inputs_exit_without_traceback(files, tmp_path):
    missing = CliRunner().invoke(main, ["report", str(files["rules"]), "--leads",
                                        str(tmp_path / "nope.csv"), "--activities",
                                        str(files["activities"])])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    wrong_column = run(files, "--activity-at", "when")
    assert wrong_column.exit_code == 1
    assert "no column 'when'" in wrong_column.output
    assert "Traceback" not in wrong_column.output
    reversed_period = run(files, "--from", "2027-12-31", "--to", "2027-01-01")
    assert reversed_period.exit_code == 2
    bad_date = run(files, "--from", "31/12/2027")
    assert bad_date.exit_code == 2 and "is not a date" in bad_date.output
    no_outcome = run(files, "--outcome", "Converted")
    assert no_outcome.exit_code == 1 and "no column 'Converted'" in no_outcome.output


def test_cli_failed_run_leaves_no_file(files, tmp_path):
    out = tmp_path / "report.html"
    result = run(files, "--activity-type", "kind", "-o", out)
    assert result.exit_code == 1
    assert not out.exists() and not list(tmp_path.iterdir())


def test_labels_from_rules_are_escaped(files, tmp_path):
    rules = tmp_path / "rules.leadrules"
    rules.write_text(RULES.replace('"Search"', '"<script>alert(1)</script>"'), encoding="utf-8")
    result = CliRunner().invoke(main, [
        "report", str(rules), "--leads", str(files["leads"]), "--activities",
        str(files["activities"]), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "<script>" not in result.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout


# ============================================================================ languages

NN, NB = "\u202f", "\u00a0"  # narrow and ordinary no-break spaces
PACKAGE = Path(__file__).parents[1] / "src" / "leadrules"


def french_rules(files, tmp_path) -> Path:
    rules = tmp_path / "revue.leadrules"
    rules.write_text(RULES.replace("    currency EUR", "    locale fr\n    currency EUR")
                     .replace('"Temperature"', '"Température"')
                     .replace('hot  "Hot"', 'hot  "Chaud"').replace('warm "Warm"', 'warm "Tiède"')
                     .replace('cold "Cold"', 'cold "Froid"'), encoding="utf-8")
    return rules


def run_rules(files, rules, *args):
    return CliRunner().invoke(main, [
        "report", str(rules), "--leads", str(files["leads"]), "--activities",
        str(files["activities"]), "--from", FROM, "--to", TO, "--as-of", AS_OF,
        *map(str, args)])


def test_report_speaks_the_agreements_language(files, tmp_path):
    rules = french_rules(files, tmp_path)
    result = run_rules(files, rules, "--outcome", "Won", "--format", "md")
    assert result.exit_code == 0, result.output
    text = result.stdout
    # Words from the report's French messages, typeset the French way.
    assert "## Suivi commercial" in text
    assert f"- **Premier contact sous 4{NB}heures ouvrées**{NN}: 73,0{NB}%" in text
    assert (f"| Premier contact dans un délai de 4{NB}heures ouvrées après l’entrée au stade "
            f"MQL | 100 | 73 | 17 | 10 | 2 | 73,0{NB}% |") in text
    # The condition of a promise in the agreement's own French words.
    assert "lorsque la note Température est Chaud" in text
    assert f"du 1ᵉʳ{NB}mars{NB}2027 au 31{NB}décembre{NB}2027" in text
    assert f"Engagement{NN}: au moins 50{NB}leads au stade MQL par mois." in text
    assert f"Activités{NN}: horodatage illisible (2)" in text
    assert "aucun lead n’a cette clé dans le fichier des leads" in text
    assert f"Leads jamais contactés{NN}: 10" in text
    # Which stage each table counts, when an outcome makes converted leads customers.
    assert "Un lead converti selon la colonne «\u202fWon\u202f» compte comme client" in text
    assert "Dans le tableau par stade, le stade d’un lead est celui que lui donnent les règles" \
        in text
    # Amounts and dates as a French reader writes them.
    assert f"9{NN}032{NB}€" in text and f"170,42{NB}€" in text
    assert "24/03/2027 10:00" in text
    assert "Delivered" not in text and "First touch" not in text
    html = run_rules(files, rules, "--outcome", "Won")
    assert html.exit_code == 0 and '<html lang="fr">' in html.stdout
    # --lang chooses the other language.
    english = run_rules(files, rules, "--lang", "en", "--format", "md")
    assert english.exit_code == 0, english.output
    assert "## Sales follow-up" in english.stdout and "## Suivi commercial" not in english.stdout
    assert "€9,032" in english.stdout


def test_english_report_reads_as_english(files):
    text = run(files, "--outcome", "Won", "--format", "md").stdout
    assert "- **MQL stage: delivered / plan to date**: 102 / 1,807" in text
    assert "**Leads never touched: 10**" in text
    assert "(s)" not in text  # plurals are chosen, not hedged
    assert f"Commitment: at least 50{NB}leads at the MQL stage per month." in text
    assert "the calendar office" not in text  # the hours in words, not the calendar's name
    assert f"Monday to Friday, from 9:00{NN}AM to 6:00{NN}PM" in text


def _report_keys_used() -> set[str]:
    text = (PACKAGE / "report" / "view.py").read_text(encoding="utf-8")
    used = set(re.findall(r'\bw\(\s*"([a-z_]+(?:\.[a-z_]+)+)"', text))
    used |= set(re.findall(r'self\.w\(\s*"([a-z_]+(?:\.[a-z_]+)+)"', text))
    used |= set(re.findall(r'self\(\s*"([a-z_]+(?:\.[a-z_]+)+)"', text))
    return used


def _report_families() -> set[str]:
    """Keys built from a name at run time: every value the code can ask for."""
    from leadrules import sla
    from leadrules.report.view import DETAIL_KEYS, REASON_KEYS

    keys = {f"period.{p}" for p in sla.PERIODS_PER_YEAR}
    keys |= {f"data.reason.{k}" for k in REASON_KEYS.values()}
    keys |= {f"data.detail.{k}" for k in DETAIL_KEYS.values()}
    keys |= {f"volume.pace.{k}" for k in ("stage", "so_far", "expected", "heading", "plan", "pace")}
    keys |= {f"conversion.{k}" for k in ("step", "entered", "converted", "actual", "assumed",
                                         "difference")}
    keys |= {f"follow_up.{k}" for k in (
        "promise", "due", "in_time", "late", "never", "pending", "kept", "median", "p90", "met",
        "missed", "no_decision", "lead", "entered", "was_due", "waiting", "stage", "since",
        "days")}
    keys |= {f"outcome.{k}" for k in ("band", "leads", "converted", "rate", "lift_header",
                                      "score", "auc", "reading", "stage_note")}
    keys |= {f"outcome.auc_{k}" for k in ("none", "very_well", "well", "somewhat", "barely",
                                          "chance")}
    keys |= {f"data.{k}" for k in ("row", "lead", "type", "timestamp", "why", "column", "value",
                                   "problem", "lead_values", "repeated_keys", "outcome_values")}
    keys |= {f"data.value_problem.{k}" for k in (*data.VALUE_PROBLEMS, "repeated_key",
                                                  "not_outcome")}
    return keys


def test_report_messages_exist_in_both_languages():
    from leadrules.render.messages import LANGUAGES, load

    fr, en = set(load("fr", "leadrules.report")), set(load("en", "leadrules.report"))
    assert sorted(fr - en) == [], "in report/messages/fr.yaml but missing from en.yaml"
    assert sorted(en - fr) == [], "in report/messages/en.yaml but missing from fr.yaml"
    used = _report_keys_used() | _report_families()
    assert len(used) > 100
    for lang in LANGUAGES:
        known = set(load(lang, "leadrules.report"))
        assert sorted(k for k in used if k not in known) == [], f"missing from {lang}.yaml"


def test_value_problems_are_worded_in_the_reports_language(files, tmp_path):
    """A value that does not fit its field is explained in the report's language; the English
    words are those `leadrules score` prints."""
    from leadrules.report.view import Words

    en = Words("en", None)
    for key, text in data.VALUE_PROBLEMS.items():
        params = {name: f"<{name}>" for name in re.findall(r"{(\w+)}", text)}
        worded = en(f"data.value_problem.{key}", **params).replace("’", "'")
        assert worded == text.format(**params), key
    leads = tmp_path / "leads.csv"
    rows = files["leads"].read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    cells = rows[1].split(",")
    cells[header.index("Intent")] = "beaucoup"
    cells[header.index("Source")] = "sao"
    leads.write_text("\n".join([rows[0], ",".join(cells), *rows[2:]]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, [
        "report", str(french_rules(files, tmp_path)), "--leads", str(leads), "--activities",
        str(files["activities"]), "--from", FROM, "--to", TO, "--as-of", AS_OF, "--format", "md"])
    assert result.exit_code == 0, result.output
    assert "| 2 | Intent | beaucoup | n’est pas un nombre entier |" in result.stdout
    assert f"| 2 | Source | sao | n’est pas une des valeurs de source{NN};" in result.stdout
    assert "is not" not in result.stdout


def test_plurals_follow_the_count(files):
    from leadrules.report.view import Words

    en, fr = Words("en", None), Words("fr", None)
    assert en("volume.disqualified", count=1, n="1").startswith("1 lead of the period is")
    assert en("volume.disqualified", count=3, n="3").startswith("3 leads of the period are")
    assert fr("volume.disqualified", count=1, n="1").startswith("1 lead de la période est")
    assert fr("volume.disqualified", count=3, n="3").startswith("3 leads de la période sont")
    assert en("channels.intro", count=1, field="x", months="1").endswith(
        "over 1 month of the period to date.")
    assert en.money(Decimal("466.666"), "EUR", 2) == "€466.67"
    assert fr.money(Decimal("6066.666"), "EUR", 0) == f"6{NN}067{NB}€"
    assert fr.pct(Decimal("0.733"), 1) == f"73,3{NB}%" and en.pct(Decimal("0.4")) == "40%"
    assert fr.hours(timedelta(hours=3, minutes=5)) == f"3{NB}h{NB}05"
    assert en.hours(timedelta(hours=1234)) == f"1,234{NB}h{NB}00{NB}min"


def test_chart_labels_are_never_cut(files, tmp_path):
    rules = tmp_path / "long.leadrules"
    rules.write_text(RULES.replace('warm "Warm"', 'warm "Lead qualifié marketing tiède"'),
                     encoding="utf-8")
    result = run_rules(files, rules, "--outcome", "Won")
    assert result.exit_code == 0, result.output
    svg = result.stdout
    # The label wraps between words under its bar: every word is there, none is cut.
    for word in ("Lead", "qualifié", "marketing", "tiède"):
        assert re.search(rf"<tspan[^>]*>[^<]*\b{word}\b", svg), word
    assert "Lead qualifié ma<" not in svg


# ============================================================================ deadline bounds

ACME_LIKE = ast.Calendar("c", (
    ast.Hours((("mon", "thu"),), (("09:00", "12:30"), ("14:00", "18:00"))),
    ast.Hours((("fri", "fri"),), (("09:00", "12:30"), ("14:00", "17:00")))),
    tuple(ast.DateLit(date(2027, m, d)) for m, d in
          ((1, 1), (3, 29), (5, 1), (5, 6), (5, 8), (5, 17), (7, 14), (8, 15), (11, 1),
           (11, 11), (12, 24), (12, 25), (12, 31))))


@settings(max_examples=150, deadline=None)
@given(start=st.datetimes(datetime(2026, 12, 1), datetime(2027, 12, 31)),
       days=st.integers(1, 15),
       offset=st.integers(-30 * 24 * 60, 40 * 24 * 60))
def test_due_bounds_agree_with_the_deadline(start, days, offset):
    cal = business_calendar(ACME_LIKE, "Europe/Paris")
    begin = start.replace(tzinfo=PARIS).astimezone(UTC)
    within = ast.Duration(Decimal(days), "days", True)
    exact = deadline(cal, begin, within)
    probe = exact + timedelta(minutes=offset)
    due = Due(cal, begin, within)
    assert due.covers(probe) == (probe <= exact)
    assert Due(cal, begin, within).passed(probe) == (exact <= probe)
