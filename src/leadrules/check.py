"""Parsed modules -> a checked Ruleset carrying every diagnostic (names, types, reachability, SLA).

The passes run in the order of CHECKS; each takes the ruleset and returns diagnostics. None of
them stops the others: a user sees every problem of every file at once.
"""

from __future__ import annotations

from pathlib import Path

from leadrules import ast
from leadrules.diagnostics import ERROR, Diagnostic, error, finish
from leadrules.loader import load_modules
from leadrules.model import Ruleset

# One namespace for everything a condition can name, so that a name never means two things.
_VALUE_KINDS = {
    ast.Segment: "segments",
    ast.Score: "scores",
    ast.DerivedScore: "scores",
    ast.Grade: "grades",
    ast.Qualification: "qualifications",
    ast.ListDef: "lists",
    ast.Event: "events",
}

_WHAT = {
    "fields": "lead field", "segments": "segment", "scores": "score", "grades": "grade",
    "qualifications": "qualification", "lists": "list", "events": "event",
    "calendars": "calendar",
}


def check(path: str | Path, text: str | None = None) -> Ruleset:
    """Read, parse and check the rule file at `path` (with `text` instead of the file's content
    when given). Never raises on bad input: problems are in `.diagnostics`."""
    modules, diagnostics = load_modules(path, text)
    rs, found = collect(str(path), modules)
    diagnostics.extend(found)
    if not any(d.severity == ERROR for d in diagnostics) or modules:
        for check_pass in CHECKS:
            diagnostics.extend(check_pass(rs))
    rs.diagnostics = finish(diagnostics)
    return rs


def collect(path: str, modules: tuple[ast.Module, ...]) -> tuple[Ruleset, list[Diagnostic]]:
    """Every definition filed by name; a name defined twice is reported (LR102)."""
    rs = Ruleset(path=path, modules=modules)
    problems: list[Diagnostic] = []
    defined: dict[str, ast.Span] = {}
    stages: list[ast.Stage] = []
    disqualify: list[ast.Disqualify] = []
    routes: list[ast.Route] = []
    tests: list[ast.Test] = []

    def define(name: str, span: ast.Span, kind: str) -> bool:
        if name in defined:
            first = defined[name]
            problems.append(error(
                "LR102", f"'{name}' is defined twice (first as a {_WHAT.get(kind, kind)}"
                f" at line {first.line} of {first.file})", span,
                "give each definition its own name"))
            return False
        defined[name] = span
        return True

    for module in modules:
        for item in module.items:
            if isinstance(item, ast.Agreement):
                if rs.agreement is not None:
                    problems.append(error("LR102", "there are two agreement blocks", item.span,
                                          "keep a single agreement block"))
                else:
                    rs.agreement = item
            elif isinstance(item, ast.Calendar):
                if item.name in rs.calendars:
                    problems.append(error("LR102", f"the calendar '{item.name}' is defined twice",
                                          item.span))
                else:
                    rs.calendars[item.name] = item
            elif isinstance(item, ast.Lead):
                for f in item.fields:
                    if define(f.name, f.span, "fields"):
                        rs.fields[f.name] = f
            elif type(item) in _VALUE_KINDS:
                table = _VALUE_KINDS[type(item)]
                if define(item.name, item.span, table):
                    getattr(rs, table)[item.name] = item
            elif isinstance(item, ast.Stages):
                if stages:
                    problems.append(error("LR102", "there are two stages blocks", item.span,
                                          "write the whole lifecycle in one stages block"))
                seen: set[str] = set()
                for stage in item.stages:
                    if stage.name in seen:
                        problems.append(error("LR102", f"the stage '{stage.name}' is defined twice",
                                              stage.span))
                    seen.add(stage.name)
                    stages.append(stage)
            elif isinstance(item, ast.Disqualify):
                disqualify.append(item)
            elif isinstance(item, ast.Route):
                if any(r.name == item.name for r in routes):
                    problems.append(error("LR102", f"the route '{item.name}' is defined twice",
                                          item.span))
                routes.append(item)
            elif isinstance(item, ast.Sla):
                if item.side in rs.slas:
                    problems.append(error("LR102", f"there are two 'sla {item.side}' blocks",
                                          item.span))
                else:
                    rs.slas[item.side] = item
            elif isinstance(item, ast.Channels):
                if rs.channels is not None:
                    problems.append(error("LR102", "there are two channels blocks", item.span))
                else:
                    rs.channels = item
            elif isinstance(item, ast.Test):
                tests.append(item)
    rs.stages = tuple(stages)
    rs.disqualify = tuple(disqualify)
    rs.routes = tuple(routes)
    rs.tests = tuple(tests)
    return rs, problems


def dependencies(rs: Ruleset, node) -> set[str]:
    """The segments, scores, grades and qualifications that `node` reads."""
    names = set(rs.segments) | set(rs.scores) | set(rs.grades) | set(rs.qualifications)
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Ref) and sub.parts[0] in names:
            found.add(sub.parts[0])
    return found


def order_definitions(rs: Ruleset) -> list[Diagnostic]:
    """Sets `rs.order` so that each definition comes after what it reads; cycles are LR501."""
    nodes = {**rs.segments, **rs.scores, **rs.grades, **rs.qualifications}
    deps = {name: dependencies(rs, node) - {name} for name, node in nodes.items()}
    problems: list[Diagnostic] = []
    for name, node in nodes.items():
        if name in dependencies(rs, node):
            problems.append(error("LR501", f"'{name}' depends on itself", node.span,
                                  "a definition cannot use its own value"))
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = being visited, 2 = done
    reported: set[frozenset] = set()

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name):] + [name]
            key = frozenset(cycle)
            if key not in reported:
                reported.add(key)
                problems.append(error(
                    "LR501", "these definitions depend on each other in a circle: "
                    + " -> ".join(cycle), nodes[name].span,
                    "one of them must stop using the next one"))
            return
        state[name] = 1
        for dep in sorted(deps[name], key=list(nodes).index):
            visit(dep, path + [name])
        state[name] = 2
        order.append(name)

    for name in nodes:
        visit(name, [])
    rs.order = tuple(order)
    return problems


# The passes, in order. order_definitions comes first: later passes read rs.order.
CHECKS = (order_definitions,)
