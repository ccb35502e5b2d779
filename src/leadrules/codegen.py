"""Checked Ruleset -> the source text of a standalone Python evaluator (standard library only).

The module it writes exposes `evaluate(lead, events=(), as_of=None, explain=False, cuts=None)`
returning a plain dict, and the constants `RULESET_FINGERPRINT`, `SCHEMA`, `OUTPUTS`, `RULES`.
The same source is what the in-process engine runs (engine.py compiles it), so there is one
implementation of the semantics of ../shared/LANGUAGE.md sections 4 to 14.

Safety: nothing from the rule file is ever spliced into code. Names become identifiers only
through a registry that admits `[A-Za-z0-9_]`; every value (label, string, number, date)
enters through `repr()`; rule text appears only in comments, made inert by `comment()`.
Determinism: the output depends only on the ruleset, never on hashing or the clock.
"""

from __future__ import annotations

import copy
import keyword
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from leadrules import ast, calendars, unparse
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

QUANTILES = {"terciles": 3, "quartiles": 4, "quintiles": 5, "deciles": 10}
DISQUALIFIED = "disqualified"
# Keys of the result dict that are not definitions of the rule file.
STAGE_KEY, ROUTE_KEY, DISQUALIFIED_KEY = "stage", "route", "disqualified"

_UNIT_SECONDS = {
    "minutes": 60, "hours": 3600, "days": 86400, "weeks": 7 * 86400,
    "months": 30 * 86400, "years": 365 * 86400,
}
_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}

# Operator precedence of the Python text we build, to place parentheses.
_ATOM, _NOT, _AND, _OR, _IFELSE = 0, 1, 2, 3, 4


class CodegenError(Exception):
    """The ruleset cannot be compiled; `diagnostics` say where and why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(f"{d.span}: {d.message}" for d in diagnostics))
        self.diagnostics = diagnostics


# ============================================================================ the plan


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """One scoring rule, numbered in the order of `RULES` in the generated module."""

    index: int
    score: str
    group: str | None
    node: ast.WhenRule | ast.PerEventRule | ast.PerUnitRule


@dataclass(frozen=True, slots=True)
class GroupInfo:
    index: int
    score: str
    node: ast.Group


@dataclass
class Plan:
    """What gets evaluated, in which order; shared by the generator and the result builder."""

    rs: Ruleset
    order: list[tuple[str, str]] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)
    groups: list[GroupInfo] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    # What other stages compute once per plan (result.py keeps rule texts here).
    cache: dict = field(default_factory=dict, repr=False)

    def rules_of(self, score: str) -> list[RuleInfo]:
        by_score = self.cache.get(_BY_SCORE)
        if by_score is None or by_score[0] != len(self.rules):
            grouped: dict[str, list[RuleInfo]] = {}
            for r in self.rules:
                grouped.setdefault(r.score, []).append(r)
            by_score = self.cache[_BY_SCORE] = (len(self.rules), grouped)
        return list(by_score[1].get(score, ()))


# Plan.cache key of the rules grouped by score (with the count they were grouped from).
_BY_SCORE = "rules by score"


def plan(rs: Ruleset) -> Plan:
    """The evaluation order (each definition after what it reads, stages and routes included),
    the numbered rules and groups, and the keys of the result dict."""
    p = Plan(rs)
    p.order = _evaluation_order(rs)
    for kind, name in p.order:
        if kind != "score":
            continue
        node = rs.scores[name]
        if isinstance(node, ast.DerivedScore):
            continue
        for item in node.items:
            if isinstance(item, ast.Group):
                p.groups.append(GroupInfo(len(p.groups), name, item))
                for rule in item.rules:
                    p.rules.append(RuleInfo(len(p.rules), name, item.name, rule))
            else:
                p.rules.append(RuleInfo(len(p.rules), name, None, item))
    reserved = set()
    if rs.stages:
        reserved.add(STAGE_KEY)
    if rs.disqualify:
        reserved.add(DISQUALIFIED_KEY)
    if rs.routes:
        reserved.add(ROUTE_KEY)
    clash = [n for n in (*rs.segments, *rs.scores, *rs.grades, *rs.qualifications)
             if n in reserved]
    if clash:
        node = _definition(rs, clash[0])
        raise CodegenError([error(
            "LR106", f"'{clash[0]}' is also the name of a result of every lead", node.span,
            f"rename it: '{clash[0]}' is reserved once the rules have {clash[0]}s")])
    for name in rs.segments:
        p.outputs[name] = "segment"
    for name in rs.scores:
        p.outputs[name] = "score"
    for name, grade in rs.grades.items():
        p.outputs[name] = "grade"
        if grade.quantiles:
            p.outputs[f"{name}.value"] = "grade value"
    for name in rs.qualifications:
        p.outputs[name] = "qualification"
        p.outputs[f"{name}.count"] = "qualification count"
    if rs.stages:
        p.outputs[STAGE_KEY] = "stage"
    if rs.disqualify:
        p.outputs[DISQUALIFIED_KEY] = "disqualified"
    if rs.routes:
        p.outputs[ROUTE_KEY] = "route"
    return p


def _definition(rs: Ruleset, name: str):
    for table in (rs.segments, rs.scores, rs.grades, rs.qualifications):
        if name in table:
            return table[name]
    return None


def _evaluation_order(rs: Ruleset) -> list[tuple[str, str]]:
    """Definitions in an order where each comes after what it reads. The stage ladder and the
    routes are nodes too, so that a score may read `stage` and a stage may read any score."""
    kinds: dict[str, str] = {}
    for kind, table in (("segment", rs.segments), ("score", rs.scores), ("grade", rs.grades),
                        ("qualification", rs.qualifications)):
        for name in table:
            kinds.setdefault(name, kind)
    nodes: dict[str, list] = {name: [_definition(rs, name)] for name in kinds}
    if rs.stages or rs.disqualify:
        kinds["@stages"] = "stages"
        nodes["@stages"] = [*rs.stages, *rs.disqualify]
    if rs.routes:
        kinds["@routes"] = "routes"
        nodes["@routes"] = list(rs.routes)

    def reads(name: str) -> list[str]:
        found: list[str] = []
        for node in nodes[name]:
            for sub in _refs(node):
                head = sub.parts[0]
                target = None
                if head in rs.fields:
                    continue
                if head in kinds and not head.startswith("@"):
                    target = head
                elif head == STAGE_KEY and "@stages" in kinds:
                    target = "@stages"
                elif head == ROUTE_KEY and "@routes" in kinds:
                    target = "@routes"
                if target is not None and target != name and target not in found:
                    found.append(target)
        return found

    # The checker's order first (its ties are the file's order), then the ladder and routes.
    start = [n for n in rs.order if n in kinds] + [n for n in kinds if n not in rs.order]
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join(n.lstrip("@") for n in (*path[path.index(name):], name))
            node = nodes[name][0] if nodes[name] else None
            raise CodegenError([error(
                "LR501", f"these definitions depend on each other in a circle: {cycle}",
                node.span if node is not None else ast.NOWHERE,
                "one of them must stop using the next one")])
        state[name] = 1
        for dep in reads(name):
            visit(dep, (*path, name))
        state[name] = 2
        order.append(name)

    for name in start:
        visit(name, ())
    return [(kinds[n], n.lstrip("@")) for n in order]


# Per node class, the fields that may hold nodes (all but the span).
_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def _refs(node) -> list[ast.Ref]:
    """Every Ref inside `node`, in the order of ast.walk (depth first, source order), found
    without visiting the rest one by one (plan() reads thousands of rules)."""
    found: list[ast.Ref] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Ref):
            found.append(current)
        kind = type(current)
        names = _NODE_FIELDS.get(kind)
        if names is None:
            names = _NODE_FIELDS[kind] = tuple(n for n in current.__dataclass_fields__
                                               if n != "span")
        inside: list = []
        for name in names:
            value = getattr(current, name)
            if isinstance(value, tuple):
                inside.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
            elif hasattr(value, "__dataclass_fields__"):
                inside.append(value)
        if inside:
            inside.reverse()
            stack.extend(inside)
    return found


# ============================================================================ text helpers


def comment(text: str) -> str:
    """Text made safe to sit after `#`: no character can end the comment or the line."""
    # Line and paragraph separators (Zl, Zp) and tabs are not printable: printable text is
    # already safe, and that is nearly every rule line.
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == "\t":
            out.append(" ")
        elif ch.isprintable() and unicodedata.category(ch) not in ("Zl", "Zp"):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def number_literal(value: Decimal) -> str:
    """An integral value as an int literal, any other as `Decimal('…')` (exact)."""
    if value == value.to_integral_value():
        return repr(int(value))
    return repr(Decimal(format(value.normalize(), "f")))


def duration_seconds(node: ast.Duration) -> Decimal:
    return node.amount * _UNIT_SECONDS[node.unit]


def timedelta_literal(node: ast.Duration) -> str:
    seconds = duration_seconds(node)
    if node.unit in ("days", "weeks", "months", "years") and seconds % 86400 == 0:
        return f"datetime.timedelta(days={int(seconds // 86400)})"
    if seconds == seconds.to_integral_value():
        return f"datetime.timedelta(seconds={int(seconds)})"
    return f"datetime.timedelta(microseconds={int(seconds * 1_000_000)})"


def _word(text: str) -> str:
    """A fragment of an identifier: only ASCII letters, digits and underscores survive."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return cleaned or "x"


# ============================================================================ patterns


def check_pattern(pattern: str) -> str | None:
    """Why `pattern` cannot be used by `matches`, in words, or None when it can.

    The in-process evaluator runs patterns with RE2 (linear time); the standalone module, which
    may only use the standard library, runs them with Python's `re`. A pattern must therefore
    mean the same to both and be unable to backtrack for ever: no back-references, look-arounds,
    conditionals, atomic groups or possessive repeats, and no repeat inside a repeat.
    """
    import re._constants as c
    import re._parser as sre_parse

    if re.search(r"\[[^\]]*\\[WDS]", pattern):
        return "the pattern uses \\W, \\D or \\S inside [...]; write the class out instead"
    for bad, what in ((r"\p", "Unicode classes such as \\p{L}"), (r"\P", "Unicode classes"),
                      ("[[:", "classes such as [[:alpha:]]"), (r"\z", "\\z"), (r"\C", "\\C"),
                      (r"\Q", "\\Q…\\E")):
        if bad in pattern:
            return f"the pattern uses {what}, which the standalone evaluator cannot run"
    try:
        with warnings.catch_warnings():
            # Python warns about syntax it may read differently one day: refuse it instead.
            warnings.simplefilter("error")
            parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return f"the pattern is not a valid regular expression ({exc.msg})"
    except Warning as exc:
        return f"the pattern is ambiguous ({exc})"

    def walk(items, repeated: bool) -> str | None:
        for op, av in items:
            if op in (c.GROUPREF, c.GROUPREF_EXISTS):
                return "the pattern refers back to a group (\\1), which cannot run in linear time"
            if op in (c.ASSERT, c.ASSERT_NOT):
                return "the pattern looks ahead or behind ((?=…), (?!…), (?<=…)), which is not " \
                       "supported"
            if op in (c.ATOMIC_GROUP, c.POSSESSIVE_REPEAT):
                return "the pattern uses an atomic group or a possessive repeat, not supported"
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                low, high, sub = av
                varies = low != high
                if repeated and varies:
                    return "the pattern repeats something that is itself repeated (such as " \
                           "(a+)+), which can take for ever on some texts"
                found = walk(sub, repeated or high > 1)
                if found:
                    return found
            elif op == c.BRANCH:
                if repeated:
                    return "the pattern repeats a choice (such as (a|ab)*), which can take for " \
                           "ever on some texts; use a character class [ab] where you can"
                for branch in av[1]:
                    found = walk(branch, repeated)
                    if found:
                        return found
            elif op == c.SUBPATTERN:
                found = walk(av[-1], repeated)
                if found:
                    return found
        return None

    found = walk(parsed, False)
    if found:
        return found
    try:
        import re2
    except ImportError:
        return None
    try:
        re2.compile(pattern)
    except Exception as exc:  # re2 raises its own error type
        return f"the pattern is not valid for the linear-time regex engine ({exc})"
    return None


