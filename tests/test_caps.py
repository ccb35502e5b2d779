"""A rule's total is clamped by its own caps even when it gave nothing (docs/evaluation.md):
the fast path, the explained path and the SQL backend agree on it."""

import pytest

from leadrules import sqlgen
from leadrules.check import check
from leadrules.engine import load

RULES = """
lead {
    id text key
    t  int
}
score s {
    -1  per 60 of t max -5      "Pénalité plafonnée"
    +10 when t > 100 min 5      "Plancher"
    -3  when t > 100 max -2     "Plafond négatif"
}
"""

# Missing or small t: -5 (0 capped at -5) + 5 (0 raised to 5) - 2 (0 capped at -2) = -2.
# t = 300: -5 (5 units, capped at -5) + 10 - 3 (already below -2) = 2.
CASES = [({"id": "a", "t": None}, -2), ({"id": "b", "t": 30}, -2), ({"id": "c", "t": 300}, 2)]


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "caps.leadrules"
    path.write_text(RULES, encoding="utf-8")
    return path


@pytest.mark.parametrize(("lead", "expected"), CASES)
def test_fast_and_explained_paths_agree(rules, lead, expected) -> None:
    engine = load(rules)
    assert engine.evaluate_raw(lead)["s"] == expected
    assert engine.evaluate(lead).scores["s"].value == expected


def test_sql_agrees(rules) -> None:
    duckdb = pytest.importorskip("duckdb")
    query = sqlgen.generate(check(rules), sqlgen.Options())
    con = duckdb.connect()
    con.execute("CREATE TABLE leads (id VARCHAR, t INTEGER)")
    con.executemany("INSERT INTO leads VALUES (?, ?)", [(c["id"], c["t"]) for c, _ in CASES])
    rows = dict(con.execute(query).fetchall())
    assert {k: float(v) for k, v in rows.items()} == {c["id"]: e for c, e in CASES}
