"""The SQL backend: the query run in DuckDB gives every lead exactly the values of the Python
evaluator (scores to the cent, grades, qualifications, segments, stage, route), on the example
rule files, on random leads and events, and on the 9,237 X Education leads; rule text stays
inert; what SQL cannot compute is refused with a message naming the rule."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrules import codegen, sqlgen
from leadrules.check import check
from leadrules.engine import from_ruleset
from leadrules.scoring import cut_points
from leadrules.testing import cases_from_blocks

HERE = Path(__file__).parent
ROOT = HERE.parent
REFERENCE = HERE / "fixtures" / "reference.leadrules"
PROPERTY = HERE / "fixtures" / "sql.leadrules"
XEDUCATION_RULES = ROOT / "rules" / "xeducation.leadrules"
XEDUCATION_CSV = ROOT.parent / "shared" / "data" / "xeducation-leads.csv"
AS_OF = datetime(2027, 3, 15, 10, 30)



# ============================================================================ helpers


def local(value, zone: ZoneInfo):
    """A value as the leads table holds it: aware date-times as naive local time."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone).replace(tzinfo=None)
    return value


def event_parts(event) -> tuple[str, datetime, dict]:
    if isinstance(event, tuple):
        return event[0], event[1], event[2]
    return event["type"], event["at"], {k: v for k, v in event.items() if k not in ("type", "at")}


ARROW_TYPES = {"text": pa.string(), "enum": pa.string(), "int": pa.int64(),
               "number": pa.decimal128(38, 10), "money": pa.decimal128(38, 10),
               "bool": pa.bool_(), "date": pa.date32(), "datetime": pa.timestamp("us")}


def load(con, rs, leads: list[dict], events: list[list]) -> None:
    """The leads table (one column per field) and the events table of these leads."""
    zone = ZoneInfo(rs.timezone)
    fields = list(rs.fields.values())
    leads_table = pa.table({f.name: pa.array([local(lead.get(f.name), zone) for lead in leads],
                                             ARROW_TYPES[f.type.name]) for f in fields})
    con.register("leads_arrow", leads_table)
    con.execute("CREATE OR REPLACE TABLE leads AS SELECT * FROM leads_arrow")
    con.unregister("leads_arrow")
    key = rs.key
    if key is None:
        return
    props: dict[str, str] = {}
    for e in rs.events.values():
        for p in e.properties:
            props.setdefault(p.name, p.type.name)
    rows = []
    for lead, lead_events in zip(leads, events, strict=True):
        for event in lead_events:
            kind, at, properties = event_parts(event)
            rows.append([lead.get(key.name), kind, local(at, zone),
                         *(properties.get(p) for p in props)])
    columns = [(key.name, key.type.name), ("type", "text"), ("at", "datetime"),
               *props.items()]
    events_table = pa.table({name: pa.array([row[i] for row in rows], ARROW_TYPES[kind])
                             for i, (name, kind) in enumerate(columns)})
    con.register("events_arrow", events_table)
    con.execute("CREATE OR REPLACE TABLE events AS SELECT * FROM events_arrow")
    con.unregister("events_arrow")


def run_sql(rs, leads, events, as_of, **options) -> list[dict]:
    sql = sqlgen.generate(rs, sqlgen.Options(as_of=as_of, **options))
    con = duckdb.connect()
    load(con, rs, leads, events)
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run_engine(rs, leads, events, as_of) -> list[dict]:
    """The Python evaluator's values, with quantile cut points found on these leads as
    `leadrules score` finds them."""
    engine = from_ruleset(rs)
    cuts = {}
    for name, grade in rs.grades.items():
        if grade.quantiles and not grade.cuts:
            values = Counter()
            for lead, lead_events in zip(leads, events, strict=True):
                value = engine.evaluate_raw(lead, lead_events, as_of)[f"{name}.value"]
                if value is not None:
                    values[value] += 1
            cuts[name] = list(cut_points(values, codegen.QUANTILES[grade.quantiles]))
    return [engine.evaluate_raw(lead, lead_events, as_of, cuts=cuts)
            for lead, lead_events in zip(leads, events, strict=True)]