_WORD = "0-9A-Za-z_"
_SPACE = "\\t\\n\\f\\r "
_OUTSIDE = {
    "w": f"[{_WORD}]", "W": f"[^{_WORD}]", "d": "[0-9]", "D": "[^0-9]",
    "s": f"[{_SPACE}]", "S": f"[^{_SPACE}]",
    "b": f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))",
    "B": f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))",
}
_INSIDE = {"w": _WORD, "d": "0-9", "s": _SPACE}


def python_pattern(pattern: str) -> str:
    """The pattern for Python's `re` with the meaning RE2 gives it: `\\w`, `\\d`, `\\s`, `\\b`
    are ASCII-only and `$` (without the m flag) matches only at the very end of the text."""
    multiline = re.search(r"\(\?[a-zA-Z]*m", pattern) is not None
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    class_start = 0
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if in_class and nxt in _INSIDE:
                out.append(_INSIDE[nxt])
            elif not in_class and nxt in _OUTSIDE:
                out.append(_OUTSIDE[nxt])
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            # A `]` right after `[` or `[^` is a member, not the end.
            if ch == "]" and i > class_start:
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            class_start = i + 1
            if i + 1 < n and pattern[i + 1] == "^":
                class_start += 1
                out.append("[^")
                i += 2
                continue
            out.append(ch)
        elif ch == "$" and not multiline:
            out.append("\\Z")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


# ============================================================================ code writing


class Writer:
    """Lines of code with an indentation level (jinja's CodeGenerator, in small)."""

    def __init__(self, level: int = 0) -> None:
        self.lines: list[str] = []
        self.level = level

    def line(self, text: str = "") -> None:
        self.lines.append(("    " * self.level + text) if text else "")

    def comment(self, text: str) -> None:
        self.line("# " + comment(text))

    def indent(self) -> _Indented:
        """`with w.indent():` writes one level deeper."""
        return _Indented(self)

    def extend(self, other: Writer) -> None:
        self.lines.extend(other.lines)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class _Indented:
    """The context of Writer.indent (a class: thousands are entered per ruleset, and a
    generator-based context manager costs several times more)."""

    __slots__ = ("writer",)

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def __enter__(self) -> None:
        self.writer.level += 1

    def __exit__(self, *exc) -> None:
        self.writer.level -= 1


@dataclass(frozen=True, slots=True)
class Code:
    """A Python expression and how loosely it binds (for parentheses)."""

    text: str
    prec: int = _ATOM

    def wrapped(self, limit: int) -> str:
        return f"({self.text})" if self.prec >= limit else self.text


TRUE = Code("True")
FALSE = Code("False")


@dataclass(frozen=True, slots=True)
class Cond:
    """A compiled condition: `t` is true exactly when the condition is TRUE, `f` exactly when
    it is FALSE (SQL's three-valued logic: when neither holds it is unknown)."""

    t: Code
    f: Code
    unknown: bool
    # An expression giving True/False/None directly, when there is a simple one.
    direct: str | None = None


@dataclass(frozen=True, slots=True)
class Val:
    """A compiled value: its expression, whether it may be None, and its type."""

    code: str
    nullable: bool
    kind: str
    of: str | None = None
    integral: bool = True


def _and(parts: list[Code]) -> Code:
    parts = [p for p in parts if p is not TRUE and p.text != "True"]
    if any(p.text == "False" for p in parts):
        return FALSE
    if not parts:
        return TRUE
    if len(parts) == 1:
        return parts[0]
    return Code(" and ".join(p.wrapped(_OR) for p in parts), _AND)


def _or(parts: list[Code]) -> Code:
    parts = [p for p in parts if p.text != "False"]
    if any(p.text == "True" for p in parts):
        return TRUE
    if not parts:
        return FALSE
    if len(parts) == 1:
        return parts[0]
    return Code(" or ".join(p.wrapped(_AND) for p in parts), _OR)


def _not(part: Code) -> Code:
    if part.text == "True":
        return FALSE
    if part.text == "False":
        return TRUE
    return Code("not " + part.wrapped(_AND), _NOT)


def _known(t: Code) -> Cond:
    return Cond(t, _not(t), False)


# ============================================================================ the generator

_EVALUATE_DOC = (
    '"""Evaluate one lead: a mapping field name -> value (None or absent: not given).',
    "",
    "`events`: mappings {'type': name, 'at': datetime, **properties}, or (type, at, properties)",
    "tuples. Naive date-times are local to TIMEZONE. `as_of`: the instant of evaluation",
    "(default: now). `cuts`: quantile cut points per grade name. Returns the dict OUTPUTS",
    "describes; with `explain`, its 'explain' entry holds the working (see RULES and GROUPS).",
    '"""',
)


# Names the generated code uses itself; an identifier made from a rule-file name never
# takes one of them (nor a builtin's name, nor a keyword).
_RESERVED = {
    "lead", "events", "as_of", "explain", "cuts", "now", "event", "kind", "at", "properties",
    "bucket", "wanted", "points", "count", "units", "factor", "latest", "held", "decayed",
    "points_counted", "group_total", "route_row", "result", "rules", "groups", "sums",
    "criteria", "rows", "ladder", "barred", "stage", "route", "disqualified", "cut", "value",
    "datetime", "re", "Decimal", "ROUND_HALF_UP", "Context", "InvalidOperation", "ZoneInfo",
    "floor", "bisect_left",
    "ZONE", "RULESET_FINGERPRINT", "SOURCE", "TIMEZONE", "SCHEMA", "ENUMS", "COLUMNS",
    "EVENTS", "OUTPUTS", "RULES", "GROUPS", "PATTERNS", "CALENDAR_HOURS", "CALENDAR_HOLIDAYS",
    "evaluate", "_evaluate_explained", "__debug__",
    "_instant", "_local", "_working_periods", "_working_back", "_working_time",
    "_working_days_back", "_working_days_age", "_round", "_number", "_domain", "_latest",
    "_total", "_quantile",
}


