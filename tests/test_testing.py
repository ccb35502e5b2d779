"""`leadrules test` and `leadrules explain`: test blocks, fixture cases, diffs, coverage, why-not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadrules import testing
from leadrules.check import check
from leadrules.cli import main
from leadrules.engine import from_ruleset

HERE = Path(__file__).parent
ROOT = HERE.parent
REFERENCE = "tests/fixtures/reference.leadrules"
CASES = ["tests/fixtures/cases/reference.yaml", "tests/fixtures/cases/reference.json",
         "tests/fixtures/cases/reference.csv"]


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# ----------------------------------------------------------------------------- test blocks


def test_the_reference_test_block_passes() -> None:
    rs = check(REFERENCE)
    assert testing.run_tests(rs) == []
    result = run("test", REFERENCE)
    assert result.exit_code == 0, result.output
    assert "Décideur SaaS très engagé  ok" in result.output
    assert "1 test, all passed." in result.output


FAILING = """
test "Wrong on purpose" {
    as of 2027-03-01T10:00
    lead {
        email: "anne@acme.fr", company_size: 200, industry: saas, country: "FR",
        role: decision_maker, status: new
    }
    event demo_request at 2027-02-28T09:00
    expect fit == 60
    expect stage == sql
    expect icp and not excluded
    expect fired "Budget confirmé"
    expect not fired "Décideur"
}
"""


def failing_rules(tmp_path: Path) -> Path:
    text = (ROOT / REFERENCE).read_text(encoding="utf-8") + FAILING
    path = tmp_path / "rules.leadrules"
    path.write_text(text, encoding="utf-8")
    return path


def test_failed_expectations_say_expected_actual_and_the_rules_involved(tmp_path: Path) -> None:
    path = failing_rules(tmp_path)
    rs = check(path)
    diagnostics = testing.run_tests(rs)
    assert [d.code for d in diagnostics] == [testing.FAILED] * 5
    lines = [d.span.line for d in diagnostics]
    first = (ROOT / REFERENCE).read_text(encoding="utf-8").count("\n") + 9
    assert lines == [first, first + 1, first + 2, first + 3, first + 4]
    by_line = {d.span.line: d for d in diagnostics}
    fit = by_line[first]
    assert fit.message == 'test "Wrong on purpose": expected fit == 60, but fit == 60 does not ' \
                          'hold: fit is 50'
    assert "+30 when icp" in fit.hint and "gave +30" in fit.hint
    assert "budget >= 10_000 EUR" in fit.hint and "unknown, not counted" in fit.hint
    stage = by_line[first + 1].message
    assert "stage is mql" in stage
    excluded = by_line[first + 2].message
    assert "excluded" in excluded and "job_title is missing" in excluded
    assert "budget is missing" in by_line[first + 3].message
    assert "not to fire, but it did (+20)" in by_line[first + 4].message

    result = run("test", str(path))
    assert result.exit_code == 1
    assert "Wrong on purpose  FAILED" in result.output
    assert "2 tests, 1 failed." in result.output
    assert f"line {first}: expected fit == 60, but fit == 60 does not hold: fit is 50" in \
        result.output


def test_a_case_with_an_unknown_field_fails_with_the_field_named(tmp_path: Path) -> None:
    text = (ROOT / REFERENCE).read_text(encoding="utf-8")
    path = tmp_path / "cases.yaml"
    path.write_text("- name: typo\n  as of: 2027-03-01\n  lead: {company_sise: 20}\n"
                    "  expect: {fitt: 1}\n", encoding="utf-8")
    rs_path = tmp_path / "r.leadrules"
    rs_path.write_text(text, encoding="utf-8")
    result = run("test", str(rs_path), "--cases", str(path))
    assert result.exit_code == 1
    assert "'company_sise' is not a field of the lead; did you mean 'company_size'?" in \
        result.output


# ----------------------------------------------------------------------------- fixture files


def test_fixture_cases_in_yaml_json_and_csv() -> None:
    rs = check(REFERENCE)
    engine = from_ruleset(rs)
    for path in CASES:
        cases = testing.cases_from_file(rs, path)
        assert cases
        outcomes = testing.run(engine, cases)
        assert all(o.ok for o in outcomes), testing.format_outcomes(outcomes)
    yaml_cases = testing.cases_from_file(rs, CASES[0])
    assert [c.span.line for c in yaml_cases] == [3, 26]
    assert yaml_cases[0].lead["industry"] == "saas" and yaml_cases[0].lead["company_size"] == 200
    assert [c.span.line for c in testing.cases_from_file(rs, CASES[1])] == [2]
    assert [c.span.line for c in testing.cases_from_file(rs, CASES[2])] == [2, 3]
    result = run("test", REFERENCE, *[a for p in CASES for a in ("--cases", p)])
    assert result.exit_code == 0, result.output
    assert "6 tests, all passed." in result.output


def test_a_wrong_expected_value_shows_a_diff(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": [
        {"name": "off by ten", "as of": "2027-03-01T10:00",
         "lead": {"email": "a@acme.fr", "role": "decision_maker"},
         "expect": {"fit": 30, "temperature": "hot", "bant": "no", "nothing": 1,
                    "fit_grade": "E", "stage": "mql"},
         "fired": ["Nope"]}]}), encoding="utf-8")
    result = run("test", REFERENCE, "--cases", str(path))
    assert result.exit_code == 1
    out = result.output
    assert "fit: expected 30, got 20" in out
    assert "tests/fixtures/reference.leadrules:61  +20 when role == decision_maker" in out
    assert "temperature: expected hot, got cold" in out
    assert "bant: expected no, got unknown" in out  # a result, not a field: never "missing"
    assert "fit_grade: expected E (which fit_grade never is: it is one of A, B, C, D), got C" \
        in out
    assert "stage: expected mql, got lead" in out
    assert "there is no result named 'nothing'" in out
    assert 'no rule is labelled "Nope"' in out


@pytest.mark.parametrize("content, message", [
    ("cases: 3", "expected a list of cases"),
    ("- [1, 2]", "is not a mapping"),
    ("a: [", "not valid YAML"),
])
def test_broken_fixture_files_are_usage_errors(tmp_path: Path, content: str, message: str
                                               ) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(content, encoding="utf-8")
    result = run("test", REFERENCE, "--cases", str(path))
    assert result.exit_code == 2
    assert message in result.output
    assert run("test", REFERENCE, "--cases", str(tmp_path / "none.yaml")).exit_code == 2
    (tmp_path / "cases.txt").write_text("x", encoding="utf-8")
    assert run("test", REFERENCE, "--cases", str(tmp_path / "cases.txt")).exit_code == 2


# ----------------------------------------------------------------------------- coverage


def test_coverage_lists_what_no_test_exercises_and_min_coverage_fails_below() -> None:
    rs = check(REFERENCE)
    engine = from_ruleset(rs)
    outcomes = testing.run(engine, testing.cases_from_blocks(rs))
    cov = testing.coverage(engine, outcomes)
    assert len(cov.items) == 9 + 4 + 3 + 3 + 5 + 4 + 1  # rules, rows, stages, disqualified
    missing = {text for _, _, text in cov.missing()}
    assert "+10 when budget >= 10_000 EUR \"Budget confirmé\"" in missing
    assert "stage sql (Lead qualifié commercial (SQL))" in missing
    assert "+20 when role == decision_maker \"Décideur\"" not in missing
    result = run("test", REFERENCE, "--coverage")
    assert result.exit_code == 0
    assert "Coverage: 9 of 29" in result.output and "Not exercised by any test:" in result.output
    assert run("test", REFERENCE, "--min-coverage", "30").exit_code == 0
    low = run("test", REFERENCE, "--min-coverage", "80")
    assert low.exit_code == 1 and "below the 80 % required" in low.output
    assert run("test", REFERENCE, "--min-coverage", "120").exit_code == 2


# ----------------------------------------------------------------------------- explain


LEAD = {"email": "anne@acme.fr", "Number of Employees": "200", "Industry": "Software",
        "country": "FR", "role": "decision_maker", "status": "new",
        "events": [{"type": "demo_request", "at": "2027-02-28T09:00"},
                   {"type": "webinar_attended", "at": "2027-01-20T14:00"}]}


def lead_file(tmp_path: Path, data=LEAD) -> str:
    path = tmp_path / "lead.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_explain_gives_a_plain_breakdown(tmp_path: Path) -> None:
    # The reference rules say `locale fr`; tests/test_explain_fr.py checks the French.
    result = run("explain", REFERENCE, lead_file(tmp_path), "--as-of", "2027-03-01T10:00",
                 "--lang", "en")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Adéquation au profil: 50" in out
    assert "+30  Dans le profil client idéal" in out
    assert "Budget confirmé: not counted, budget >= 10_000 EUR is unknown: budget is missing" in out
    assert "Engagement: 42.5" in out
    assert "+2.5  Participation à un webinaire (1 event; +5 before decay" in out
    assert "Stage: Lead qualifié marketing (MQL)" in out
    assert "Route: Équipe PME" in out


def test_explain_why_not_names_the_first_failed_condition(tmp_path: Path) -> None:
    path = lead_file(tmp_path)
    result = run("explain", REFERENCE, path, "--as-of", "2027-03-01T10:00", "--why-not", "sql",
                 "--lang", "en")
    assert result.exit_code == 0
    assert "Why not sql?" in result.output
    assert "needs bant, which is unknown" in result.output
    assert "Budget: budget >= 5_000 EUR is unknown: budget is missing" in result.output
    grade = run("explain", REFERENCE, path, "--as-of", "2027-03-01T10:00", "--why-not", "hot",
                "--lang", "en")
    assert "Not hot (Chaud): it needs engagement >= 60 (engagement is 42.5)." in grade.output
    row = run("explain", REFERENCE, path, "--as-of", "2027-03-01T10:00",
              "--why-not", "priority.p1", "--lang", "en")
    assert "fit_grade == A does not hold: fit_grade is B" in row.output
    unknown = run("explain", REFERENCE, path, "--why-not", "sqll", "--lang", "en")
    assert unknown.exit_code == 2 and "did you mean 'sql'?" in unknown.output


def test_explain_json_for_machines(tmp_path: Path) -> None:
    result = run("explain", REFERENCE, lead_file(tmp_path), "--as-of", "2027-03-01T10:00",
                 "--why-not", "opportunity", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["result"]["scores"]["engagement"]["value"] == "42.50"
    assert data["result"]["stage"] == "mql"
    assert data["result"]["as_of"] == "2027-03-01T10:00:00+01:00"
    why = data["why_not"]
    assert why["kind"] == "stage" and not why["already"]
    assert why["condition"] == "bant"
    assert why["failed"][0]["result"] is None


def test_explain_reports_bad_input_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = run("explain", REFERENCE, str(bad))
    assert result.exit_code == 1 and "not valid JSON" in result.output
    assert run("explain", REFERENCE, str(tmp_path / "none.json")).exit_code == 2
    odd = lead_file(tmp_path, {"email": "x@y.fr", "company_size": "lots"})
    result = run("explain", REFERENCE, odd, "--as-of", "2027-03-01")
    assert result.exit_code == 1  # explained, but a value did not fit
    assert "'company_size': 'lots' is not a whole number (taken as missing)" in result.output
    assert run("explain", REFERENCE, odd, "--as-of", "tomorrow").exit_code == 2
    assert run("explain", REFERENCE, lead_file(tmp_path, [1, 2])).exit_code == 1


def test_why_not_a_quantile_grade_says_it_depends_on_the_others(tmp_path: Path) -> None:
    result = run("explain", REFERENCE, lead_file(tmp_path), "--as-of", "2027-03-01T10:00",
                 "--why-not", "frequency.q5", "--lang", "en")
    assert result.exit_code == 0
    assert "Fréquence is not set (count(purchase within 365 days) is 0): it is cut into " \
           "quintiles of the scored leads" in result.output


def test_explain_names_a_grade_row_that_does_not_exist(tmp_path: Path) -> None:
    result = run("explain", REFERENCE, lead_file(tmp_path), "--why-not", "fit_grade.E",
                 "--lang", "en")
    assert result.exit_code == 2
    assert "fit_grade has no row 'E' (its rows are A, B, C, D)" in result.output
    assert "Adéquation au profil" not in result.output  # no breakdown nobody asked for


def test_explain_events_problems_say_where_once(tmp_path: Path) -> None:
    events = [{"type": "demo_request", "at": "soon"}, 5, {"at": "2027-01-01"},
              {"type": "nope", "at": "2027-01-01"}]
    path = lead_file(tmp_path, {"email": "x@y.fr", "events": events})
    result = run("explain", REFERENCE, path, "--as-of", "2027-03-01")
    assert result.exit_code == 1
    warnings = [line.replace(path, "lead.json") for line in result.output.splitlines()
                if line.startswith("warning:")]
    assert warnings == [
        "warning: lead.json: events[0].at: soon is not a date and time; the event was left out",
        'warning: lead.json: events[1]: 5 is not an event ({"type": …, "at": …})',
        "warning: lead.json: events[2].type: is empty: the event has no type, it was left out",
        "warning: lead.json: events: the rules declare no event 'nope' (1 left out)",
    ]
    flat = lead_file(tmp_path, {"email": "x@y.fr", "events": "demo"})
    result = run("explain", REFERENCE, flat, "--as-of", "2027-03-01")
    assert f"warning: {flat}: events: demo is not a list of events" in result.output


def test_explain_a_lead_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "lead.json"
    path.write_bytes('{"email": "é"}'.encode("latin-1"))
    result = run("explain", REFERENCE, str(path))
    assert result.exit_code == 1
    assert "error: the lead file" in result.output and "is not UTF-8 text (byte 12" in result.output
    assert "codec" not in result.output
    assert run("explain", REFERENCE, str(tmp_path)).exit_code == 2


def test_explain_says_why_a_quantile_grade_is_not_set() -> None:
    rs = check(REFERENCE)
    from leadrules import explain

    ev = explain.evaluate(from_ruleset(rs), {"email": "a@b.fr"}, [], None)
    text = explain.breakdown(ev)
    assert "Fréquence: none: quintiles are cut over the leads scored together" in text
    assert "None" not in text


def test_names_and_labels_from_the_rules_cannot_forge_lines_of_a_ci_log(tmp_path):
    """A test name with a new line and a GitHub workflow command, or a label with a terminal
    escape sequence, prints on its own line, defused."""
    from click.testing import CliRunner

    from leadrules.cli import main

    rules = tmp_path / "forge.leadrules"
    rules.write_text(
        'lead {\n    id text key\n    t  int\n}\n\n'
        'score s "S" {\n    +1 when t > 1 "lab\x1b]0;TITLE\x07"\n}\n\n'
        'test """x\n::error file=README.md,line=1::INJECTED""" {\n'
        '    as of 2027-03-01\n    lead { id: "A", t: 5 }\n    expect s == 7\n}\n',
        encoding="utf-8")
    test = CliRunner().invoke(main, ["test", str(rules)])
    assert test.exit_code == 1
    assert not any(line.startswith("::") for line in test.output.splitlines())
    assert "\x1b" not in test.output and "\x07" not in test.output
    lead = tmp_path / "lead.json"
    lead.write_text('{"id": "A", "t": 5}', encoding="utf-8")
    explained = CliRunner().invoke(main, ["explain", str(rules), str(lead), "--as-of",
                                          "2027-03-01"])
    assert explained.exit_code == 0, explained.output
    assert "lab" in explained.output and "\x1b" not in explained.output
