"""Test blocks of a rule file and fixture cases (YAML, JSON, CSV) -> outcomes with diffs, coverage.

A case is a lead, its events, an instant and expectations: conditions (`expect fit == 50`),
expected values (`fit: 50` in a fixture), and rules expected to fire or not. Each failed
expectation says what was expected, what evaluation gave, and the rule lines involved.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from leadrules import ast, unparse
from leadrules.codegen import QUANTILES
from leadrules.diagnostics import Diagnostic, did_you_mean, error
from leadrules.engine import Engine, coerce_events, coerce_lead, from_ruleset, parse_as_of
from leadrules.explain import Evaluated, blockers, describe, evaluate, named, show, truth
from leadrules.model import Ruleset
from leadrules.words import amount, rule_label, signed

FIXTURE_SUFFIXES = (".yaml", ".yml", ".json", ".csv")
# The diagnostic of a failed expectation (LR801 was taken by "test without `as of`").
FAILED = "LR810"


class FixtureError(Exception):
    """A fixture file that cannot be read as cases; the message says where and why."""


@dataclass
class Check:
    """One expectation of a case."""

    kind: str  # "condition", "value", "fired", "not fired"
    text: str
    span: ast.Span
    cond: Any = None
    key: str | None = None
    expected: Any = None


@dataclass
class Case:
    name: str
    span: ast.Span
    lead: dict
    events: list
    as_of: Any
    checks: list[Check]
    problems: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.span.file}:{self.span.line}"


@dataclass
class Failure:
    check: Check
    message: str
    involved: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    case: Case
    failures: list[Failure]
    evaluated: Evaluated | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


# ============================================================================ cases


def literal(node) -> Any:
    """The Python value of a literal written in a test block."""
    if isinstance(node, ast.Number):
        v = node.value
        return int(v) if v == v.to_integral_value() else v
    if isinstance(node, ast.Percent):
        return node.value
    if isinstance(node, ast.Money):
        return node.amount
    if isinstance(node, (ast.String, ast.Bool, ast.DateLit, ast.DateTimeLit)):
        return node.value
    if isinstance(node, ast.Ref):
        return node.name
    raise ValueError(f"'{unparse.expr(node)}' cannot be a value of a lead")


def _record(entries: tuple[ast.Entry, ...], problems: list[str]) -> dict:
    out = {}
    for entry in entries:
        try:
            out[entry.name] = literal(entry.value)
        except ValueError as exc:
            problems.append(str(exc))
    return out


def cases_from_blocks(rs: Ruleset) -> list[Case]:
    """The `test` blocks of the rule file, as cases."""
    cases = []
    for test in rs.tests:
        problems: list[str] = []
        record: dict = {}
        raw_events: list[dict] = []
        as_of = None
        checks: list[Check] = []
        for item in test.items:
            if isinstance(item, ast.AsOf):
                as_of = item.value.value
            elif isinstance(item, ast.TestLead):
                record.update(_record(item.record.entries, problems))
            elif isinstance(item, ast.TestEvent):
                props = _record(item.properties.entries, problems) if item.properties else {}
                raw_events.append({**props, "type": item.name, "at": item.at.value})
            elif isinstance(item, ast.Expect):
                checks.append(Check("condition", unparse.cond(item.cond), item.span,
                                    cond=item.cond))
            elif isinstance(item, ast.ExpectFired):
                kind = "not fired" if item.negated else "fired"
                checks.append(Check(kind, f"{kind} {unparse.string(item.label)}", item.span,
                                    expected=item.label))
        lead, found = coerce_lead(rs, record, "the lead")
        events, found_events = coerce_events(rs, raw_events, "events")
        if isinstance(as_of, date) and not isinstance(as_of, datetime):
            as_of = datetime(as_of.year, as_of.month, as_of.day)
        cases.append(Case(test.name, test.span, lead, events, as_of, checks,
                          problems + found + found_events))
    return cases


_NAME_KEYS = ("name", "case", "test")
_AS_OF_KEYS = ("as of", "as_of", "asof")
_NOT_FIRED_KEYS = ("not fired", "not_fired")


def cases_from_file(rs: Ruleset, path: str | Path) -> list[Case]:
    """Cases from a YAML, JSON or CSV fixture file (format: docs/evaluation.md)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FIXTURE_SUFFIXES:
        raise FixtureError(f"{path}: test cases must be in a .yaml, .json or .csv file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FixtureError(f"{path}: the file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{path}: the file cannot be read ({exc})") from None
    if suffix == ".csv":
        return _csv_cases(rs, path, text)
    lines: list[int] = []
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FixtureError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        lines = _json_case_lines(text, data)
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
            lines = _yaml_case_lines(yaml.compose(text))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            raise FixtureError(f"{path}{where}: not valid YAML "
                               f"({getattr(exc, 'problem', None) or exc})") from None
    items = data.get("cases") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise FixtureError(f"{path}: expected a list of cases (or `cases:` holding one)")
    cases = []
    for i, item in enumerate(items):
        line = lines[i] if i < len(lines) else (i + 1)
        span = ast.Span(str(path), line, 1, line, 1)
        if not isinstance(item, dict):
            raise FixtureError(f"{path}:{line}: case {i + 1} is not a mapping of lead, "
                               "events, expect…")
        cases.append(_mapping_case(rs, item, span, f"case {i + 1}"))
    return cases


def _yaml_case_lines(node) -> list[int]:
    """The line of each case in a YAML fixture (a list, or `cases:` holding one)."""
    if node is None:
        return []
    if getattr(node, "id", "") == "mapping":
        for key, value in node.value:
            if getattr(key, "value", None) == "cases":
                node = value
                break
    if getattr(node, "id", "") != "sequence":
        return []
    return [item.start_mark.line + 1 for item in node.value]


def _json_case_lines(text: str, data) -> list[int]:
    """The line where each case of a JSON fixture starts (a list, or `"cases"` holding one)."""
    import re

    if isinstance(data, list):
        start = text.find("[")
    else:
        found = re.search(r'"cases"\s*:\s*\[', text)
        start = found.end() - 1 if found else -1
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    lines = []
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return lines
        lines.append(text.count("\n", 0, pos) + 1)
        try:
            _, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return lines


def _first(item: dict, keys: tuple[str, ...], default=None):
    for key in keys:
        if key in item:
            return item[key]
    return default


def _labels(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split("|") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _mapping_case(rs: Ruleset, item: dict, span: ast.Span, default_name: str) -> Case:
    name = str(_first(item, _NAME_KEYS, default_name))
    problems: list[str] = []
    known = set(_NAME_KEYS + _AS_OF_KEYS + _NOT_FIRED_KEYS +
                ("lead", "events", "expect", "fired"))
    for key in item:
        if key not in known:
            hint = did_you_mean(str(key), sorted(known))
            problems.append(f"'{key}' is not part of a case (lead, events, as of, expect, fired, "
                            f"not fired){'; ' + hint if hint else ''}")
    record = item.get("lead") or {}
    if not isinstance(record, dict):
        problems.append("`lead` must map field names to values")
        record = {}
    lead, found = coerce_lead(rs, record, "lead")
    problems += found
    events, found = coerce_events(rs, item.get("events"), "events")
    problems += found
    as_of = _first(item, _AS_OF_KEYS)
    try:
        as_of = parse_as_of(as_of if not isinstance(as_of, date) or isinstance(as_of, datetime)
                            else as_of.isoformat(), rs)
    except ValueError as exc:
        problems.append(f"as of: {exc}")
        as_of = None
    checks: list[Check] = []
    expect = item.get("expect") or {}
    if not isinstance(expect, dict):
        problems.append("`expect` must map result names to the values expected")
        expect = {}
    for key, value in expect.items():
        checks.append(Check("value", f"{key}: {_shown(value)}", span, key=str(key),
                            expected=value))
    for label in _labels(item.get("fired")):
        checks.append(Check("fired", f"fired {unparse.string(label)}", span, expected=label))
    for label in _labels(_first(item, _NOT_FIRED_KEYS)):
        checks.append(Check("not fired", f"not fired {unparse.string(label)}", span,
                            expected=label))
    if not checks:
        # A case that expects nothing would always pass: it proves nothing, so it is reported.
        problems.append("this case expects nothing: give the values expected (`expect`, or "
                        "`expect.<result>` columns in a CSV) or the rules expected to fire")
    return Case(name, span, lead, events, as_of, checks, problems)


def _csv_cases(rs: Ruleset, path: Path, text: str) -> list[Case]:
    """One case per row: `name`, `as of`, `events` (a JSON array), `fired` and `not fired`
    (labels separated by |), `expect.<result>` columns; every other column is a lead field."""
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise FixtureError(f"{path}: the file has no header row")
    cases = []
    for row_number, row in enumerate(reader, start=2):
        span = ast.Span(str(path), row_number, 1, row_number, 1)
        item: dict[str, Any] = {"lead": {}, "expect": {}}
        for column, cell in row.items():
            if column is None:
                raise FixtureError(f"{path}:{row_number}: this row has more cells than the "
                                   "header has columns")
            key = column.strip()
            cell = cell if cell is not None else ""
            low = key.lower()
            if low in _NAME_KEYS:
                item["name"] = cell
            elif low in _AS_OF_KEYS:
                item["as of"] = cell or None
            elif low == "events":
                if cell.strip():
                    try:
                        item["events"] = json.loads(cell)
                    except json.JSONDecodeError as exc:
                        raise FixtureError(f"{path}:{row_number}: the events cell is not a "
                                           f"JSON array ({exc.msg})") from None
            elif low == "fired":
                item["fired"] = cell
            elif low in _NOT_FIRED_KEYS:
                item["not fired"] = cell
            elif low.startswith("expect.") or low.startswith("expect "):
                if cell != "":
                    item["expect"][key[7:].strip()] = cell
            elif cell != "":
                item["lead"][key] = cell
        cases.append(_mapping_case(rs, item, span, f"row {row_number}"))
    return cases


def _shown(value) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# ============================================================================ running


def run(engine: Engine, cases: list[Case]) -> list[Outcome]:
    """Evaluate every case and judge its expectations."""
    return [run_case(engine, case) for case in cases]


def run_case(engine: Engine, case: Case) -> Outcome:
    if case.problems:
        return Outcome(case, [Failure(Check("input", "the case", case.span), p)
                              for p in case.problems])
    ev = evaluate(engine, case.lead, case.events, case.as_of)
    failures = []
    conditions = tuple(c.cond for c in case.checks if c.kind == "condition")
    atoms = ev.atoms(conditions)
    for check in case.checks:
        if check.kind == "condition":
            if truth(check.cond, atoms) is True:
                continue
            found = blockers(check.cond, atoms)
            why = "; ".join(describe(ev, a) for a in found) or "it does not hold"
            failures.append(Failure(check, f"expected {check.text}, but {why}",
                                    involved_lines(ev, _names_in(check.cond))))
        elif check.kind == "value":
            failure = _value_failure(ev, check)
            if failure is not None:
                failures.append(failure)
        else:
            failure = _fired_failure(ev, check)
            if failure is not None:
                failures.append(failure)
    return Outcome(case, failures, ev)


def _names_in(cond) -> list[str]:
    names = []
    for node in ast.walk(cond):
        if isinstance(node, ast.Ref) and node.name not in names:
            names.append(node.name)
    return names


def _value_failure(ev: Evaluated, check: Check) -> Failure | None:
    values = ev.values
    key = check.key or ""
    kinds = ev.engine.outputs
    if key not in values:
        candidates = list(values)
        hint = did_you_mean(key, candidates)
        return Failure(check, f"there is no result named '{key}'"
                       + (f"; {hint}" if hint else f" (results: {', '.join(candidates)})"))
    actual = values[key]
    kind = kinds.get(key, "criterion")
    ok, expected = _same(check.expected, actual, kind)
    if ok:
        return None
    rs = ev.engine.ruleset
    # A result nobody could compute is unknown ("missing" is for the lead's own fields).
    got = show(actual, rs) if actual is not None else "no stage" if kind == "stage" else "unknown"
    possible = _possible_values(rs, key, kind)
    if possible and expected not in possible and expected != "unknown (missing)":
        expected += f" (which {key} never is: it is one of {', '.join(possible)})"
    return Failure(check, f"{key}: expected {expected}, got {got}", involved_lines(ev, [key]))


def _possible_values(rs, key: str, kind: str) -> list[str]:
    """The values a grade, the stage or the route can take, for a clearer failure."""
    if kind == "grade" and key in rs.grades:
        grade = rs.grades[key]
        if grade.quantiles:
            return [f"q{i + 1}" for i in range(QUANTILES[grade.quantiles])]
        return [row.name for row in grade.rows]
    if kind == "stage":
        return [s.name for s in rs.stages] + ["disqualified"]
    if kind == "route":
        return [r.name for r in rs.routes]
    return []


_UNKNOWN_WORDS = {"unknown", "missing", "none", "null", ""}
_YES = {"yes", "true", "y", "1", "oui", "vrai"}
_NO = {"no", "false", "n", "0", "non", "faux"}


def _same(expected: Any, actual: Any, kind: str) -> tuple[bool, str]:
    """Whether a fixture's expected value matches, and the expected value in words."""
    if isinstance(expected, str) and expected.strip().lower() in _UNKNOWN_WORDS:
        expected = None
    if expected is None:
        return actual is None, "unknown (missing)"
    if kind in ("segment", "qualification", "criterion", "disqualified"):
        if isinstance(expected, str):
            word = expected.strip().lower()
            expected = True if word in _YES else False if word in _NO else expected
        if not isinstance(expected, bool):
            return False, f"{expected} (write yes, no or unknown)"
        return actual is expected, "yes" if expected else "no"
    if kind in ("score", "grade value", "qualification count"):
        try:
            want = Decimal(repr(expected)) if isinstance(expected, float) else \
                Decimal(str(expected).strip().replace("_", ""))
        except InvalidOperation:
            return False, f"{expected} (not a number)"
        if actual is None:
            return False, amount(want)
        got = Decimal(repr(actual)) if isinstance(actual, float) else Decimal(actual)
        return got == want, amount(want)
    return actual is not None and str(expected).strip() == str(actual), str(expected).strip()


def _rules_labelled(ev: Evaluated, label: str):
    return [c for c in ev.result.rules() if label in (c.label, c.text)]


def _fired_as_expected(ev: Evaluated, check: Check) -> bool:
    """Whether an expectation on a rule holds, read from the explained dict (building the
    full result of 2,000 rules for a passing expectation would cost more than the test)."""
    plan = ev.engine.plan
    names = plan.cache.get(_LABELS)
    if names is None:
        names = plan.cache[_LABELS] = [(rule_label(plan.rs, info.node), unparse.rule(info.node))
                                       for info in plan.rules]
    worked = ev.raw["explain"]["rules"]
    found = [i for i, pair in enumerate(names) if check.expected in pair]
    if not found:
        return False
    return any(worked[i][0] is True for i in found) == (check.kind == "fired")


# Plan.cache key of each rule's (label, text), in the order of the plan's rules.
_LABELS = "rule labels"


def _fired_failure(ev: Evaluated, check: Check) -> Failure | None:
    if _fired_as_expected(ev, check):
        return None
    label = check.expected
    found = _rules_labelled(ev, label)
    if not found:
        labels = sorted({c.label for c in ev.result.rules()})
        hint = did_you_mean(label, labels)
        return Failure(check, f"no rule is labelled {unparse.string(label)}"
                       + (f"; {hint}" if hint else ""))
    fired = any(c.fired is True for c in found)
    if fired == (check.kind == "fired"):
        return None
    involved = [f"{c.source}  {c.text}" for c in found]
    if check.kind == "fired":
        nodes = {info.index: info.node for info in ev.engine.plan.rules}
        whens = [c for c in found if c.kind == "when"]
        atoms = ev.atoms(tuple(nodes[c.index].cond for c in whens))
        whys = []
        for c in whens:
            whys += [describe(ev, a) for a in blockers(nodes[c.index].cond, atoms)]
        for c in found:
            if c.kind == "per event":
                whys.append(f"no {nodes[c.index].event} was counted")
            elif c.kind == "per unit":
                whys.append(f"{nodes[c.index].field.name} gave no whole unit")
        return Failure(check, f"expected the rule {unparse.string(label)} to fire, but "
                       + ("; ".join(whys) or "it did not"), involved)
    gave = ", ".join(signed(c.counted) for c in found)
    return Failure(check, f"expected the rule {unparse.string(label)} not to fire, but it did "
                   f"({gave})", involved)


def involved_lines(ev: Evaluated, names: list[str]) -> list[str]:
    """The rule lines behind some results: a score's rules that counted or were unknown, the
    grade row that matched, the stage that stopped the ladder, a segment or qualification."""
    rs = ev.engine.ruleset
    r = ev.result
    out: list[str] = []
    for name in names:
        head = name.split(".")[0]
        if head in r.scores:
            score = r.scores[head]
            if score.derived:
                out.append(f"{score.source}  score {head} = {score.formula}")
            for c in score.rules:
                if c.counted or c.fired is None:
                    effect = "unknown, not counted" if c.fired is None else \
                        f"gave {signed(c.counted)}"
                    out.append(f"{c.source}  {c.text}  ({effect})")
        elif head in r.grades:
            g = r.grades[head]
            if g.source:
                row = next((x for x in rs.grades[head].rows
                            if f"{x.span.file}:{x.span.line}" == g.source), None)
                out.append(f"{g.source}  {unparse.row(row) if row else g.value}")
        elif head in ("stage",) and r.ladder:
            for step in r.ladder:
                if step.evaluated:
                    node = next(s for s in rs.stages if s.name == step.name)
                    state = "reached" if step.reached else (
                        "unknown" if step.held is None else "not met")
                    out.append(f"{step.source}  {named(node)} when {unparse.cond(node.cond)}"
                               f"  ({state})")
            for d, hit in zip(rs.disqualify, ev.raw["explain"].get("barred", []), strict=False):
                if hit:
                    out.append(f"{d.span.file}:{d.span.line}  {unparse.line(d)}  (holds)")
        elif head in rs.segments or head in rs.qualifications:
            node = rs.segments.get(head) or rs.qualifications.get(head)
            out.append(f"{node.span.file}:{node.span.line}  {unparse.heading(node)}")
        elif head == "route" and r.route_source:
            out.append(f"{r.route_source}  route {r.route}")
    return list(dict.fromkeys(out))


# ============================================================================ coverage


@dataclass
class Coverage:
    """Rules, grade rows and stages, and which of them some case exercised."""

    items: list[tuple[str, str, str]]  # (kind, source, text)
    exercised: set[int]

    @property
    def percent(self) -> Decimal:
        if not self.items:
            return Decimal(100)
        return Decimal(100 * len(self.exercised)) / len(self.items)

    def missing(self) -> list[tuple[str, str, str]]:
        return [item for i, item in enumerate(self.items) if i not in self.exercised]


def coverage(engine: Engine, outcomes: list[Outcome]) -> Coverage:
    """A rule is exercised when it fires in some case, a grade row when some case gets that
    grade, a stage when some case ends there (disqualified counts as a stage)."""
    rs = engine.ruleset
    items: list[tuple[str, str, str]] = []
    keys: list[tuple] = []
    for info in engine.plan.rules:
        items.append(("rule", _src(info.node), unparse.rule(info.node)))
        keys.append(("rule", info.index))
    for g in rs.grades.values():
        for row in g.rows:
            items.append(("grade row", _src(row), f"grade {g.name}: {unparse.row(row)}"))
            keys.append(("row", g.name, row.name))
    for st in rs.stages:
        items.append(("stage", _src(st), f"stage {named(st)}"))
        keys.append(("stage", st.name))
    if rs.stages and rs.disqualify:
        d = rs.disqualify[0]
        items.append(("stage", _src(d), "stage disqualified"))
        keys.append(("stage", "disqualified"))
    seen: set[tuple] = set()
    for outcome in outcomes:
        ev = outcome.evaluated
        if ev is None:
            continue
        for c in ev.result.rules():
            if c.fired is True:
                seen.add(("rule", c.index))
        for name, g in ev.result.grades.items():
            if g.value is not None:
                seen.add(("row", name, g.value))
        if ev.result.stage is not None:
            seen.add(("stage", ev.result.stage))
    return Coverage(items, {i for i, k in enumerate(keys) if k in seen})


def _src(node) -> str:
    return f"{node.span.file}:{node.span.line}"


# ============================================================================ for `leadrules check`


def run_tests(rs: Ruleset) -> list[Diagnostic]:
    """The rule file's own `test` blocks, as diagnostics: LR810 for each failed expectation,
    at the line of that expectation (or of the test, for a problem with its lead)."""
    if not rs.tests or not rs.ok:
        return []
    engine = from_ruleset(rs)
    out = []
    for outcome in run(engine, cases_from_blocks(rs)):
        for failure in outcome.failures:
            hint = None
            if failure.involved:
                hint = "rules involved: " + "; ".join(failure.involved)
            out.append(error(FAILED, f'test "{outcome.case.name}": {failure.message}',
                             failure.check.span, hint))
    return out


# ============================================================================ the report


def format_outcomes(outcomes: list[Outcome]) -> str:
    """One line per test and per failure. Names, labels and values come from the rules: each
    is kept on its line (no new line or escape sequence from a rule file reaches a CI log)."""
    from leadrules.output import printable

    lines = []
    for o in outcomes:
        status = "ok" if o.ok else "FAILED"
        lines.append(printable(f"{o.case.where}  {o.case.name}  {status}"))
        for f in o.failures:
            where = f"line {f.check.span.line}: " if f.check.kind == "condition" else ""
            lines.append("    " + printable(f"{where}{f.message}"))
            for rule in f.involved:
                lines.append("        " + printable(str(rule)))
    failed = sum(not o.ok for o in outcomes)
    total = len(outcomes)
    if total == 0:
        lines.append("No test found: write `test` blocks in the rules or give --cases.")
    elif failed:
        lines.append(f"{total} test{'s' if total != 1 else ''}, {failed} failed.")
    else:
        lines.append(f"{total} test{'s' if total != 1 else ''}, all passed.")
    return "\n".join(lines)


def format_coverage(cov: Coverage) -> str:
    total = len(cov.items)
    done = len(cov.exercised)
    pct = cov.percent.quantize(Decimal("0.1"))
    lines = [f"Coverage: {done} of {total} rules, grade rows and stages exercised ({pct} %)."]
    missing = cov.missing()
    if missing:
        lines.append("Not exercised by any test:")
        for _kind, source, text in missing:
            lines.append(f"  {source}  {text}")
    return "\n".join(lines)
