"""Checked Ruleset -> one readable SQL query (DuckDB or PostgreSQL) that scores every lead of a table.

The query reads a leads table whose columns are the lead's field names, already typed (enum
columns hold member names, date-times are local to the agreement), and, when the rules use
events, an events table (the key field, `type`, `at`, one column per property). It returns one
row per lead with the same values, to the cent, as the Python evaluator (codegen.py, whose
semantics it mirrors rule for rule): the key, then every key of `codegen.Plan.outputs`.

Safety: names reach the SQL only as double-quoted identifiers checked against the name pattern;
every value from the rule file is a single-quoted literal with its quotes doubled (control
characters through chr()); labels and rule text appear only in `--` comments, made inert by
`comment()`. Determinism: the text depends only on the ruleset and the options.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from leadrules import ast, unparse
from leadrules.codegen import (
    DISQUALIFIED,
    DISQUALIFIED_KEY,
    QUANTILES,
    ROUTE_KEY,
    STAGE_KEY,
    CodegenError,
    check_pattern,
    duration_seconds,
    plan,
)
from leadrules.diagnostics import Diagnostic, error
from leadrules.model import (
    CRITERION,
    EMAIL_DOMAIN,
    EVENT_PROPERTY,
    FIELD,
    GRADE,
    QUALIFICATION,
    QUALIFICATION_COUNT,
    ROUTE,
    SCORE,
    SEGMENT,
    STAGE,
    Ruleset,
)

DIALECTS = ("duckdb", "postgres")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SCORE_TYPE = "DECIMAL(18,2)"
# Exact decimals for arithmetic on number and money fields (a DOUBLE column is read as the
# decimal it prints as, to 10 places).
FIELD_DECIMAL = "DECIMAL(38,10)"
# Places kept by a quotient in a derived score (DuckDB divides decimals in binary floating
# point, so the query divides scaled integers instead).
QUOTIENT_PLACES = 12

# Operator precedence of the SQL text we build, to place parentheses.
_ATOM, _ARITH, _CMP, _NOT, _AND, _OR = 0, 1, 2, 3, 4, 5
_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# RE2's ASCII classes spelled out for PostgreSQL, whose \\w, \\d, \\s and \\b follow the locale
# (and whose \\b is a backspace).
_PG_WORD = "0-9A-Za-z_"
_PG_SPACE = "\\t\\n\\f\\r "
_PG_OUTSIDE = {
    "d": "[0-9]", "D": "[^0-9]", "w": f"[{_PG_WORD}]", "W": f"[^{_PG_WORD}]",
    "s": f"[{_PG_SPACE}]", "S": f"[^{_PG_SPACE}]",
    "b": f"(?:(?<=[{_PG_WORD}])(?![{_PG_WORD}])|(?<![{_PG_WORD}])(?=[{_PG_WORD}]))",
    "B": f"(?:(?<=[{_PG_WORD}])(?=[{_PG_WORD}])|(?<![{_PG_WORD}])(?![{_PG_WORD}]))",
}
_PG_INSIDE = {"d": "0-9", "w": _PG_WORD, "s": _PG_SPACE}
# What Python's str.strip() removes (codegen's _domain strips the part after the @).
_WHITESPACE = "".join(chr(i) for i in range(0x3001) if chr(i).isspace())


class SqlError(CodegenError):
    """The ruleset cannot be turned into SQL; `diagnostics` say where and why."""


@dataclass(frozen=True, slots=True)
class Options:
    """What the query reads and when it evaluates. `as_of` None: the database's clock when the
    query runs; a naive date-time is local to the agreement."""

    dialect: str = "duckdb"
    table: str = "leads"
    events_table: str = "events"
    as_of: datetime | None = None


# ============================================================================ text helpers


def comment(text: str) -> str:
    """Text made safe to sit after `--`: no line break, no control character, no `*/`."""
    out = []
    for ch in text:
        if ch == "\t":
            out.append(" ")
        elif ch.isprintable() and unicodedata.category(ch) not in ("Zl", "Zp"):
            out.append(ch)
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out).replace("*/", "* /").replace("/*", "/ *")


def ident(name: str) -> str:
    """A rule-file name as a double-quoted identifier (the name pattern is checked)."""
    if not NAME.fullmatch(name):
        raise ValueError(f"'{name}' is not a name")
    return f'"{name}"'


def column(text: str) -> str:
    """One of our own column names (a rule-file name plus fixed words) as an identifier."""
    if '"' in text or not text.isprintable():
        raise ValueError(f"unexpected column name {text!r}")
    return f'"{text}"'


def table_name(text: str) -> str:
    """A table name given on the command line (`schema.table` allowed), quoted."""
    parts = text.split(".")
    if not parts or not all(NAME.fullmatch(p) for p in parts):
        raise ValueError(text)
    return ".".join(f'"{p}"' for p in parts)


def _printable(ch: str) -> bool:
    return ch.isprintable() and unicodedata.category(ch)[0] != "M" and ch not in "\u2028\u2029"


def literal(text: str) -> str:
    """A text as an SQL literal: quotes doubled, control and combining characters as chr()."""
    pieces: list[str] = []
    run: list[str] = []
    for ch in text:
        if _printable(ch):
            run.append("''" if ch == "'" else ch)
            continue
        if run:
            pieces.append("'" + "".join(run) + "'")
            run = []
        pieces.append(f"chr({ord(ch)})")
    if run or not pieces:
        pieces.append("'" + "".join(run) + "'")
    return " || ".join(pieces) if len(pieces) == 1 else "(" + " || ".join(pieces) + ")"


def number(value: Decimal) -> str:
    """A number as an SQL literal (exact; negative ones in parentheses, so that `- -1` can
    never become a comment)."""
    if value == value.to_integral_value():
        text = str(int(value))
    else:
        text = format(value.normalize(), "f")
    return f"({text})" if text.startswith("-") else text


def interval(seconds: Decimal) -> str:
    if seconds % 86400 == 0:
        return f"INTERVAL '{int(seconds // 86400)} days'"
    if seconds == seconds.to_integral_value():
        return f"INTERVAL '{int(seconds)} seconds'"
    return f"INTERVAL '{int(seconds * 1_000_000)} microseconds'"


def _casefold_table() -> tuple[dict[str, str], str, str, str]:
    """What lower() leaves for Python's str.casefold() to do: characters lower() gives that
    fold to several characters (ß -> ss), single ones (ς -> σ) for one translate(), and every
    character whose text needs more than lower() (İ included: DuckDB lowers it to a plain i)."""
    multi: dict[str, str] = {}
    single_from, single_to = [], []
    special = [chr(0x130)]
    for i in range(0x110000):
        if 0xD800 <= i < 0xE000:
            continue
        ch = chr(i)
        low, folded = ch.lower(), ch.casefold()
        if low == folded or len(low) != 1:
            continue
        special.append(ch)
        if len(folded) == 1:
            if low not in single_from:
                single_from.append(low)
                single_to.append(folded)
        else:
            multi.setdefault(low, folded)
    return multi, "".join(single_from), "".join(single_to), "".join(special)


_FOLD: tuple[dict[str, str], str, str, str] | None = None


def _fold_table() -> tuple[dict[str, str], str, str, str]:
    global _FOLD
    if _FOLD is None:
        _FOLD = _casefold_table()
    return _FOLD


# ============================================================================ compiled pieces


@dataclass(frozen=True, slots=True)
class Sql:
    """An SQL expression and how loosely it binds."""

    text: str
    prec: int = _ATOM

    def wrapped(self, limit: int) -> str:
        return f"({self.text})" if self.prec >= limit else self.text


@dataclass(frozen=True, slots=True)
class Cond:
    """A condition as an SQL boolean with SQL's three-valued logic (NULL is unknown);
    `known` when it is never NULL."""

    sql: Sql
    known: bool


@dataclass(frozen=True, slots=True)
class Val:
    """A value: its expression, its kind (codegen's kinds), and whether it may be NULL."""

    sql: Sql
    kind: str
    nullable: bool
    of: str | None = None


TRUE = Cond(Sql("TRUE"), True)
FALSE = Cond(Sql("FALSE"), True)


def _and(parts: list[Cond]) -> Cond:
    parts = [p for p in parts if p.sql.text != "TRUE"]
    if any(p.sql.text == "FALSE" for p in parts):
        return FALSE
    if not parts:
        return TRUE
    if len(parts) == 1:
        return parts[0]
    return Cond(Sql(" AND ".join(p.sql.wrapped(_OR) for p in parts), _AND),
                all(p.known for p in parts))


def _or(parts: list[Cond]) -> Cond:
    parts = [p for p in parts if p.sql.text != "FALSE"]
    if any(p.sql.text == "TRUE" for p in parts):
        return TRUE
    if not parts:
        return FALSE
    if len(parts) == 1:
        return parts[0]
    return Cond(Sql(" OR ".join(p.sql.wrapped(_AND) for p in parts), _OR),
                all(p.known for p in parts))


def _not(part: Cond) -> Cond:
    if part.sql.text == "TRUE":
        return FALSE
    if part.sql.text == "FALSE":
        return TRUE
    return Cond(Sql("NOT " + part.sql.wrapped(_CMP), _NOT), part.known)


def _true(c: Cond) -> Cond:
    """The condition made TRUE when it is true and FALSE otherwise (never NULL)."""
    if c.known:
        return c
    return Cond(Sql(f"COALESCE({c.sql.text}, FALSE)"), True)


# ============================================================================ dialects


class Dialect:
    """The few spellings that differ between DuckDB and PostgreSQL."""

    name = "duckdb"

    def contains(self, text: str, needle: str) -> str:
        return f"contains({text}, {needle})"

    def starts_with(self, text: str, needle: str) -> str:
        return f"starts_with({text}, {needle})"

    def ends_with(self, text: str, needle: str) -> str:
        return f"ends_with({text}, {needle})"

    def regex(self, text: str, pattern: str) -> str:
        return f"regexp_matches({text}, {pattern})"

    def ascii(self, text: str) -> str:
        """True for a text of ASCII characters only (as many bytes as characters)."""
        return f"strlen({text}) = length({text})"

    def after_last_at(self, text: str) -> str:
        return f"regexp_extract({text}, '@([^@]*)$', 1)"

    def trim(self, text: str, chars: str) -> str:
        return f"trim({text}, {chars})"

    def micros(self, instant: str) -> str:
        return f"epoch_us({instant})"

    def intdiv(self, a: str, b: str) -> str:
        return f"(({a}) // {b})"

    def big(self, text: str) -> str:
        return f"CAST({text} AS HUGEINT)"

    def floor_units(self, value: str, unit: Decimal, integral_value: bool) -> str:
        """floor(value / unit), exactly, for unit > 0 (DuckDB divides decimals in floating
        point, so both are scaled to integers first)."""
        if integral_value and unit == unit.to_integral_value():
            x, k = value, str(int(unit))
        else:
            x = f"CAST(CAST({value} AS {FIELD_DECIMAL}) * 10000000000 AS HUGEINT)"
            k = str(int(unit * 10_000_000_000))
        return f"(({x} - (({x} % {k}) + {k}) % {k}) // {k})"

    def divide(self, a: str, b: str) -> str:
        """a / b in exact decimals to QUOTIENT_PLACES places; NULL when b is 0."""
        scale = 10 ** 6
        num = f"CAST(CAST({a} AS DECIMAL(38,6)) * {scale} AS HUGEINT)"
        den = f"CAST(CAST({b} AS DECIMAL(38,6)) * {scale} AS HUGEINT)"
        places = 10 ** QUOTIENT_PLACES
        unit = "0." + "0" * (QUOTIENT_PLACES - 1) + "1"
        return (f"CAST(({num} * {places}) // NULLIF({den}, 0) AS DECIMAL(38,0)) * {unit}")

    def clock(self) -> str:
        return "CAST(current_timestamp AT TIME ZONE 'UTC' AS TIMESTAMP)"

    def text_type(self) -> str:
        return "VARCHAR"


class Postgres(Dialect):
    name = "postgres"

    def contains(self, text: str, needle: str) -> str:
        return f"strpos({text}, {needle}) > 0"

    def starts_with(self, text: str, needle: str) -> str:
        return f"starts_with({text}, {needle})"

    def ends_with(self, text: str, needle: str) -> str:
        return f"right({text}, length({needle})) = {needle}"

    def regex(self, text: str, pattern: str) -> str:
        return f"{text} ~ {pattern}"

    def ascii(self, text: str) -> str:
        return f"octet_length({text}) = char_length({text})"

    def after_last_at(self, text: str) -> str:
        return f"substring({text} from '@([^@]*)$')"

    def trim(self, text: str, chars: str) -> str:
        return f"btrim({text}, {chars})"

    def micros(self, instant: str) -> str:
        return f"CAST(EXTRACT(EPOCH FROM {instant}) * 1000000 AS BIGINT)"

    def intdiv(self, a: str, b: str) -> str:
        return f"div({a}, {b})"

    def big(self, text: str) -> str:
        return f"CAST({text} AS NUMERIC)"

    def floor_units(self, value: str, unit: Decimal, integral_value: bool) -> str:
        return f"floor(CAST({value} AS NUMERIC) / {number(unit)})"

    def divide(self, a: str, b: str) -> str:
        return f"CAST({a} AS NUMERIC) / NULLIF(CAST({b} AS NUMERIC), 0)"

    def clock(self) -> str:
        return "CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP)"

    def text_type(self) -> str:
        return "TEXT"


def dialect(name: str) -> Dialect:
    if name == "postgres":
        return Postgres()
    if name == "duckdb":
        return Dialect()
    raise ValueError(f"unknown SQL dialect '{name}' (use one of {', '.join(DIALECTS)})")


# ============================================================================ the generator


@dataclass
class Step:
    """One CTE of the chain: it adds columns (items of select lines) to every lead row;
    `cuts` when it needs the cut points of a quantile grade over all leads first."""

    name: str
    items: list[list[str]] = field(default_factory=list)
    cuts: bool = False


class Generator:
    """Writes the query for one checked ruleset."""

    def __init__(self, rs: Ruleset, options: Options) -> None:
        self.rs = rs
        self.options = options
        self.d = dialect(options.dialect)
        self.plan = plan(rs)
        self.problems: list[Diagnostic] = []
        self.zone = rs.timezone
        self.utc = self.zone in ("UTC", "Etc/UTC", "GMT")
        self.key = rs.key
        self.stage_names = [s.name for s in rs.stages]
        # What the body turned out to need, filled while it is written.
        self.fields: list[str] = []                  # lead fields read
        self.lead_columns: dict[str, str] = {}       # derived column -> expression (lead_rows)
        self.lead_inner: dict[str, str] = {}         # first-level helpers (lead_fields)
        self.windows: dict[str, str] = {}            # column -> expression (params)
        self.event_columns: dict[str, tuple[str, str | None]] = {}  # column -> (agg, default)
        self.event_props: list[str] = []
        self.base_columns: dict[str, str] = {}       # column -> expression over joined rows
        self.nullable_scores: set[str] = set()
        self.owner = None   # the definition or line being compiled, for messages

    # ------------------------------------------------------------------ problems

    def fail(self, code: str, message: str, node, hint: str | None = None) -> None:
        span = getattr(node, "span", ast.NOWHERE)
        self.problems.append(error(code, message, span, hint))

    def owner_text(self) -> str:
        owner = self.owner
        if owner is None:
            return "this line"
        return f"`{unparse.line(owner)}`"

    # ------------------------------------------------------------------ time

    def utc_literal(self, moment: datetime | date) -> str:
        """A date-time written in the rules (local to the agreement) as a naive UTC literal."""
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, time())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(self.zone))
        moment = moment.astimezone(UTC).replace(tzinfo=None)
        return f"TIMESTAMP '{moment.isoformat(sep=' ')}'"

    def to_utc(self, local: str) -> tuple[str, str]:
        """A naive local timestamp as naive UTC: (first-level helper, final expression over it).
        A local time that happens twice (when clocks go back) is taken at its first occurrence,
        as Python's zoneinfo does; ICU and PostgreSQL take the second."""
        zone = literal(self.zone)
        icu = f"({local} AT TIME ZONE {zone}) AT TIME ZONE 'UTC'"
        return icu, zone

    def window(self, node: ast.Duration) -> str:
        """The column holding the start of `within D` (exclusive): as of - D."""
        self.no_business(node)
        seconds = duration_seconds(node)
        words = unparse.duration(node)
        name = f"since {words}"
        if name not in self.windows:
            self.windows[name] = f'"as of" - {interval(seconds)}'
        return column(name)

    def no_business(self, node: ast.Duration, owner=None) -> None:
        if node.business:
            what = f"`{unparse.line(owner)}`" if owner is not None else self.owner_text()
            self.fail("LR901", f"{what} counts {unparse.duration(node)}: business time "
                      "follows the calendar's working hours and holidays, which the SQL query "
                      "cannot compute", node,
                      "write it in plain time (for example `within 3 days`), or score these "
                      "rules with `leadrules score` or the Python module")

    # ------------------------------------------------------------------ events

    def need_events(self, node) -> None:
        if self.key is None and not any(p.code == "LR902" for p in self.problems):
            self.fail("LR902", "the rules use events but no field of the lead is its `key`, so "
                      "the events table cannot be joined to the leads", node,
                      "mark the field that identifies a lead with `key`")

    def event_column(self, name: str, aggregate: str, default: str | None) -> str:
        if name not in self.event_columns:
            self.event_columns[name] = (aggregate, default)
        return column(name)

    def last_of(self, event: str, node) -> str:
        self.need_events(node)
        return self.event_column(f"{event}.last", f'max(e."at") FILTER (WHERE e."type" = '
                                 f"{literal(event)})", None)

    def count(self, node: ast.Count) -> str:
        self.need_events(node)
        where = f'e."type" = {literal(node.event)}'
        name = f"{node.event}.count"
        if node.window is not None:
            where += f' AND e."at" > w.{self.window(node.window)}'
            name += f" within {unparse.duration(node.window)}"
        return self.event_column(name, f"count(*) FILTER (WHERE {where})", "0")

    def total(self, node: ast.Sum) -> str:
        self.need_events(node)
        event, prop = node.target.parts
        if prop not in self.event_props:
            self.event_props.append(prop)
        where = f'e."type" = {literal(event)}'
        name = f"{event}.{prop}.sum"
        if node.window is not None:
            where += f' AND e."at" > w.{self.window(node.window)}'
            name += f" within {unparse.duration(node.window)}"
        return self.event_column(name, f"sum(e.{ident(prop)}) FILTER (WHERE {where})", "0")

    def days_since(self, node: ast.DaysSince) -> str:
        last = self.last_of(node.event, node)
        name = f"{node.event}.days since last"
        day = 86_400_000_000
        self.base_columns.setdefault(
            name, self.d.intdiv(f'(w."as of us" - {self.d.micros("t." + last)})', str(day)))
        return column(name)

    # ------------------------------------------------------------------ values

    def field(self, name: str) -> str:
        if name not in self.fields:
            self.fields.append(name)
        return ident(name)

    def folded(self, val: Val) -> Sql:
        """The value as Python's str.casefold() gives it."""
        if val.kind == "domain":
            return val.sql  # already folded
        if val.sql.text.startswith('"') and val.sql.prec == _ATOM and val.kind != "name":
            name = val.sql.text.strip('"') + ".folded"
            if name not in self.lead_columns:
                self.lead_columns[name] = self.fold_sql(val.sql.text)
            return Sql(column(name))
        return Sql(self.fold_sql(val.sql.text))

    def fold_sql(self, text: str) -> str:
        """Python's str.casefold() in SQL: lower(), then, only for the rare texts holding a
        character that folds further (ß -> ss, ς -> σ, İ), the rest of Unicode case folding."""
        multi, single_from, single_to, special = _fold_table()
        chain = f"lower(replace({text}, {literal(chr(0x130))}, {literal('i' + chr(0x307))}))"
        for low, folded in multi.items():
            chain = f"replace({chain}, {literal(low)}, {literal(folded)})"
        chain = f"translate({chain}, {literal(single_from)}, {literal(single_to)})"
        test = self.d.regex(text, literal("[" + special + "]"))
        return (f"CASE WHEN {self.d.ascii(text)} THEN lower({text}) WHEN {test} THEN {chain} "
                f"ELSE lower({text}) END")

    def value(self, node, context: Val | None = None) -> Val:
        if isinstance(node, ast.Number):
            return Val(Sql(number(node.value)), "number", False)
        if isinstance(node, ast.Percent):
            return Val(Sql(number(node.value)), "number", False)
        if isinstance(node, ast.Money):
            return Val(Sql(number(node.amount)), "number", False)
        if isinstance(node, ast.String):
            return Val(Sql(literal(node.value)), "text", False)
        if isinstance(node, ast.Bool):
            return Val(Sql("TRUE" if node.value else "FALSE"), "bool", False)
        if isinstance(node, ast.DateLit):
            return Val(Sql(f"DATE '{node.value.isoformat()}'"), "date", False, "literal")
        if isinstance(node, ast.DateTimeLit):
            return Val(Sql(self.utc_literal(node.value)), "datetime", False)
        if isinstance(node, ast.Ref):
            return self.ref(node, context)
        if isinstance(node, ast.Count):
            return Val(Sql(self.count(node)), "int", False)
        if isinstance(node, ast.Sum):
            if len(node.target.parts) != 2 or node.target.parts[0] not in self.rs.events:
                self.fail("LR101", f"'{node.target.name}' is not a property of an event", node)
                return Val(Sql("0"), "number", False)
            return Val(Sql(self.total(node)), "number", False)
        if isinstance(node, ast.DaysSince):
            return Val(Sql(self.days_since(node)), "int", True)
        self.fail("LR201", f"'{unparse.expr(node)}' cannot be used here", node)
        return Val(Sql("NULL"), "unknown", True)

    def grade_labels(self, grade: str | None) -> list[str]:
        g = self.rs.grades.get(grade or "")
        if g is None:
            return []
        if g.quantiles:
            return [f"q{i}" for i in range(1, QUANTILES.get(g.quantiles, 5) + 1)]
        return [row.name for row in g.rows]

    def ref(self, node: ast.Ref, context: Val | None) -> Val:
        if context is not None and len(node.parts) == 1:
            name = node.parts[0]
            if context.kind == "enum":
                members = [m.name for m in self.rs.fields[context.of].type.members] \
                    if context.of in self.rs.fields else []
                if name in members:
                    return Val(Sql(literal(name)), "name", False)
            elif context.kind == "grade" and name in self.grade_labels(context.of):
                return Val(Sql(literal(name)), "name", False)
            elif context.kind == "stage" and (name in self.stage_names or name == DISQUALIFIED):
                return Val(Sql(literal(name)), "name", False)
            elif context.kind == "route" and name in [r.name for r in self.rs.routes]:
                return Val(Sql(literal(name)), "name", False)
        sym = self.rs.resolve(node)
        if sym is None:
            self.fail("LR101", f"'{node.name}' is not defined", node)
            return Val(Sql("NULL"), "unknown", True)
        if sym.kind == FIELD:
            kind = self.rs.fields[sym.name].type.name
            return Val(Sql(self.field(sym.name)), kind, True, sym.name)
        if sym.kind == EMAIL_DOMAIN:
            head = node.parts[0]
            name = f"{head}.domain"
            if name not in self.lead_columns:
                raw = self.field(head)
                after = self.d.trim(self.d.after_last_at(raw), literal(_WHITESPACE))
                self.lead_columns[name] = (
                    f"CASE WHEN strpos({raw}, '@') > 0 THEN NULLIF({self.fold_sql(after)}, '') "
                    "END")
            return Val(Sql(column(name)), "domain", True)
        if sym.kind in (SEGMENT, QUALIFICATION):
            return Val(Sql(ident(sym.name)), "bool3", True)
        if sym.kind == SCORE:
            return Val(Sql(ident(sym.name)), "number", sym.name in self.nullable_scores)
        if sym.kind == GRADE:
            return Val(Sql(ident(sym.name)), "grade", True, sym.name)
        if sym.kind == QUALIFICATION_COUNT:
            return Val(Sql(column(f"{node.parts[0]}.count")), "int", False)
        if sym.kind == CRITERION:
            q, c = node.parts
            return Val(Sql(column(f"{q}.{c}")), "bool3", True)
        if sym.kind == STAGE:
            return Val(Sql(ident(STAGE_KEY)), "stage", False)
        if sym.kind == ROUTE:
            return Val(Sql(ident(ROUTE_KEY)), "route", False)
        if sym.kind == EVENT_PROPERTY:
            self.fail("LR205", f"'{node.name}' is a property of each event; use sum({node.name})",
                      node)
            return Val(Sql("NULL"), "unknown", True)
        self.fail("LR209", f"'{node.name}' is a {sym.kind}, not a value", node)
        return Val(Sql("NULL"), "unknown", True)

    def instant(self, val: Val) -> Val:
        """Dates and date-times compared with each other are compared as UTC instants."""
        if val.kind == "datetime" and val.of in self.rs.fields:
            return Val(Sql(self.utc_column(val.of, f"CAST({ident(val.of)} AS TIMESTAMP)")),
                       "datetime", True)
        if val.kind == "date" and val.of == "literal":
            day = date.fromisoformat(val.sql.text.split("'")[1])
            return Val(Sql(self.utc_literal(day)), "datetime", False)
        if val.kind == "date" and val.of in self.rs.fields:
            return Val(Sql(self.utc_column(val.of, f"CAST({ident(val.of)} AS TIMESTAMP)")),
                       "datetime", True)
        return val

    def utc_column(self, name: str, local: str) -> str:
        self.field(name)
        target = f"{name}.utc"
        if target not in self.lead_columns:
            if self.utc:
                self.lead_columns[target] = local
            else:
                icu = f"{name}.utc (ICU)"
                first, zone = self.to_utc(local)
                self.lead_inner[icu] = first
                self.lead_columns[target] = self.first_occurrence(column(icu), local, zone)
        return column(target)

    def first_occurrence(self, icu: str, local: str, zone: str) -> str:
        earlier = f"{icu} - INTERVAL '1 hours'"
        back = f"(({earlier}) AT TIME ZONE 'UTC') AT TIME ZONE {zone}"
        return f"CASE WHEN {back} = {local} THEN {earlier} ELSE {icu} END"

    # ------------------------------------------------------------------ conditions

    def cond(self, node) -> Cond:
        if isinstance(node, ast.And):
            return _and([self.cond(item) for item in node.items])
        if isinstance(node, ast.Or):
            return _or([self.cond(item) for item in node.items])
        if isinstance(node, ast.Not):
            return _not(self.cond(node.item))
        if isinstance(node, ast.Compare):
            left = self.value(node.left)
            right = self.value(node.right, left)
            if right.kind == "name" or left.kind in ("stage", "route", "grade", "enum"):
                return self.compare_names(left, node.op, right, node)
            return self.compare(left, node.op, right, node)
        if isinstance(node, ast.Between):
            value = self.value(node.value)
            low = self.value(node.low, value)
            high = self.value(node.high, value)
            if "datetime" in (value.kind, low.kind, high.kind):
                value, low, high = self.instant(value), self.instant(low), self.instant(high)
            return Cond(Sql(f"{value.sql.wrapped(_CMP)} BETWEEN {low.sql.wrapped(_CMP)} AND "
                            f"{high.sql.wrapped(_CMP)}", _CMP),
                        not (value.nullable or low.nullable or high.nullable))
        if isinstance(node, ast.In):
            return self.membership(node)
        if isinstance(node, ast.TextTest):
            return self.text_test(node)
        if isinstance(node, ast.Presence):
            value = self.value(node.value)
            if not value.nullable:
                return TRUE if node.present else FALSE
            test = "IS NOT NULL" if node.present else "IS NULL"
            return Cond(Sql(f"{value.sql.wrapped(_CMP)} {test}", _CMP), True)
        if isinstance(node, ast.Within):
            last = self.last_of(node.event, node)
            since = self.window(node.window)
            return Cond(Sql(f"COALESCE({last} > {since}, FALSE)"), True)
        if isinstance(node, ast.Truth):
            value = self.value(node.value)
            if value.kind in ("bool3", "bool"):
                return Cond(value.sql, not value.nullable)
            self.fail("LR209", f"'{unparse.expr(node.value)}' is not a yes-or-no value", node)
            return FALSE
        self.fail("LR209", "this condition cannot be evaluated", node)
        return FALSE

    def compare(self, left: Val, op: str, right: Val, node) -> Cond:
        if "datetime" in (left.kind, right.kind):
            left, right = self.instant(left), self.instant(right)
        if left.kind == "bool" and right.kind == "bool" and right.sql.text in ("TRUE", "FALSE"):
            if op not in ("==", "!="):
                self.fail("LR214", "yes-or-no values can only be compared with == or !=", node)
            want = (right.sql.text == "TRUE") == (op == "==")
            test = Cond(left.sql, not left.nullable)
            return test if want else _not(test)
        text = f"{left.sql.wrapped(_CMP)} {_OPS[op]} {right.sql.wrapped(_CMP)}"
        return Cond(Sql(text, _CMP), not (left.nullable or right.nullable))

    def compare_names(self, left: Val, op: str, right: Val, node) -> Cond:
        """Stages, routes, grades and enum members: equality, and order where they have one."""
        if right.kind != "name":
            return self.compare(left, op, right, node)
        name = right.sql.text
        known = left.kind in ("stage", "route")
        if op in ("==", "!="):
            if known:
                if op == "==":
                    return Cond(Sql(f"COALESCE({left.sql.text} = {name}, FALSE)"), True)
                return Cond(Sql(f"{left.sql.text} IS DISTINCT FROM {name}", _CMP), True)
            return Cond(Sql(f"{left.sql.text} {_OPS[op]} {name}", _CMP), False)
        member = _unquote(name)
        if left.kind == "stage":
            ladder = self.stage_names
        elif left.kind == "grade":
            ladder = list(reversed(self.grade_labels(left.of)))
        elif left.kind == "enum":
            ladder = [m.name for m in self.rs.fields[left.of].type.members]
        else:
            self.fail("LR214", f"routes have no order: use == or != with '{member}'", node)
            return FALSE
        if member not in ladder:
            self.fail("LR214", f"'{member}' has no place in the order of {left.of or left.kind}",
                      node)
            return FALSE
        i = ladder.index(member)
        chosen = {"<": ladder[:i], "<=": ladder[:i + 1], ">": ladder[i + 1:],
                  ">=": ladder[i:]}[op]
        if not chosen:
            return FALSE if known else Cond(
                Sql(f"CASE WHEN {left.sql.text} IS NULL THEN NULL ELSE FALSE END"), False)
        test = Sql(f"{left.sql.text} IN ({', '.join(literal(n) for n in chosen)})", _CMP)
        if known:
            return Cond(Sql(f"COALESCE({test.text}, FALSE)"), True)
        return Cond(test, False)

    def membership(self, node: ast.In) -> Cond:
        value = self.value(node.value)
        options = node.options
        if isinstance(options, ast.Ref):
            listed = self.rs.lists.get(options.name)
            if listed is None:
                self.fail("LR104", f"'{options.name}' is not a list", options)
                return FALSE
            options = listed.items
        items: list[str] = []
        for item in options.items:
            if isinstance(item, ast.Ref) and len(item.parts) == 1:
                item_val = self.value(item, value)
                if item_val.kind != "name":
                    self.fail("LR201", f"'{item.name}' cannot be listed here", item)
                    continue
                text = item_val.sql.text
            elif isinstance(item, ast.String):
                text = literal(item.value.casefold() if value.kind == "domain" else item.value)
            elif isinstance(item, (ast.Number, ast.Percent, ast.Money, ast.DateLit,
                                   ast.DateTimeLit)):
                text = self.value(item).sql.text
            else:
                self.fail("LR201", f"'{unparse.expr(item)}' cannot be listed here", item)
                continue
            if text not in items:
                items.append(text)
        known = value.kind in ("stage", "route") or not value.nullable
        if not items:
            inside = FALSE if known else Cond(
                Sql(f"CASE WHEN {value.sql.text} IS NULL THEN NULL ELSE FALSE END"), False)
            return _not(inside) if node.negated else inside
        word = "NOT IN" if node.negated else "IN"
        test = f"{value.sql.wrapped(_CMP)} {word} ({', '.join(items)})"
        if value.kind in ("stage", "route"):
            if node.negated:
                return Cond(Sql(f"{value.sql.text} IS NULL OR {test}", _OR), True)
            return Cond(Sql(f"COALESCE({test}, FALSE)"), True)
        return Cond(Sql(test, _CMP), known)

    def text_test(self, node: ast.TextTest) -> Cond:
        value = self.value(node.value)
        if node.op == "matches":
            if not isinstance(node.operand, ast.String):
                self.fail("LR207", "`matches` needs a pattern in double quotes", node)
                return FALSE
            pattern = node.operand.value
            problem = check_pattern(pattern)
            if problem:
                self.fail("LR207", problem, node.operand, "simplify the pattern")
                return FALSE
            if self.d.name == "postgres":
                pattern = self.postgres_pattern(pattern, node.operand)
            return Cond(Sql(self.d.regex(value.sql.text, literal(pattern)), _CMP),
                        not value.nullable)
        folded = self.folded(value)
        operand = self.value(node.operand)
        if isinstance(node.operand, ast.String):
            needle = literal(node.operand.value.casefold())
            nullable = value.nullable
        else:
            needle = self.folded(operand).text
            nullable = value.nullable or operand.nullable
        if node.op == "contains":
            text = self.d.contains(folded.text, needle)
        elif node.op == "starts with":
            text = self.d.starts_with(folded.text, needle)
        else:
            text = self.d.ends_with(folded.text, needle)
        return Cond(Sql(text, _CMP), not nullable)

    def postgres_pattern(self, pattern: str, node) -> str:
        """An RE2 pattern written for PostgreSQL's regular expressions with the same meaning:
        `\\d`, `\\w`, `\\s`, `\\b` spelled out in ASCII (as RE2 reads them), `.` stopping at a
        line break (unless the s flag), flags moved to the front."""
        flags = ""
        found = re.match(r"\(\?([a-zA-Z]+)\)", pattern)
        if found:
            flags, pattern = found.group(1), pattern[found.end():]
        if set(flags) - {"i", "s"} or re.search(r"\(\?(?!:)", pattern):
            self.fail("LR903", f"{self.owner_text()}: PostgreSQL has no equivalent for the flags or "
                      "the group syntax of this pattern", node,
                      "keep only (?i) or (?s) at the very start and (?:…) groups, or use "
                      "--dialect duckdb")
            return pattern
        out: list[str] = []
        in_class = False
        class_start = 0
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\\" and i + 1 < len(pattern):
                nxt = pattern[i + 1]
                if in_class and nxt in _PG_INSIDE:
                    out.append(_PG_INSIDE[nxt])
                elif not in_class and nxt in _PG_OUTSIDE:
                    out.append(_PG_OUTSIDE[nxt])
                elif nxt.isalnum() and nxt not in "tnrfvA":
                    self.fail("LR903", f"{self.owner_text()}: PostgreSQL reads \\{nxt} "
                              "differently", node, "write the characters out, or use "
                              "--dialect duckdb")
                    out.append(pattern[i:i + 2])
                else:
                    out.append(pattern[i:i + 2])
                i += 2
                continue
            if in_class:
                if ch == "]" and i > class_start:
                    in_class = False
                out.append(ch)
            elif ch == "[":
                in_class = True
                class_start = i + 1 + (pattern[i + 1:i + 2] == "^")
                out.append(ch)
            elif ch == "." and "s" not in flags:
                out.append("[^\\n]")
            else:
                out.append(ch)
            i += 1
        return ("(?i)" if "i" in flags else "") + "".join(out)

    # ------------------------------------------------------------------ scores

    def decay_factor(self, score: ast.Score, at: str, scope: str = "") -> str:
        """The share of its points an event at `at` keeps (exact decimals for `decay`, binary
        floating point for `halflife`, as 0.5 to a fractional power has no exact value)."""
        d = score.decay
        assert d is not None
        self.no_business(d.period, score)
        period = int(duration_seconds(d.period) * 1_000_000)
        age = f'({scope}"as of us" - {self.d.micros(at)})'
        if d.kind == "halflife":
            return f"power(0.5, CAST({age} AS DOUBLE PRECISION) / {period})"
        rate = number(d.rate.value if d.rate else Decimal(0))
        return f"GREATEST(0, 1 - {rate} * {self.d.intdiv(age, str(period))})"

    def clamp(self, text: str, bounds: ast.Bounds, nullable: bool = False) -> str:
        """`min`/`max` caps; LEAST and GREATEST skip NULLs, so a value that may be unknown is
        capped with CASE instead."""
        if bounds.max is None and bounds.min is None:
            return text
        if nullable:
            arms = []
            if bounds.max is not None:
                limit = number(bounds.max.value)
                arms.append(f"WHEN {text} > {limit} THEN {limit}")
            if bounds.min is not None:
                limit = number(bounds.min.value)
                arms.append(f"WHEN {text} < {limit} THEN {limit}")
            return f"CASE {' '.join(arms)} ELSE {text} END"
        prefix, suffix = _clamp_parts(bounds)
        return f"{prefix}{text}{suffix}"

    def rule_sql(self, node, score: ast.Score, index: int) -> str:
        """One rule's total, after its own caps (0 when it does not fire)."""
        points = number(node.points.value)
        decay = score.decay
        if isinstance(node, ast.WhenRule):
            c = self.cond(node.cond)
            amount = points
            factor = self.when_decay(node.cond, score) if decay is not None else None
            if factor is not None:
                amount = f"{points} * {factor}"
                if decay.kind == "halflife":
                    amount = f"CAST({amount} AS DECIMAL(38,12))"
            return self.clamp(f"CASE WHEN {c.sql.text} THEN {amount} ELSE 0 END", node.bounds)
        if isinstance(node, ast.PerEventRule):
            self.need_events(node)
            if decay is None:
                counted = self.count(ast.Count(node.event, node.window, node.span))
                return self.clamp(counted if points == "1" else f"{points} * {counted}",
                                  node.bounds)
            where = f'e."type" = {literal(node.event)}'
            if node.window is not None:
                where += f' AND e."at" > w.{self.window(node.window)}'
            factor = self.decay_factor(score, 'e."at"', "w.")
            each = f"{points} * {factor}"
            name = f"{score.name}.rule {index}"
            total = self.event_column(name, f"sum({each}) FILTER (WHERE {where})", "0")
            if decay.kind == "halflife":
                total = f"CAST({total} AS DECIMAL(38,12))"
            return self.clamp(total, node.bounds)
        # per unit: floor(value / unit) x points, never decayed
        unit = node.unit.value
        sym = self.rs.resolve(node.field)
        if sym is not None and sym.kind == FIELD:
            name = f"{sym.name}.units of {unparse.number(unit)}"
            if name not in self.lead_columns:
                kind = self.rs.fields[sym.name].type.name
                self.lead_columns[name] = self.d.floor_units(self.field(sym.name), unit,
                                                             kind == "int")
            units, nullable = column(name), True
        else:
            val = self.value(node.field)
            units = "(" + self.d.floor_units(val.sql.text, unit, val.kind == "int") + ")"
            nullable = val.nullable
        amount = units if points == "1" else f"{units} * {points}"
        if not nullable:
            return self.clamp(amount, node.bounds)
        if node.bounds.min is None and (node.bounds.max is None or node.bounds.max.value >= 0):
            # As the Python evaluator: a missing value adds 0, which these caps leave at 0.
            return f"CASE WHEN {units} IS NULL THEN 0 ELSE {self.clamp(amount, node.bounds)} END"
        return self.clamp(f"COALESCE({amount}, 0)", node.bounds)

    def when_decay(self, cond, score: ast.Score) -> str | None:
        """The decay factor of a `when` rule: by the most recent event matching one of its
        `within` tests (none: it does not decay)."""
        withins = [n for n in ast.walk(cond) if isinstance(n, ast.Within)]
        if not withins:
            return None
        if isinstance(cond, ast.Within):
            return self.decay_factor(score, self.last_of(cond.event, cond))
        candidates = []
        for node in withins:
            last = self.last_of(node.event, node)
            since = self.window(node.window)
            candidate = f"CASE WHEN {last} > {since} THEN {last} END"
            if candidate not in candidates:
                candidates.append(candidate)
        latest = candidates[0] if len(candidates) == 1 else \
            f"GREATEST({', '.join(candidates)})"
        return f"COALESCE({self.decay_factor(score, latest)}, 1)"

    # ------------------------------------------------------------------ sections

    def note(self, node) -> str:
        """The comment naming a line of the rule file: where, and what it says."""
        span = node.span
        return f"-- {comment(f'{span.file}:{span.line}  {unparse.line(node)}')}"

    def segment(self, node: ast.Segment) -> list[str]:
        lines = [self.note(node)]
        parts = []
        for c in node.conditions:
            lines.append(f"--     {comment(unparse.cond(c))}")
            parts.append(self.cond(c))
        combined = _or(parts) if node.any else _and(parts)
        lines.append(f"{combined.sql.text} AS {ident(node.name)}")
        return lines

    def score(self, node: ast.Score) -> list[str]:
        terms: list[tuple[str, list[str]]] = []
        index = 0
        for item in node.items:
            if isinstance(item, ast.Group):
                inner = []
                for rule in item.rules:
                    index += 1
                    self.owner = rule
                    inner.append((self.note(rule), [self.rule_sql(rule, node, index)]))
                prefix, suffix = _clamp_parts(item.bounds)
                terms.append((self.note(item),
                              [f"{prefix}(", *_sum_lines(inner, "    "), f"){suffix}"]))
            else:
                index += 1
                self.owner = item
                terms.append((self.note(item), [self.rule_sql(item, node, index)]))
        self.owner = node
        prefix, suffix = _clamp_parts(node.bounds)
        body = _sum_lines(terms, "    ") if terms else ["    0"]
        return [self.note(node), f"CAST(ROUND({prefix}(", *body,
                f"){suffix}, 2) AS {SCORE_TYPE}) AS {ident(node.name)}"]

    def derived(self, node: ast.DerivedScore) -> list[str]:
        text, nullable = self.arith(node.expr)
        if nullable:
            self.nullable_scores.add(node.name)
        clamped = self.clamp(text.text, node.bounds, nullable)
        return [self.note(node), f"CAST(ROUND({clamped}, 2) AS {SCORE_TYPE}) AS {ident(node.name)}"]

    def arith(self, node) -> tuple[Sql, bool]:
        """An arithmetic expression over scores, fields and numbers: (SQL, may be NULL)."""
        if isinstance(node, (ast.Number, ast.Percent)):
            return Sql(number(node.value)), False
        if isinstance(node, ast.Ref):
            val = self.value(node)
            if val.kind not in ("number", "int", "money"):
                self.fail("LR205", f"'{node.name}' is not a number", node)
            text = val.sql.text
            if val.kind in ("number", "money") and node.parts[0] in self.rs.fields:
                text = f"CAST({text} AS {FIELD_DECIMAL})"
            return Sql(text), val.nullable
        if isinstance(node, ast.Neg):
            inner, nullable = self.arith(node.operand)
            return Sql(f"-{inner.wrapped(_ATOM + 1)}", _ARITH), nullable
        if isinstance(node, ast.BinOp):
            (left, ln), (right, rn) = self.arith(node.left), self.arith(node.right)
            if node.op == "/":
                return Sql(self.d.divide(left.text, right.text)), True
            return Sql(f"{left.wrapped(_ATOM + 1)} {node.op} {right.wrapped(_ATOM + 1)}",
                       _ARITH), ln or rn
        self.fail("LR205", f"'{unparse.expr(node)}' cannot be used in a calculation", node)
        return Sql("0"), False

    def grade(self, node: ast.Grade) -> list[str]:
        by = self.value(node.by) if node.by is not None else None
        arms: list[str] = []
        otherwise = None
        for row in node.rows:
            self.owner = row
            if isinstance(row, ast.OtherwiseRow):
                otherwise = row
                break
            if isinstance(row, ast.BandRow):
                if by is None:
                    self.fail("LR307", "a band needs the grade to say `by` what it grades", row)
                    c = FALSE
                else:
                    c = self.compare(by, row.op, self.value(row.threshold, by), row)
            else:
                c = self.cond(row.cond)
            arms += ["    " + self.note(row), f"    WHEN {c.sql.text} THEN {literal(row.name)}"]
        last = literal(otherwise.name) if otherwise is not None else "NULL"
        if not arms:
            return [self.note(node), f"{last} AS {ident(node.name)}"]
        if otherwise is not None:
            arms += ["    " + self.note(otherwise), f"    ELSE {last}"]
        return [self.note(node), "CASE", *arms, f"END AS {ident(node.name)}"]

    def quantile_value(self, node: ast.Grade) -> list[str]:
        by = self.value(node.by)
        return [self.note(node), f"-- the value {comment(node.name)} splits into "
                f"{node.quantiles}", f"{by.sql.text} AS {column(node.name + '.value')}"]

    def quantile_cuts(self, node: ast.Grade, source: str) -> str:
        """The CTE of the cut points of a grade split on the scored population: cut i is the
        value at rank ceil(i x n / groups) of the n known values (as `leadrules score`)."""
        value = column(node.name + ".value")
        parts = QUANTILES[node.quantiles]
        picks = []
        for i in range(1, parts):
            rank = self.d.intdiv(f"{i} * n + {parts - 1}", str(parts))
            picks.append(f'        max(v) FILTER (WHERE "rank" = {rank}) AS '
                         f"{column(f'{node.name}.cut {i}')}")
        return "\n".join([
            f"    -- cut points of {comment(node.name)} ({node.quantiles} of these leads): cut i "
            f"is the value at rank ceil(i × n / {parts}) of the n known values",
            "    SELECT", ",\n".join(picks),
            '    FROM (SELECT v, row_number() OVER (ORDER BY v) AS "rank", count(*) OVER () AS n',
            f"          FROM (SELECT {value} AS v FROM {source}) AS graded",
            "          WHERE v IS NOT NULL) AS ranked"])

    def quantile_grade(self, node: ast.Grade) -> list[str]:
        value = column(node.name + ".value")
        parts = QUANTILES[node.quantiles]
        if node.cuts:
            cuts = [number(c.value) for c in node.cuts]
            missing = f"{value} IS NULL"
        else:
            cuts = [column(f"{node.name}.cut {i}") for i in range(1, parts)]
            missing = f"{value} IS NULL OR {cuts[0]} IS NULL"
        above = " + ".join(f"CASE WHEN {c} < {value} THEN 1 ELSE 0 END" for c in cuts)
        label = f"'q' || CAST(1 + {above} AS {self.d.text_type()})" if cuts else "NULL"
        return [self.note(node),
                f"-- q1 (lowest) to q{parts}: a value equal to a cut point belongs to the group "
                "below",
                f"CASE WHEN {missing} THEN NULL ELSE {label} END AS {ident(node.name)}"]

    def qualification(self, node: ast.Qualification) -> tuple[list[list[str]], list[list[str]]]:
        """The criteria (one item each), then the count and the verdict."""
        criteria: list[list[str]] = []
        names = []
        unknown = []
        for criterion in node.criteria:
            self.owner = criterion
            c = self.cond(criterion.cond)
            name = column(f"{node.name}.{criterion.name}")
            criteria.append([self.note(criterion), f"{c.sql.text} AS {name}"])
            names.append(name)
            if not c.known:
                unknown.append(name)
        need = int(node.require.value) if node.require is not None else len(node.criteria)
        count = " + ".join(f"CASE WHEN {n} THEN 1 ELSE 0 END" for n in names) or "0"
        verdict = f"{count} >= {need}"
        if unknown:
            still = " + ".join(f"CASE WHEN {n} IS NULL THEN 1 ELSE 0 END" for n in unknown)
            verdict = (f"CASE WHEN {count} >= {need} THEN TRUE WHEN {count} + {still} < {need} "
                       "THEN FALSE END")
        return criteria, [
            [self.note(node), f"{count} AS {column(node.name + '.count')}"],
            [f"-- true when {need} criteria hold, false when {need} can no longer hold",
             f"{verdict} AS {ident(node.name)}"]]

    def ladder(self) -> list[str]:
        lines = ["-- stages: a lead reaches a stage when its condition holds and it reached "
                 "the stage before", "CASE"]
        previous = "NULL"
        for st in self.rs.stages:
            self.owner = st
            c = self.cond(st.cond)
            lines += ["    " + self.note(st), f"    WHEN {_not(_true(c)).sql.text} THEN {previous}"]
            previous = literal(st.name)
        return [*lines, f"    ELSE {previous}", f"END AS {column('stage.ladder')}"]

    def disqualified(self) -> list[str]:
        lines = ["-- disqualification overrides the ladder"]
        parts = []
        for d in self.rs.disqualify:
            self.owner = d
            parts.append((self.note(d), _true(self.cond(d.cond)).sql.wrapped(_OR)))
        for i, (note, text) in enumerate(parts):
            lines += [("   " if i else "") + note, ("OR " if i else "") + text]
        lines[-1] += f" AS {ident(DISQUALIFIED_KEY)}"
        return lines

    def routes(self) -> list[str]:
        arms: list[str] = []
        for r in self.rs.routes:
            self.owner = r
            if r.cond is None:
                if not arms:
                    return [self.note(r), f"{literal(r.name)} AS {ident(ROUTE_KEY)}"]
                arms += ["    " + self.note(r), f"    ELSE {literal(r.name)}"]
                break
            c = self.cond(r.cond)
            arms += ["    " + self.note(r), f"    WHEN {c.sql.text} THEN {literal(r.name)}"]
        return ["CASE", *arms, f"END AS {ident(ROUTE_KEY)}"]

    # ------------------------------------------------------------------ the query

    def body(self) -> list[Step]:
        """The chain of steps, in evaluation order, each after everything it reads."""
        steps: list[Step] = []
        rs = self.rs
        for kind, name in self.plan.order:
            if kind == "segment":
                self.owner = rs.segments[name]
                steps.append(Step(f"segment {name}", [self.segment(rs.segments[name])]))
            elif kind == "score":
                node = rs.scores[name]
                self.owner = node
                lines = self.derived(node) if isinstance(node, ast.DerivedScore) \
                    else self.score(node)
                steps.append(Step(f"score {name}", [lines]))
            elif kind == "grade":
                node = rs.grades[name]
                self.owner = node
                if node.quantiles:
                    if node.by is None:
                        self.fail("LR307", "a quantile grade needs `by` a value", node)
                        continue
                    steps.append(Step(f"grade {name} value", [self.quantile_value(node)]))
                    steps.append(Step(f"grade {name}", [self.quantile_grade(node)],
                                      cuts=not node.cuts))
                else:
                    steps.append(Step(f"grade {name}", [self.grade(node)]))
            elif kind == "qualification":
                node = rs.qualifications[name]
                self.owner = node
                criteria, verdict = self.qualification(node)
                steps.append(Step(f"qualification {name} criteria", criteria))
                steps.append(Step(f"qualification {name}", verdict))
            elif kind == "stages":
                if rs.stages:
                    steps.append(Step("stage ladder", [self.ladder()]))
                if rs.disqualify:
                    steps.append(Step("disqualified", [self.disqualified()]))
                if rs.stages:
                    final = f"{column('stage.ladder')} AS {ident(STAGE_KEY)}"
                    if rs.disqualify:
                        final = (f"CASE WHEN {ident(DISQUALIFIED_KEY)} THEN "
                                 f"{literal(DISQUALIFIED)} ELSE {column('stage.ladder')} END AS "
                                 f"{ident(STAGE_KEY)}")
                    steps.append(Step("stage", [[final]]))
            elif kind == "routes":
                steps.append(Step("route", [self.routes()]))
        self.owner = None
        return steps

    def check_names(self) -> None:
        """DuckDB compares even quoted names without regard to case, and every step adds its
        columns beside the lead's: no two may share a name, capital letters aside."""
        seen: dict[str, str] = {}
        for name in [*self.rs.fields, *self.plan.outputs]:
            low = name.lower()
            if low in seen:
                node = _definition(self.rs, name) or self.rs.fields.get(name)
                self.fail("LR904", f"'{name}' and '{seen[low]}' would be two columns of the same "
                          "name in SQL, which does not tell capital letters apart", node,
                          "rename one of them")
            seen.setdefault(low, name)

    def check_sizes(self) -> None:
        """Every figure of a score, and every value a score can reach, fits SCORE_TYPE: a
        database would refuse the query, or round what the other backends keep exact."""
        limit = Decimal(10) ** (18 - 2)
        for name, score in self.rs.scores.items():
            for node in ast.walk(score):
                if isinstance(node, ast.Number) and abs(node.value) >= limit:
                    self.fail("LR905", f"the score '{name}' uses {node.value:f}, more digits than "
                              f"the SQL score type holds ({SCORE_TYPE})", node,
                              "keep figures below 10_000_000_000_000_000, or score with "
                              "`leadrules score` or the Python module")
                    break
            else:
                low, high = (self.rs.intervals or {}).get(name, (None, None))
                reach = max((abs(b) for b in (low, high)
                             if b is not None and b.is_finite()), default=Decimal(0))
                if reach >= limit:
                    self.fail("LR905", f"the score '{name}' can reach {reach:f}, more digits "
                              f"than the SQL score type holds ({SCORE_TYPE})", score,
                              "cap the score with `max`, or score with `leadrules score` or the "
                              "Python module")

    def query(self) -> str:
        steps = self.body()
        if self.key is not None:
            self.field(self.key.name)
        self.check_names()
        self.check_sizes()
        if self.problems:
            from leadrules.diagnostics import finish

            raise SqlError(finish(self.problems))
        ctes: list[tuple[str, str]] = [("params", self.params_cte()),
                                       ("lead_fields", self.lead_fields_cte()),
                                       ("lead_rows", self.lead_rows_cte())]
        if self.event_columns:
            ctes.append(("event_rows", self.event_rows_cte()))
            ctes.append(("event_totals", self.event_totals_cte()))
        ctes.append(("base", self.base_cte()))
        previous = "base"
        for step in steps:
            source = _cte(previous)
            if step.cuts:
                cuts = f"{step.name} cut points"
                ctes.append((cuts, self.quantile_cuts(self.rs.grades[step.name[6:]], source)))
                source = f"{source} CROSS JOIN {_cte(cuts)}"
            items = [_indent(item, "        ") for item in step.items]
            ctes.append((step.name, "    SELECT *,\n" + ",\n".join(items) + f"\n    FROM {source}"))
            previous = step.name
        out = self.header()
        out.append("WITH")
        for i, (name, text) in enumerate(ctes):
            out += [f"{_cte(name)} AS (", text, ")" + ("," if i < len(ctes) - 1 else "")]
        keys = [ident(self.key.name)] if self.key is not None else []
        keys += [column(key) for key in self.plan.outputs]
        out.append("SELECT " + ",\n       ".join(keys))
        out.append(f"FROM {_cte(previous)}")
        return "\n".join(out) + ";\n"

    def header(self) -> list[str]:
        rs, o = self.rs, self.options
        command = f"leadrules compile {rs.path} --target sql --dialect {self.d.name}"
        if o.table != "leads":
            command += f" --table {o.table}"
        if o.events_table != "events":
            command += f" --events-table {o.events_table}"
        if o.as_of is not None:
            shown = o.as_of
            if shown.tzinfo is not None:
                shown = shown.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
            command += f" --as-of {shown.isoformat()}"
        lines = [f"Generated by leadrules from {rs.path}. Do not edit: regenerate it with",
                 f"  {command} -o <file>",
                 f"Ruleset fingerprint: {rs.fingerprint}",
                 f"Reads {table_name(o.table)}: one row per lead, one column per field, named "
                 "and typed as the rules declare them",
                 f"(enum columns hold member names; dates and date-times are local to "
                 f"{self.zone})."]
        if self.event_columns:
            props = "".join(f", {ident(p)}" for p in self.event_props)
            lines.append(f"Reads {table_name(o.events_table)}: {ident(self.key.name)} (the "
                         f'lead\'s key), "type" (the event\'s name), "at" (local time){props}.')
        outputs = [*([self.key.name] if self.key else []), *self.plan.outputs]
        lines.append("Returns one row per lead: " + ", ".join(outputs) + ".")
        lines.append(f"Scores are {SCORE_TYPE}, rounded half away from zero; NULL means "
                     "unknown.")
        return [f"-- {comment(line)}" if line else "--" for line in lines]

    def params_cte(self) -> str:
        if self.options.as_of is None:
            clock, what = self.d.clock(), "now, by the database's clock"
        else:
            clock, what = self.utc_literal(self.options.as_of), "from --as-of"
        items = ['"as of"', f"{self.d.micros(column('as of'))} AS {column('as of us')}"]
        items += [f"{text} AS {column(name)}" for name, text in self.windows.items()]
        return "\n".join([
            f"    -- the evaluation instant in UTC ({what}), and where each window starts",
            "    SELECT " + ",\n        ".join(items),
            f'    FROM (SELECT {clock} AS "as of") AS instant'])

    def lead_fields_cte(self) -> str:
        items = [ident(f) for f in self.fields]
        items += [f"{text} AS {column(name)}" for name, text in self.lead_inner.items()]
        if not items:
            items = ['TRUE AS "any lead"']
        return "    SELECT " + ",\n        ".join(items) + \
            f"\n    FROM {table_name(self.options.table)}"

    def lead_rows_cte(self) -> str:
        items = ["*"] + [f"{text} AS {column(name)}" for name, text in self.lead_columns.items()]
        return "    SELECT " + ",\n        ".join(items) + "\n    FROM lead_fields"

    def event_rows_cte(self) -> str:
        assert self.key is not None
        key = ident(self.key.name)
        props = "".join(f", {ident(p)}" for p in self.event_props)
        table = table_name(self.options.events_table)
        local = 'CAST("at" AS TIMESTAMP)'
        if self.utc:
            return "\n".join([
                "    -- the events: the lead's key, the type, the instant (UTC) and properties",
                f'    SELECT {key} AS "key", "type", {local} AS "at"{props}',
                f"    FROM {table}"])
        icu, zone = self.to_utc(local)
        first = self.first_occurrence('"icu at"', '"local at"', zone)
        return "\n".join([
            "    -- the events: the lead's key, the type, the instant and properties; \"at\" "
            f"is local to {comment(self.zone)}, turned into UTC",
            f'    SELECT "key", "type", {first} AS "at"{props}',
            f'    FROM (SELECT {key} AS "key", "type", {local} AS "local at", {icu} AS "icu at"'
            f"{props}",
            f"          FROM {table}) AS local_events"])

    def event_totals_cte(self) -> str:
        items = ['e."key"'] + [f"{aggregate} AS {column(name)}"
                               for name, (aggregate, _) in self.event_columns.items()]
        return "\n".join([
            "    -- per lead, what the rules read of its events up to the evaluation instant",
            "    SELECT " + ",\n        ".join(items),
            "    FROM event_rows AS e CROSS JOIN params AS w",
            '    WHERE e."at" <= w."as of"',
            '    GROUP BY e."key"'])

    def base_cte(self) -> str:
        items = ["l.*", "w.*"]
        for name, (_, default) in self.event_columns.items():
            if default is None:
                items.append(f"t.{column(name)}")
            else:
                items.append(f"COALESCE(t.{column(name)}, {default}) AS {column(name)}")
        items += [f"{text} AS {column(name)}" for name, text in self.base_columns.items()]
        lines = ["    SELECT " + ",\n        ".join(items),
                 "    FROM lead_rows AS l CROSS JOIN params AS w"]
        if self.event_columns:
            assert self.key is not None
            lines.append(f'    LEFT JOIN event_totals AS t ON t."key" = l.{ident(self.key.name)}')
        return "\n".join(lines)