class Generator:
    """Writes the evaluator for one checked ruleset."""

    def __init__(self, rs: Ruleset, planned: Plan | None = None) -> None:
        self.rs = rs
        self.plan = planned if planned is not None else plan(rs)
        self.problems: list[Diagnostic] = []
        self.idents: dict[tuple, str] = {}
        import builtins

        self.taken: set[str] = set(_RESERVED) | set(keyword.kwlist) | set(dir(builtins))
        self.zone_name = rs.timezone
        self.utc = self.zone_name in ("UTC", "Etc/UTC", "GMT")
        # What the body turned out to need, filled while it is written.
        self.fields: dict[str, str] = {}          # field -> its local name
        self.instant_fields: set[str] = set()     # datetime fields compared with instants
        self.date_instants: dict[str, str] = {}   # date field -> local of its instant
        self.folded: dict[str, str] = {}          # value code -> local of its casefold()
        self.domains: dict[str, str] = {}         # field -> local of its e-mail domain
        self.event_types: dict[str, str] = {}     # event -> local list of (at, properties)
        self.last: dict[str, str] = {}            # event -> local of its most recent instant
        self.windows: dict[tuple, tuple[str, str]] = {}  # duration key -> (local, code)
        self.aggregates: dict[tuple, tuple[str, str]] = {}
        self.patterns: dict[str, str] = {}        # pattern -> global name
        self.decays: dict[str, str] = {}          # score -> helper name
        self.helpers: set[str] = set()
        self.calendar = calendars.agreement_calendar(self.rs)
        self.needs_now = False
        self.explain = False
        self.score_mode: dict[str, bool] = {}     # score -> integral
        self.score_nullable: dict[str, bool] = {}
        self.stage_names = [s.name for s in rs.stages]
        # The comment above each definition and rule, and each compiled condition, made once
        # for both functions (keyed by id, the node kept beside so the id cannot be reused).
        self.described: dict[int, tuple[object, str]] = {}
        self.compiled: dict[int, tuple[object, Cond]] = {}
        self.constants_written: dict[tuple, list[str]] = {}

    def fork(self) -> Generator:
        """A generator in the same state, whose registries grow on their own."""
        other = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, (dict, set, list)):
                setattr(other, name, value.copy())
        return other

    # ------------------------------------------------------------------ identifiers

    def ident(self, key: tuple, base: str) -> str:
        if key in self.idents:
            return self.idents[key]
        name = _word(base)
        if name[0].isdigit():
            name = "v_" + name
        candidate, n = name, 1
        while candidate in self.taken or keyword.iskeyword(candidate) or \
                candidate.startswith("PATTERN_"):
            n += 1
            candidate = f"{name}_{n}"
        self.taken.add(candidate)
        self.idents[key] = candidate
        return candidate

    def fail(self, code: str, message: str, node, hint: str | None = None) -> None:
        """A problem the checker reports too (same code): compiling stops with it."""
        span = getattr(node, "span", ast.NOWHERE)
        self.problems.append(error(code, message, span, hint))

    # ------------------------------------------------------------------ calendar

    def calendar_hours(self) -> calendars.Week:
        """Working windows per weekday (Monday first), as minutes after local midnight."""
        assert self.calendar is not None
        return calendars.week(self.calendar)

    def business(self) -> bool:
        """Whether business durations need the calendar (24/7 without one)."""
        return self.calendar is not None

    # ------------------------------------------------------------------ time and events

    def now(self) -> str:
        self.needs_now = True
        self.helpers.add("_instant")
        return "now"

    def window(self, node: ast.Duration) -> str:
        """The local holding the start of a window `within D` (exclusive): as_of - D."""
        self.now()
        key = (node.amount, node.unit, node.business)
        if key in self.windows:
            return self.windows[key][0]
        amount = unparse.number(node.amount).replace(".", "_")
        business = "business_" if node.business else ""
        name = self.ident(("window",) + key, f"since_{amount}_{business}{node.unit}")
        if node.business and self.business() and node.unit in ("minutes", "hours"):
            self.helpers.add("_working_back")
            code = f"_working_back(now, {timedelta_literal(node)})"
        elif node.business and self.business() and node.unit == "days":
            if node.amount != node.amount.to_integral_value():
                self.fail("LR213", "a number of business days must be whole", node,
                          "write it in business hours instead")
            self.helpers.add("_working_days_back")
            code = f"_working_days_back(now, {int(node.amount)})"
        else:
            code = f"now - {timedelta_literal(node)}"
        self.windows[key] = (name, code)
        return name

    def bucket(self, event: str) -> str:
        self.now()
        if event not in self.event_types:
            self.event_types[event] = self.ident(("events", event), f"{event}_events")
        return self.event_types[event]

    def last_of(self, event: str) -> str:
        bucket = self.bucket(event)
        if event not in self.last:
            self.last[event] = self.ident(("last", event), f"last_{event}")
        del bucket
        return self.last[event]

    # ------------------------------------------------------------------ values

    def field_local(self, name: str) -> str:
        if name not in self.fields:
            self.fields[name] = self.ident(("field", name), f"lead_{name}")
        return self.fields[name]

    def value(self, node, context: Val | None = None) -> Val:
        """A value in a condition. `context` is the other side of a comparison: a bare name
        there is an enum member, a grade row, a stage or a route of that side."""
        if isinstance(node, ast.Number):
            return Val(number_literal(node.value), False, "number",
                       integral=node.value == node.value.to_integral_value())
        if isinstance(node, ast.Percent):
            return Val(number_literal(node.value), False, "number",
                       integral=node.value == node.value.to_integral_value())
        if isinstance(node, ast.Money):
            return Val(number_literal(node.amount), False, "number",
                       integral=node.amount == node.amount.to_integral_value())
        if isinstance(node, ast.String):
            return Val(repr(node.value), False, "text")
        if isinstance(node, ast.Bool):
            return Val(repr(node.value), False, "bool")
        if isinstance(node, ast.DateLit):
            return Val(repr(node.value), False, "date")
        if isinstance(node, ast.DateTimeLit):
            return Val(repr(self.utc_literal(node.value)), False, "datetime")
        if isinstance(node, ast.Ref):
            return self.ref(node, context)
        if isinstance(node, ast.Count):
            return Val(self.count(node), False, "int")
        if isinstance(node, ast.Sum):
            return Val(self.total(node), False, "number", integral=False)
        if isinstance(node, ast.DaysSince):
            last = self.last_of(node.event)
            key = ("days", node.event)
            if key not in self.aggregates:
                name = self.ident(key, f"days_since_{node.event}")
                self.aggregates[key] = (
                    name, f"(now - {last}).days if {last} is not None else None")
            return Val(self.aggregates[key][0], True, "int")
        self.fail("LR201", f"'{unparse.expr(node)}' cannot be used here", node)
        return Val("None", True, "unknown")

    def utc_literal(self, moment: datetime | date) -> datetime:
        """A date or date-time written in the rules (local to the agreement) as naive UTC."""
        if not isinstance(moment, datetime):
            moment = datetime.combine(moment, time())
        if self.utc:
            return moment
        from zoneinfo import ZoneInfo

        return moment.replace(tzinfo=ZoneInfo(self.zone_name)).astimezone(UTC).replace(
            tzinfo=None)

    def ref(self, node: ast.Ref, context: Val | None) -> Val:
        if context is not None and len(node.parts) == 1:
            name = node.parts[0]
            if context.kind == "enum":
                members = [m.name for m in self.rs.fields[context.of].type.members] \
                    if context.of in self.rs.fields else []
                if name in members:
                    return Val(repr(name), False, "name")
            elif context.kind == "grade" and name in self.grade_labels(context.of):
                return Val(repr(name), False, "name")
            elif context.kind == "stage" and (name in self.stage_names or name == DISQUALIFIED):
                return Val(repr(name), False, "name")
            elif context.kind == "route" and name in [r.name for r in self.rs.routes]:
                return Val(repr(name), False, "name")
        sym = self.rs.resolve(node)
        if sym is None:
            self.fail("LR101", f"'{node.name}' is not defined", node)
            return Val("None", True, "unknown")
        if sym.kind == FIELD:
            f = self.rs.fields[sym.name]
            kind = f.type.name
            return Val(self.field_local(sym.name), True, kind, sym.name,
                       integral=kind == "int")
        if sym.kind == EMAIL_DOMAIN:
            head = node.parts[0]
            if head not in self.domains:
                self.field_local(head)
                self.domains[head] = self.ident(("domain", head), f"{head}_domain")
                self.helpers.add("_domain")
            return Val(self.domains[head], True, "domain")
        if sym.kind == SEGMENT:
            return Val(self.ident(("segment", sym.name), f"segment_{sym.name}"), True, "bool3")
        if sym.kind == SCORE:
            return Val(self.score_local(sym.name), self.score_nullable.get(sym.name, False),
                       "number", integral=self.score_mode.get(sym.name, False))
        if sym.kind == GRADE:
            return Val(self.ident(("grade", sym.name), f"grade_{sym.name}"), True, "grade",
                       sym.name)
        if sym.kind == QUALIFICATION:
            return Val(self.ident(("qualification", sym.name), f"qualification_{sym.name}"),
                       True, "bool3")
        if sym.kind == QUALIFICATION_COUNT:
            q = node.parts[0]
            return Val(self.ident(("qualification count", q), f"{q}_count"), False, "int")
        if sym.kind == CRITERION:
            q, c = node.parts
            return Val(self.ident(("criterion", q, c), f"{q}_{c}"), True, "bool3")
        if sym.kind == STAGE:
            return Val(STAGE_KEY, False, "stage")
        if sym.kind == ROUTE:
            return Val(ROUTE_KEY, False, "route")
        if sym.kind == EVENT_PROPERTY:
            self.fail("LR205", f"'{node.name}' is a property of each event; use sum({node.name})", node)
            return Val("None", True, "unknown")
        self.fail("LR209", f"'{node.name}' is a {sym.kind}, not a value", node)
        return Val("None", True, "unknown")

    def score_local(self, name: str) -> str:
        return self.ident(("score", name), f"score_{name}")

    def grade_labels(self, grade: str | None) -> list[str]:
        g = self.rs.grades.get(grade or "")
        if g is None:
            return []
        if g.quantiles:
            return [f"q{i}" for i in range(1, QUANTILES.get(g.quantiles, 5) + 1)]
        return [row.name for row in g.rows]

    def count(self, node: ast.Count) -> str:
        key = ("count", node.event, _dkey(node.window))
        if key not in self.aggregates:
            bucket = self.bucket(node.event)
            suffix = f"_{unparse.duration(node.window).replace(' ', '_')}" if node.window else ""
            name = self.ident(key, f"count_{node.event}{suffix}".replace(".", "_"))
            if node.window:
                since = self.window(node.window)
                code = f"sum(1 for at, _ in {bucket} if at > {since})"
            else:
                code = f"len({bucket})"
            self.aggregates[key] = (name, code)
        return self.aggregates[key][0]

    def total(self, node: ast.Sum) -> str:
        if len(node.target.parts) != 2 or node.target.parts[0] not in self.rs.events:
            self.fail("LR101", f"'{node.target.name}' is not a property of an event", node)
            return "0"
        event, prop = node.target.parts
        key = ("sum", event, prop, _dkey(node.window))
        if key not in self.aggregates:
            bucket = self.bucket(event)
            suffix = f"_{unparse.duration(node.window).replace(' ', '_')}" if node.window else ""
            name = self.ident(key, f"sum_{event}_{prop}{suffix}".replace(".", "_"))
            since = self.window(node.window) if node.window else "None"
            self.helpers.add("_total")
            self.aggregates[key] = (name, f"_total({bucket}, {prop!r}, {since})")
        return self.aggregates[key][0]

    def folded_value(self, val: Val) -> str:
        """The local holding `val.casefold()` (None when the value is missing)."""
        if val.code not in self.folded:
            self.folded[val.code] = self.ident(("folded", val.code), f"{val.code}_folded")
        return self.folded[val.code]

    # ------------------------------------------------------------------ conditions

    def cond(self, node) -> Cond:
        """The condition compiled (once: the fast and the explained function share it)."""
        found = self.compiled.get(id(node))
        if found is None or found[0] is not node:
            found = (node, self._cond(node))
            self.compiled[id(node)] = found
        return found[1]

    def _cond(self, node) -> Cond:
        if isinstance(node, ast.And):
            parts = [self.cond(item) for item in node.items]
            return Cond(_and([p.t for p in parts]), _or([p.f for p in parts]),
                        any(p.unknown for p in parts))
        if isinstance(node, ast.Or):
            parts = [self.cond(item) for item in node.items]
            return Cond(_or([p.t for p in parts]), _and([p.f for p in parts]),
                        any(p.unknown for p in parts))
        if isinstance(node, ast.Not):
            inner = self.cond(node.item)
            direct = f"None if {inner.direct} is None else not {inner.direct}" \
                if inner.direct else None
            return Cond(inner.f, inner.t, inner.unknown, direct)
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
            return self.between(value, low, high)
        if isinstance(node, ast.In):
            return self.membership(node)
        if isinstance(node, ast.TextTest):
            return self.text_test(node)
        if isinstance(node, ast.Presence):
            value = self.value(node.value)
            present = Code(f"{value.code} is not None") if value.nullable else TRUE
            return _known(present if node.present else _not(present))
        if isinstance(node, ast.Within):
            last = self.last_of(node.event)
            since = self.window(node.window)
            return _known(Code(f"{last} is not None and {last} > {since}", _AND))
        if isinstance(node, ast.Truth):
            value = self.value(node.value)
            if value.kind == "bool3":
                return Cond(Code(f"{value.code} is True"), Code(f"{value.code} is False"), True,
                            value.code)
            if value.kind == "bool":
                if not value.nullable:
                    return _known(Code(value.code))
                # None is falsy: the value itself tells TRUE (not a bool when the lead holds 1).
                return Cond(Code(value.code),
                            Code(f"{value.code} is not None and not {value.code}", _AND), True)
            self.fail("LR209", f"'{unparse.expr(node.value)}' is not a yes-or-no value", node)
            return _known(FALSE)
        self.fail("LR209", "this condition cannot be evaluated", node)
        return _known(FALSE)

    def instant(self, val: Val) -> Val:
        """Dates and date-times compared with each other are compared as instants."""
        if val.kind == "datetime" and val.of in self.rs.fields:
            self.instant_fields.add(val.of)
            self.helpers.add("_instant")
            return val
        if val.kind == "date" and val.code.startswith("datetime.date("):
            literal = eval_date(val.code)
            return Val(repr(self.utc_literal(literal)), False, "datetime")
        if val.kind == "date" and val.of in self.rs.fields:
            self.helpers.add("_instant")
            local = self.ident(("instant", val.of), f"{val.code}_instant")
            self.date_instants[val.of] = local
            return Val(local, val.nullable, "datetime")
        return val

    def compare(self, left: Val, op: str, right: Val, node) -> Cond:
        if "datetime" in (left.kind, right.kind):
            left, right = self.instant(left), self.instant(right)
        if left.kind == "bool" and right.kind == "bool" and not right.nullable:
            want = right.code == "True"
            if op not in ("==", "!="):
                self.fail("LR214", "yes-or-no values can only be compared with == or !=", node)
            if op == "!=":
                want = not want
            truth = Cond(Code(f"{left.code} is not None and bool({left.code})", _AND),
                         Code(f"{left.code} is not None and not {left.code}", _AND),
                         left.nullable)
            return truth if want else Cond(truth.f, truth.t, truth.unknown)
        guards = [Code(f"{v.code} is not None") for v in (left, right) if v.nullable]
        test = Code(f"{left.code} {op} {right.code}")
        inverse = Code(f"{left.code} {_INVERSE[op]} {right.code}")
        unknown = bool(guards)
        # `x == 'a'` is already false when x is None: no guard needed for the TRUE side.
        if op == "==" and not right.nullable and right.code != "None":
            t = test
        else:
            t = _and([*guards, test])
        return Cond(t, _and([*guards, inverse]), unknown)

    def compare_names(self, left: Val, op: str, right: Val, node) -> Cond:
        """Stages, routes, grades and enum members: equality, and order where they have one
        (the ladder for stages, the rows for grades, first row highest, the declaration
        for enum members)."""
        if right.kind != "name":
            return self.compare(left, op, right, node)
        name = eval_str(right.code)
        known = left.kind in ("stage", "route")
        if op in ("==", "!="):
            test = Code(f"{left.code} {op} {right.code}")
            if known:
                return _known(test)
            if op == "==":
                return Cond(test, Code(f"{left.code} is not None and {left.code} != "
                                       f"{right.code}", _AND), True)
            return Cond(Code(f"{left.code} is not None and {left.code} != {right.code}", _AND),
                        Code(f"{left.code} == {right.code}"), True)
        if left.kind == "stage":
            ladder = self.stage_names
        elif left.kind == "grade":
            ladder = list(reversed(self.grade_labels(left.of)))
        elif left.kind == "enum":
            ladder = [m.name for m in self.rs.fields[left.of].type.members]
        else:
            self.fail("LR214", f"routes have no order: use == or != with '{name}'", node)
            return _known(FALSE)
        if name not in ladder:
            self.fail("LR214", f"'{name}' has no place in the order of {left.of or left.kind}", node)
            return _known(FALSE)
        i = ladder.index(name)
        chosen = {"<": ladder[:i], "<=": ladder[:i + 1], ">": ladder[i + 1:],
                  ">=": ladder[i:]}[op]
        test = Code(f"{left.code} in {_tuple(chosen)}")
        if known:
            return _known(test)
        return Cond(test, Code(f"{left.code} is not None and {left.code} not in "
                               f"{_tuple(chosen)}", _AND), True)

    def between(self, value: Val, low: Val, high: Val) -> Cond:
        if "datetime" in (value.kind, low.kind, high.kind):
            value, low, high = self.instant(value), self.instant(low), self.instant(high)
        if not low.nullable and not high.nullable:
            guards = [Code(f"{value.code} is not None")] if value.nullable else []
            test = Code(f"{low.code} <= {value.code} <= {high.code}")
            return Cond(_and([*guards, test]), _and([*guards, _not(test)]), value.nullable)
        lower = self.compare(value, ">=", low, None)
        upper = self.compare(value, "<=", high, None)
        return Cond(_and([lower.t, upper.t]), _or([lower.f, upper.f]), True)

    def membership(self, node: ast.In) -> Cond:
        value = self.value(node.value)
        options = node.options
        if isinstance(options, ast.Ref):
            listed = self.rs.lists.get(options.name)
            if listed is None:
                self.fail("LR104", f"'{options.name}' is not a list", options)
                return _known(FALSE)
            options = listed.items
        items: list[str] = []
        for item in options.items:
            if isinstance(item, ast.Ref) and len(item.parts) == 1:
                item_val = self.value(item, value)
                if item_val.kind != "name":
                    self.fail("LR201", f"'{item.name}' cannot be listed here", item)
                    continue
                code = item_val.code
            elif isinstance(item, ast.String):
                text = item.value.casefold() if value.kind == "domain" else item.value
                code = repr(text)
            elif isinstance(item, (ast.Number, ast.Percent, ast.Money)):
                code = self.value(item).code
            elif isinstance(item, (ast.DateLit, ast.DateTimeLit)):
                code = self.value(item).code
            else:
                self.fail("LR201", f"'{unparse.expr(item)}' cannot be listed here", item)
                continue
            if code not in items:
                items.append(code)
        if not items:
            inside, absent = FALSE, TRUE
        else:
            # A set display of constants is folded into a frozenset constant by CPython.
            shown = f"{{{', '.join(items)}}}" if all(not i.startswith("Decimal(") for i in items) \
                else _codes(items)
            inside = Code(f"{value.code} in {shown}")
            absent = Code(f"{value.code} not in {shown}")
        known = value.kind in ("stage", "route") or not value.nullable
        guard = [Code(f"{value.code} is not None")] if not known else []
        outside = _and([*guard, absent])
        if node.negated:
            return Cond(outside, inside, not known)
        return Cond(inside, outside, not known)

    def text_test(self, node: ast.TextTest) -> Cond:
        value = self.value(node.value)
        if node.op == "matches":
            if not isinstance(node.operand, ast.String):
                self.fail("LR207", "`matches` needs a pattern in double quotes", node)
                return _known(FALSE)
            pattern = node.operand.value
            problem = check_pattern(pattern)
            if problem:
                self.fail("LR207", problem, node.operand, "simplify the pattern")
                return _known(FALSE)
            if pattern not in self.patterns:
                self.patterns[pattern] = f"PATTERN_{len(self.patterns) + 1}"
            name = self.patterns[pattern]
            test = Code(f"{name}.search({value.code}) is not None")
            inverse = Code(f"{name}.search({value.code}) is None")
            guards = [Code(f"{value.code} is not None")] if value.nullable else []
            return Cond(_and([*guards, test]), _and([*guards, inverse]), value.nullable)
        folded = self.folded_value(value)
        operand = self.value(node.operand)
        guards = [Code(f"{folded} is not None")] if value.nullable else []
        if operand.kind in ("text", "domain") and not operand.nullable and \
                operand.code[0] in "'\"":
            needle = repr(eval_str(operand.code).casefold())
        else:
            other = self.folded_value(operand)
            guards.append(Code(f"{other} is not None"))
            needle = other
        if node.op == "contains":
            test = Code(f"{needle} in {folded}")
            inverse = Code(f"{needle} not in {folded}")
        elif node.op == "starts with":
            test = Code(f"{folded}.startswith({needle})")
            inverse = _not(test)
        else:
            test = Code(f"{folded}.endswith({needle})")
            inverse = _not(test)
        return Cond(_and([*guards, test]), _and([*guards, inverse]), bool(guards))

    def three(self, c: Cond) -> str:
        """The condition as a value: True, False, or None when unknown."""
        if not c.unknown:
            return c.t.text
        if c.direct:
            return c.direct
        return f"True if {c.t.wrapped(_IFELSE)} else False if {c.f.wrapped(_IFELSE)} else None"

    # ------------------------------------------------------------------ sections

    def body(self, w: Writer) -> None:
        """Every definition, in evaluation order."""
        for kind, name in self.plan.order:
            w.line()
            if kind == "segment":
                self.segment(w, self.rs.segments[name])
            elif kind == "score":
                node = self.rs.scores[name]
                if isinstance(node, ast.DerivedScore):
                    self.derived(w, node)
                else:
                    self.score(w, node)
            elif kind == "grade":
                self.grade(w, self.rs.grades[name])
            elif kind == "qualification":
                self.qualification(w, self.rs.qualifications[name])
            elif kind == "stages":
                self.stages(w)
            elif kind == "routes":
                self.routes(w)

    def source(self, node) -> str:
        span = node.span
        return f"{span.file}:{span.line}"

    def describe(self, w: Writer, node) -> None:
        found = self.described.get(id(node))
        if found is None or found[0] is not node:
            found = (node, "# " + comment(f"{self.source(node)}  {unparse.line(node)}"))
            self.described[id(node)] = found
        w.line(found[1])

    def segment(self, w: Writer, node: ast.Segment) -> None:
        self.describe(w, node)
        for c in node.conditions:
            w.comment(f"    {unparse.cond(c)}")
        local = self.ident(("segment", node.name), f"segment_{node.name}")
        parts = [self.cond(c) for c in node.conditions]
        if node.any:
            combined = Cond(_or([p.t for p in parts]), _and([p.f for p in parts]),
                            any(p.unknown for p in parts))
        else:
            combined = Cond(_and([p.t for p in parts]), _or([p.f for p in parts]),
                            any(p.unknown for p in parts))
        w.line(f"{local} = {self.three(combined)}")

    # -- scores

    def integral_score(self, node: ast.Score) -> bool:
        """Whether whole-number arithmetic is exact for this score: whole points and caps, and
        no decay."""
        if node.decay is not None:
            return False
        numbers = [node.bounds.min, node.bounds.max]
        for item in node.items:
            rules = item.rules if isinstance(item, ast.Group) else (item,)
            if isinstance(item, ast.Group):
                numbers += [item.bounds.min, item.bounds.max]
            for rule in rules:
                numbers += [rule.points, rule.bounds.min, rule.bounds.max]
                if isinstance(rule, ast.PerUnitRule):
                    numbers.append(rule.unit)
        return all(n is None or n.value == n.value.to_integral_value() for n in numbers)

    def score(self, w: Writer, node: ast.Score) -> None:
        integral = self.integral_score(node)
        self.score_mode[node.name] = integral
        self.score_nullable[node.name] = False
        local = self.score_local(node.name)
        if node.decay is not None:
            self.decay_helper(node)
        self.describe(w, node)
        w.line(f"{local} = 0")
        rules = {id(r.node): r for r in self.plan.rules_of(node.name)}
        groups = {id(g.node): g for g in self.plan.groups if g.score == node.name}
        for item in node.items:
            if isinstance(item, ast.Group):
                g = groups[id(item)]
                gl = self.ident(("group", node.name, item.name), f"group_{item.name}")
                self.describe(w, item)
                w.line(f"{gl} = 0")
                for rule in item.rules:
                    self.rule(w, rules[id(rule)], node, gl)
                if self.explain:
                    w.line(f"group_total = {gl}")
                self.clamp(w, gl, item.bounds)
                if self.explain:
                    w.line(f"groups[{g.index}] = (group_total, {gl})")
                w.line(f"{local} += {gl}")
            else:
                self.rule(w, rules[id(item)], node, local)
        if self.explain:
            w.line(f"sums[{node.name!r}] = {local}")
        self.clamp(w, local, node.bounds)
        if not integral:
            self.helpers.add("_round")
            w.line(f"{local} = _round({local})")

    def clamp(self, w: Writer, local: str, bounds: ast.Bounds) -> None:
        if bounds.max is not None:
            limit = number_literal(bounds.max.value)
            w.line(f"if {local} > {limit}:")
            with w.indent():
                w.line(f"{local} = {limit}")
        if bounds.min is not None:
            limit = number_literal(bounds.min.value)
            w.line(f"if {local} < {limit}:")
            with w.indent():
                w.line(f"{local} = {limit}")

    def decay_helper(self, node: ast.Score) -> str:
        if node.name in self.decays:
            return self.decays[node.name]
        name = self.ident(("decay", node.name), f"_decay_{node.name}")
        self.decays[node.name] = name
        return name

    def decay_code(self, score: ast.Score, at: str) -> str:
        """The expression of the decay factor of an event at `at`."""
        self.now()
        return f"{self.decays[score.name]}({at}, now)"

    def rule(self, w: Writer, info: RuleInfo, score: ast.Score, target: str) -> None:
        node = info.node
        self.describe(w, node)
        points = number_literal(node.points.value)
        bounded = node.bounds.min is not None or node.bounds.max is not None
        decays = score.decay is not None
        explain = self.explain
        if isinstance(node, ast.WhenRule):
            c = self.cond(node.cond)
            factor = None
            if decays:
                factor = self.when_decay(node.cond, score)
            if explain and not bounded and factor is None:
                # Constant tuples: the compiler folds them, so keeping the working costs little.
                w.line(f"if {c.t.text}:")
                with w.indent():
                    if points.startswith("-"):
                        w.line(f"{target} -= {points[1:]}")
                    else:
                        w.line(f"{target} += {points}")
                    w.line(f"rules[{info.index}] = (True, None, {points}, {points}, {points})")
                if c.unknown:
                    w.line(f"elif {c.f.text}:")
                    with w.indent():
                        w.line(f"rules[{info.index}] = (False, None, 0, 0, 0)")
                w.line("else:")
                with w.indent():
                    w.line(f"rules[{info.index}] = ({'None' if c.unknown else 'False'}, None, "
                           "0, 0, 0)")
                return
            if explain:
                w.line(f"held = {self.three(c)}")
                w.line(f"points = {points} if held is True else 0")
                w.line("decayed = points")
                if factor is not None:
                    w.line("if held is True:")
                    with w.indent():
                        factor(w, "decayed")
                w.line("points_counted = decayed")
                self.clamp(w, "points_counted", node.bounds)
                w.line(f"rules[{info.index}] = (held, None, points, decayed, points_counted)")
                w.line(f"{target} += points_counted")
                return
            if not bounded and factor is None:
                w.line(f"if {c.t.text}:")
                with w.indent():
                    if points.startswith("-"):
                        w.line(f"{target} -= {points[1:]}")
                    else:
                        w.line(f"{target} += {points}")
                return
            w.line(f"points = {points} if {c.t.wrapped(_IFELSE)} else 0")
            if factor is not None:
                w.line("if points:")
                with w.indent():
                    factor(w, "points")
            self.clamp(w, "points", node.bounds)
            w.line(f"{target} += points")
            return
        if isinstance(node, ast.PerEventRule):
            bucket = self.bucket(node.event)
            since = self.window(node.window) if node.window else None
            if decays:
                w.line("points = 0")
                if explain:
                    w.line("count = 0")
                w.line(f"for at, _ in {bucket}:")
                with w.indent():
                    if since:
                        w.line(f"if at > {since}:")
                        w.level += 1
                    w.line(f"points += {points} * {self.decay_code(score, 'at')}")
                    if explain:
                        w.line("count += 1")
                    if since:
                        w.level -= 1
                if explain:
                    w.line("decayed = points")
                    w.line(f"points = {points} * count")
            else:
                if since:
                    w.line(f"count = sum(1 for at, _ in {bucket} if at > {since})")
                else:
                    w.line(f"count = len({bucket})")
                w.line(f"points = {points} * count")
                if explain:
                    w.line("decayed = points")
            if explain:
                w.line("points_counted = decayed")
                self.clamp(w, "points_counted", node.bounds)
                w.line(f"rules[{info.index}] = (count > 0, count, points, decayed, "
                       "points_counted)")
                w.line(f"{target} += points_counted")
                return
            self.clamp(w, "points", node.bounds)
            w.line(f"{target} += points")
            return
        # per unit: floor(value / unit) x points, never decayed
        value = self.value(node.field)
        if value.kind not in ("int", "number", "money", "unknown"):
            self.fail("LR205", f"'{node.field.name}' is not a number", node.field)
        unit = node.unit.value
        if unit == 0:
            self.fail("LR213", "the unit of a per rule cannot be 0", node.unit)
            unit = Decimal(1)
        v = value.code
        if unit == unit.to_integral_value():
            k = repr(int(unit))
            units = f"int({v} // {k}) if {v} >= 0 else floor({v} / {k})"
        else:
            k = number_literal(unit)
            self.helpers.add("_number")
            units = f"floor(_number({v}) / {k})"
        self.helpers.add("floor")
        if explain:
            w.line(f"units = ({units}) if {v} is not None else None")
            w.line(f"points = units * {points} if units is not None else 0")
            w.line("points_counted = points")
            self.clamp(w, "points_counted", node.bounds)
            w.line(f"rules[{info.index}] = (bool(units), units, points, points, "
                   "points_counted)")
            w.line(f"{target} += points_counted")
            return
        # A missing value gives 0 points, which the caps may still move (a rule's total is
        # clamped even when it gave nothing): only skip the rule when they would not.
        if node.bounds.min is None and (node.bounds.max is None or node.bounds.max.value >= 0):
            w.line(f"if {v} is not None:")
            with w.indent():
                times = "" if points == "1" else f" * {points}"
                w.line(f"points = ({units}){times}")
                self.clamp(w, "points", node.bounds)
                w.line(f"{target} += points")
            return
        w.line(f"points = ({units}) * {points} if {v} is not None else 0")
        self.clamp(w, "points", node.bounds)
        w.line(f"{target} += points")

    def when_decay(self, cond, score: ast.Score):
        """How a `when` rule decays: by the most recent event matching one of its `within`
        tests (none: it does not decay). Returns a writer of `local *= factor`, or None."""
        # A `within` test is always an atom of the condition (never inside a value).
        withins = [n for n in _atoms(cond) if isinstance(n, ast.Within)]
        if not withins:
            return None
        if isinstance(cond, ast.Within):
            last = self.last_of(cond.event)
            self.window(cond.window)

            def single(w: Writer, local: str) -> None:
                w.line(f"{local} = {local} * {self.decay_code(score, last)}")
            return single
        candidates = []
        for node in withins:
            last = self.last_of(node.event)
            since = self.window(node.window)
            candidates.append(f"{last} if {last} is not None and {last} > {since} else None")
        self.helpers.add("_latest")

        def several(w: Writer, local: str) -> None:
            w.line("latest = _latest(" + ", ".join(f"({c})" for c in candidates) + ")")
            w.line("if latest is not None:")
            with w.indent():
                w.line(f"{local} = {local} * {self.decay_code(score, 'latest')}")
        return several

    def derived(self, w: Writer, node: ast.DerivedScore) -> None:
        self.describe(w, node)
        local = self.score_local(node.name)
        info = self.arith(node.expr)
        integral = info["integral"] and all(
            b is None or b.value == b.value.to_integral_value()
            for b in (node.bounds.min, node.bounds.max))
        nullable = info["nullable"] or info["divides"]
        self.score_mode[node.name] = integral
        self.score_nullable[node.name] = nullable
        code = info["code"]
        body = Writer(w.level)
        if info["nullables"]:
            test = " or ".join(f"{n} is None" for n in info["nullables"])
            w.line(f"if {test}:")
            with w.indent():
                w.line(f"{local} = None")
            w.line("else:")
            body.level += 1
        if info["divides"]:
            body.line("try:")
            body.level += 1
            body.line(f"{local} = {code}")
            body.level -= 1
            body.line("except ArithmeticError:")
            body.level += 1
            body.line(f"{local} = None")
            body.level -= 1
            body.line(f"if {local} is not None:")
            body.level += 1
        else:
            body.line(f"{local} = {code}")
        if self.explain:
            body.line(f"sums[{node.name!r}] = {local}")
        self.clamp(body, local, node.bounds)
        if not integral:
            self.helpers.add("_round")
            body.line(f"{local} = _round({local})")
        w.extend(body)

    def arith(self, node) -> dict:
        """An arithmetic expression over scores, fields and numbers."""
        if isinstance(node, ast.Number):
            integral = node.value == node.value.to_integral_value()
            return {"code": number_literal(node.value), "integral": integral, "prec": 3,
                    "nullable": False, "nullables": [], "divides": False}
        if isinstance(node, (ast.Percent,)):
            return {"code": number_literal(node.value), "prec": 3, "nullable": False,
                    "integral": node.value == node.value.to_integral_value(),
                    "nullables": [], "divides": False}
        if isinstance(node, ast.Ref):
            val = self.value(node)
            if val.kind not in ("number", "int", "money"):
                self.fail("LR205", f"'{node.name}' is not a number", node)
            code = val.code
            if val.kind in ("number", "money") and node.parts[0] in self.rs.fields:
                self.helpers.add("_number")
                code = f"_number({code})"
            return {"code": code, "prec": 3, "nullable": val.nullable,
                    "integral": val.integral and val.kind != "money",
                    "nullables": [val.code] if val.nullable else [], "divides": False}
        if isinstance(node, ast.Neg):
            inner = self.arith(node.operand)
            text = inner["code"] if inner["prec"] >= 2 else f"({inner['code']})"
            return {**inner, "code": f"-{text}", "prec": 2}
        if isinstance(node, ast.BinOp):
            left, right = self.arith(node.left), self.arith(node.right)
            strength = 1 if node.op in "+-" else 2
            lt = left["code"] if left["prec"] >= strength else f"({left['code']})"
            rt = right["code"] if right["prec"] > strength else f"({right['code']})"
            divides = left["divides"] or right["divides"] or node.op == "/"
            if node.op == "/":
                code = f"Decimal({left['code']}) / {rt}"
                self.helpers.add("Decimal")
            else:
                code = f"{lt} {node.op} {rt}"
            return {"code": code, "prec": strength,
                    "integral": left["integral"] and right["integral"] and node.op != "/",
                    "nullable": left["nullable"] or right["nullable"],
                    "nullables": left["nullables"] + [n for n in right["nullables"]
                                                      if n not in left["nullables"]],
                    "divides": divides}
        self.fail("LR205", f"'{unparse.expr(node)}' cannot be used in a calculation", node)
        return {"code": "0", "prec": 3, "integral": True, "nullable": False, "nullables": [],
                "divides": False}

    # -- grades

    def grade(self, w: Writer, node: ast.Grade) -> None:
        self.describe(w, node)
        local = self.ident(("grade", node.name), f"grade_{node.name}")
        if node.quantiles:
            self.quantile_grade(w, node, local)
            return
        by = self.value(node.by) if node.by is not None else None
        first = True
        has_otherwise = False
        for i, row in enumerate(node.rows):
            self.describe(w, row)
            if isinstance(row, ast.OtherwiseRow):
                has_otherwise = True
                w.line("else:" if not first else "if True:")
            else:
                if isinstance(row, ast.BandRow):
                    if by is None:
                        self.fail("LR307", "a band needs the grade to say `by` what it grades", row)
                        c = _known(FALSE)
                    else:
                        threshold = self.value(row.threshold, by)
                        c = self.compare(by, row.op, threshold, row)
                else:
                    c = self.cond(row.cond)
                w.line(f"{'if' if first else 'elif'} {c.t.text}:")
            with w.indent():
                w.line(f"{local} = {row.name!r}")
                if self.explain:
                    w.line(f"rows[{node.name!r}] = {i}")
            first = False
            if has_otherwise:
                break
        if first:
            w.line(f"{local} = None")
        elif not has_otherwise:
            w.line("else:")
            with w.indent():
                w.line(f"{local} = None")
                if self.explain:
                    w.line(f"rows[{node.name!r}] = None")

    def quantile_grade(self, w: Writer, node: ast.Grade, local: str) -> None:
        if node.by is None:
            self.fail("LR307", "a quantile grade needs `by` a value", node)
            return
        by = self.value(node.by)
        value = self.ident(("grade value", node.name), f"value_{node.name}")
        w.line(f"{value} = {by.code}")
        if node.cuts:
            frozen = _codes([number_literal(c.value) for c in node.cuts])
            w.line(f"cut = cuts.get({node.name!r}, {frozen}) if cuts else {frozen}")
        else:
            w.line(f"cut = cuts.get({node.name!r}) if cuts else None")
        self.helpers.add("_quantile")
        w.line(f"{local} = _quantile({value}, cut)")

    # -- qualification, stages, routes

    def qualification(self, w: Writer, node: ast.Qualification) -> None:
        self.describe(w, node)
        local = self.ident(("qualification", node.name), f"qualification_{node.name}")
        count = self.ident(("qualification count", node.name), f"{node.name}_count")
        names = []
        unknown = []
        for criterion in node.criteria:
            self.describe(w, criterion)
            c = self.cond(criterion.cond)
            name = self.ident(("criterion", node.name, criterion.name),
                              f"{node.name}_{criterion.name}")
            w.line(f"{name} = {self.three(c)}")
            names.append(name)
            if c.unknown:
                unknown.append(name)
        need = int(node.require.value) if node.require is not None else len(node.criteria)
        w.line(f"{count} = " + (" + ".join(f"({n} is True)" for n in names) or "0"))
        if unknown:
            open_ = " + ".join(f"({n} is None)" for n in unknown)
            w.line(f"{local} = True if {count} >= {need} else False if {count} + {open_} < "
                   f"{need} else None")
        else:
            w.line(f"{local} = {count} >= {need}")
        if self.explain:
            w.line(f"criteria[{node.name!r}] = {_codes(names)}")

    def stages(self, w: Writer) -> None:
        rs = self.rs
        if rs.stages:
            w.comment("stages: a lead reaches a stage when its condition holds and it reached "
                      "the stage before")
            w.line("stage = None")
            previous = None
            for st in rs.stages:
                self.describe(w, st)
                c = self.cond(st.cond)
                guard = "" if previous is None else f"stage == {previous!r} and "
                if self.explain:
                    if previous is not None:
                        w.line(f"if stage == {previous!r}:")
                        w.level += 1
                    w.line(f"held = {self.three(c)}")
                    w.line("ladder.append(held)")
                    w.line("if held is True:")
                    with w.indent():
                        w.line(f"stage = {st.name!r}")
                    if previous is not None:
                        w.level -= 1
                else:
                    w.line(f"if {guard}{c.t.wrapped(_OR) if guard else c.t.text}:")
                    with w.indent():
                        w.line(f"stage = {st.name!r}")
                previous = st.name
        if rs.disqualify:
            w.comment("disqualification overrides the ladder")
            parts = []
            for d in rs.disqualify:
                self.describe(w, d)
                c = self.cond(d.cond)
                parts.append(c.t)
                if self.explain:
                    w.line(f"barred.append(True if {c.t.wrapped(_IFELSE)} else False)")
            if self.explain:
                w.line("disqualified = any(barred)")
            else:
                w.line(f"disqualified = True if {_or(parts).wrapped(_IFELSE)} else False")
            if rs.stages:
                w.line("if disqualified:")
                with w.indent():
                    w.line(f"stage = {DISQUALIFIED!r}")

    def routes(self, w: Writer) -> None:
        first = True
        done = False
        for i, r in enumerate(self.rs.routes):
            self.describe(w, r)
            if r.cond is None:
                w.line("else:" if not first else "if True:")
                done = True
            else:
                c = self.cond(r.cond)
                w.line(f"{'if' if first else 'elif'} {c.t.text}:")
            with w.indent():
                w.line(f"route = {r.name!r}")
                if self.explain:
                    w.line(f"route_row = {i}")
            first = False
            if done:
                break
        if not done:
            if first:
                w.line("route = None")
            else:
                w.line("else:")
                with w.indent():
                    w.line("route = None")
                    if self.explain:
                        w.line("route_row = None")

    # ------------------------------------------------------------------ the function

    def function(self, explain: bool) -> Writer:
        self.explain = explain
        body = Writer(1)
        self.body(body)
        w = Writer(0)
        if explain:
            w.line("def _evaluate_explained(lead, events, as_of, cuts):")
        else:
            w.line("def evaluate(lead, events=(), as_of=None, explain=False, cuts=None):")
        with w.indent():
            if explain:
                w.line('"""`evaluate` with its working kept: every rule, group, criterion, '
                       'row and rung."""')
            else:
                for text in _EVALUATE_DOC:
                    w.line(text)
                w.line("if explain:")
                with w.indent():
                    w.line("return _evaluate_explained(lead, events, as_of, cuts)")
            self.preamble(w)
            if explain:
                w.line(f"rules = [None] * {len(self.plan.rules)}")
                w.line(f"groups = [None] * {len(self.plan.groups)}")
                w.line("sums = {}")
                w.line("criteria = {}")
                w.line("rows = {}")
                if self.rs.stages:
                    w.line("ladder = []")
                if self.rs.disqualify:
                    w.line("barred = []")
                if self.rs.routes:
                    w.line("route_row = None")
        w.extend(body)
        with w.indent():
            w.line()
            if explain:
                w.line("result = " + self.outputs_dict())
                w.line("result['explain'] = {")
                with w.indent():
                    w.line("'as_of': now," if self.needs_now else "'as_of': None,")
                    w.line("'rules': rules,")
                    w.line("'groups': groups,")
                    w.line("'sums': sums,")
                    w.line("'criteria': criteria,")
                    w.line("'rows': rows,")
                    w.line("'ladder': ladder," if self.rs.stages else "'ladder': [],")
                    w.line("'barred': barred," if self.rs.disqualify else "'barred': [],")
                    w.line("'route': route_row," if self.rs.routes else "'route': None,")
                w.line("}")
                w.line("return result")
            else:
                w.line("return " + self.outputs_dict())
        return w

    def outputs_dict(self) -> str:
        entries = []
        for key, kind in self.plan.outputs.items():
            if kind == "segment":
                local = self.ident(("segment", key), f"segment_{key}")
            elif kind == "score":
                local = self.score_local(key)
            elif kind == "grade":
                local = self.ident(("grade", key), f"grade_{key}")
            elif kind == "grade value":
                name = key.rsplit(".", 1)[0]
                local = self.ident(("grade value", name), f"value_{name}")
            elif kind == "qualification":
                local = self.ident(("qualification", key), f"qualification_{key}")
            elif kind == "qualification count":
                name = key.rsplit(".", 1)[0]
                local = self.ident(("qualification count", name), f"{name}_count")
            else:
                local = {"stage": "stage", "route": "route", "disqualified": "disqualified"}[kind]
            entries.append(f"{key!r}: {local}")
        if not entries:
            return "{}"
        return "{" + ", ".join(entries) + "}"

    def preamble(self, w: Writer) -> None:
        """Read the fields, fix the instant, sort the events, compute windows and aggregates."""
        fields = [(n, self.fields[n]) for n in self.rs.fields if n in self.fields]
        if fields:
            w.line("try:")
            with w.indent():
                for name, local in fields:
                    w.line(f"{local} = lead[{name!r}]")
            w.line("except KeyError:")
            with w.indent():
                for name, local in fields:
                    w.line(f"{local} = lead.get({name!r})")
        for name in self.rs.fields:
            if name in self.instant_fields:
                local = self.fields[name]
                w.line(f"if {local} is not None:")
                with w.indent():
                    w.line(f"{local} = _instant({local})")
        for name, local in self.date_instants.items():
            field_local = self.fields[name]
            w.line(f"{local} = _instant({field_local}) if {field_local} is not None else None")
        for head, local in self.domains.items():
            w.line(f"{local} = _domain({self.fields[head]})")
        for code, local in self.folded.items():
            w.line(f"{local} = {code}.casefold() if {code} is not None else None")
        if self.needs_now:
            w.line("now = _instant(as_of) if as_of is not None else "
                   "datetime.datetime.now(datetime.UTC).replace(tzinfo=None)")
        if self.event_types:
            ordered = [(e, self.event_types[e]) for e in self.rs.events if e in self.event_types]
            for _, local in ordered:
                w.line(f"{local} = []")
            w.line("wanted = {" + ", ".join(f"{e!r}: {local}" for e, local in ordered) + "}")
            w.line("for event in events:")
            with w.indent():
                w.line("if isinstance(event, tuple):")
                with w.indent():
                    w.line("kind, at, properties = event")
                w.line("else:")
                with w.indent():
                    w.line("kind, at, properties = event.get('type'), event.get('at'), event")
                w.line("bucket = wanted.get(kind)")
                w.line("if bucket is not None:")
                with w.indent():
                    w.line("at = _instant(at)")
                    w.line("if at <= now:")
                    with w.indent():
                        w.line("bucket.append((at, properties))")
            for event in self.rs.events:
                if event in self.last:
                    w.line(f"{self.last[event]} = max((at for at, _ in "
                           f"{self.event_types[event]}), default=None)")
        for local, code in self.windows.values():
            w.line(f"{local} = {code}")
        for local, code in self.aggregates.values():
            w.line(f"{local} = {code}")

    # ------------------------------------------------------------------ the module

    def assemble(self, functions: list[Writer]) -> str:
        """The whole module around the given functions: header, imports, constants, helpers."""
        if self.problems:
            from leadrules.diagnostics import finish

            raise CodegenError(finish(self.problems))
        self._fn_texts = [f.text() for f in functions]
        rs = self.rs
        out = Writer()
        out.comment(f"Generated by leadrules from {rs.path}. Do not edit: regenerate it with")
        out.comment(f"  leadrules compile {rs.path} --target python -o <file>")
        out.comment(f"Ruleset fingerprint: {rs.fingerprint}")
        out.line('"""Lead evaluator generated from a leadrules agreement: '
                 'evaluate(lead, events, as_of) -> dict.')
        out.line("")
        out.line("Standard library only. Scores are exact: int when every point is whole and "
                 "nothing decays,")
        out.line("otherwise Decimal rounded to 2 places, half away from zero. Unknown values "
                 "are None.")
        out.line('"""')
        out.line()
        self.imports(out)
        out.line()
        out.line(f"RULESET_FINGERPRINT = {rs.fingerprint!r}")
        out.line(f"SOURCE = {rs.path!r}")
        out.line(f"TIMEZONE = {self.zone_name!r}")
        self.constants(out)
        self.runtime(out)
        for f in functions:
            out.line()
            out.line()
            out.extend(f)
        return out.text()

    def uses(self, text: str, word: str) -> bool:
        """Whether `word` occurs in `text` as a name of its own: `(?<![\\w.])word\\b`, found
        with str.find (a regular expression with a look-behind scans megabytes slowly)."""
        end = len(word)
        start = text.find(word)
        while start >= 0:
            before = text[start - 1] if start else " "
            after = text[start + end] if start + end < len(text) else " "
            if not (before == "." or before == "_" or before.isalnum()) and \
                    not (after == "_" or after.isalnum()):
                return True
            start = text.find(word, start + 1)
        return False

    def imports(self, out: Writer) -> None:
        self.runtime_text = self.runtime_source()
        everything = "\n".join([*self.fn_texts(), self.runtime_text, self.constants_text()])
        lines = []
        if self.uses(everything, "bisect_left"):
            lines.append("from bisect import bisect_left")
        plain = []
        if "datetime." in everything:
            plain.append("import datetime")
        if self.patterns:
            plain.append("import re")
        froms = []
        dec = [n for n in ("ROUND_HALF_UP", "Context", "Decimal", "InvalidOperation")
               if self.uses(everything, n)]
        if dec:
            froms.append(f"from decimal import {', '.join(dec)}")
        if self.uses(everything, "floor"):
            froms.append("from math import floor")
        if self.uses(everything, "ZoneInfo"):
            froms.append("from zoneinfo import ZoneInfo")
        ordered = plain + sorted(lines + froms, key=lambda s: s.split()[1])
        for line in ordered:
            out.line(line)
        if self.patterns:
            out.line("")
            out.line("try:  # RE2 (pip install google-re2) runs any pattern in linear time")
            with out.indent():
                out.line("import re2")
            out.line("except ImportError:")
            with out.indent():
                out.line("re2 = None")

    def fn_texts(self) -> list[str]:
        return self._fn_texts

    def constants_text(self) -> str:
        w = Writer()
        self.constants(w)
        return w.text()

    def constants(self, out: Writer) -> None:
        """The module's constants (written once per state: they are long for 2,000 rules, and
        each probe and the evaluator's import scan need them again)."""
        key = (not self.utc and ("_instant" in self.helpers or self.calendar_needed()),
               tuple(self.patterns.items()), self.calendar_needed())
        lines = self.constants_written.get(key)
        if lines is None:
            w = Writer()
            self._constants(w)
            lines = self.constants_written[key] = w.lines
        assert out.level == 0
        out.lines.extend(lines)

    def _constants(self, out: Writer) -> None:
        rs = self.rs
        if not self.utc and ("_instant" in self.helpers or self.calendar_needed()):
            out.line("ZONE = ZoneInfo(TIMEZONE)")
        out.line()
        out.comment("The lead record: field -> type (enum members are given by their names).")
        out.line("SCHEMA = {")
        with out.indent():
            for f in rs.fields.values():
                out.line(f"{f.name!r}: {f.type.name!r},")
        out.line("}")
        out.comment("Enum fields: member -> how an export may spell it.")
        out.line("ENUMS = {")
        with out.indent():
            for f in rs.fields.values():
                if f.type.name == "enum":
                    members = ", ".join(f"{m.name!r}: {tuple(m.spellings)!r}"
                                        for m in f.type.members)
                    out.line(f"{f.name!r}: {{{members}}},")
        out.line("}")
        out.comment("Export column of each field.")
        out.line("COLUMNS = {")
        with out.indent():
            for f in rs.fields.values():
                out.line(f"{f.name!r}: {f.source_column!r},")
        out.line("}")
        out.comment("Events and the types of their properties.")
        out.line("EVENTS = {")
        with out.indent():
            for e in rs.events.values():
                props = ", ".join(f"{p.name!r}: {p.type.name!r}" for p in e.properties)
                out.line(f"{e.name!r}: {{{props}}},")
        out.line("}")
        out.comment("Keys of the dict evaluate() returns, and what each is.")
        out.line("OUTPUTS = {")
        with out.indent():
            for key, kind in self.plan.outputs.items():
                out.line(f"{key!r}: {kind!r},")
        out.line("}")
        out.comment("Scoring rules, numbered as in explain['rules']: (score, group, label, "
                    "source line).")
        out.comment("Each explain['rules'][i] is (fired, events or units, points, after "
                    "decay, after the rule's caps).")
        out.line("RULES = (")
        with out.indent():
            for info in self.plan.rules:
                node = info.node
                out.line(f"({info.score!r}, {info.group!r}, {node.label!r}, "
                         f"{self.source(node)!r}),")
        out.line(")")
        out.comment("Groups, numbered as in explain['groups']: (score, group, source line); "
                    "each entry is (sum, after caps).")
        out.line("GROUPS = (")
        with out.indent():
            for g in self.plan.groups:
                out.line(f"({g.score!r}, {g.node.name!r}, {self.source(g.node)!r}),")
        out.line(")")
        if self.patterns:
            out.comment("Patterns of `matches` as written (RE2 syntax), checked at compile time: "
                        "no back-references,")
            out.comment("no look-arounds, no nested repeats. RE2 runs them in linear time; "
                        "without it, Python's re")
            out.comment("runs them with RE2's meaning, but a pattern with many repeats in a row "
                        "can be slow on long texts.")
            out.line("PATTERNS = {")
            with out.indent():
                for pattern, name in self.patterns.items():
                    out.line(f"{name!r}: {pattern!r},")
            out.line("}")
            out.comment("The same patterns for Python's re, with RE2's meaning (ASCII \\w \\d "
                        "\\s \\b; $ only at the end).")
            for pattern, name in self.patterns.items():
                out.line(f"{name} = re2.compile(PATTERNS[{name!r}]) if re2 else "
                         f"re.compile({python_pattern(pattern)!r})")
        if self.calendar_needed():
            assert self.calendar is not None
            out.comment(f"Business calendar '{self.calendar.name}': working minutes after "
                        "local midnight, Monday first.")
            out.line("CALENDAR_HOURS = (")
            with out.indent():
                for day, windows in zip(calendars.DAY_KEYS, self.calendar_hours(), strict=True):
                    out.line(f"{windows!r},  # {day}")
            out.line(")")
            holidays = sorted({h.value for h in self.calendar.holidays})
            out.line(f"CALENDAR_HOLIDAYS = frozenset({_codes([repr(h) for h in holidays])})")

    def calendar_needed(self) -> bool:
        return bool({"_working_back", "_working_days_back", "_working_time",
                     "_working_days_age"} & self.helpers)

    def runtime(self, out: Writer) -> None:
        if self.runtime_text:
            out.lines.extend(self.runtime_text.rstrip("\n").split("\n"))

    def runtime_source(self) -> str:
        """The helper functions the evaluator needs (only those)."""
        chunks: list[str] = []
        for score, name in self.decays.items():
            chunks.append(self.decay_source(self.rs.scores[score], name))
        needed = set(self.helpers)
        if needed & {"_working_back", "_working_days_back", "_working_time",
                     "_working_days_age"}:
            needed |= {"_instant", "_local", "_working_periods"}
        for helper in _HELPER_ORDER:
            if helper in needed and helper in _HELPERS:
                chunks.append(_HELPERS[helper](self))
        return "".join("\n\n" + c.strip("\n") + "\n" for c in chunks)

    def decay_source(self, score: ast.Score, name: str) -> str:
        d = score.decay
        assert d is not None
        text = comment(unparse.decay(d))
        period = d.period
        if period.business and self.business() and period.unit in ("minutes", "hours"):
            self.helpers.add("_working_time")
            age = "_working_time(at, now)"
        elif period.business and self.business() and period.unit == "days":
            self.helpers.add("_working_days_age")
            age = None
        else:
            age = "now - at"
        if d.kind == "halflife":
            if age is None:
                exponent = f"Decimal(_working_days_age(at, now)) / {number_literal(period.amount)}"
            else:
                micros = int(duration_seconds(period) * 1_000_000)
                exponent = f"Decimal(({age}) // datetime.timedelta(microseconds=1)) / {micros}"
            return (f"def {name}(at, now):\n"
                    f'    """{text}: the share of its points an event keeps at its age."""\n'
                    f"    return Decimal('0.5') ** ({exponent})\n")
        rate = number_literal(d.rate.value if d.rate else Decimal(0))
        if age is None:
            periods = f"_working_days_age(at, now) // {int(period.amount)}"
        else:
            periods = f"({age}) // {timedelta_literal(period)}"
        return (f"def {name}(at, now):\n"
                f'    """{text}: the share of its points an event keeps at its age."""\n'
                f"    factor = 1 - {rate} * ({periods})\n"
                f"    return factor if factor > 0 else 0\n")


