"""`leadrules score`: rows in = rows out, data errors in each mode, events, formats, quantiles."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrules.cli import main
from leadrules.engine import quantile_cuts
from leadrules.scoring import cut_points

RULES = """
agreement "Test" {
    locale en
    currency EUR
    timezone "Europe/Paris"
}

lead {
    id        text   from "Record ID"  key
    size      int    from "Employees"
    industry  enum(saas = "Software", finance = "Financial Services", retail) from "Industry" missing "Select"
    budget    money  from "Budget"
    email     text   from "Email"
}

event demo "Demo request"
event purchase {
    amount money
}

score fit "Fit" {
    +30 when size between 50 and 1000  "Right size"
    +20 when industry in {saas, finance}  "Target industry"
    +10 when budget >= 10_000 EUR  "Budget"
}

score engagement "Engagement" {
    +40 when demo within 7 days  "Recent demo"
    +5 per purchase  "Purchases"
}

grade temperature "Temperature" by engagement {
    hot  when >= 40
    cold otherwise
}

grade spend "Spend" by sum(purchase.amount within 365 days) quartiles

qualification ready "Ready" {
    sized    when size >= 50
    budgeted when budget >= 5_000 EUR
}

stages {
    lead "Lead" when email is present
    mql  "MQL"  when fit >= 50
}