def assert_same(rs, leads, events, as_of) -> None:
    expected = run_engine(rs, leads, events, as_of)
    actual = run_sql(rs, leads, events, as_of)
    key = rs.key.name
    by_key = {row[key]: row for row in actual}
    assert len(by_key) == len(actual) == len(leads)
    for lead, want in zip(leads, expected, strict=True):
        got = by_key[lead[key]]
        for name, value in want.items():
            assert got[name] == value, (name, value, got[name], lead)
            if isinstance(value, bool) or value is None:
                assert got[name] is value, (name, value, got[name], lead)


# ============================================================================ random leads


def maybe(strategy):
    return st.one_of(st.none(), strategy)


TEXTS = st.sampled_from([
    "Director of sales", "VP Marketing", "CTO", "cto", "Summer intern", "directrice",
    "Über-Chef", "", "vp", "Chief Officer INTERN", "CTOé", "VP\n", "Directeur GÉNÉRAL",
    "directeur général\n", "Général \t", "CFO_x", "Straße Chef", "STRASSE", "ΔΙΟΙΚΗΤΉΣ ΣΑΣ",
    "ﬁnance ΣΑς", "İstanbul dir", "ǰob", "it's -- /* */ '' \"x\""])
EMAILS = st.sampled_from(["anne@acme.fr", "bob@GMAIL.com", "x@yahoo.fr", "nobody", "a@b@c.io",
                          "z@ Gmail.com \t", "u@STRASSE.DE", "u@straße.de", "v@", "@"])
# Local instants, some in the hour that happens twice when clocks go back in Europe/Paris.
INSTANTS = st.one_of(
    st.datetimes(datetime(2026, 6, 1), datetime(2027, 6, 1)),
    st.sampled_from([datetime(2026, 10, 25, 2, 30), datetime(2027, 3, 28, 2, 30),
                     datetime(2027, 1, 1, 0, 0)]))

LEADS = st.fixed_dictionaries({
    "email": maybe(EMAILS),
    "size": maybe(st.integers(-60, 700)),
    "rate": maybe(st.one_of(st.integers(-2, 2), st.decimals(-1, 1, places=3))),
    "budget": maybe(st.decimals(min_value=-10_000, max_value=50_000, places=2)),
    "title": maybe(TEXTS),
    "sector": maybe(st.sampled_from(["saas", "finance", "retail"])),
    "level": maybe(st.sampled_from(["junior", "senior", "chief"])),
    "partner": maybe(st.booleans()),
    "since": maybe(st.dates(date(2025, 1, 1), date(2027, 12, 31))),
    "seen_at": maybe(INSTANTS),
})

EVENTS = st.lists(st.builds(
    lambda kind, age, amount: {"type": kind, "at": AS_OF - age,
                               **({"amount": amount} if kind == "buy" else {})},
    st.sampled_from(["visit", "demo", "buy", "call"]),
    st.one_of(st.timedeltas(timedelta(days=-3), timedelta(days=500)),
              st.sampled_from([timedelta(0), timedelta(days=10), timedelta(days=2),
                               timedelta(days=14), timedelta(days=30), timedelta(days=365)])),
    maybe(st.decimals(0, 5000, places=2))), max_size=10)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def property_rules():
    rs = check(PROPERTY)
    assert rs.ok, rs.diagnostics
    return rs


@SETTINGS
@given(leads=st.lists(st.tuples(LEADS, EVENTS), min_size=1, max_size=12))
def test_random_leads_agree_with_the_python_evaluator(property_rules, leads) -> None:
    records = [{**lead, "id": f"L{i}"} for i, (lead, _) in enumerate(leads)]
    assert_same(property_rules, records, [events for _, events in leads], AS_OF)


# ============================================================================ rule files


RULE_FILES = [REFERENCE, *sorted((ROOT / "rules").glob("*.leadrules"))]


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_the_test_leads_of_each_rule_file_agree(path) -> None:
    rs = check(path)
    assert rs.ok
    cases = cases_from_blocks(rs)
    assert cases
    for i, case in enumerate(cases):
        lead = {**case.lead, rs.key.name: case.lead.get(rs.key.name) or f"case {i}"}
        assert_same(rs, [lead], [case.events], case.as_of)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_all_test_leads_together_at_one_instant(path) -> None:
    """Every test lead of a file in one table (quantile cut points over all of them)."""
    rs = check(path)
    cases = cases_from_blocks(rs)
    leads = [{**c.lead, rs.key.name: f"case {i}"} for i, c in enumerate(cases)]
    assert_same(rs, leads, [c.events for c in cases], datetime(2027, 3, 1, 10, 0))