def _dkey(d: ast.Duration | None):
    return None if d is None else (d.amount, d.unit, d.business)


def _tuple(names: list[str]) -> str:
    return _codes([repr(n) for n in names])


def _codes(codes: list[str]) -> str:
    """A tuple display of expressions: `()`, `(a,)`, `(a, b)`."""
    if not codes:
        return "()"
    return "(" + ", ".join(codes) + ("," if len(codes) == 1 else "") + ")"


def eval_str(code: str) -> str:
    """The value of a string literal we wrote with repr()."""
    import ast as pyast

    return pyast.literal_eval(code)


def eval_date(code: str) -> date:
    """The date of a `datetime.date(y, m, d)` literal we wrote with repr()."""
    y, m, d = (int(x) for x in code[len("datetime.date("):-1].split(","))
    return date(y, m, d)


# ============================================================================ runtime helpers
# Source of the helpers the generated module may need, written out only when used.


def _h_instant(g: Generator) -> str:
    if g.utc:
        local = "        return value\n"
    else:
        local = "        value = value.replace(tzinfo=ZONE)\n"
    return (
        "def _instant(value):\n"
        '    """A date or date-time as naive UTC; naive ones are local to the agreement."""\n'
        "    if isinstance(value, str):\n"
        "        value = datetime.datetime.fromisoformat(value)\n"
        "    if not isinstance(value, datetime.datetime):\n"
        "        if not isinstance(value, datetime.date):\n"
        "            raise TypeError(f'not a date or a date-time: {value!r}')\n"
        "        value = datetime.datetime(value.year, value.month, value.day)\n"
        "    if value.tzinfo is None:\n"
        + local +
        "    return value.astimezone(datetime.UTC).replace(tzinfo=None)\n"
    )