route big "Large accounts" when size >= 500
route small "Small accounts" otherwise
"""

LEADS = """Record ID,Employees,Industry,Budget,Email
A,200,Software,12 000 EUR,a@x.fr
B,20,Select,,b@x.fr
C,many,Retail,500,
D,600,Financial Services,$9,d@x.fr
"""

AS_OF = "2027-03-01T10:00"


@pytest.fixture()
def files(tmp_path):
    rules = tmp_path / "rules.leadrules"
    rules.write_text(RULES, encoding="utf-8")
    leads = tmp_path / "leads.csv"
    leads.write_text(LEADS, encoding="utf-8")
    return tmp_path, rules, leads


def run(*args: str):
    return CliRunner().invoke(main, ["score", *map(str, args)], catch_exceptions=False)


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_one_row_per_lead_with_every_result(files):
    folder, rules, leads = files
    out = folder / "scores.csv"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1  # written, but some values did not fit, result.output
    rows = read_csv(out)
    assert [r["Record ID"] for r in rows] == ["A", "B", "C", "D"]
    assert list(rows[0]) == ["Record ID", "fit", "engagement", "temperature", "spend", "ready",
                             "stage", "route"]
    a, b, c, d = rows
    assert (a["fit"], a["engagement"], a["temperature"], a["ready"], a["stage"], a["route"]) == \
        ("60.00", "0.00", "cold", "true", "mql", "small")
    # B: too small (so not ready, whatever its budget), industry "Select" is not given.
    assert (b["fit"], b["ready"], b["stage"], b["route"]) == ("0.00", "false", "lead", "small")
    # C: 'many' is unreadable, so size is unknown: unknown and false is false; no e-mail, so
    # not even a lead; the route falls to `otherwise`.
    assert (c["fit"], c["ready"], c["stage"], c["route"]) == ("0.00", "false", "", "small")
    # D: the budget in dollars is unreadable; the rest counts.
    assert (d["fit"], d["stage"], d["route"]) == ("50.00", "mql", "big")
    assert {r["spend"] for r in rows} == {"q1"}  # nobody bought anything: all spent 0


def test_report_mode_lists_each_error_beside_the_output(files):
    folder, rules, leads = files
    out = folder / "scores.csv"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF)
    errors = read_csv(folder / "scores.errors.csv")
    assert [(e["row"], e["column"], e["value"]) for e in errors] == [
        ("4", "Employees", "many"), ("5", "Budget", "$9")]
    assert errors[0]["problem"] == "is not a whole number"
    assert errors[1]["problem"] == "is in USD, but this agreement counts money in EUR"
    assert Path(errors[0]["file"]).name == "leads.csv"
    summary = result.stderr
    assert "Scored 4 of 4 leads" in summary
    assert "2 leads had data errors" in summary
    assert "row 4, column 'Employees': 'many' is not a whole number" in summary
    assert "size  " in summary and "1 unreadable (25.0 %)" in summary
    assert "email " in summary and "1 not given (25.0 %)" in summary


def test_a_clean_run_removes_a_stale_errors_file(files):
    folder, rules, leads = files
    out = folder / "scores.csv"
    stale = folder / "scores.errors.csv"
    stale.write_text("old", encoding="utf-8")
    leads.write_text("Record ID,Employees\nA,1\n", encoding="utf-8")
    result = run(rules, leads, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 0
    assert "No data errors." in result.stderr
    assert not stale.exists()


def test_skip_mode_leaves_out_the_leads_with_errors(files):
    folder, rules, leads = files
    out = folder / "scores.csv"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF, "--on-error", "skip")
    assert result.exit_code == 1  # written, but some values did not fit
    assert [r["Record ID"] for r in read_csv(out)] == ["A", "B"]
    assert "Scored 2 of 4 leads" in result.stderr
    assert "Skipped 2 leads with data errors" in result.stderr
    assert len(read_csv(folder / "scores.errors.csv")) == 2


def test_fail_mode_stops_and_writes_nothing(files):
    folder, rules, leads = files
    out = folder / "scores.csv"
    out.write_text("previous scores\n", encoding="utf-8")
    result = run(rules, leads, "-o", out, "--as-of", AS_OF, "--on-error", "fail")
    assert result.exit_code == 1
    assert "row 4, column 'Employees': 'many' is not a whole number" in result.stderr
    assert "nothing was written" in result.stderr
    assert out.read_text(encoding="utf-8") == "previous scores\n"
    assert sorted(p.name for p in folder.iterdir()) == ["leads.csv", "rules.leadrules",
                                                         "scores.csv"]


def test_interrupted_run_leaves_no_file(files, monkeypatch):
    folder, rules, leads = files
    out = folder / "scores.csv"
    from leadrules import scoring

    def broken(self, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr(scoring.Scorer, "evaluate_row", broken)
    result = CliRunner().invoke(main, ["score", str(rules), str(leads), "-o", str(out)])
    assert result.exit_code != 0
    assert sorted(p.name for p in folder.iterdir()) == ["leads.csv", "rules.leadrules"]


def test_stdout_when_no_output_file(files):
    _, rules, leads = files
    result = run(rules, leads, "--as-of", AS_OF, "-q")
    assert result.exit_code == 1  # written, but some values did not fit
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["Record ID"] for r in rows] == ["A", "B", "C", "D"]
    assert result.stderr == ""


def test_explain_column(files):
    folder, rules, leads = files
    out = folder / "scores.jsonl"
    assert run(rules, leads, "-o", out, "--as-of", AS_OF, "--explain").exit_code == 1
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["explanation"] == ["fit: +30 Right size (line 22)",
                                    "fit: +20 Target industry (line 23)",
                                    "fit: +10 Budget (line 24)"]
    assert first["fit"] == 60 and first["ready"] is True and first["spend"] == "q1"
    out_csv = folder / "scores.csv"
    run(rules, leads, "-o", out_csv, "--as-of", AS_OF, "--explain")
    assert read_csv(out_csv)[0]["explanation"] == (
        "fit: +30 Right size (line 22); fit: +20 Target industry (line 23); "
        "fit: +10 Budget (line 24)")


def test_events_file_joined_on_the_key(files):
    folder, rules, leads = files
    events = folder / "events.csv"
    events.write_text(
        "Record ID,type,at,amount\n"
        "A,demo,2027-02-27T09:00,\n"
        "A,purchase,2027-01-10,100\n"
        "B,purchase,2027-01-10,200\n"
        "B,purchase,2026-12-01,300 EUR\n"
        "B,Demo request,2027-01-01,\n"
        "Z,demo,2027-02-27,\n"
        "A,page_view,2027-02-27,\n"
        "B,purchase,someday,5\n", encoding="utf-8")
    out = folder / "scores.csv"
    result = run(rules, leads, "--events", events, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1  # written, but some values did not fit, result.output
    a, b, c, d = read_csv(out)
    assert (a["engagement"], a["temperature"]) == ("45.00", "hot")
    assert (b["engagement"], b["temperature"]) == ("10.00", "cold")
    # Spend quartiles over the four leads: C and D 0, A 100, B 500 (the 300 is too old).
    assert (a["spend"], b["spend"], c["spend"], d["spend"]) == ("q3", "q4", "q1", "q1")
    assert "Events: 8 read, 1 for leads not in the file, 1 with problems." in result.stderr
    assert "page_view (1)" in result.stderr
    assert "Cut points of spend (quartiles of these leads): 0, 0, 100." in result.stderr
    errors = read_csv(folder / "scores.errors.csv")
    assert (errors[0]["row"], errors[0]["column"], errors[0]["value"]) == ("9", "at", "someday")
    assert Path(errors[0]["file"]).name == "events.csv"


def test_json_lines_with_events_inside(files):
    folder, rules, _ = files
    leads = folder / "leads.jsonl"
    leads.write_text("\n".join(json.dumps(r) for r in [
        {"Record ID": "A", "Employees": 80, "Email": "a@x",
         "events": [{"type": "demo", "at": "2027-02-28T09:00"},
                    {"type": "purchase", "at": "2027-02-01", "amount": "1 000 EUR"}]},
        {"Record ID": "B", "events": []},
    ]), encoding="utf-8")
    out = folder / "scores.jsonl"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    a, b = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert a == {"Record ID": "A", "fit": 30, "engagement": 45, "temperature": "hot",
                 "spend": "q3", "ready": None, "stage": "lead", "route": "small"}
    assert b["engagement"] == 0 and b["stage"] is None


def test_parquet_round_trip(files):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder, rules, _ = files
    leads = folder / "leads.parquet"
    pq.write_table(pa.table({
        "Record ID": ["A", "B"], "Employees": [200, 5],
        "Industry": ["Software", None],
        "Budget": pa.array([Decimal("12000.00"), None], pa.decimal128(12, 2)),
        "Email": ["a@x", None]}), leads)
    out = folder / "scores.parquet"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.schema.field("fit").type == pa.decimal128(24, 2)
    assert table.schema.field("ready").type == pa.bool_()
    rows = table.to_pylist()
    assert rows[0] == {"Record ID": "A", "fit": Decimal("60.00"), "engagement": Decimal("0.00"),
                       "temperature": "cold", "spend": "q1", "ready": True, "stage": "mql",
                       "route": "small"}
    assert rows[1]["fit"] == Decimal(0) and rows[1]["stage"] is None
    # And back: the scored file read as leads of the same rules finds its key.
    again = folder / "again.csv"
    assert run(rules, out, "-o", again, "--as-of", AS_OF, "-q").exit_code == 0
    assert [r["Record ID"] for r in read_csv(again)] == ["A", "B"]


def test_clear_messages_and_no_traceback(files):
    folder, rules, leads = files
    result = run(rules, folder / "nope.csv")
    assert result.exit_code == 2
    assert "the leads file" in result.stderr and "does not exist" in result.stderr
    bad = folder / "bad.csv"
    bad.write_text("Id,Employees\nA,3\n", encoding="utf-8")
    result = run(rules, bad)
    assert result.exit_code == 1
    assert "has no column 'Record ID', the key of the leads" in result.stderr
    bad.write_text("Record ID,Employees\nA,3\nB,4,5\n", encoding="utf-8")
    result = run(rules, bad, "-o", folder / "x.csv")
    assert result.exit_code == 1
    assert "row 3 has 3 cells but the header has 2 columns" in result.stderr
    assert not (folder / "x.csv").exists()
    result = run(rules, bad, "-o", folder / "x.csv", "--on-error", "skip")
    assert result.exit_code == 1  # written, but some values did not fit
    assert "Skipped 1 malformed row that could not be read" in result.stderr
    result = run(rules, leads, "--as-of", "next tuesday")
    assert result.exit_code == 2 and "--as-of 'next tuesday' is not a date" in result.stderr
    result = run(rules, leads, "-o", folder / "scores.xlsx")
    assert result.exit_code == 2 and "cannot tell the output format" in result.stderr
    result = run(rules, leads, "-o", folder / "missing" / "scores.csv")
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_rules_with_errors_stop_before_reading(files):
    folder, rules, leads = files
    rules.write_text(RULES.replace("size >= 500", "sise >= 500"), encoding="utf-8")
    result = run(rules, leads)
    assert result.exit_code == 1
    assert "sise" in result.stderr


@given(st.lists(st.one_of(st.integers(-50, 50), st.decimals(-100, 100, places=2)), max_size=60),
       st.sampled_from([3, 4, 5, 10]))
def test_cut_points_from_counts_equal_the_engines(values, parts):
    assert list(cut_points(Counter(values), parts)) == quantile_cuts(values, parts)


def test_real_command_in_a_subprocess(files):
    folder, rules, leads = files
    command = Path(sys.executable).parent / "leadrules"
    if not command.exists():
        pytest.skip("the leadrules command is not installed beside this Python")
    out = folder / "scores.csv"
    done = subprocess.run([str(command), "score", str(rules), str(leads), "-o", str(out),
                           "--as-of", AS_OF], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 1, done.stderr
    assert len(read_csv(out)) == 4
    assert "Scored 4 of 4 leads" in done.stderr
    assert "\r" not in done.stderr  # no progress bar when standard error is not a terminal


def test_progress_bar_only_when_asked_or_on_a_terminal(files):
    folder, rules, leads = files
    out = folder / "scores.csv"
    shown = run(rules, leads, "-o", out, "--as-of", AS_OF, "--progress")
    assert "\rscoring [" in shown.stderr and "100 %" in shown.stderr
    assert "\r" not in run(rules, leads, "-o", out, "--as-of", AS_OF).stderr


def test_disqualify_without_stages_gives_a_disqualified_column(tmp_path):
    rules = tmp_path / "r.leadrules"
    rules.write_text('lead {\n    id text key\n    size int\n}\n\nscore fit {\n    +10 when size >= 5\n}\n\n'
                     'disqualify when size < 2 "Too small"\n', encoding="utf-8")
    leads = tmp_path / "leads.csv"
    leads.write_text("id,size\nA,1\nB,9\nC,\n", encoding="utf-8")
    result = run(rules, leads, "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["id,fit,disqualified", "A,0.00,true", "B,10.00,false",
                                          "C,0.00,false"]


@pytest.mark.parametrize("name, text", [("leads.csv", "Record ID,Employees\n"),
                                        ("leads.jsonl", ""), ("leads.jsonl", "\n\n")])
def test_an_export_without_leads_gives_an_empty_output(files, name, text):
    folder, rules, _ = files
    leads = folder / name
    leads.write_text(text, encoding="utf-8")
    out = folder / "scores.csv"
    result = run(rules, leads, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == [
        "Record ID,fit,engagement,temperature,spend,ready,stage,route"]
    assert "Scored 0 of 0 leads" in result.stderr


def test_errors_file_where_asked_even_on_standard_output(files):
    folder, rules, leads = files
    errors = folder / "problems.csv"
    result = run(rules, leads, "--errors", errors, "--as-of", AS_OF)
    assert result.exit_code == 1  # written, but some values did not fit
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 4
    assert [r["value"] for r in read_csv(errors)] == ["many", "$9"]
    assert f"(listed in {errors})" in result.stderr


_CELL = st.one_of(st.sampled_from(["", "Select", "Software", "12 000 EUR", "$5", "1,5", "x"]),
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_CELL, min_size=5, max_size=5), max_size=12))
def test_rows_in_equal_rows_out_whatever_the_cells(files, cells):
    from leadrules.scoring import Options, Run, parse_as_of

    folder, rules, _ = files
    leads = folder / "random.csv"
    with open(leads, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Record ID", "Employees", "Industry", "Budget", "Email"])
        writer.writerows(cells)
    scorer = _scorer(rules)
    out = folder / "random-scores.csv"
    summary = Run(scorer, leads, out, Options(as_of=parse_as_of(AS_OF, scorer.rs),
                                              errors_path=folder / "e.csv")).run()
    assert summary.rows_read == summary.rows_written == len(cells) == len(read_csv(out))
    # The key as read: a cell of nothing but spaces is a missing key.
    assert [r["Record ID"] for r in read_csv(out)] == [
        row[0] if row[0].strip() else "" for row in cells]


_SCORERS: dict = {}


def _scorer(rules):
    from leadrules.check import check
    from leadrules.scoring import Scorer

    if rules.read_text() not in _SCORERS:
        _SCORERS[rules.read_text()] = Scorer.from_ruleset(check(rules))
    return _SCORERS[rules.read_text()]


# ----------------------------------------------------------------------------- repeated keys

REPEATED = """Record ID,Employees,Industry,Budget,Email
A,200,Software,12 000 EUR,a@x.fr
B,20,Select,,b@x.fr
A,600,Financial Services,,a2@x.fr
C,many,Retail,500,c@x.fr
C,700,Retail,500,c2@x.fr
A,1,Retail,,a3@x.fr
"""


def test_a_repeated_key_is_listed_with_both_rows_and_still_scored(files):
    folder, rules, leads = files
    leads.write_text(REPEATED, encoding="utf-8")
    out = folder / "scores.csv"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF)
    assert result.exit_code == 1
    assert [r["Record ID"] for r in read_csv(out)] == ["A", "B", "A", "C", "C", "A"]
    errors = [(e["row"], e["column"], e["value"], e["problem"])
              for e in read_csv(folder / "scores.errors.csv")]
    assert errors == [
        ("4", "Record ID", "A", "is also the key of row 2: the same lead is twice in the file"),
        ("5", "Employees", "many", "is not a whole number"),
        ("6", "Record ID", "C", "is also the key of row 5: the same lead is twice in the file"),
        ("7", "Record ID", "A", "is also the key of row 2: the same lead is twice in the file"),
    ]
    assert "3 leads have the key of an earlier row" in result.stderr
    assert "scored again, one output row for each input row" in result.stderr
    assert "row 4, column 'Record ID': 'A' is also the key of row 2" in result.stderr


def test_skip_keeps_the_first_written_row_of_a_key(files):
    folder, rules, leads = files
    leads.write_text(REPEATED, encoding="utf-8")
    out = folder / "scores.csv"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF, "--on-error", "skip")
    assert result.exit_code == 1
    # Row 5 (C, unreadable size) is left out, so row 6 is the first C written: it is kept.
    assert [(r["Record ID"], r["route"]) for r in read_csv(out)] == [
        ("A", "small"), ("B", "small"), ("C", "big")]
    assert "left out, the first row is kept" in result.stderr


def test_fail_stops_at_a_repeated_key(files):
    folder, rules, leads = files
    leads.write_text("Record ID,Employees\nA,1\nB,2\nA,3\n", encoding="utf-8")
    out = folder / "scores.csv"
    result = run(rules, leads, "-o", out, "--as-of", AS_OF, "--on-error", "fail")
    assert result.exit_code == 1
    assert "row 4, column 'Record ID': 'A' is also the key of row 2" in result.stderr
    assert not out.exists()


def test_repeated_keys_in_json_lines_and_rules_without_a_key(files):
    folder, rules, leads = files
    jsonl = folder / "leads.jsonl"
    jsonl.write_text('{"Record ID": "A"}\n{"Record ID": "A", "events": []}\n', encoding="utf-8")
    result = run(rules, jsonl, "-o", folder / "scores.csv", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "row 2" in result.stderr and "is also the key of row 1" in result.stderr
    keyless = folder / "keyless.leadrules"
    keyless.write_text(RULES.replace("  key\n", "\n"), encoding="utf-8")
    leads.write_text("Record ID,Employees\nA,1\nA,1\n", encoding="utf-8")
    result = run(keyless, leads, "-o", folder / "keyless.csv", "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr  # without a key, rows are leads of their own
    assert "No data errors." in result.stderr


# ----------------------------------------------------------------------------- huge values

HUGE = """agreement "Huge" {
    currency EUR
}