def typed_export(rs, path: Path) -> list[dict]:
    from leadrules.data import LeadReader, Typing, open_source

    reader = LeadReader(rs, open_source(path), Typing(rs))
    try:
        leads = []
        for _, lead, problems in reader:
            assert not problems
            leads.append(lead)
        return leads
    finally:
        reader.source.close()


@pytest.mark.skipif(not XEDUCATION_CSV.exists(),
                    reason="../shared/data/xeducation-leads.csv is absent")
def test_xeducation_export_row_for_row() -> None:
    rs = check(XEDUCATION_RULES)
    leads = typed_export(rs, XEDUCATION_CSV)
    assert len(leads) == 9_237
    expected = run_engine(rs, leads, [[] for _ in leads], AS_OF)
    actual = run_sql(rs, leads, [[] for _ in leads], AS_OF)
    by_key = {row["id"]: row for row in actual}
    assert len(by_key) == len(leads)
    grades = Counter()
    for lead, want in zip(leads, expected, strict=True):
        got = by_key[lead["id"]]
        assert (got["lead_score"], got["temperature"]) == \
            (want["lead_score"], want["temperature"]), lead["id"]
        grades[got["temperature"]] += 1
    assert grades == {"cold": 5_265, "hot": 2_295, "warm": 1_677}


# ============================================================================ exact decimals


INLINE = """
agreement "Inline" {
    currency EUR
}

lead {
    id text key
    a  number
    b  number
}

score x = 0.5 * a + 0.5 * b
score y = a / b
score z = -a * 0.5
"""


def inline_rules(tmp_path, text: str = INLINE):
    path = tmp_path / "inline.leadrules"
    path.write_text(text, encoding="utf-8")
    rs = check(path)
    assert rs.ok, rs.diagnostics
    return rs


@pytest.mark.parametrize(("a", "b"), [
    ("10", "34.29"), ("-10", "-34.29"), ("0.01", "0"), ("1", "8"), ("3", "200"), ("-3", "200"),
    ("2", "3"), ("0", "0"), ("123456789.12", "0.07"), ("0.045", "1")])
def test_half_cents_round_away_from_zero(tmp_path, a, b) -> None:
    rs = inline_rules(tmp_path)
    lead = {"id": "L", "a": Decimal(a), "b": Decimal(b)}
    assert_same(rs, [lead], [[]], AS_OF)
    if (a, b) == ("10", "34.29"):
        assert run_sql(rs, [lead], [[]], AS_OF)[0]["x"] == Decimal("22.15")


# ============================================================================ safety


INJECTION = r"""
# Labels, strings and spellings that look like SQL: they must stay data.
agreement "Inject '; DROP TABLE leads; --" {
    currency EUR
}

lead {
    id    text key "Key */ SELECT 1; /*"
    name  text "Name '' \" -- x"
    kind  enum(a = "x'); DROP TABLE leads; --", b = {"*/", "'"}) from "K'ind"
}

event hit "Hit\n'; DELETE FROM events; --"

list odd = {"it's", "--", "*/", "a\nb", "'; DROP TABLE leads; --"}

segment strange "Odd */ '; DROP TABLE leads; -- \n SELECT" {
    name in odd
}

score s "Score\nwith a newline */ --" {
    +1 when strange  "a\nb */ c -- d '; DROP TABLE leads; --"
    +2 when kind == a  "label ' quote"
    +4 when name contains "'; DROP TABLE leads; --"  "x\r\ny"
    +8 when name starts with "*/"
    +16 per hit  "hits */"
}
"""


def test_rule_text_stays_inert(tmp_path) -> None:
    rs = inline_rules(tmp_path, INJECTION)
    sql = sqlgen.generate(rs, sqlgen.Options(as_of=AS_OF))
    assert "\r" not in sql and "\u2028" not in sql
    code_lines = []
    for line in sql.splitlines():
        if line.lstrip().startswith("--"):
            assert "*/" not in line and "/*" not in line
            continue
        # What is left once the literals are taken out is our own text only.
        code_lines.append(re.sub(r"'(?:[^']|'')*'", "''", line))
    code = "\n".join(code_lines)
    for word in ("DROP", "DELETE", "SELECT 1", "/*", "*/", "--"):
        assert word not in code, word
    leads = [{"id": "L1", "name": "it's", "kind": "a"},
             {"id": "L2", "name": "'; DROP TABLE leads; --", "kind": "b"},
             {"id": "L3", "name": "*/ x", "kind": None},
             {"id": "L4", "name": "a\nb", "kind": None},
             {"id": "L5", "name": None, "kind": None}]
    events = [[], [{"type": "hit", "at": AS_OF - timedelta(days=1)}] * 2, [], [], []]
    assert_same(rs, leads, events, AS_OF)
    scores = {row["id"]: row["s"] for row in run_sql(rs, leads, events, AS_OF)}
    assert scores == {"L1": 3, "L2": 1 + 4 + 32, "L3": 8, "L4": 1, "L5": 0}


