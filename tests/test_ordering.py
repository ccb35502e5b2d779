"""Grades compare in row order (the first row is the highest), enum members in declared order."""

from pathlib import Path

import pytest

from leadrules.check import check
from leadrules.engine import load
from leadrules.testing import run_tests

RULES = Path(__file__).parent / "fixtures" / "ordering.leadrules"


def test_order_comparisons_on_grades_and_enums_check_clean_and_their_tests_pass() -> None:
    rs = check(RULES)
    assert rs.diagnostics == []
    assert run_tests(rs) == []


@pytest.mark.parametrize(("size", "tier", "grade", "good"), [
    (200, "large", "A", True),     # 50 + 30 = 80
    (200, "small", "B", True),     # 50: B is at least B
    (10, "medium", "C", False),    # 30
    (None, None, "C", False),      # 0, nothing known: C is below B
])
def test_grade_and_enum_order(size, tier, grade, good) -> None:
    result = load(RULES).evaluate_raw({"id": "x", "size": size, "tier": tier})
    assert result["fit_grade"] == grade
    assert result["good"] is good


def test_between_stays_for_numbers_amounts_and_dates() -> None:
    rs = check(RULES, RULES.read_text(encoding="utf-8").replace(
        "fit_grade >= B", "fit_grade between C and A"))
    # The segment and the test expectation both use it.
    assert [d.code for d in rs.diagnostics] == ["LR214", "LR214"]
    assert "`between` needs numbers, amounts or dates" in rs.diagnostics[0].message