lead {
    id  text  key
    n   int
    m   money
}

score s "S" {
    +1 per 1 of n  "units"
}

score u "U" = s * 1_000_000 + 0.5 * s
"""


def test_numbers_too_large_to_count_exactly_are_data_errors_not_crashes(tmp_path):
    rules = tmp_path / "huge.leadrules"
    rules.write_text(HUGE, encoding="utf-8")
    leads = tmp_path / "leads.csv"
    leads.write_text("id,n,m\n1,1e400,1e40 EUR\n2,9999999999999999999999999999,1\n"
                     "3,99999999999999999999999999999999,5\n4,12,3 EUR\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    result = run(rules, leads, "-o", out)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [(e["row"], e["column"], e["problem"]) for e in read_csv(tmp_path / "scores.errors.csv")]
    assert errors == [("2", "n", "is too large a number (more than 28 digits)"),
                      ("2", "m", "is too large a number (more than 28 digits)"),
                      ("4", "n", "is too large a number (more than 28 digits)")]
    rows = read_csv(out)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    # 28 digits are read; the derived score has more digits than exact arithmetic keeps, and
    # is still written to the cent rather than failing.
    assert rows[1]["s"] == "9" * 28 + ".00"
    assert rows[1]["u"].endswith(".00") and len(rows[1]["u"].split(".")[0]) == 35
    assert (rows[3]["s"], rows[3]["u"]) == ("12.00", "12000006.00")


def test_a_score_too_large_for_parquet_is_a_clear_error(tmp_path):
    pytest.importorskip("pyarrow")
    rules = tmp_path / "huge.leadrules"
    rules.write_text(HUGE, encoding="utf-8")
    leads = tmp_path / "leads.csv"
    leads.write_text("id,n\n1,5\n2,9999999999999999999999999999\n", encoding="utf-8")
    out = tmp_path / "scores.parquet"
    result = run(rules, leads, "-o", out)
    assert result.exit_code == 1
    assert "for lead 2 of the output" in result.stderr
    assert "too large for a Parquet file" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.leadrules", "leads.csv"]


def test_encodings_that_cannot_read_an_export_are_refused_in_words(files):
    folder, rules, leads = files
    rot = CliRunner().invoke(main, ["score", str(rules), str(leads), "--encoding", "rot13"])
    assert rot.exit_code == 2 and "not a text encoding" in rot.output
    utf16 = folder / "utf16.csv"
    utf16.write_bytes(LEADS.encode("utf-16-le"))  # no byte-order mark
    result = CliRunner().invoke(main, ["score", str(rules), str(utf16), "--encoding", "utf-16",
                                       "-o", str(folder / "out.csv")])
    assert result.exit_code == 1 and result.exception is None or \
        isinstance(result.exception, SystemExit)
    assert "is not utf-16 text" in result.output and "Traceback" not in result.output
    assert not (folder / "out.csv").exists()


def test_an_empty_as_of_is_refused_not_taken_for_now(files):
    _, rules, leads = files
    result = CliRunner().invoke(main, ["score", str(rules), str(leads), "--as-of", ""])
    assert result.exit_code == 2 and "--as-of is empty" in result.output


def test_the_explanation_of_a_french_agreement_reads_as_french(tmp_path):
    root = Path(__file__).parents[1]
    out = tmp_path / "scores.csv"
    result = run(root / "rules" / "acme.leadrules", root / "examples" / "acme-leads.csv",
                 "--as-of", "2027-04-01", "--explain", "-o", out)
    assert result.exit_code == 0, result.output
    rows = {r["ID de fiche d'informations"]: r for r in read_csv(out)}
    assert "fit\u202f: +10 Budget confirmé (ligne 117)" in rows["L0002"]["explanation"]
    assert "(line " not in out.read_text(encoding="utf-8")