def _clamp_parts(bounds: ast.Bounds) -> tuple[str, str]:
    """What goes before and after a value to cap it by `max` then `min` (as codegen's clamp)."""
    prefix, suffix = "", ""
    if bounds.max is not None:
        prefix, suffix = "LEAST(", f", {number(bounds.max.value)})"
    if bounds.min is not None:
        prefix, suffix = "GREATEST(" + prefix, suffix + f", {number(bounds.min.value)})"
    return prefix, suffix


def _sum_lines(terms: list[tuple[str, list[str]]], indent: str) -> list[str]:
    """Terms added up, one per line, each under the comment naming it."""
    out: list[str] = []
    for i, (note, expr) in enumerate(terms):
        head, *rest = expr
        out.append(f"{indent}  {note}")
        out.append(f"{indent}{'+ ' if i else '  '}{head}")
        out.extend(f"{indent}  {line}" for line in rest)
    return out


def _indent(lines: list[str], indent: str) -> str:
    return "\n".join(indent + line for line in lines)


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def _cte(name: str) -> str:
    return name if NAME.fullmatch(name) else column(name)


def _definition(rs: Ruleset, name: str):
    for table in (rs.segments, rs.scores, rs.grades, rs.qualifications):
        if name in table:
            return table[name]
    return None


# ============================================================================ entry point


def generate(rs: Ruleset, options: Options | None = None) -> str:
    """The SQL query scoring every lead of a table under a checked ruleset (raises SqlError)."""
    options = options or Options()
    table_name(options.table)
    table_name(options.events_table)
    try:
        g = Generator(rs, options)
        return g.query()
    except SqlError:
        raise
    except CodegenError as exc:
        raise SqlError(exc.diagnostics) from None


def for_command(rs: Ruleset, dialect_name: str, table: str, events_table: str,
                as_of: str | None) -> str:
    """The query `leadrules compile --target sql` writes; a bad option is a usage error."""
    import click

    from leadrules.engine import parse_as_of

    for option, name in (("--table", table), ("--events-table", events_table)):
        try:
            table_name(name)
        except ValueError:
            raise click.UsageError(
                f"{option} '{name}' is not a table name: write it as leads or crm.leads "
                "(letters, digits and _, not starting with a digit)") from None
    try:
        instant = parse_as_of(as_of, rs) if as_of is not None else None
    except ValueError as exc:
        raise click.UsageError(f"--as-of {exc}") from None
    return generate(rs, Options(dialect_name, table, events_table, instant))