def test_literals_double_quotes_and_spell_control_characters() -> None:
    assert sqlgen.literal("it's") == "'it''s'"
    assert sqlgen.literal("a\nb") == "('a' || chr(10) || 'b')"
    assert sqlgen.literal("") == "''"
    assert sqlgen.comment("a\n-- b */ c\u2028") == "a\\u000a-- b * / c\\u2028"
    for bad in ("leads; DROP TABLE x", 'a"b', "1leads", "a..b", ""):
        with pytest.raises(ValueError):
            sqlgen.table_name(bad)
    assert sqlgen.table_name("crm.leads") == '"crm"."leads"'


# ============================================================================ refusals


def test_business_windows_are_refused_naming_the_rule(tmp_path) -> None:
    rs = check(HERE / "cases_codegen" / "business" / "input.leadrules")
    with pytest.raises(sqlgen.SqlError) as caught:
        sqlgen.generate(rs)
    messages = [d.message for d in caught.value.diagnostics]
    assert any("+40 when call within 16 business hours" in m for m in messages)
    assert any("halflife 3 business days" in m for m in messages)
    assert all(d.code == "LR901" for d in caught.value.diagnostics)


def test_events_without_a_key_are_refused() -> None:
    rs = check(HERE / "cases_codegen" / "injection" / "input.leadrules")
    with pytest.raises(sqlgen.SqlError, match="key"):
        sqlgen.generate(rs)


def test_figures_beyond_the_sql_score_type_are_refused(tmp_path) -> None:
    """DECIMAL(18,2) holds 16 digits before the point: a bigger figure, or a score that can
    sum to more, is refused rather than rounded or rejected by the database."""
    rules = tmp_path / "big.leadrules"
    rules.write_text(
        'lead {\n    id text key\n    n  int\n}\n'
        'score s "S" {\n    +100_000_000_000_000_000 when n > 1 "Huge"\n}\n'
        'score t "T" {\n    +6_000_000_000_000_000 when n > 1 "A"\n'
        '    +6_000_000_000_000_000 when n > 2 "B"\n}\n'
        'score u "U" max 1000 {\n    +1 per 1 of n\n}\n', encoding="utf-8")
    rs = check(rules)
    assert rs.ok, rs.diagnostics
    with pytest.raises(sqlgen.SqlError) as caught:
        sqlgen.generate(rs)
    found = {(d.code, d.span.line) for d in caught.value.diagnostics}
    assert found == {("LR905", 6), ("LR905", 8)}
    messages = " ".join(d.message for d in caught.value.diagnostics)
    assert "can reach 12000000000000000" in messages and "'u'" not in messages


# ============================================================================ the query


def test_same_rules_same_bytes_and_a_comment_per_rule() -> None:
    rs = check(REFERENCE)
    first = sqlgen.generate(rs, sqlgen.Options(as_of=AS_OF))
    assert first == sqlgen.generate(check(REFERENCE), sqlgen.Options(as_of=AS_OF))
    lines = first.splitlines()
    for node in (rs.scores["fit"].items[0], rs.stages[1], rs.routes[0]):
        assert any(line.strip().startswith(f"-- {node.span.file}:{node.span.line}  ")
                   for line in lines), node