def _h_local(g: Generator) -> str:
    zone = "datetime.UTC" if g.utc else "ZONE"
    return (
        "def _local(moment):\n"
        '    """A naive UTC instant as local wall-clock time (naive)."""\n'
        f"    return moment.replace(tzinfo=datetime.UTC).astimezone({zone}).replace("
        "tzinfo=None)\n"
    )


def _h_working_periods(g: Generator) -> str:
    return (
        "def _working_periods(day):\n"
        '    """The working periods of one local day, as naive UTC (start, end) pairs."""\n'
        "    if day in CALENDAR_HOLIDAYS:\n"
        "        return ()\n"
        "    midnight = datetime.datetime(day.year, day.month, day.day)\n"
        "    return tuple((_instant(midnight + datetime.timedelta(minutes=start)),\n"
        "                  _instant(midnight + datetime.timedelta(minutes=end)))\n"
        "                 for start, end in CALENDAR_HOURS[day.weekday()])\n"
    )


def _h_working_back(g: Generator) -> str:
    return (
        "def _working_back(now, delta):\n"
        '    """The latest instant from which `delta` of working time elapses until `now`."""\n'
        "    if not any(CALENDAR_HOURS):\n"
        "        return datetime.datetime.min\n"
        "    day = _local(now).date()\n"
        "    while True:\n"
        "        for start, end in reversed(_working_periods(day)):\n"
        "            end = min(end, now)\n"
        "            if end <= start:\n"
        "                continue\n"
        "            if end - start >= delta:\n"
        "                return end - delta\n"
        "            delta -= end - start\n"
        "        day -= datetime.timedelta(days=1)\n"
    )


