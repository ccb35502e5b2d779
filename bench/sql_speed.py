"""Benchmark: the SQL `leadrules compile --target sql` writes, run in DuckDB on 1,000,000 leads,
against hand-written DuckDB SQL of the 20-rule model (../shared/benchmarks/xeducation-20-rules.md).

    .venv/bin/python bench/sql_speed.py [--rows 1000000] [--rounds 5] [--threads 2]

Builds two in-memory tables by repeating the 9,237 rows of ../shared/data/xeducation-leads.csv
(each copy with its own key), outside every timed region: `leads`, typed as the rules declare
(what the generated query reads: enum member names, exact decimals), and `canonical`, the
benchmark's canonical lead (export strings verbatim, numbers as DOUBLE), which the hand-written
query reads. Checks that both queries give the same score and grade to every one of the rows,
then times each (`CREATE TABLE … AS` the query, so that every output column is computed) in
interleaved rounds and keeps each one's best round.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT.parent / "shared" / "data" / "xeducation-leads.csv"
RULES = ROOT / "rules" / "xeducation.leadrules"

HAND_WRITTEN = """
SELECT id, score,
       CASE WHEN score >= 60 THEN 'hot' WHEN score >= 30 THEN 'warm' ELSE 'cold' END AS grade
FROM (
    SELECT id,
          CASE WHEN lead_origin = 'Lead Add Form' THEN 10 ELSE 0 END
        + CASE WHEN lead_source IN ('Reference', 'Welingak Website') THEN 15 ELSE 0 END
        + CASE WHEN lead_source = 'Olark Chat' THEN -5 ELSE 0 END
        + CASE WHEN do_not_email = 'Yes' THEN -20 ELSE 0 END
        + CASE WHEN total_visits >= 5 THEN 5 ELSE 0 END
        + CASE WHEN time_on_site IS NOT NULL
               THEN CAST(LEAST(floor(time_on_site / 100), 20) AS INTEGER) ELSE 0 END
        + CASE WHEN page_views_per_visit >= 3 AND time_on_site >= 300 THEN 5 ELSE 0 END
        + CASE WHEN last_activity IN ('SMS Sent', 'Email Opened') THEN 10 ELSE 0 END
        + CASE WHEN last_activity IN ('Email Bounced', 'Unsubscribed', 'Unreachable',
                                      'Email Marked Spam') THEN -15 ELSE 0 END
        + CASE WHEN country = 'India' THEN 5 ELSE 0 END
        + CASE WHEN specialization IN ('Finance Management', 'Marketing Management',
                                       'Human Resource Management', 'Operations Management')
               THEN 5 ELSE 0 END
        + CASE WHEN occupation = 'Working Professional' THEN 20 ELSE 0 END
        + CASE WHEN occupation = 'Student' THEN -10 ELSE 0 END
        + CASE WHEN contains(tags, 'Interested in other courses') THEN -30 ELSE 0 END
        + CASE WHEN tags IN ('Will revert after reading the email', 'Closed by Horizzon')
               THEN 30 ELSE 0 END
        + CASE WHEN contains(tags, 'Lost to') THEN -25 ELSE 0 END
        + CASE WHEN lead_quality IN ('High in Relevance', 'Might be') THEN 25 ELSE 0 END
        + CASE WHEN lead_quality = 'Worst' THEN -20 ELSE 0 END
        + CASE WHEN city IN ('Mumbai', 'Thane & Outskirts') THEN 5 ELSE 0 END
        + CASE WHEN lead_profile = 'Potential Lead' THEN 10 ELSE 0 END AS score
    FROM canonical
)
"""

CANONICAL_COLUMNS = {
    "lead_origin": "Lead Origin", "lead_source": "Lead Source", "do_not_email": "Do Not Email",
    "total_visits": "TotalVisits", "time_on_site": "Total Time Spent on Website",
    "page_views_per_visit": "Page Views Per Visit", "last_activity": "Last Activity",
    "country": "Country", "specialization": "Specialization",
    "occupation": "What is your current occupation", "tags": "Tags",
    "lead_quality": "Lead Quality", "city": "City", "lead_profile": "Lead Profile",
}
NUMERIC = ("total_visits", "time_on_site", "page_views_per_visit")
ARROW_TYPES = {"text": pa.string(), "enum": pa.string(), "int": pa.int64(),
               "number": pa.decimal128(38, 10), "money": pa.decimal128(38, 10),
               "bool": pa.bool_()}


def typed_leads(rs) -> pa.Table:
    """The 9,237 leads typed by leadrules' own reader, as an Arrow table."""
    from leadrules.data import LeadReader, Typing, open_source

    reader = LeadReader(rs, open_source(SOURCE), Typing(rs))
    leads = []
    try:
        for _, lead, problems in reader:
            if problems:
                sys.exit(f"data problem in the export: {problems[0]}")
            leads.append(lead)
    finally:
        reader.source.close()
    return pa.table({f.name: pa.array([lead.get(f.name) for lead in leads],
                                      ARROW_TYPES[f.type.name]) for f in rs.fields.values()})


