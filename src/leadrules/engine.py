"""A rule file -> an Engine that evaluates leads in-process by running the generated evaluator.

The engine compiles the very source `leadrules compile` writes (codegen.generate) into a fresh
module namespace with `compile()` + `exec`: that source is our own, made from the checked
ruleset with every rule-file value passed through `repr()`, never rule text. Patterns of
`matches` are then swapped for RE2 ones (linear time). Namespaces are cached per source, and
the bytecode of a large evaluator is kept in the user's cache folder, by digest of its source
(compiling 2,000 rules costs more than checking them).
"""

from __future__ import annotations

import hashlib
import linecache
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadrules import codegen
from leadrules.diagnostics import ERROR, Diagnostic
from leadrules.model import Ruleset

if TYPE_CHECKING:
    from types import CodeType

    from leadrules.result import LeadResult

__all__ = [
    "Engine", "RulesError", "from_ruleset", "load", "quantile_cuts", "quantile_label",
    "coerce_lead", "coerce_events",
]


class RulesError(Exception):
    """The rule file cannot be evaluated; `diagnostics` lists every error."""

    def __init__(self, path: str, diagnostics: list[Diagnostic]):
        self.path = path
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == ERROR] or diagnostics
        first = errors[0] if errors else None
        where = f" (first: {first.span}: {first.message})" if first else ""
        super().__init__(f"{path} has {len(errors)} error(s){where}")


def load(path: str | Path) -> Engine:
    """The engine of a rule file; raises RulesError when the file has errors."""
    from leadrules.check import check

    rs = check(path)
    if not rs.ok:
        raise RulesError(str(path), rs.diagnostics)
    return from_ruleset(rs)


def from_ruleset(rs: Ruleset) -> Engine:
    """The engine of an already checked ruleset; raises RulesError when it has errors or
    cannot be compiled."""
    if not rs.ok:
        raise RulesError(rs.path, rs.diagnostics)
    try:
        return Engine(rs)
    except codegen.CodegenError as exc:
        raise RulesError(rs.path, exc.diagnostics) from None


# Compiled namespaces by digest of their source; the source holds the fingerprint, so two
# rule files with the same meaning and layout share one.
_NAMESPACES: dict[str, dict[str, Any]] = {}
_MAX_CACHED = 64


# Sources at least this long have their bytecode kept on disk; smaller ones compile in less
# time than a cache file takes to check.
KEEP_COMPILED = 50_000
# Compiled evaluators kept in the cache folder (the most recently used).
KEPT_EVALUATORS = 16


def run_source(source: str, label: str) -> dict[str, Any]:
    """Our generated source, executed in a fresh module namespace (cached)."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    found = _NAMESPACES.get(digest)
    if found is not None:
        return found
    filename = f"<leadrules {label} {digest[:12]}>"
    namespace: dict[str, Any] = {"__name__": f"leadrules_generated_{digest[:12]}",
                                 "__file__": filename}
    # Tracebacks and debuggers show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = _compiled(source, filename, digest)
    exec(code, namespace)  # noqa: S102 - our generated code
    patterns = namespace.get("PATTERNS")
    if patterns:
        import re2

        for name, pattern in patterns.items():
            namespace[name] = re2.compile(pattern)
    if len(_NAMESPACES) >= _MAX_CACHED:
        _NAMESPACES.pop(next(iter(_NAMESPACES)))
    _NAMESPACES[digest] = namespace
    return namespace


@dataclass
class Engine:
    """Evaluates leads under one checked ruleset.

    `evaluate_raw` is the generated `evaluate` itself (no wrapper, the fast path):
    `evaluate_raw(lead, events=(), as_of=None, explain=False, cuts=None) -> dict` with the
    keys of `outputs` (pass `cuts` by keyword). `evaluate` returns a LeadResult with the
    working.
    """

    ruleset: Ruleset
    plan: codegen.Plan = field(init=False)
    source: str = field(init=False, repr=False)
    module: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.plan = codegen.plan(self.ruleset)
        self.source = codegen.generate(self.ruleset, self.plan)
        self.module = run_source(self.source, "evaluator")
        self.evaluate_raw = self.module["evaluate"]
        self._probes: dict[tuple, tuple[Any, list, tuple]] = {}

    @property
    def fingerprint(self) -> str:
        return self.ruleset.fingerprint

    @property
    def outputs(self) -> dict[str, str]:
        """Key of the raw result -> what it is: segment, score, grade, grade value,
        qualification, qualification count, stage, disqualified, route."""
        return dict(self.plan.outputs)

    @property
    def quantile_grades(self) -> dict[str, str]:
        """Grades cut by quantiles: name -> 'quintiles', 'deciles'…"""
        return {name: g.quantiles for name, g in self.ruleset.grades.items() if g.quantiles}

    def evaluate(self, lead: Mapping[str, Any], events: Iterable = (), as_of: Any = None,
                 cuts: Mapping[str, list] | None = None) -> LeadResult:
        """Everything about one lead, with each rule's contribution and the reasons."""
        from leadrules.result import build

        raw = self.evaluate_raw(lead, events, as_of, True, cuts)
        return build(self.plan, raw)

    def evaluate_explained(self, lead: Mapping[str, Any], events: Iterable = (),
                           as_of: Any = None, cuts: Mapping[str, list] | None = None) -> dict:
        """The raw dict with its 'explain' entry (the generated module's own format)."""
        return self.evaluate_raw(lead, events, as_of, True, cuts)

    def probe(self, conditions: tuple) -> tuple[Any, list]:
        """A compiled probe over `conditions` (see codegen.probe_source): the function and the
        atoms it reports on, in order."""
        key = tuple(id(c) for c in conditions)
        if key not in self._probes:
            source, atoms = codegen.probe_source(self.ruleset, conditions, self.plan)
            namespace = run_source(source, "probe")
            # The conditions stay referenced, so their ids cannot be reused by other nodes.
            self._probes[key] = (namespace["probe"], atoms, conditions)
        probe, atoms, _ = self._probes[key]
        return probe, atoms