def _h_working_time(g: Generator) -> str:
    return (
        "def _working_time(start, end):\n"
        '    """Working time between two naive UTC instants."""\n'
        "    total = datetime.timedelta(0)\n"
        "    day, last = _local(start).date(), _local(end).date()\n"
        "    while day <= last:\n"
        "        for a, b in _working_periods(day):\n"
        "            a, b = max(a, start), min(b, end)\n"
        "            if b > a:\n"
        "                total += b - a\n"
        "        day += datetime.timedelta(days=1)\n"
        "    return total\n"
    )


def _h_working_days_back(g: Generator) -> str:
    return (
        "def _working_days_back(now, days):\n"
        '    """The same clock time `days` working days before `now` (naive UTC)."""\n'
        "    if not any(CALENDAR_HOURS):\n"
        "        return datetime.datetime.min\n"
        "    local = _local(now)\n"
        "    day = local.date()\n"
        "    while days > 0:\n"
        "        day -= datetime.timedelta(days=1)\n"
        "        if CALENDAR_HOURS[day.weekday()] and day not in CALENDAR_HOLIDAYS:\n"
        "            days -= 1\n"
        "    return _instant(datetime.datetime.combine(day, local.time()))\n"
    )


def _h_working_days_age(g: Generator) -> str:
    return (
        "def _working_days_age(at, now):\n"
        '    """Whole working days from `at` to `now` (each ends at now\'s clock time)."""\n'
        "    if not any(CALENDAR_HOURS):\n"
        "        return 0\n"
        "    local = _local(now)\n"
        "    day, age = local.date(), 0\n"
        "    while True:\n"
        "        day -= datetime.timedelta(days=1)\n"
        "        if CALENDAR_HOURS[day.weekday()] and day not in CALENDAR_HOLIDAYS:\n"
        "            if _instant(datetime.datetime.combine(day, local.time())) < at:\n"
        "                return age\n"
        "            age += 1\n"
    )