def test_same_bytes_under_any_hash_seed() -> None:
    command = Path(sys.executable).parent / "leadrules"
    outputs = []
    for seed in ("0", "12345"):
        done = subprocess.run(
            [str(command), "compile", str(PROPERTY), "--target", "sql", "--as-of", "2027-03-01"],
            capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"})
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and outputs[0].startswith("-- Generated by leadrules")


def test_without_as_of_the_database_clock_is_used() -> None:
    rs = check(REFERENCE)
    sql = sqlgen.generate(rs)
    assert "current_timestamp" in sql
    con = duckdb.connect()
    load(con, rs, [{"id": "L1", "email": "a@b.c"}], [[]])
    assert con.execute(sql).fetchall()[0][0] == "L1"


def test_other_table_names(tmp_path) -> None:
    rs = check(REFERENCE)
    sql = sqlgen.generate(rs, sqlgen.Options(table="crm.people", events_table="crm.activity",
                                             as_of=AS_OF))
    con = duckdb.connect()
    load(con, rs, [{"id": "L1", "email": "a@b.c"}], [[]])
    con.execute("CREATE SCHEMA crm")
    con.execute("CREATE TABLE crm.people AS SELECT * FROM leads")
    con.execute("CREATE TABLE crm.activity AS SELECT * FROM events")
    con.execute("DROP TABLE leads")
    assert con.execute(sql).fetchall()[0][0] == "L1"


def test_compile_command_writes_the_query(tmp_path) -> None:
    from leadrules.cli import main

    out = tmp_path / "scoring.sql"
    result = CliRunner().invoke(main, ["compile", str(REFERENCE), "--target", "sql",
                                       "--as-of", "2027-03-01T10:00", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == sqlgen.generate(
        check(REFERENCE), sqlgen.Options(as_of=datetime(2027, 3, 1, 10, 0)))
    pg = CliRunner().invoke(main, ["compile", str(REFERENCE), "--target", "sql", "--dialect",
                                   "postgres", "--table", "crm.leads"])
    assert pg.exit_code == 0 and 'FROM "crm"."leads"' in pg.output
    bad = CliRunner().invoke(main, ["compile", str(REFERENCE), "--target", "sql", "--table",
                                    "leads; DROP TABLE x"])
    assert bad.exit_code == 2 and "table" in bad.output
    refused = CliRunner().invoke(main, ["compile",
                                        str(HERE / "cases_codegen" / "business" /
                                            "input.leadrules"), "--target", "sql"])
    assert refused.exit_code == 1 and "business" in refused.output
    late = CliRunner().invoke(main, ["compile", str(REFERENCE), "--target", "sql", "--as-of",
                                     "someday"])
    assert late.exit_code == 2 and "someday" in late.output


def test_text_folding_is_pythons_casefold_for_every_character() -> None:
    """`contains`, `starts with` and `ends with` compare casefolded texts: the SQL folding must
    agree with str.casefold() on every Unicode character, and on texts mixing them."""
    points = [i for i in range(1, 0x110000) if not 0xD800 <= i < 0xE000]
    texts = [chr(i) for i in points] + ["Straße ΣΑΣ İstanbul ﬁn", "ᾈΣ ǰ ß", "ABC ẞ-ß", ""]
    con = duckdb.connect()
    con.register("texts", pa.table({"t": pa.array(texts, pa.string())}))
    fold = sqlgen.Generator(check(REFERENCE), sqlgen.Options()).fold_sql('"t"')
    folded = [row[0] for row in con.execute(f'SELECT {fold} FROM texts').fetchall()]
    wrong = [(t, f, t.casefold()) for t, f in zip(texts, folded, strict=True)
             if f != t.casefold()]
    assert not wrong[:5]


# ============================================================================ PostgreSQL

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None) \
    if Path("/usr/lib/postgresql").exists() else None
PG_TYPES = {"text": "TEXT", "enum": "TEXT", "int": "BIGINT", "number": "NUMERIC",
            "money": "NUMERIC", "bool": "BOOLEAN", "date": "DATE", "datetime": "TIMESTAMP"}


class Postgres:
    """A throwaway PostgreSQL server on a Unix socket, driven through psql."""

    def __init__(self, root: Path) -> None:
        import os
        import shutil
        import subprocess

        self.subprocess = subprocess
        self.root = root
        self.data = root / "data"
        self.data.mkdir()
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:
            # The server refuses to run as root.
            shutil.chown(root, "postgres")
            shutil.chown(self.data, "postgres")
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
        self.run([str(PG_BIN / "initdb"), "-D", str(self.data), "-E", "UTF8",
                  "--locale=C.UTF-8", "-U", "postgres"])
        self.run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l",
                  str(root / "log"), "-o", f"-p 54329 -k {root} -c listen_addresses=", "start"])

    def run(self, command: list[str]) -> None:
        self.subprocess.run([*self.as_postgres, *command], check=True, capture_output=True)

    def psql(self, sql: str) -> list[list[str]]:
        import csv
        import io

        done = self.subprocess.run(
            [*self.as_postgres, str(PG_BIN / "psql"), "-h", str(self.root), "-p", "54329",
             "-U", "postgres", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-f", "-"],
            input=sql, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return list(csv.reader(io.StringIO(done.stdout)))

    def stop(self) -> None:
        self.run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])


