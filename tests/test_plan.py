"""The funnel plan reproduces hand-computed figures; the command prints it in every format."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadrules import plan
from leadrules.check import check
from leadrules.cli import main

REFERENCE = Path(__file__).parent / "fixtures" / "reference.leadrules"

SINGLE_RATE = """\
agreement "Single rate" {
    currency EUR
    effective 2027-04-01 to 2027-12-31
}

lead {
    id     text  key
    email  text
    source enum(seo, sea)
}

stages {
    lead "Lead" when email is present
}

sla marketing "Volume" {
    revenue target 1_000_000 EUR per year
    marketing share 30%
    average deal 7_000 EUR
    conversion lead -> customer 2.5%
}

channels by source {
    seo "Natural search" cost 1_000 EUR per month
    sea "Paid search"    cost 2_500 EUR per month
}
"""

NO_SLA = """\
lead {
    id    text  key
    email text
}
"""


def write(tmp_path: Path, text: str, name: str = "rules.leadrules") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reference_example_matches_language_md():
    p = plan.build(check(REFERENCE), "month")
    assert p.funnel.marketing_revenue == 960_000
    assert p.stage("customer").needed_per_year == 80
    assert p.stage("mql").needed_per_year == 1067
    assert p.stage("lead").needed_per_year == 5334
    assert p.stage("sql").needed_per_year == 534
    assert p.stage("opportunity").needed_per_year == 320
    assert [x.label for x in p.periods] == [f"2027-{m:02d}" for m in range(1, 13)]
    assert set(p.stage("mql").needed) == {89}
    assert set(p.stage("lead").needed) == {445}
    assert set(p.stage("customer").needed) == {7}


def test_reference_value_of_an_mql_and_budget():
    p = plan.build(check(REFERENCE), "month")
    # 12 000 EUR × (50 % × 60 % × 25 %) = 900 EUR
    assert p.mql_value.value_each == 900
    # 2 000 × 12 + 6 500 × 12 + 15 000 × 4 + 9 000 × 12
    assert p.budget.per_year == 270_000
    per_stage = dict(p.budget.per_stage)
    assert per_stage["customer"] == Decimal(270_000) / 80
    assert per_stage["lead"] == Decimal(270_000) / 5334
    assert [c.enough for c in p.commitments] == [False]
    assert p.commitments[0].needed == 89


def test_reference_formulas_show_the_arithmetic():
    text = plan.render(plan.build(check(REFERENCE), "month"), "text", "en")
    assert "marketing revenue = €2,400,000 × 40% = €960,000" in text
    assert "customers = €960,000 / €12,000 = 80" in text
    assert "= 80 / (50% × 60% × 25%) = 1,066.7, rounded up to 1,067" in text
    assert "= 80 / (20% × 50% × 60% × 25%) = 5,333.3, rounded up to 5,334" in text
    assert "One MQL is worth €12,000 × 7.5% = €900.00." in text
    assert "budget per Customer = €270,000 / 80 = €3,375.00" in text
    assert "The commitment to deliver at least 70 leads at stage Lead qualifié marketing (MQL) " \
        "per month is BELOW the 89 the revenue target needs." in text
    assert "12 months, each figure rounded up." in text and "(s)" not in text


def test_reference_plan_in_french():
    """A French agreement gets its plan in French: French figures, French words, French spaces
    (narrow no-break before the colon, inside « »)."""
    text = plan.render(plan.build(check(REFERENCE), "month"), "text", "fr")
    nb, nnb = "\u00a0", "\u202f"
    assert f"chiffre d’affaires à apporter par le marketing = 2{nnb}400{nnb}000{nb}€ × 40{nb}% " \
        f"= 960{nnb}000{nb}€" in text
    assert f"= 80 / (50{nb}% × 60{nb}% × 25{nb}%) = 1{nnb}066,7, arrondi à 1{nnb}067" in text
    assert f"Un MQL vaut 12{nnb}000{nb}€ × 7,5{nb}% = 900,00{nb}€." in text
    assert f"Volumes nécessaires par mois{nnb}:" in text
    assert f"Attention{nnb}: l’engagement de livrer au moins 70 leads au stade " \
        f"«{nnb}Lead qualifié marketing (MQL){nnb}» par mois est INFÉRIEUR aux 89" in text
    assert "soit 12 mois" in text
    # Stages head their columns by their labels' abbreviations, as the report does.
    assert "Mois      Lead    MQL  SQL  Opportunité  Client  budget des canaux" in text
    for english in ("rounded", "needed", "per year", "Customer", "budget per"):
        assert english not in text


def test_quarters_and_year():
    rs = check(REFERENCE)
    q = plan.build(rs, "quarter")
    assert [x.label for x in q.periods] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    assert set(q.stage("mql").needed) == {267}  # 1 066.67 / 4 = 266.67
    y = plan.build(rs, "year")
    assert y.stage("lead").needed == (5334,)


def test_single_lead_to_customer_rate(tmp_path):
    rs = check(write(tmp_path, SINGLE_RATE))
    assert rs.ok, rs.diagnostics
    p = plan.build(rs, "month")
    # 1 000 000 × 30 % = 300 000; / 7 000 = 42.857 customers; / 2.5 % = 1 714.29 leads a year
    assert p.funnel.marketing_revenue == 300_000
    assert p.stage("customer").needed_per_year == 43
    assert p.stage("lead").needed_per_year == 1715
    # effective April to December: 9 months of 1 714.29 / 12 = 142.86, so 143
    assert [x.label for x in p.periods] == [f"2027-{m:02d}" for m in range(4, 13)]
    assert set(p.stage("lead").needed) == {143}
    assert set(p.stage("customer").needed) == {4}  # 3.57 a month
    assert p.mql_value is None
    assert p.stage("lead").value_each == Decimal("175")  # 7 000 × 2.5 %
    # (1 000 + 2 500) × 12 = 42 000 a year; / 1 715 leads; / 43 customers
    assert p.budget.per_year == 42_000
    assert dict(p.budget.per_stage)["lead"] == Decimal(42_000) / 1715
    assert dict(p.budget.per_stage)["customer"] == Decimal(42_000) / 43
    text = plan.render(p, "text", "en")
    assert "lead needed" in text.lower()
    assert "= 42.9 / 2.5% = 1,714.3, rounded up to 1,715" in text


def test_partial_month_gets_its_share():
    periods = plan.periods_of((date(2027, 1, 16), date(2027, 3, 31)), "month")
    assert [x.label for x in periods] == ["2027-01", "2027-02", "2027-03"]
    assert periods[0].weight == Decimal(16) / 31
    assert periods[0].start == date(2027, 1, 16)
    assert periods[1].weight == 1


def test_no_effective_dates_gives_one_generic_year():
    periods = plan.periods_of(None, "quarter")
    assert [x.label for x in periods] == ["quarter 1", "quarter 2", "quarter 3", "quarter 4"]


def test_needed_between_counts_each_month_by_its_days():
    p = plan.build(check(REFERENCE), "month")
    assert p.needed_between("mql", date(2027, 1, 1), date(2027, 12, 31)) == pytest.approx(
        Decimal(3200) / 3)
    half = p.needed_between("mql", date(2027, 2, 1), date(2027, 2, 14))
    assert half == p.stage("mql").per_year / 12 / 2


def test_without_marketing_sla_is_a_clear_error(tmp_path):
    rs = check(write(tmp_path, NO_SLA))
    with pytest.raises(plan.PlanError, match="no marketing SLA"):
        plan.build(rs)


# ----------------------------------------------------------------------------- command


def run(*args):
    return CliRunner().invoke(main, ["plan", *map(str, args)])


def test_cli_text_speaks_the_agreements_language():
    result = run(REFERENCE)
    assert result.exit_code == 0, result.output
    assert "5\u202f334" in result.output and "1\u202f067" in result.output
    assert result.output.startswith("Plan du tunnel de conversion")
    assert run(REFERENCE, "--lang", "en").output.startswith("Funnel plan:")
    rows = [line.split() for line in result.output.splitlines() if line.strip().startswith("2027-")]
    assert len(rows) == 12
    assert rows[0][:6] == ["2027-01", "445", "89", "45", "27", "7"]


def test_generic_periods_are_named_in_the_plans_language(tmp_path):
    text = SINGLE_RATE.replace("    effective 2027-04-01 to 2027-12-31\n", "")
    p = plan.build(check(write(tmp_path, text)), "quarter")
    assert "trimestre 4" in plan.render(p, "text", "fr")
    assert "quarter 4" in plan.render(p, "text", "en")


def test_cli_json_and_csv():
    data = json.loads(run(REFERENCE, "--format", "json").output)
    stages = {s["stage"]: s for s in data["stages"]}
    assert stages["mql"]["needed_per_year"] == 1067
    assert stages["mql"]["needed"] == [89] * 12
    assert data["mql_value"] == 900
    assert data["budget"]["per_year"] == 270000
    rows = list(csv.DictReader(io.StringIO(run(REFERENCE, "--format", "csv",
                                               "--period", "quarter").output)))
    assert len(rows) == 5 * 4
    assert {r["needed"] for r in rows if r["stage"] == "lead"} == {"1334"}


def test_cli_markdown():
    out = run(REFERENCE, "--format", "md", "--period", "year", "--lang", "en").output
    assert out.startswith("# Funnel plan: Accord Smarketing Acme 2027")
    assert "| per year | 5,334 | 1,067 | 534 | 320 | 80 | €270,000 |" in out


def test_cli_without_sla_exits_1(tmp_path):
    result = CliRunner().invoke(main, ["plan", str(write(tmp_path, NO_SLA))])
    assert result.exit_code == 1
    assert "no marketing SLA" in result.output
    assert "Traceback" not in result.output


def test_cli_missing_file_exits_nonzero(tmp_path):
    result = run(tmp_path / "absent.leadrules")
    assert result.exit_code != 0
    assert "Traceback" not in result.output


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("period", plan.PERIODS)
def test_every_form_of_the_plan_has_its_words(tmp_path, lang, period):
    """Every format, period and kind of agreement (dated or not, chain or single rate, with
    and without channels) finds all its words in both languages."""
    undated = SINGLE_RATE.replace("    effective 2027-04-01 to 2027-12-31\n", "")
    no_channels = SINGLE_RATE[:SINGLE_RATE.index("channels")]
    for i, text in enumerate((SINGLE_RATE, undated, no_channels)):
        p = plan.build(check(write(tmp_path, text, f"r{i}.leadrules")), period)
        for fmt in plan.FORMATS:
            assert plan.render(p, fmt, lang)
    p = plan.build(check(REFERENCE), period)
    for fmt in plan.FORMATS:
        assert plan.render(p, fmt, lang)