def _h_round(g: Generator) -> str:
    return (
        "def _round(value):\n"
        '    """Two decimal places, half away from zero."""\n'
        "    try:\n"
        "        return Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)\n"
        "    except InvalidOperation:\n"
        "        # More digits than the 28 of the default context: as many as the value needs.\n"
        "        value = Decimal(value)\n"
        "        digits = Context(prec=value.adjusted() + 3)\n"
        "        return value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP, context=digits)\n"
    )


def _h_number(g: Generator) -> str:
    return (
        "def _number(value):\n"
        '    """Numbers for exact arithmetic: a float is taken as the decimal it prints as."""\n'
        "    return Decimal(repr(value)) if isinstance(value, float) else value\n"
    )


def _h_domain(g: Generator) -> str:
    return (
        "def _domain(email):\n"
        '    """The part of an e-mail address after its last @, in lower case."""\n'
        "    if email is None or '@' not in email:\n"
        "        return None\n"
        "    return email.rpartition('@')[2].strip().casefold() or None\n"
    )


def _h_latest(g: Generator) -> str:
    return (
        "def _latest(*moments):\n"
        "    found = [m for m in moments if m is not None]\n"
        "    return max(found) if found else None\n"
    )


def _h_total(g: Generator) -> str:
    return (
        "def _total(bucket, name, since):\n"
        '    """The sum of one property over events after `since` (missing values skipped)."""\n'
        "    total = 0\n"
        "    for at, properties in bucket:\n"
        "        if since is None or at > since:\n"
        "            value = properties.get(name)\n"
        "            if value is not None:\n"
        "                total += value\n"
        "    return total\n"
    )