def build_tables(con, rs, rows: int) -> None:
    base = typed_leads(rs)
    copies = -(-rows // base.num_rows)
    con.register("typed_base", base)
    others = ", ".join(f'b."{name}"' for name in base.column_names if name != "id")
    con.execute(f"""CREATE TABLE leads AS
        SELECT b.id || '#' || r.range AS id, {others}
        FROM typed_base AS b CROSS JOIN range({copies}) AS r
        ORDER BY r.range, b.id LIMIT {rows}""")
    csv = str(SOURCE).replace("'", "''")
    picks = ", ".join(
        (f'TRY_CAST(NULLIF(c."{column}", \'\') AS DOUBLE) AS {name}' if name in NUMERIC else
         f'NULLIF(c."{column}", \'\') AS {name}') for name, column in CANONICAL_COLUMNS.items())
    con.execute(f"""CREATE TABLE canonical AS
        SELECT c."Prospect ID" || '#' || r.range AS id, {picks}
        FROM read_csv('{csv}', all_varchar = true, header = true) AS c
             CROSS JOIN range({copies}) AS r
        ORDER BY r.range, c."Prospect ID" LIMIT {rows}""")


def check_same(con) -> int:
    different = con.execute("""
        SELECT count(*) FROM generated AS g FULL JOIN hand AS h ON g.id = h.id
        WHERE g.id IS NULL OR h.id IS NULL OR g.lead_score <> h.score
           OR g.temperature <> h.grade""").fetchone()[0]
    if different:
        sys.exit(f"the generated and the hand-written queries disagree on {different} leads")
    return con.execute("SELECT count(*) FROM generated").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"{SOURCE} is absent: nothing to measure")
    from leadrules import sqlgen
    from leadrules.check import check
    from leadrules.engine import parse_as_of

    rs = check(RULES)
    generated = sqlgen.generate(rs, sqlgen.Options(
        as_of=parse_as_of("2027-01-15T10:00", rs))).rstrip().rstrip(";")
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    started = time.perf_counter()
    build_tables(con, rs, args.rows)
    print(f"tables: {args.rows:,} rows each, built in {time.perf_counter() - started:.1f} s "
          f"(DuckDB {duckdb.__version__}, {args.threads} threads)")
    queries = {"generated": generated, "hand": HAND_WRITTEN}
    best = {name: float("inf") for name in queries}
    for _ in range(args.rounds):
        for name, query in queries.items():
            started = time.perf_counter()
            con.execute(f"CREATE OR REPLACE TABLE {name} AS {query}")
            best[name] = min(best[name], time.perf_counter() - started)
    rows = check_same(con)
    hot, warm, cold = (con.execute(f"SELECT count(*) FROM generated WHERE temperature = '{g}'")
                       .fetchone()[0] for g in ("hot", "warm", "cold"))
    print(f"same score and grade for all {rows:,} leads (hot {hot:,}, warm {warm:,}, "
          f"cold {cold:,})")
    print(f"{'query':<28}{'best s':>10}{'rows/s':>16}{'x hand':>10}")
    for name, label in (("hand", "hand-written DuckDB SQL"),
                        ("generated", "leadrules compile --target sql")):
        seconds = best[name]
        print(f"{label:<28}{seconds:>10.3f}{rows / seconds:>16,.0f}"
              f"{best['hand'] / seconds:>10.2f}")


if __name__ == "__main__":
    main()
