"""The checker: one golden case per diagnostic code, the reference examples, and the figures the
checker derives (score ranges, the SLA funnel) for later stages."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from leadrules.check import CHECKS, check, check_files, main_files, order_definitions
from leadrules.codes import CODES
from leadrules.diagnostics import ERROR, WARNING
from leadrules.output import format_text

HERE = Path(__file__).parent
CASES = sorted((HERE / "cases").glob("*/input.leadrules"))
REFERENCE = HERE / "fixtures" / "reference.leadrules"
DOCS = HERE.parent / "docs" / "diagnostics.md"
UPDATE = os.environ.get("LEADRULES_UPDATE_GOLDEN") == "1"
INF = Decimal("Infinity")


def diagnose(text: str, tmp_path: Path, monkeypatch, name: str = "rules.leadrules"):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return check(name)


def codes(rs) -> list[str]:
    return [d.code for d in rs.diagnostics]


# ----------------------------------------------------------------------------- golden cases


def check_case(case: Path, monkeypatch) -> list:
    """What `leadrules check input.leadrules` reports, tests run."""
    monkeypatch.chdir(case.parent)
    return check_files([Path("input.leadrules")])[1]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.parent.name)
def test_golden(case: Path, monkeypatch) -> None:
    diagnostics = check_case(case, monkeypatch)
    rendered = format_text(diagnostics) + "\n"
    golden = case.parent / "expected.diagnostics"
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), "run with LEADRULES_UPDATE_GOLDEN=1 to write expected.diagnostics"
    assert rendered == golden.read_text(encoding="utf-8")
    code = case.parent.name.split("-")[0].upper()
    assert code in [d.code for d in diagnostics], f"{case.parent.name} does not draw {code}"


def test_every_code_has_a_golden_case_and_a_documented_entry() -> None:
    cased = {p.parent.name.split("-")[0].upper() for p in CASES}
    assert set(CODES) <= cased, sorted(set(CODES) - cased)
    documented = set(re.findall(r"^## (LR\d{3})\b", DOCS.read_text(encoding="utf-8"), re.M))
    assert documented == set(CODES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.parent.name)
def test_codes_keep_their_severity(case: Path, monkeypatch) -> None:
    for d in check_case(case, monkeypatch):
        assert d.code in CODES, d.code
        assert d.severity.value == CODES[d.code][0], (d.code, d.message)


# ----------------------------------------------------------------------------- the reference


def test_reference_examples_check_without_errors() -> None:
    rs = check(REFERENCE)
    assert rs.ok
    assert not [d for d in rs.diagnostics if d.severity == ERROR]
    # The SLA example draws the warning the language reference announces. The fit grade's band
    # A (>= 70) is also out of reach: fit's rules add up to 60 at most (30 + 20 + 10).
    assert sorted(codes(rs)) == ["LR401", "LR605"]
    below = next(d for d in rs.diagnostics if d.code == "LR605")
    assert below.message == (
        "the commitment of 70 MQL per month is below the 89 per month the revenue target "
        "requires (2 400 000 × 40 % ÷ 12 000 = 80 customers; 80 ÷ (50 % × 60 % × 25 %) = "
        "1 066.7 MQL per year, 89 per month)")
    band = next(d for d in rs.diagnostics if d.code == "LR401")
    assert (band.span.line, "'A'") == (79, band.message.split()[6])


def test_reference_figures_are_derived_once() -> None:
    rs = check(REFERENCE)
    funnel = rs.funnel
    assert funnel.marketing_revenue == 960_000
    assert funnel.customers == 80
    assert funnel.stage("mql").needed("year") == 1067
    assert funnel.stage("mql").needed("month") == 89
    assert funnel.stage("lead").needed("year") == 5334
    assert funnel.stage("lead").needed("month") == 445
    assert rs.intervals["fit"] == (Decimal("-50.00"), Decimal("60.00"))
    # time_on_site is an int that may be negative, so engagement has no floor.
    assert rs.intervals["engagement"] == (-INF, Decimal("100.00"))
    assert rs.intervals["total"] == (-INF, Decimal("76.00"))


def test_passes_are_data_and_order_comes_first() -> None:
    assert CHECKS[0] is order_definitions
    assert all(callable(p) for p in CHECKS)


# ----------------------------------------------------------------------------- intervals

HEADER = """agreement "T" {
    currency EUR
}
lead {
    n int
    q int
    email text
}
event visit "Visit"
"""


@pytest.mark.parametrize(("rules", "expected"), [
    ("+10 when n > 1\n    -5 when q > 1", ("-5", "10")),
    ("+5 per visit", ("0", "Infinity")),
    ("+5 per visit max 20", ("0", "20")),
    ("-5 per visit min -15", ("-15", "0")),
    ("group g max 12 {\n        +5 per visit\n        +10 when n > 1\n    }", ("0", "12")),
    ("+2 per 10 of n max 6 min -4", ("-4", "6")),
    ("+0 per visit", ("0", "0")),
])
def test_score_ranges(rules: str, expected, tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + f"score s decay 50% every 30 days {{\n    {rules}\n}}\n", tmp_path,
                  monkeypatch)
    lo, hi = rs.intervals["s"]
    assert (lo, hi) == tuple(Decimal(x) for x in expected)


def test_score_caps_and_derived_scores(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + """score a max 50 {
    +30 when n > 1
    +30 when q > 1
}
score b min 0 {
    +10 when n > 2
    -40 when q > 2
}
score c = 0.5 * a - b / 2
score d = a / b
""", tmp_path, monkeypatch)
    assert rs.intervals["a"] == (0, 50)
    assert rs.intervals["b"] == (0, 10)
    assert rs.intervals["c"] == (Decimal("-5.00"), Decimal("25.00"))
    assert rs.intervals["d"] == (-INF, INF)  # b can be 0


def test_thresholds_outside_the_range_are_reported(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + """score s {
    +10 when n > 1
    +10 when q > 1
}
stages {
    lead when email is present
    mql  when s >= 25
    sql  when s between -5 and 30
}
route hot when s > 15
route cold otherwise
""", tmp_path, monkeypatch)
    found = {(d.code, d.span.line) for d in rs.diagnostics}
    assert ("LR401", 16) in found  # s >= 25, s is at most 20
    assert ("LR402", 17) in found  # between -5 and 30 always holds
    assert not any(line == 19 for _, line in found)  # s > 15 can go either way


# ----------------------------------------------------------------------------- details


def test_a_broken_definition_does_not_cascade_into_unknown_names(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + """segment icp {
    n = 5
}
score fit {
    +10 when icp
}
""", tmp_path, monkeypatch)
    assert codes(rs) == ["LR001"]


def test_unused_warnings_wait_for_the_syntax_to_be_fixed(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + "score fit {\n    +10 per visit\n    +5 when == 3\n}\n", tmp_path,
                  monkeypatch)
    assert "LR701" not in codes(rs)


def test_text_argument_replaces_the_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    rs = check("absent.leadrules", "segment s {\n    x == 1\n}\n")
    assert "LR110" in codes(rs) and "LR004" not in codes(rs)


def test_a_file_that_defines_nothing_is_an_error(tmp_path, monkeypatch) -> None:
    """Every command that uses rules refuses a file that defines nothing; so does check,
    rather than let CI pass on an empty file."""
    for text in ("", "# only a comment\n"):
        found = diagnose(text, tmp_path, monkeypatch).diagnostics
        assert [(d.code, d.span.line) for d in found] == [("LR110", 1)]
        assert "defines nothing" in found[0].message


def test_diagnostics_are_sorted_and_unique(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + """segment a {
    zz == 1
    yy == 1
    zz == 1
}
score s {
    +1 when a
}
""", tmp_path, monkeypatch)
    keys = [d.sort_key for d in rs.diagnostics]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_funnel_with_a_single_rate_and_a_quarterly_target(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + """stages {
    lead when email is present
}
sla marketing {
    revenue target 300_000 EUR per quarter
    average deal 10_000 EUR
    conversion lead -> customer 2.5%
    deliver at least 300 lead per month
}
""", tmp_path, monkeypatch)
    assert rs.funnel.customers == 120
    assert rs.funnel.stage("lead").needed("month") == 400
    below = next(d for d in rs.diagnostics if d.code == "LR605")
    assert "300 000 per quarter × 4 ÷ 10 000 = 120 customers" in below.message
    assert "120 ÷ 2.5 % = 4 800 leads per year, 400 per month" in below.message


def test_no_funnel_when_the_marketing_sla_is_wrong(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + """stages {
    lead when email is present
}
sla marketing {
    revenue target 300_000 EUR per year
    average deal 10_000 EUR
    conversion lead -> customer 0%
}
""", tmp_path, monkeypatch)
    assert rs.funnel is None and "LR602" in codes(rs)


def test_stage_reading_through_a_score(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + """score s {
    +10 when stage >= mql
}
stages {
    lead when email is present
    mql  when s >= 5
}
""", tmp_path, monkeypatch)
    lr502 = [d for d in rs.diagnostics if d.code == "LR502"]
    assert len(lr502) == 1 and "'s'" in lr502[0].message


def test_warnings_have_the_warning_severity(tmp_path, monkeypatch) -> None:
    rs = diagnose(HEADER + "list unused = {\"a\"}\nscore s {\n    +1 per visit\n}\n", tmp_path,
                  monkeypatch)
    assert [(d.code, d.severity) for d in rs.diagnostics] == [("LR702", WARNING)]
    assert rs.ok


def test_main_files_skip_files_included_by_others(tmp_path) -> None:
    (tmp_path / "main.leadrules").write_text('include "common.leadrules"\n')
    (tmp_path / "common.leadrules").write_text('include "deep/schema.leadrules"\n')
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "schema.leadrules").write_text("lead {\n    n int\n}\n")
    (tmp_path / "a.leadrules").write_text('include "b.leadrules"\n')
    (tmp_path / "b.leadrules").write_text('include "a.leadrules"\n')
    files = sorted(tmp_path.rglob("*.leadrules"))
    roots = {p.name for p in main_files(files)}
    assert roots == {"main.leadrules", "a.leadrules"}


def test_check_files_reports_an_included_file_once(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "common.leadrules").write_text("lead {\n    n int\n}\nlist unused = {1}\n")
    (tmp_path / "one.leadrules").write_text('include "common.leadrules"\n')
    (tmp_path / "two.leadrules").write_text('include "common.leadrules"\n')
    rulesets, diagnostics, read = check_files(sorted(tmp_path.glob("*.leadrules")))
    assert len(rulesets) == 2
    assert [d.code for d in diagnostics] == ["LR702"]
    assert sorted(read) == ["common.leadrules", "one.leadrules", "two.leadrules"]


def test_a_time_zone_that_depends_on_the_machine_is_refused(tmp_path, monkeypatch) -> None:
    """`localtime` or a path would give each machine its own reading of the same rules."""
    for zone in ("localtime", "/etc/localtime", "../zoneinfo/Europe/Paris"):
        rs = diagnose(f'agreement "T" {{\n    timezone "{zone}"\n}}\nlead {{\n    id text key\n}}\n',
                      tmp_path, monkeypatch)
        assert "LR114" in codes(rs), zone
    ok = diagnose('agreement "T" {\n    timezone "Europe/Paris"\n}\nlead {\n    id text key\n}\n',
                  tmp_path, monkeypatch)
    assert "LR114" not in codes(ok)