def _h_quantile(g: Generator) -> str:
    return (
        "def _quantile(value, cuts):\n"
        '    """q1 (lowest) to qN: a value equal to a cut point belongs to the group below."""\n'
        "    if value is None or not cuts:\n"
        "        return None\n"
        "    return f'q{bisect_left(cuts, value) + 1}'\n"
    )


_HELPERS = {
    "_instant": _h_instant,
    "_local": _h_local,
    "_working_periods": _h_working_periods,
    "_working_back": _h_working_back,
    "_working_time": _h_working_time,
    "_working_days_back": _h_working_days_back,
    "_working_days_age": _h_working_days_age,
    "_round": _h_round,
    "_number": _h_number,
    "_domain": _h_domain,
    "_latest": _h_latest,
    "_total": _h_total,
    "_quantile": _h_quantile,
}
_HELPER_ORDER = tuple(_HELPERS)


# ============================================================================ entry points


def generate(rs: Ruleset, planned: Plan | None = None) -> str:
    """The source of the standalone evaluator of a checked ruleset (raises CodegenError).
    `planned`: its plan, when the caller already made it."""
    g = Generator(rs, planned)
    fast = g.function(explain=False)
    explained = g.function(explain=True)
    source = g.assemble([fast, explained])
    if planned is not None:
        # Probes over this plan start from what writing the evaluator registered (see
        # probe_source); the comments are not needed for that.
        g.described.clear()
        g._fn_texts = []
        planned.cache[_WRITTEN] = g
    return source


# Plan.cache key of the Generator that wrote the evaluator of that plan.
_WRITTEN = "generator"


def probe_source(rs: Ruleset, conditions, planned: Plan | None = None) -> tuple[str, list]:
    """A module with `probe(lead, events, as_of, values) -> (results, seen)` evaluating every
    atomic test inside `conditions` (the leaves under and/or/not) through the same compiler as
    the evaluator. `values` holds what evaluation produced (the dict of `evaluate`, plus
    criteria as 'qualification.criterion'). `results[i]` is True/False/None for atom i and
    `seen[i]` the values that atom read. Returns the source and, in order, each atom with the
    names (as the rules write them) of the values it reads.

    A probe reads the lead as the evaluator does, so it starts from everything writing the
    evaluator registered (fields, instants, windows, the type of each score): from the plan's
    generator when `planned` has written its evaluator (generate(rs, planned)), else by
    writing it again."""
    written = planned.cache.get(_WRITTEN) if planned is not None else None
    if written is not None and written.rs is rs:
        g = written.fork()
    else:
        g = Generator(rs, planned)
        g.function(explain=False)
    g.explain = False
    body = Writer(1)
    atoms: list = []
    for cond in conditions:
        for atom in _atoms(cond):
            c = g.cond(atom)
            read = [(name, code) for name, code in _read_by(g, atom) if code is not None]
            atoms.append((atom, [name for name, _ in read]))
            body.comment(unparse.cond(atom))
            body.line(f"results.append({g.three(c)})")
            body.line(f"seen.append({_codes([code for _, code in read])})")
    w = Writer(0)
    w.line("def probe(lead, events, as_of, values):")
    with w.indent():
        g.preamble(w)
        for key, local in list(g.idents.items()):
            name = _value_key(key)
            if name is not None:
                w.line(f"{local} = values.get({name!r})")
        for name in (STAGE_KEY, ROUTE_KEY):
            w.line(f"{name} = values.get({name!r})")
        w.line("results = []")
        w.line("seen = []")
    w.extend(body)
    with w.indent():
        w.line("return results, seen")
    return g.assemble([w]), atoms


def _atoms(cond) -> list:
    if isinstance(cond, (ast.And, ast.Or)):
        return [a for item in cond.items for a in _atoms(item)]
    if isinstance(cond, ast.Not):
        return _atoms(cond.item)
    return [cond]


def _read_by(g: Generator, atom) -> list[tuple[str, str | None]]:
    """The values an atomic test reads, as (how the rules write it, expression)."""
    def val(node, context=None) -> tuple[str, str | None]:
        if isinstance(node, (ast.Ref, ast.Count, ast.Sum, ast.DaysSince)):
            v = g.value(node, context)
            return unparse.expr(node), (None if v.kind == "name" else v.code)
        return "", None
    if isinstance(atom, ast.Compare):
        left = g.value(atom.left)
        return [val(atom.left), val(atom.right, left)]
    if isinstance(atom, ast.Between):
        return [val(atom.value), val(atom.low), val(atom.high)]
    if isinstance(atom, (ast.In, ast.Presence, ast.Truth)):
        return [val(atom.value)]
    if isinstance(atom, ast.TextTest):
        return [val(atom.value), val(atom.operand)]
    if isinstance(atom, ast.Within):
        return [(f"the latest {atom.event}", g.last_of(atom.event))]
    return []


def _value_key(key: tuple) -> str | None:
    """The key of the evaluation result that an identifier of the generator stands for."""
    kind = key[0]
    if kind in ("segment", "score", "grade", "qualification"):
        return key[1]
    if kind == "qualification count":
        return f"{key[1]}.count"
    if kind == "criterion":
        return f"{key[1]}.{key[2]}"
    return None