@pytest.fixture(scope="module")
def postgres():
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    import shutil
    import tempfile

    # Outside pytest's own folder, which the postgres user cannot enter when we are root.
    root = Path(tempfile.mkdtemp(prefix="leadrules-pg-"))
    try:
        server = Postgres(root)
        yield server
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def pg_value(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return f"'{value.isoformat(sep=' ') if isinstance(value, datetime) else value}'"
    return sqlgen.literal(value)


def pg_tables(rs, leads, events) -> str:
    zone = ZoneInfo(rs.timezone)
    fields = list(rs.fields.values())
    out = ["DROP TABLE IF EXISTS leads, events;",
           "CREATE TABLE leads (" + ", ".join(f'"{f.name}" {PG_TYPES[f.type.name]}'
                                              for f in fields) + ");"]
    for lead in leads:
        out.append("INSERT INTO leads VALUES (" + ", ".join(
            pg_value(local(lead.get(f.name), zone)) for f in fields) + ");")
    props = {p.name: PG_TYPES[p.type.name] for e in rs.events.values() for p in e.properties}
    out.append(f'CREATE TABLE events ("{rs.key.name}" TEXT, "type" TEXT, "at" TIMESTAMP' +
               "".join(f', "{p}" {t}' for p, t in props.items()) + ");")
    for lead, lead_events in zip(leads, events, strict=True):
        for event in lead_events:
            kind, at, properties = event_parts(event)
            values = [lead[rs.key.name], kind, local(at, zone),
                      *(properties.get(p) for p in props)]
            out.append("INSERT INTO events VALUES (" + ", ".join(map(pg_value, values)) + ");")
    return "\n".join(out) + "\n"


def pg_parse(text: str, kind: str):
    if text == "":
        return None
    if kind in ("segment", "qualification", "disqualified"):
        return text == "t"
    if kind == "score":
        return Decimal(text)
    if kind in ("qualification count",):
        return int(text)
    if kind == "grade value":
        return Decimal(text)
    return text


def assert_same_in_postgres(server, rs, leads, events, as_of) -> None:
    expected = run_engine(rs, leads, events, as_of)
    query = sqlgen.generate(rs, sqlgen.Options(dialect="postgres", as_of=as_of))
    header, *rows = server.psql(pg_tables(rs, leads, events) + query)
    kinds = from_ruleset(rs).outputs
    by_key = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    for lead, want in zip(leads, expected, strict=True):
        got = by_key[lead[rs.key.name]]
        for name, value in want.items():
            assert pg_parse(got[name], kinds[name]) == value, (name, value, got[name], lead)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_postgres_gives_the_same_values(postgres, path) -> None:
    rs = check(path)
    cases = cases_from_blocks(rs)
    leads = [{**c.lead, rs.key.name: f"case {i}"} for i, c in enumerate(cases)]
    assert_same_in_postgres(postgres, rs, leads, [c.events for c in cases],
                            datetime(2027, 3, 1, 10, 0))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(leads=st.lists(st.tuples(LEADS, EVENTS), min_size=1, max_size=12))
def test_postgres_random_leads(postgres, leads) -> None:
    records = [{**lead, "id": f"L{i}"} for i, (lead, _) in enumerate(leads)]
    assert_same_in_postgres(postgres, check(PROPERTY), records,
                            [events for _, events in leads], AS_OF)


def test_patterns_for_postgres_keep_re2_meaning(tmp_path) -> None:
    rs = check(PROPERTY)
    sql = sqlgen.generate(rs, sqlgen.Options(dialect="postgres", as_of=AS_OF))
    assert "~ '^(VP|C[A-Z]O)(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|" in sql
    assert "~ '(?i)général[\\t\\n\\f\\r ]?$'" in sql
    flagged = INLINE.replace("score z = -a * 0.5", 'segment s {\n    id matches "(?m)^a$"\n}')
    with pytest.raises(sqlgen.SqlError, match="PostgreSQL"):
        sqlgen.generate(inline_rules(tmp_path, flagged), sqlgen.Options(dialect="postgres"))