def _compiled(source: str, filename: str, digest: str) -> CodeType:
    """The bytecode of a generated source: from the cache folder when this very source (same
    digest, same Python) was compiled before, else compiled now and kept there."""
    if len(source) < KEEP_COMPILED:
        return compile(source, filename, "exec")
    import marshal
    import sys
    import types
    from importlib.util import MAGIC_NUMBER

    from leadrules import cache

    folder = cache.folder()
    if folder is None:
        return compile(source, filename, "exec")
    path = folder / f"evaluator-{digest[:40]}-{sys.implementation.cache_tag}.marshal"
    header = b"leadrules evaluator\n" + MAGIC_NUMBER + digest.encode("ascii") + b"\n"
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if data.startswith(header):
        try:
            code = marshal.loads(data[len(header):])
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, types.CodeType) and code.co_filename == filename:
            cache.touch(path)
            return code
    code = compile(source, filename, "exec")
    if cache.write(path, header + marshal.dumps(code)):
        cache.prune("evaluator-*.marshal", KEPT_EVALUATORS)
    return code


# ============================================================================ quantiles


def quantile_cuts(values: Iterable, kind: str | int) -> list:
    """Cut points splitting `values` into equal groups: `kind` is 'terciles', 'quartiles',
    'quintiles', 'deciles' or a number of groups. Missing values (None) are left out.

    Cut i is the smallest value with at least i/k of the values at or below it (nearest rank,
    so cuts are values of the data, exact). With the evaluator's rule that a value equal to a
    cut belongs to the group below, each group holds its share of the leads, ties aside.
    """
    groups = codegen.QUANTILES[kind] if isinstance(kind, str) else int(kind)
    if groups < 2:
        raise ValueError("a quantile grade needs at least 2 groups")
    ordered = sorted(v for v in values if v is not None)
    n = len(ordered)
    if not n:
        return []
    return [ordered[-(-i * n // groups) - 1] for i in range(1, groups)]


def quantile_label(value, cuts: list) -> str | None:
    """The label ('q1' lowest … 'qN') of a value under cut points, as the evaluator gives it."""
    from bisect import bisect_left

    if value is None or not cuts:
        return None
    return f"q{bisect_left(cuts, value) + 1}"


# ============================================================================ typed inputs


def coerce_lead(rs: Ruleset, record: Mapping[str, Any], where: str = "lead"
                ) -> tuple[dict[str, Any], list[str]]:
    """A lead typed as `leadrules score` types it, from a record keyed by field names or by
    export column names (JSON, YAML, a CSV row). Enum values may be export spellings or member
    names. Returns the lead and the problems, in words (a field that does not fit is None)."""
    from leadrules.data import Typing, ValueProblem, display_value

    typing = Typing(rs)
    lead: dict[str, Any] = {}
    problems: list[str] = []
    known = set()
    for f in rs.fields.values():
        convert = typing.converter(f.name, f.type, f.missing)
        if f.name in record:
            column, raw = f.name, record[f.name]
        elif f.source_column in record:
            column, raw = f.source_column, record[f.source_column]
        else:
            lead[f.name] = None
            continue
        known.add(column)
        try:
            lead[f.name] = convert(raw)
        except ValueProblem as exc:
            problems.append(f"{where}: '{column}': '{display_value(raw)}' {exc}")
            lead[f.name] = None
    for key in record:
        if key not in known and key != "events":
            from leadrules.diagnostics import did_you_mean

            hint = did_you_mean(str(key), list(rs.fields))
            problems.append(f"{where}: '{key}' is not a field of the lead"
                            + (f"; {hint}" if hint else ""))
    return lead, problems


def coerce_events(rs: Ruleset, items: Any, where: str = "events") -> tuple[list, list[str]]:
    """Typed events from a JSON-like list of {"type": …, "at": …, properties…}."""
    from leadrules.data import EVENTS_KEY, EventReader, Typing

    if items is None:
        return [], []
    reader = EventReader(rs, Typing(rs), where)
    events, problems = reader.from_json(items, 1)
    # `where` names the array (`lead.json: events`); a problem's column names the place in it
    # (`events`, `events[2]`, `events[2].at`), so it takes the place of the array's name.
    base = where[:-len(EVENTS_KEY)] if where.endswith(EVENTS_KEY) else f"{where}: "
    words = [f"{base}{p.column or EVENTS_KEY}: " + (f"{p.value} " if p.value else "") + p.message
             for p in problems]
    for name, n in reader.ignored.items():
        words.append(f"{where}: the rules declare no event '{name}' ({n} left out)")
    return events, words


def parse_as_of(text: str | datetime | None, rs: Ruleset) -> datetime | None:
    """`--as-of` or a fixture's `as_of`: a date or date-time, local to the agreement."""
    if text is None or isinstance(text, datetime):
        return text
    from leadrules.data import Typing, ValueProblem, parse_datetime

    typing = Typing(rs)
    try:
        return parse_datetime(str(text), typing.zone, typing.day_first)
    except ValueProblem as exc:
        raise ValueError(f"'{text}' {exc} (write it as 2027-03-01 or 2027-03-01T10:00)") \
            from None


def plain(value: Any) -> Any:
    """A result value ready for JSON: Decimal as text (exact), dates in ISO form."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value
