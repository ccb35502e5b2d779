"""Parsed modules -> a checked Ruleset carrying every diagnostic (names, types, reachability, SLA).

The passes run in the order of CHECKS; each takes the ruleset and returns diagnostics. None of
them stops the others: a user sees every problem of every file at once. Codes are stable and
documented in docs/diagnostics.md.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_CEILING, Decimal, localcontext
from pathlib import Path

from leadrules import ast, calendars, reach, unparse
from leadrules.diagnostics import ERROR, Diagnostic, did_you_mean, error, finish, warning
from leadrules.loader import load_modules
from leadrules.model import (
    EVENT,
    FIELD,
    LIST,
    QUALIFICATION_COUNT,
    SCORE,
    Ruleset,
    Type,
)

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

# Diagnostics that mean part of a file could not be read at all.
SYNTAX_CODES = frozenset({"LR001", "LR002", "LR003", "LR008"})


def check(path: str | Path, text: str | None = None) -> Ruleset:
    """Read, parse and check the rule file at `path` (with `text` instead of the file's content
    when given). Never raises on bad input: problems are in `.diagnostics`."""
    modules, diagnostics = load_modules(path, text)
    rs, found = collect(str(path), modules)
    diagnostics.extend(found)
    # The passes see what reading found, so that they stay quiet about what a part of a file
    # that could not be read would have defined.
    rs.diagnostics = list(diagnostics)
    rs.unreadable = _unreadable_names(rs, path, text)
    if modules:
        for check_pass in CHECKS:
            try:
                diagnostics.extend(check_pass(rs))
            except RecursionError:
                diagnostics.append(error(
                    "LR003", "a condition or a formula is nested too deeply to be checked",
                    ast.Span(modules[0].path, 1, 1, 1, 2),
                    "split it into segments, qualifications or scores and refer to them by name"))
    if modules and not diagnostics and not any(m.items for m in modules):
        diagnostics.append(error(
            "LR110", "this file defines nothing: no lead block, score, stage or agreement",
            ast.Span(modules[0].path, 1, 1, 1, 2),
            "write the rules in it (docs/language.md starts with a small example), or remove "
            "the file"))
    rs.diagnostics = finish(diagnostics)
    rs.__dict__.pop("_walked", None)  # the passes' memo, not part of the result
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
    for sub in _walk(rs, node):
        if isinstance(sub, ast.Ref) and sub.parts[0] in names:
            found.add(sub.parts[0])
    return found


def order_definitions(rs: Ruleset) -> list[Diagnostic]:
    """Sets `rs.order` so that each definition comes after what it reads; cycles are LR501."""
    nodes = {**rs.segments, **rs.scores, **rs.grades, **rs.qualifications}
    reads = {name: dependencies(rs, node) for name, node in nodes.items()}
    deps = {name: found - {name} for name, found in reads.items()}
    problems: list[Diagnostic] = []
    for name, node in nodes.items():
        if name in reads[name]:
            problems.append(error("LR501", f"'{name}' depends on itself", node.span,
                                  "a definition cannot use its own value"))
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = being visited, 2 = done
    reported: set[frozenset] = set()
    position = {name: i for i, name in enumerate(nodes)}

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
        for dep in sorted(deps[name], key=position.__getitem__):
            visit(dep, path + [name])
        state[name] = 2
        order.append(name)

    for name in nodes:
        visit(name, [])
    rs.order = tuple(order)
    return problems


# ----------------------------------------------------------------------------- shared helpers

_SNAKE = re.compile(r"[a-z_][a-z0-9_]*\Z")
_TYPES = ("int", "number", "money", "text", "bool", "date", "datetime", "enum")
_TYPE_ALIASES = {
    "integer": "int", "float": "number", "decimal": "number", "double": "number",
    "string": "text", "str": "text", "boolean": "bool", "timestamp": "datetime",
    "currency": "money", "amount": "money", "time": "datetime",
}
_NUMERIC = frozenset({"int", "number", "percent"})
_ORDERED = frozenset({"int", "number", "percent", "money", "date", "datetime", "stage", "grade",
                      "enum"})
_RESERVED = {
    "stage": "the lead's stage", "route": "the lead's route",
    "disqualified": "the stage of a disqualified lead",
}
_DISQUALIFIED = "disqualified"
_CUSTOMER = "customer"
_QUANTILE_GROUPS = {"terciles": 3, "quartiles": 4, "quintiles": 5, "deciles": 10}


def _unreadable_names(rs: Ruleset, main: str | Path, text: str | None) -> frozenset[str]:
    """Names that the parts of the files that could not be read seem to define. A reference to
    one of them is not reported as unknown: the syntax error already explains it."""
    from leadrules.loader import read_text
    from leadrules.syntax import chunks

    broken = [d for d in rs.diagnostics if d.code in SYNTAX_CODES]
    if not broken:
        return frozenset()
    main_display = rs.modules[0].path if rs.modules else str(main)
    names: set[str] = set()
    texts: dict[str, list[tuple[int, str]]] = {}
    for d in broken:
        file = d.span.file
        if file not in texts:
            source = text if file == main_display and text is not None else None
            if source is None:
                source, _ = read_text(Path(file), file)
            texts[file] = chunks(source or "")
        for first_line, chunk in texts[file]:
            if first_line < d.span.line <= first_line + chunk.count("\n") + 1:
                names.update(_defined_in(chunk))
    return frozenset(names)


_HEADER = re.compile(
    r"^\s*(?:segment|score|grade|qualification|event|list|calendar|route|group)\s+"
    r"([A-Za-z_]\w*)", re.M)
_FIRST_WORD = re.compile(r"^\s*([A-Za-z_]\w*)", re.M)


def _defined_in(chunk: str) -> set[str]:
    names = set(_HEADER.findall(chunk))
    keyword = chunk.lstrip().split(None, 1)[0] if chunk.strip() else ""
    if keyword in ("lead", "stages"):
        names.update(_FIRST_WORD.findall(chunk))
        names.add("stage" if keyword == "stages" else "lead")
    if keyword == "route":
        names.add("route")
    if keyword == "calendar" or keyword == "event":
        names.update(_FIRST_WORD.findall(chunk))
    if keyword == "sla":
        # Not a name a rule can use: it tells the SLA checks that this side was read in part.
        names.add(" ".join(chunk.split()[:2]))
    names.update(_misspelt_definitions(chunk))
    return names


_UNINDENTED = re.compile(r"^([A-Za-z_]\w*)[ \t]*([A-Za-z_]\w*)?", re.M)


def _misspelt_definitions(chunk: str) -> set[str]:
    """What a definition opened by a misspelt word (`scor intent`, `stage {`) would define: a
    file cut into chunks by the correct words only sees it as part of the block before."""
    import difflib

    from leadrules.syntax import TOP_LEVEL

    names: set[str] = set()
    lines = chunk.split("\n")
    for number, line in enumerate(lines):
        found = _UNINDENTED.match(line)
        if not found or found.group(1) in TOP_LEVEL:
            continue
        close = difflib.get_close_matches(found.group(1).lower(), TOP_LEVEL, n=1, cutoff=0.6)
        if not close:
            continue
        block = []
        for following in lines[number:]:
            if block and following[:1].strip():
                break
            block.append(following)
        body = "\n".join(block)
        if close[0] in ("lead", "stages", "calendar", "event"):
            names.update(_FIRST_WORD.findall(body))
            names.add({"stages": "stage", "lead": "lead"}.get(close[0], ""))
        elif close[0] == "route":
            names.add("route")
        if found.group(2):
            names.add(found.group(2))
    names.discard("")
    return names


def _hidden(rs: Ruleset, name: str) -> bool:
    return name in rs.unreadable


def _has_syntax_errors(rs: Ruleset) -> bool:
    return any(d.code in SYNTAX_CODES for d in rs.diagnostics)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _walk(rs: Ruleset, node) -> list:
    """`node` and every node inside it (as ast.walk), computed once per node and ruleset: the
    passes walk the same definitions many times."""
    cache = rs.__dict__.setdefault("_walked", {})
    found = cache.get(id(node))
    if found is None:
        found = cache[id(node)] = _descend(node)
    return found


def _descend(node) -> list:
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        names = _FIELDS.get(type(current))
        if names is None:
            names = _FIELDS[type(current)] = tuple(
                name for name in current.__dataclass_fields__ if name != "span")
        children = []
        for name in names:
            value = getattr(current, name)
            if type(value) is tuple:
                children.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
            elif hasattr(value, "__dataclass_fields__"):
                children.append(value)
        stack.extend(reversed(children))
    return out


def _items(rs: Ruleset, kind: type) -> list:
    return [item for m in rs.modules for item in m.items if isinstance(item, kind)]


def _num(value: Decimal, places: int | None = None) -> str:
    """`2 400 000`, `1 066.7`: the way the agreement writes figures."""
    if not value.is_finite():
        return "∞" if value > 0 else "-∞" if value < 0 else "?"
    with localcontext() as ctx:
        ctx.prec = max(28, value.adjusted() + 5)
        if places is None:
            places = 0 if value == value.to_integral_value() else 2
        q = round(value, places)
        text = f"{abs(q):,.{places}f}".replace(",", " ")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("-" if q < 0 else "") + text


def _pct(value: Decimal) -> str:
    return f"{_num(value * 100)} %"


def _value_text(node) -> str:
    """A literal or a name as the rule file writes it, for a message."""
    try:
        return unparse.expr(node)
    except TypeError:
        return "this value"


def _what(t: Type) -> str:
    """A type in words."""
    return {
        "int": "a number", "number": "a number", "percent": "a percentage",
        "money": "an amount of money", "text": "a text", "bool": "a yes/no value",
        "date": "a date", "datetime": "a date and time", "stage": "a stage",
        "route": "a route", "duration": "a duration", "set": "a set of values",
        "list": "a list", "event": "an event",
    }.get(t.kind) or (
        "a choice from a fixed list" if t.kind == "enum" else "a grade label")


def _literal_type(node) -> Type | None:
    if isinstance(node, ast.Number):
        return Type("number")
    if isinstance(node, ast.Percent):
        return Type("percent")
    if isinstance(node, ast.Money):
        return Type("money", currency=node.currency)
    if isinstance(node, ast.Duration):
        return Type("duration")
    if isinstance(node, ast.DateLit):
        return Type("date")
    if isinstance(node, ast.DateTimeLit):
        return Type("datetime")
    if isinstance(node, ast.String):
        return Type("text")
    if isinstance(node, ast.Bool):
        return Type("bool")
    if isinstance(node, ast.SetLit):
        return Type("set")
    return None


def _compatible(a: Type, b: Type) -> bool:
    if a.kind in _NUMERIC and b.kind in _NUMERIC:
        return True
    if {a.kind, b.kind} <= {"date", "datetime"}:
        return True
    if a.kind != b.kind:
        return False
    if a.kind in ("enum", "grade"):
        return a.of == b.of
    return True


def _literal_value(node) -> Decimal | datetime | None:
    """The comparable value of a literal (dates as midnight), or None for other nodes."""
    if isinstance(node, (ast.Number, ast.Percent)):
        return node.value
    if isinstance(node, ast.Money):
        return node.amount
    if isinstance(node, ast.DateTimeLit):
        return node.value
    if isinstance(node, ast.DateLit):
        return datetime.combine(node.value, datetime.min.time())
    return None


def _members(rs: Ruleset, t: Type) -> tuple[str, ...] | None:
    """The names a value of type `t` can be compared with, or None when they are not known."""
    if t.kind == "enum":
        f = rs.fields.get(t.of)
        if f is None or f.type.name != "enum":
            return None
        return tuple(m.name for m in f.type.members)
    if t.kind == "grade":
        g = rs.grades.get(t.of)
        if g is None or g.quantiles:
            return None
        return tuple(row.name for row in g.rows)
    if t.kind == "stage":
        return (*rs.stage_names, _DISQUALIFIED)
    if t.kind == "route":
        return tuple(r.name for r in rs.routes)
    return None


def _value_names(rs: Ruleset) -> list[str]:
    names = [*rs.fields, *rs.segments, *rs.scores, *rs.grades, *rs.qualifications]
    if rs.stages:
        names.append("stage")
    if rs.routes:
        names.append("route")
    return names


# ----------------------------------------------------------------------------- names and types


class _Typer:
    """Checks names and types in conditions and expressions; `code` replaces LR101 for unknown
    names (tests use their own code)."""

    def __init__(self, rs: Ruleset, out: list[Diagnostic], unknown_code: str = "LR101") -> None:
        self.rs = rs
        self.out = out
        self.unknown_code = unknown_code
        self.no_lead_reported = False

    # -- names

    def ref(self, ref: ast.Ref) -> Type | None:
        """The type of a name used as a value, or None (after reporting) when it has none."""
        sym = self.rs.resolve(ref)
        if sym is None:
            self.unknown(ref)
            return None
        if sym.kind == EVENT:
            self.out.append(error(
                "LR204", f"'{ref.name}' is an event, not a value", ref.span,
                f"write `{ref.name} within 30 days` to test that it happened, or "
                f"`count({ref.name}) >= 2` to count it"))
            return None
        if sym.kind == LIST:
            self.out.append(error(
                "LR104", f"'{ref.name}' is a list: it can only follow `in`", ref.span,
                f"write `… in {ref.name}`"))
            return None
        if sym.kind == FIELD and sym.type.kind not in _TYPES:
            # A field of an unknown type (LR105 says so): its uses cannot be judged.
            return None
        return sym.type

    def unknown(self, ref: ast.Ref, hint: str | None = None) -> None:
        rs = self.rs
        head, *rest = ref.parts
        if _hidden(rs, head):
            return
        if rest and (head in rs.fields or head in rs.qualifications or head in rs.events):
            tail = ".".join(rest)
            if head in rs.fields:
                f = rs.fields[head]
                if tail == "domain":
                    message = (f"'.domain' only applies to a text field (an e-mail address), "
                               f"and '{head}' is {_what(rs.type_of_field(f))}")
                    candidates: list[str] = []
                else:
                    message = f"a lead field has no part '.{tail}'"
                    candidates = ["domain"] if f.type.name == "text" else []
            elif head in rs.qualifications:
                q = rs.qualifications[head]
                message = f"the qualification '{head}' has no criterion '{tail}'"
                candidates = list(dict.fromkeys(c.name for c in q.criteria)) + ["count"]
            else:
                message = f"the event '{head}' has no property '{tail}'"
                candidates = [p.name for p in rs.events[head].properties]
            suggestion = did_you_mean(tail, candidates)
            self.out.append(error(self.unknown_code, message, ref.span,
                                  suggestion or hint or (
                                      "it has: " + ", ".join(candidates) if candidates else None)))
            return
        if head in _RESERVED and head != _DISQUALIFIED:
            block = "stages" if head == "stage" else "route"
            self.out.append(error(
                self.unknown_code, f"'{head}' means {_RESERVED[head]}, but there is no "
                f"{block} {'block' if head == 'stage' else 'line'} in these rules", ref.span,
                f"declare the {'stages' if head == 'stage' else 'routes'} first"))
            return
        self.out.append(error(
            self.unknown_code, f"unknown name '{ref.name}'", ref.span,
            did_you_mean(ref.name, _value_names(rs)) or hint or self._unknown_hint(ref)))
        if not rs.fields and not self.no_lead_reported and not _hidden(rs, "lead"):
            self.no_lead_reported = True
            self.out.append(error(
                "LR110", "there is no lead block, so the rules cannot read any lead field",
                ref.span, "declare the fields the rules read in a `lead { … }` block"))

    def _unknown_hint(self, ref: ast.Ref) -> str:
        if ref.parts[0] in self.rs.calendars:
            return f"'{ref.name}' is a calendar: only the sales SLA can name it"
        return ("declare it as a lead field, a segment, a score, a grade or a qualification")

    def event(self, name: str, span: ast.Span, what: str) -> bool:
        """True when `name` is a declared event; reports it otherwise."""
        rs = self.rs
        if name in rs.events:
            return True
        if _hidden(rs, name):
            return False
        sym = rs.resolve(ast.Ref((name,), span))
        if sym is not None:
            hint = None
            if sym.kind == FIELD and sym.type.kind in ("date", "datetime"):
                hint = f"to test a date, compare it: `{name} >= 2027-01-01`"
            self.out.append(error(
                "LR204", f"'{name}' is {_what(sym.type) if sym.kind == FIELD else 'a ' + sym.kind}"
                f", not an event: {what} only applies to events", span,
                hint or did_you_mean(name, rs.events)))
            return False
        self.out.append(error(
            "LR103", f"unknown event '{name}'", span,
            did_you_mean(name, rs.events) or f'declare it: event {name} "…"'))
        return False

    # -- values

    def value(self, node) -> Type | None:
        if isinstance(node, ast.Ref):
            return self.ref(node)
        if isinstance(node, ast.Count):
            if node.window is not None:
                self.duration(node.window)
            self.event(node.event, node.span, "count(…)")
            return Type("int")
        if isinstance(node, ast.DaysSince):
            self.event(node.event, node.span, "days since last …")
            return Type("int")
        if isinstance(node, ast.Sum):
            if node.window is not None:
                self.duration(node.window)
            return self.sum(node)
        return _literal_type(node)

    def sum(self, node: ast.Sum) -> Type | None:
        parts = node.target.parts
        if len(parts) == 1:
            if parts[0] in self.rs.events:
                props = [p.name for p in self.rs.events[parts[0]].properties
                         if p.type.name in ("int", "number", "money")]
                example = props[0] if props else "amount"
                self.out.append(error(
                    "LR204", "sum(…) adds up a property of the event, not the event itself",
                    node.span, f"write sum({parts[0]}.{example}), or count({parts[0]}) to count"))
            else:
                self.event(parts[0], node.span, "sum(…)")
            return None
        if not self.event(parts[0], node.span, "sum(…)"):
            return None
        sym = self.rs.resolve(node.target)
        if sym is None:
            self.unknown(node.target)
            return None
        if sym.type.kind not in ("int", "number", "money"):
            self.out.append(error(
                "LR205", f"'{node.target.name}' is {_what(sym.type)}: only numbers and amounts "
                "can be added up", node.span))
            return None
        return sym.type

    def duration(self, d: ast.Duration) -> None:
        if d.amount <= 0:
            self.out.append(error("LR213", f"a duration of {_value_text(d)} is empty", d.span,
                                  "give a duration above zero"))

    def operand(self, node, left: Type) -> Type | None:
        """The type of the right-hand side of a comparison."""
        if isinstance(node, ast.Ref):
            sym = self.rs.resolve(node)
            if sym is None:
                hint = None
                if left.kind == "text" and len(node.parts) == 1:
                    hint = f'to compare with a text, write it in double quotes: "{node.name}"'
                self.unknown(node, hint)
                return None
            return self.ref(node)
        if isinstance(node, ast.SetLit):
            self.out.append(error(
                "LR201", "a comparison needs one value, not a set", node.span,
                "to test whether the value is one of several, write `in {…}`"))
            return None
        return _literal_type(node)

    # -- conditions

    def cond(self, c) -> None:
        if isinstance(c, (ast.And, ast.Or)):
            for item in c.items:
                self.cond(item)
        elif isinstance(c, ast.Not):
            self.cond(c.item)
        elif isinstance(c, ast.Compare):
            self.compare(c)
        elif isinstance(c, ast.Between):
            self.between(c)
        elif isinstance(c, ast.In):
            self.in_(c)
        elif isinstance(c, ast.TextTest):
            self.text_test(c)
        elif isinstance(c, ast.Presence):
            if isinstance(c.value, ast.Ref):
                if self.rs.resolve(c.value) is None:
                    self.unknown(c.value)
            else:
                self.value(c.value)
        elif isinstance(c, ast.Within):
            self.duration(c.window)
            self.event(c.event, c.span, "`within`")
        elif isinstance(c, ast.Truth):
            self.truth(c)

    def compare(self, c: ast.Compare) -> None:
        left = self.value(c.left)
        if left is None:
            return
        self.ordering(left, c.op, c.left, c.span)
        if left.kind in ("enum", "grade", "stage", "route") and isinstance(c.right, ast.Ref) \
                and len(c.right.parts) == 1:
            self.member(left, c.right, c.left)
            return
        right = self.operand(c.right, left)
        if right is not None:
            self.match(left, right, c.left, c.right)

    def ordering(self, t: Type, op: str, node, span: ast.Span) -> None:
        if op in ("==", "!=") or t.kind in _ORDERED:
            return
        hint = "compare it with == or !="
        if t.kind == "grade":
            hint = f"write `{_value_text(node)} in {{…}}` to accept several labels"
        elif t.kind == "enum":
            hint = f"write `{_value_text(node)} in {{…}}` to accept several values"
        self.out.append(error(
            "LR214", f"'{_value_text(node)}' is {_what(t)}, which has no order: '{op}' cannot "
            "compare it", span, hint))

    def member(self, t: Type, ref: ast.Ref, left) -> None:
        """`ref` must name a member of the enum, a label of the grade, a stage or a route."""
        names = _members(self.rs, t)
        name = ref.parts[0]
        if names is None or name in names:
            return
        sym = self.rs.resolve(ref)
        if sym is not None and sym.kind != EVENT and _compatible(t, sym.type):
            return
        if _hidden(self.rs, name):
            return
        shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
        hint = did_you_mean(name, names) or (f"it can be: {shown}" if names else None)
        if t.kind == "enum":
            code, message = "LR203", f"'{name}' is not one of the values of '{t.of}'"
        elif t.kind == "grade":
            code, message = "LR211", f"the grade '{t.of}' has no label '{name}'"
        elif t.kind == "stage":
            code, message = "LR210", f"'{name}' is not a stage"
        else:
            code, message = "LR212", f"'{name}' is not a route"
        self.out.append(error(code, message, ref.span, hint))

    def match(self, left: Type, right: Type, left_node, right_node) -> None:
        """`left_node` (of type `left`) compared with `right_node` (of type `right`)."""
        if left.kind == "money" and right.kind in _NUMERIC and isinstance(right_node, ast.Number):
            if right_node.value != 0 and self.rs.currency is not None:
                self.out.append(error(
                    "LR202", f"'{_value_text(left_node)}' is an amount of money: write the "
                    "amount with its currency", right_node.span,
                    f"write {_value_text(right_node)} {self.rs.currency}"))
            return
        if _compatible(left, right):
            return
        span = getattr(right_node, "span", ast.NOWHERE)
        hint = None
        if left.kind == "text" and right.kind in _NUMERIC | {"bool"}:
            hint = f'write the text in double quotes: "{_value_text(right_node)}"'
        elif left.kind in _NUMERIC and right.kind == "text" and isinstance(right_node, ast.String):
            hint = "write the number without quotes"
        elif left.kind == "enum" and isinstance(right_node, ast.String):
            hint = self._spelling_hint(left, right_node.value)
        elif left.kind == "grade" and isinstance(right_node, ast.String):
            hint = f"write the label without quotes: {right_node.value}"
        elif left.kind in ("date", "datetime") and right.kind == "duration":
            hint = "compare the date with another date, such as 2027-01-01"
        self.out.append(error(
            "LR201", f"'{_value_text(left_node)}' is {_what(left)} and cannot be compared with "
            f"{_value_text(right_node)}, which is {_what(right)}", span, hint))

    def _spelling_hint(self, t: Type, text: str) -> str:
        f = self.rs.fields.get(t.of)
        if f is not None:
            for m in f.type.members:
                if text == m.name or text in m.spellings:
                    return f"values of '{t.of}' are written without quotes: {m.name}"
        return f"values of '{t.of}' are written without quotes"

    def between(self, c: ast.Between) -> None:
        t = self.value(c.value)
        if t is None:
            return
        if t.kind not in _ORDERED or t.kind in ("stage", "grade", "enum"):
            self.out.append(error(
                "LR214", f"'{_value_text(c.value)}' is {_what(t)}: `between` needs numbers, "
                "amounts or dates", c.span))
            return
        for bound in (c.low, c.high):
            bt = self.operand(bound, t)
            if bt is not None:
                self.match(t, bt, c.value, bound)
        low, high = _literal_value(c.low), _literal_value(c.high)
        if low is not None and high is not None and type(low) is type(high) and low > high:
            self.out.append(error(
                "LR206", f"no value is between {_value_text(c.low)} and {_value_text(c.high)}: "
                "the smaller bound comes first", c.span,
                f"write `between {_value_text(c.high)} and {_value_text(c.low)}`"))

    def in_(self, c: ast.In) -> None:
        t = self.value(c.value)
        options = c.options
        if isinstance(options, ast.Ref):
            name = options.name
            if name in self.rs.lists:
                if t is not None:
                    items = self.rs.lists[name].items.items
                    bad = next((i for i in items if not self.item_fits(t, i)), None)
                    if bad is not None:
                        self.out.append(error(
                            "LR201", f"the list '{name}' holds {_value_text(bad)}, which cannot "
                            f"be compared with '{_value_text(c.value)}' ({_what(t)})",
                            options.span))
                return
            if _hidden(self.rs, options.parts[0]):
                return
            sym = self.rs.resolve(options)
            if sym is not None:
                self.out.append(error(
                    "LR104", f"'{name}' is {_what(sym.type) if sym.kind == FIELD else 'a ' + sym.kind}"
                    ", not a list", options.span,
                    "write the values between braces: {…}, or declare a list"))
            else:
                self.out.append(error(
                    "LR104", f"unknown list '{name}'", options.span,
                    did_you_mean(name, self.rs.lists) or
                    f"declare it: list {name} = {{…}}, or write the values between braces"))
            return
        if t is None:
            return
        for item in options.items:
            if isinstance(item, ast.Ref) and t.kind in ("enum", "grade", "stage", "route"):
                self.member(t, item, c.value)
            elif not self.item_fits(t, item):
                self.item_mismatch(t, item, c.value)

    def item_fits(self, t: Type, item) -> bool:
        if isinstance(item, ast.Ref):
            return t.kind in ("enum", "grade", "stage", "route") and (
                (names := _members(self.rs, t)) is None or item.parts[0] in names)
        it = _literal_type(item)
        if t.kind == "money" and isinstance(item, ast.Number):
            return True
        return it is not None and _compatible(t, it)

    def item_mismatch(self, t: Type, item, value) -> None:
        hint = None
        if isinstance(item, ast.Ref) and t.kind == "text":
            hint = f'write texts in double quotes: "{item.name}"'
        elif isinstance(item, ast.String) and t.kind == "enum":
            hint = self._spelling_hint(t, item.value)
        elif isinstance(item, ast.String) and t.kind in ("grade", "stage", "route"):
            hint = f"write names without quotes: {item.value}"
        self.out.append(error(
            "LR201", f"'{_value_text(value)}' is {_what(t)} and cannot be compared with "
            f"{_value_text(item)}", item.span, hint))

    def text_test(self, c: ast.TextTest) -> None:
        t = self.value(c.value)
        if t is not None and t.kind != "text":
            hint = None
            if t.kind in ("enum", "grade"):
                hint = f"to test a value, write `{_value_text(c.value)} == …` or `in {{…}}`"
            self.out.append(error(
                "LR208", f"'{_value_text(c.value)}' is {_what(t)}: `{c.op}` only works on texts",
                c.span, hint))
        if c.op == "matches":
            problem = regex_problem(c.operand.value)
            if problem:
                hint = ("write flags such as (?i) at the very start of the pattern: "
                        "\"(?i)^recruit\"" if "global flags" in problem else
                        "patterns follow RE2 syntax (no look-ahead, no back-references)")
                self.out.append(error(
                    "LR207", f"this pattern cannot be used: {problem}", c.operand.span, hint))
            return
        if isinstance(c.operand, ast.Ref):
            sym = self.rs.resolve(c.operand)
            if sym is None:
                self.unknown(c.operand, f'to look for a text, write it in double quotes: '
                                        f'"{c.operand.name}"')
            else:
                ot = self.ref(c.operand)
                if ot is not None and ot.kind != "text":
                    self.out.append(error(
                        "LR208", f"'{c.operand.name}' is {_what(ot)}, not a text",
                        c.operand.span))
        elif not isinstance(c.operand, ast.String):
            self.out.append(error(
                "LR201", f"`{c.op}` looks for a text, and {_value_text(c.operand)} is not one",
                c.operand.span, f'write it in double quotes: "{_value_text(c.operand)}"'))

    def truth(self, c: ast.Truth) -> None:
        v = c.value
        if isinstance(v, ast.Ref):
            sym = self.rs.resolve(v)
            if sym is None:
                self.unknown(v)
                return
            if sym.kind == EVENT:
                self.out.append(error(
                    "LR204", f"'{v.name}' is an event: say in which period it must have happened",
                    v.span, f"write `{v.name} within 30 days`"))
                return
            t = self.ref(v)
        else:
            t = self.value(v)
        if t is None or t.kind == "bool":
            return
        name = _value_text(v)
        example = {
            "int": f"{name} >= 1", "number": f"{name} >= 40", "percent": f"{name} >= 50%",
            "money": f"{name} >= 10_000 {self.rs.currency or 'EUR'}",
            "text": f"{name} is present", "date": f"{name} is present",
            "datetime": f"{name} is present", "stage": "stage >= mql",
        }.get(t.kind)
        if t.kind in ("enum", "grade", "route"):
            names = _members(self.rs, t) or ("…",)
            example = f"{name} == {names[0]}"
        self.out.append(error(
            "LR209", f"'{name}' is {_what(t)}, not a condition that is true or false", v.span,
            f"compare it, for example `{example}`" if example else None))

    # -- arithmetic

    def expr(self, e) -> None:
        if isinstance(e, ast.BinOp):
            self.expr(e.left)
            self.expr(e.right)
            if e.op == "/" and isinstance(e.right, ast.Number) and e.right.value == 0:
                self.out.append(error("LR215", "division by zero", e.right.span))
        elif isinstance(e, ast.Neg):
            self.expr(e.operand)
        elif isinstance(e, ast.Ref):
            t = self.ref(e)
            if t is not None and t.kind not in _NUMERIC | {"money"}:
                self.out.append(error(
                    "LR205", f"'{e.name}' is {_what(t)}: a formula can only use numbers "
                    "(scores and number fields)", e.span))


def regex_problem(pattern: str) -> str | None:
    """What is wrong with `pattern` for RE2 (linear time) or for the standalone evaluator
    (Python's `re`), or None."""
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(pattern, options=options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else "invalid pattern"
        return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    # The standalone evaluator runs the pattern with Python's `re`: what it refuses (a flag
    # such as (?i) after the start, \p{L}…) must be reported here, not when evaluating.
    from leadrules.codegen import check_pattern

    return check_pattern(pattern)


def _conditions(rs: Ruleset):
    """(condition, owner) for every condition outside tests, in source order."""
    for seg in rs.segments.values():
        for c in seg.conditions:
            yield c, seg
    for score in rs.scores.values():
        if isinstance(score, ast.Score):
            for item in score.items:
                for rule in item.rules if isinstance(item, ast.Group) else (item,):
                    if isinstance(rule, ast.WhenRule):
                        yield rule.cond, rule
    for grade in rs.grades.values():
        for row in grade.rows:
            if isinstance(row, ast.CondRow):
                yield row.cond, row
    for q in rs.qualifications.values():
        for crit in q.criteria:
            yield crit.cond, crit
    for stage in rs.stages:
        yield stage.cond, stage
    for d in rs.disqualify:
        yield d.cond, d
    for route in rs.routes:
        if route.cond is not None:
            yield route.cond, route
    for sla in rs.slas.values():
        for item in sla.of(ast.FirstTouch):
            if item.cond is not None:
                yield item.cond, item


# ----------------------------------------------------------------------------- the passes


def check_header(rs: Ruleset) -> list[Diagnostic]:
    """The agreement header: locale, currency, time zone, dates, parties; money needs a currency."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    out: list[Diagnostic] = []
    a = rs.agreement
    if a is not None:
        if a.locale is not None and a.locale.name not in ("fr", "en"):
            out.append(error("LR113", f"the locale '{a.locale.name}' is not supported",
                             a.locale.span, "write `locale fr` or `locale en`"))
        if a.currency is not None and not re.fullmatch(r"[A-Z]{3}", a.currency.name):
            out.append(error("LR117", f"'{a.currency.name}' is not a currency code",
                             a.currency.span, "write the three-letter ISO code, such as EUR"))
        if a.timezone is not None:
            try:
                if not a.timezone.value or a.timezone.value != a.timezone.value.strip():
                    raise ValueError
                # `localtime` (and a path) would mean the zone of whichever machine runs it.
                if a.timezone.value == "localtime" or "/." in a.timezone.value or \
                        a.timezone.value.startswith("/"):
                    raise ValueError
                ZoneInfo(a.timezone.value)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                out.append(error("LR114", f'"{a.timezone.value}" is not a known time zone',
                                 a.timezone.span, 'write a zone such as "Europe/Paris"'))
        if a.effective_from and a.effective_to and a.effective_from.value > a.effective_to.value:
            out.append(error(
                "LR115", "the agreement ends before it starts", a.effective_from.span,
                f"write `effective {a.effective_to.value} to {a.effective_from.value}`"))
        seen: set[str] = set()
        for party in a.parties:
            if party.role not in ("marketing", "sales"):
                out.append(error("LR116", f"'{party.role}' is not a party of the agreement",
                                 party.span, did_you_mean(party.role, ("marketing", "sales"))
                                 or "the parties are marketing and sales"))
            elif party.role in seen:
                out.append(error("LR116", f"the {party.role} party is named twice", party.span))
            seen.add(party.role)
    money = [n for m in rs.modules for item in m.items for n in _walk(rs, item)
             if isinstance(n, ast.Money)]
    money_fields = [f for f in rs.fields.values() if f.type.name == "money"]
    code_ok = rs.currency is not None and re.fullmatch(r"[A-Z]{3}", rs.currency)
    for m in money:
        if not re.fullmatch(r"[A-Z]{3}", m.currency):
            out.append(error("LR117", f"'{m.currency}' is not a currency code", m.span,
                             f"write the amount with a three-letter ISO code: "
                             f"{_num(m.amount)} {rs.currency if code_ok else 'EUR'}"))
        elif code_ok and m.currency != rs.currency:
            out.append(error(
                "LR202", f"this amount is in {m.currency}, but the agreement counts in "
                f"{rs.currency}", m.span, f"write it in {rs.currency}"))
    if rs.currency is None and (money or money_fields):
        first = (money[0].span if money else money_fields[0].span)
        if a is None:
            message = "amounts of money need the agreement's currency, but there is no agreement block"
            hint = 'add an agreement block with `currency EUR` (or your currency)'
        else:
            message = "amounts of money need a currency, and the agreement does not give one"
            hint = "add `currency EUR` (or your currency) to the agreement block"
        out.append(error("LR109", message, first, hint))
    return out


def check_calendars(rs: Ruleset) -> list[Diagnostic]:
    """Day names and opening hours (several `hours` lines add up; a range may wrap the week)."""
    out: list[Diagnostic] = []
    for cal in rs.calendars.values():
        week: list[list[tuple[int, int, ast.Span]]] = [[] for _ in range(7)]
        for line in cal.hours:
            windows = []
            for start, end in line.windows:
                a, b = calendars.minutes(start), calendars.minutes(end)
                if a is None or b is None or a == calendars.END_OF_DAY:
                    bad = start if a is None or a == calendars.END_OF_DAY else end
                    out.append(error("LR108", f"'{bad}' is not a time of day", line.span,
                                     "write times as HH:MM, from 00:00 to 24:00"))
                elif b <= a:
                    out.append(error("LR108", f"the opening hours {start}-{end} end before they "
                                     "start", line.span,
                                     "split hours that cross midnight at 24:00"))
                else:
                    windows.append((a, b, line.span))
            for first, last in line.days:
                for name in (first, last):
                    if calendars.day_number(name) is None:
                        out.append(error(
                            "LR107", f"'{name}' is not a day of the week", line.span,
                            did_you_mean(name.lower(), list(calendars.DAYS))
                            or "write mon, tue, wed, thu, fri, sat or sun"))
                for d in calendars.day_range(first, last) or ():
                    week[d].extend(windows)
        reported: set[ast.Span] = set()
        for number, day in enumerate(week):
            ordered = sorted(day)
            for (_, b1, _), (a2, _, span) in zip(ordered, ordered[1:], strict=False):
                if a2 < b1 and span not in reported:
                    reported.add(span)
                    out.append(error(
                        "LR108", f"these opening hours overlap others on {calendars.DAY_NAMES[number]} "
                        f"(at {a2 // 60:02d}:{a2 % 60:02d})", span,
                        "give each day's hours once, without overlaps"))
    return out


def check_definitions(rs: Ruleset) -> list[Diagnostic]:
    """The lead schema and every definition's name: types, members, the key, naming style."""
    out: list[Diagnostic] = []

    def type_spec(spec: ast.TypeSpec, owner: str) -> None:
        if spec.name in ("from", "key", "missing"):
            out.append(error("LR105", f"'{owner}' has no type", spec.span,
                             f"write the type before `{spec.name}`: int, number, money, text, "
                             "bool, date, datetime or enum(…)"))
        elif spec.name not in _TYPES:
            alias = _TYPE_ALIASES.get(spec.name.lower())
            hint = (f"did you mean '{alias}'?" if alias else did_you_mean(spec.name, _TYPES)) \
                or "types are int, number, money, text, bool, date, datetime and enum(…)"
            out.append(error("LR105", f"unknown type '{spec.name}' for '{owner}'", spec.span, hint))
        names: set[str] = set()
        spellings: dict[str, str] = {}
        for m in spec.members:
            if m.name in names:
                out.append(error("LR102", f"'{m.name}' is listed twice in the values of "
                                 f"'{owner}'", m.span))
            names.add(m.name)
            for s in m.spellings or (m.name,):
                if s in spellings and spellings[s] != m.name:
                    out.append(error(
                        "LR102", f'the spelling "{s}" is given to both {spellings[s]} and '
                        f"{m.name}", m.span, "each spelling can mean one value only"))
                spellings.setdefault(s, m.name)

    def name_style(name: str, span: ast.Span, what: str) -> None:
        if name in _RESERVED:
            out.append(error("LR106", f"'{name}' cannot name a {what}: it means "
                             f"{_RESERVED[name]}", span, "choose another name"))
        elif not _SNAKE.match(name):
            out.append(warning(
                "LR112", f"the {what} name '{name}' is not written in lower case with "
                "underscores", span, f"write '{_snake(name)}'"))

    keys = [f for f in rs.fields.values() if f.key]
    for extra in keys[1:]:
        out.append(error("LR111", f"'{extra.name}' is a second key field (the key is already "
                         f"'{keys[0].name}')", extra.span, "a lead has one key: keep one `key`"))
    for f in rs.fields.values():
        name_style(f.name, f.span, "field")
        type_spec(f.type, f.name)
        for m in f.type.members:
            if not _SNAKE.match(m.name):
                out.append(warning(
                    "LR112", f"the value name '{m.name}' is not written in lower case with "
                    "underscores", m.span,
                    f'write {_snake(m.name)} = "{m.name}" to keep the spelling of the export'))
    for ev in rs.events.values():
        name_style(ev.name, ev.span, "event")
        names = set()
        for p in ev.properties:
            if p.name in names:
                out.append(error("LR102", f"the event '{ev.name}' has two properties named "
                                 f"'{p.name}'", p.span))
            names.add(p.name)
            name_style(p.name, p.span, "property")
            type_spec(p.type, f"{ev.name}.{p.name}")
    for table, what in ((rs.lists, "list"), (rs.segments, "segment"), (rs.scores, "score"),
                        (rs.grades, "grade"), (rs.qualifications, "qualification"),
                        (rs.calendars, "calendar")):
        for name, node in table.items():
            name_style(name, node.span, what)
    for stage in rs.stages:
        name_style(stage.name, stage.span, "stage")
    for route in rs.routes:
        name_style(route.name, route.span, "route")
    for score in rs.scores.values():
        if isinstance(score, ast.Score):
            groups: set[str] = set()
            for item in score.items:
                if isinstance(item, ast.Group):
                    if item.name in groups:
                        out.append(error("LR102", f"the score '{score.name}' has two groups "
                                         f"named '{item.name}'", item.span))
                    groups.add(item.name)
                    name_style(item.name, item.span, "group")
    return out


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower())


def check_conditions(rs: Ruleset) -> list[Diagnostic]:
    """Names and types in every condition and formula (tests have their own pass)."""
    out: list[Diagnostic] = []
    typer = _Typer(rs, out)
    for c, _owner in _conditions(rs):
        typer.cond(c)
    for score in rs.scores.values():
        if isinstance(score, ast.DerivedScore):
            typer.expr(score.expr)
            continue
        for item in score.items:
            for rule in item.rules if isinstance(item, ast.Group) else (item,):
                if isinstance(rule, ast.PerEventRule):
                    if rule.window is not None:
                        typer.duration(rule.window)
                    typer.event(rule.event, rule.span, "`per`")
                elif isinstance(rule, ast.PerUnitRule):
                    t = typer.ref(rule.field)
                    if t is not None and t.kind not in _NUMERIC | {"money"}:
                        out.append(error(
                            "LR205", f"'{rule.field.name}' is {_what(t)}: `per … of` needs a "
                            "number", rule.field.span))
                    if rule.unit.value <= 0:
                        out.append(error(
                            "LR213", f"points cannot be given per {_value_text(rule.unit)} of "
                            "something", rule.unit.span, "give a step above zero"))
    for grade in rs.grades.values():
        if grade.by is None:
            continue
        t = typer.value(grade.by)
        if t is None:
            continue
        if grade.quantiles and t.kind not in _NUMERIC | {"money", "date", "datetime"}:
            out.append(error(
                "LR201", f"'{_value_text(grade.by)}' is {_what(t)} and cannot be split into "
                f"{grade.quantiles}", grade.span))
        for row in grade.rows:
            if isinstance(row, ast.BandRow):
                typer.ordering(t, row.op, grade.by, row.span)
                right = typer.operand(row.threshold, t)
                if right is not None:
                    typer.match(t, right, grade.by, row.threshold)
    for stage in rs.stages:
        if stage.entered_at is not None:
            _entered_at(rs, stage.entered_at, out)
    return out


def _entered_at(rs: Ruleset, ref: ast.Ref, out: list[Diagnostic]) -> None:
    f = rs.fields.get(ref.name)
    dates = [n for n, fd in rs.fields.items() if fd.type.name in ("date", "datetime")]
    if f is None:
        if not _hidden(rs, ref.name):
            out.append(error("LR503", f"'{ref.name}' is not a lead field", ref.span,
                             did_you_mean(ref.name, dates)
                             or "name a date or datetime field of the lead"))
    elif f.type.name not in ("date", "datetime"):
        out.append(error(
            "LR503", f"'{ref.name}' is {_what(rs.type_of_field(f))}, but `entered at` needs a "
            "date or a date and time", ref.span,
            did_you_mean(ref.name, dates) or "name a date or datetime field of the lead"))


def check_scores(rs: Ruleset) -> list[Diagnostic]:
    """Caps and decay: min above max, decay rates and periods."""
    out: list[Diagnostic] = []

    def bounds(b: ast.Bounds, span: ast.Span, what: str) -> None:
        if b.min is not None and b.max is not None and b.min.value > b.max.value:
            out.append(error(
                "LR403", f"the {what} has min {_num(b.min.value)} above its max "
                f"{_num(b.max.value)}", span, "swap them, or remove one"))

    for score in rs.scores.values():
        bounds(score.bounds, score.span, f"score '{score.name}'")
        if isinstance(score, ast.DerivedScore):
            continue
        if score.decay is not None:
            d = score.decay
            if d.period.amount <= 0:
                out.append(error("LR213", f"points cannot decay every {_value_text(d.period)}",
                                 d.period.span,
                                 "give a period above zero"))
            if d.rate is not None and not 0 < d.rate.value <= 1:
                out.append(error(
                    "LR216", f"a decay of {_pct(d.rate.value)} is not possible", d.rate.span,
                    "write a rate above 0 % and at most 100 %"))
        for item in score.items:
            rules = item.rules if isinstance(item, ast.Group) else (item,)
            if isinstance(item, ast.Group):
                bounds(item.bounds, item.span, f"group '{item.name}'")
            for rule in rules:
                bounds(rule.bounds, rule.span, "rule")
        if not score.items and not _hidden(rs, score.name):
            out.append(warning("LR706", f"the score '{score.name}' has no rules: it is always 0",
                               score.span, "add point rules, or remove the score"))
    return out


def compute_intervals(rs: Ruleset) -> list[Diagnostic]:
    """Sets `rs.intervals[score] = (lo, hi)`: every value the score can take lies in it."""
    rs.intervals = {}
    for name in rs.order:
        score = rs.scores.get(name)
        # Caps with min above max are an error already; their range would only mislead.
        # A score read in part (a line with a syntax error left out) has no known range: the
        # lines left out may give or take any number of points.
        if score is not None and not _hidden(rs, name) and not any(
                b.min is not None and b.max is not None and b.min.value > b.max.value
                for b in _all_bounds(score)):
            rs.intervals[name] = reach.score_interval(score, lambda ref: value_interval(rs, ref))
    return []


def _all_bounds(score: ast.Score | ast.DerivedScore) -> list[ast.Bounds]:
    found = [score.bounds]
    for item in getattr(score, "items", ()):
        found.append(item.bounds)
        found.extend(rule.bounds for rule in getattr(item, "rules", ()))
    return found


def value_interval(rs: Ruleset, node) -> reach.Interval | None:
    """The range of a numeric value, when the rules bound it: scores, `q.count`, `count(…)`."""
    if isinstance(node, ast.Ref):
        sym = rs.resolve(node)
        if sym is None:
            return None
        if sym.kind == SCORE:
            return rs.intervals.get(sym.name)
        if sym.kind == QUALIFICATION_COUNT:
            return reach.ZERO, Decimal(len(sym.node.criteria))
        return None
    if isinstance(node, ast.Count):
        return reach.ZERO, reach.INF
    return None


def _bound_text(name: str, interval: reach.Interval) -> str:
    lo, hi = interval
    if lo.is_infinite() and hi.is_infinite():
        return f"{name} can take any value"
    if lo.is_infinite():
        return f"{name} is at most {_num(hi)}"
    if hi.is_infinite():
        return f"{name} is at least {_num(lo)}"
    if lo == hi:
        return f"{name} is always {_num(lo)}"
    return f"{name} is between {_num(lo)} and {_num(hi)}"


def check_reachability(rs: Ruleset) -> list[Diagnostic]:
    """Thresholds on scores that no lead, or every lead, satisfies (grade bands: see grades)."""
    out: list[Diagnostic] = []
    for cond, _owner in _conditions(rs):
        for node in _walk(rs, cond):
            if isinstance(node, ast.Compare) and isinstance(node.right, (ast.Number, ast.Percent)):
                interval = value_interval(rs, node.left)
                if interval is None:
                    continue
                result = reach.verdict(interval, node.op, node.right.value)
                if result is None:
                    continue
                text = f"{_value_text(node.left)} {node.op} {_value_text(node.right)}"
            elif isinstance(node, ast.Between) and all(
                    isinstance(b, (ast.Number, ast.Percent)) for b in (node.low, node.high)):
                interval = value_interval(rs, node.value)
                if interval is None or node.low.value > node.high.value:
                    continue
                result = reach.between_verdict(interval, node.low.value, node.high.value)
                if result is None:
                    continue
                text = (f"{_value_text(node.value)} between {_value_text(node.low)} and "
                        f"{_value_text(node.high)}")
            else:
                continue
            where = _value_text(node.left if isinstance(node, ast.Compare) else node.value)
            if result == "never":
                out.append(warning(
                    "LR401", f"no lead can ever have {text}: {_bound_text(where, interval)}",
                    node.span, "change the threshold, or the rules of the score"))
            elif result == "always":
                out.append(warning(
                    "LR402", f"every lead has {text} ({_bound_text(where, interval)}), so this "
                    "condition always holds", node.span,
                    "change the threshold, or remove the condition"))
    return out


def check_grades(rs: Ruleset) -> list[Diagnostic]:
    """Bands in order, reachable, not overlapping; `otherwise` last and present; quantiles."""
    out: list[Diagnostic] = []
    per_lead = _quantiles_used_per_lead(rs)
    for grade in rs.grades.values():
        if grade.quantiles:
            out.extend(_check_quantiles(grade, grade.name in per_lead))
            continue
        labels: dict[str, ast.Span] = {}
        for row in grade.rows:
            if row.name in labels:
                out.append(error("LR102", f"the grade '{grade.name}' has the label '{row.name}' "
                                 "twice", row.span, "give each row its own label"))
            labels.setdefault(row.name, row.span)
        otherwise = next((i for i, r in enumerate(grade.rows)
                          if isinstance(r, ast.OtherwiseRow)), None)
        if otherwise is None:
            if not _hidden(rs, grade.name):  # the row may be on a line that could not be read
                out.append(error(
                    "LR304", f"the grade '{grade.name}' has no `otherwise` row, so a lead can "
                    "be left without a label", grade.span,
                    "add a last row such as `D otherwise`"))
        else:
            for row in grade.rows[otherwise + 1:]:
                out.append(error(
                    "LR305", f"the row '{row.name}' comes after `otherwise` and is never used",
                    row.span, "move `otherwise` to the last row"))
        rows = grade.rows[:otherwise] if otherwise is not None else grade.rows
        bands = [r for r in rows if isinstance(r, ast.BandRow)]
        if bands and grade.by is None:
            for row in bands:
                out.append(error(
                    "LR307", f"the row '{row.name}' compares a value, but the grade '{grade.name}'"
                    " does not say which (`by …`)", row.span,
                    f"write `grade {grade.name} by SCORE {{ … }}`"))
            continue
        out.extend(_check_rows(rs, grade, rows))
    return out


def _check_rows(rs: Ruleset, grade: ast.Grade, rows) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by = grade.by
    interval = (value_interval(rs, by) if by is not None else None) or reach.UNBOUNDED
    if isinstance(by, ast.DaysSince):
        interval = (reach.ZERO, reach.INF)
    whole = reach.region(interval)
    covered: reach.Region = ()
    earlier: list[tuple[ast.BandRow, reach.Region]] = []
    seen_conds: list[ast.Cond] = []
    all_taken = False
    for row in rows:
        if isinstance(row, ast.CondRow):
            if all_taken:
                out.append(error("LR302", f"no lead reaches the row '{row.name}': the rows "
                                 "above already take every lead", row.span))
            elif row.cond in seen_conds:
                out.append(error("LR302", f"the row '{row.name}' has the same condition as a "
                                 "row above, which takes all its leads", row.span))
            seen_conds.append(row.cond)
            continue
        threshold = _literal_value(row.threshold)
        if not isinstance(threshold, Decimal):
            continue
        own_all = reach.half_line(row.op, threshold)
        own = reach.intersect(own_all, whole)
        if reach.is_empty(own):
            out.append(warning(
                "LR401", f"no lead can reach the band '{row.name}' ({_value_text(by)} {row.op} "
                f"{_value_text(row.threshold)}): {_bound_text(_value_text(by), interval)}",
                row.span, "change the threshold, or the rules of the score"))
            continue
        effective = reach.subtract(own, covered)
        if reach.is_empty(effective):
            culprit = _out_of_order(row, threshold, earlier)
            if culprit is not None:
                out.append(error(
                    "LR301", f"the bands are out of order: '{row.name}' ({row.op} "
                    f"{_value_text(row.threshold)}) comes after '{culprit.name}' ({culprit.op} "
                    f"{_value_text(culprit.threshold)}), which already takes all its leads",
                    row.span, "write the bands from the highest threshold to the lowest"
                    if row.op in (">=", ">") else
                    "write the bands from the lowest threshold to the highest"))
            else:
                out.append(error(
                    "LR302", f"no lead reaches the band '{row.name}': the rows above already "
                    "take every lead it would get", row.span))
        else:
            for before, region in earlier:
                if _direction(before.op) != _direction(row.op) and not reach.is_empty(
                        reach.intersect(region, own)):
                    out.append(warning(
                        "LR303", f"the band '{row.name}' ({row.op} {_value_text(row.threshold)}) "
                        f"overlaps the band '{before.name}' ({before.op} "
                        f"{_value_text(before.threshold)}); the leads of both go to "
                        f"'{before.name}', the first that matches", row.span,
                        "make the bands meet without overlapping"))
                    break
        covered = covered + own
        earlier.append((row, own))
        if reach.is_empty(reach.subtract(whole, covered)):
            all_taken = True
    return out


def _direction(op: str) -> str:
    return {">=": "up", ">": "up", "<=": "down", "<": "down"}.get(op, op)


def _out_of_order(row: ast.BandRow, threshold: Decimal, earlier) -> ast.BandRow | None:
    for before, _ in earlier:
        value = _literal_value(before.threshold)
        if not isinstance(value, Decimal) or _direction(before.op) != _direction(row.op):
            continue
        if _direction(row.op) == "up" and value < threshold:
            return before
        if _direction(row.op) == "down" and value > threshold:
            return before
    return None


def _quantiles_used_per_lead(rs: Ruleset) -> set[str]:
    """Quantile grades without cut points that a test reads: a test scores one lead, and one
    lead has no population to cut."""
    names = {n for n, g in rs.grades.items() if g.quantiles and not g.cuts}
    used: set[str] = set()
    for test in rs.tests:
        for node in _walk(rs, test):
            if isinstance(node, ast.Ref) and node.parts[0] in names:
                used.add(node.parts[0])
    return used


def _check_quantiles(grade: ast.Grade, per_lead: bool) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    groups = _QUANTILE_GROUPS.get(grade.quantiles, 0)
    if grade.cuts:
        values = [c.value for c in grade.cuts]
        if len(values) != groups - 1:
            out.append(error(
                "LR308", f"{grade.quantiles} need {groups - 1} cut points, and "
                f"{len(values)} are given", grade.cuts[0].span))
        elif any(b <= a for a, b in zip(values, values[1:], strict=False)):
            out.append(error("LR308", "the cut points must go up", grade.cuts[0].span,
                             "write them from the lowest to the highest"))
    elif per_lead:
        out.append(warning(
            "LR306", f"the grade '{grade.name}' is cut into {grade.quantiles} of the scored "
            "leads, but a test scores a single lead", grade.span,
            f"freeze the cut points in the file: `… {grade.quantiles} at "
            + ", ".join(str(i) for i in range(1, groups)) + "`, or let `leadrules score "
            "--freeze-cuts` write those of your leads"))
    return out


def check_qualifications(rs: Ruleset) -> list[Diagnostic]:
    """`require K of N`: N is the number of criteria and K is between 1 and N."""
    out: list[Diagnostic] = []
    for q in rs.qualifications.values():
        names: set[str] = set()
        for crit in q.criteria:
            if crit.name in names:
                out.append(error("LR102", f"the qualification '{q.name}' has two criteria named "
                                 f"'{crit.name}'", crit.span))
            names.add(crit.name)
        if q.require is None or _hidden(rs, q.name):
            continue  # without the criteria on lines that could not be read, K of N is moot
        n = len(q.criteria)
        if q.of.value != n:
            out.append(error(
                "LR118", f"`require {_num(q.require.value)} of {_num(q.of.value)}`, but the "
                f"qualification has {n} criteria", q.of.span,
                f"write `require {_num(q.require.value)} of {n}`"))
        if not 1 <= q.require.value <= n or \
                q.require.value != q.require.value.to_integral_value():
            out.append(error(
                "LR118", f"a lead cannot meet {_num(q.require.value)} of {n} criteria",
                q.require.span, f"require a whole number from 1 to {n}"))
    return out


def check_lifecycle(rs: Ruleset) -> list[Diagnostic]:
    """Stage conditions never read the stage they decide; `entered at` lines have a stage."""
    out: list[Diagnostic] = []
    reads = _readers(rs, "stage")
    names = rs.stage_names
    for i, stage in enumerate(rs.stages):
        if stage.name == _DISQUALIFIED:
            continue
        out.extend(_self_reads(rs, stage.cond, "stage", reads, f"the stage '{stage.name}'",
                               names[i + 1:]))
    for d in rs.disqualify:
        out.extend(_self_reads(rs, d.cond, "stage", reads, "`disqualify`", ()))
    for item in _items(rs, ast.Stages):
        for orphan in item.orphans:
            out.append(error(
                "LR504", "this `entered at` line has no stage before it", orphan.span,
                "put it just after the stage it belongs to"))
    return out


def _readers(rs: Ruleset, builtin: str) -> dict[str, str]:
    """Definitions that read `builtin` (stage or route), directly or through others: name ->
    the definition through which they read it."""
    found: dict[str, str] = {}
    nodes = {**rs.segments, **rs.scores, **rs.grades, **rs.qualifications}
    for name in rs.order:
        node = nodes.get(name)
        if node is None:
            continue
        for sub in _walk(rs, node):
            if isinstance(sub, ast.Ref):
                if sub.parts[0] == builtin and builtin not in nodes:
                    found[name] = name
                    break
                if sub.parts[0] in found and sub.parts[0] != name:
                    found[name] = found[sub.parts[0]]
                    break
    return found


def _self_reads(rs, cond, builtin: str, readers: dict[str, str], owner: str, later) -> list:
    out = []
    for node in _walk(rs, cond):
        if not isinstance(node, ast.Ref):
            continue
        head = node.parts[0]
        if head == builtin:
            message = f"{owner} reads the lead's {builtin}, which it helps decide"
            named = [n.parts[0] for n in _walk(rs, cond) if isinstance(n, ast.Ref)
                     and n.parts[0] in later]
            if named:
                message = f"{owner} refers to the later {builtin} '{named[0]}'"
            out.append(error("LR502", message, node.span,
                             "stages already build on the one before: test the definitions "
                             "instead" if builtin == "stage" else
                             "routes cannot depend on the route"))
        elif head in readers:
            through = "" if readers[head] == head else f" (through '{readers[head]}')"
            out.append(error(
                "LR502", f"{owner} uses '{head}', which reads the lead's {builtin}{through}, "
                "so the two decide each other", node.span,
                f"make '{head}' independent of the {builtin}"))
    return out


def check_routes(rs: Ruleset) -> list[Diagnostic]:
    """Routes end with exactly one `otherwise`, and never read the route they decide."""
    out: list[Diagnostic] = []
    if not rs.routes:
        return out
    otherwise = next((i for i, r in enumerate(rs.routes) if r.cond is None), None)
    if otherwise is None:
        # A route line that could not be read may be the `otherwise` one: its error says so.
        if not _hidden(rs, "route"):
            out.append(error(
                "LR505", "no route has `otherwise`, so a lead can be left without a route",
                rs.routes[-1].span, 'add a last route such as `route default "…" otherwise`'))
    else:
        for route in rs.routes[otherwise + 1:]:
            out.append(error(
                "LR505", f"the route '{route.name}' comes after the `otherwise` route and is "
                "never used", route.span, "move the `otherwise` route to the end"))
    readers = _readers(rs, "route")
    for route in rs.routes:
        if route.cond is not None:
            out.extend(_self_reads(rs, route.cond, "route", readers,
                                   f"the route '{route.name}'", ()))
    return out


# ----------------------------------------------------------------------------- SLA and channels

_MARKETING_ITEMS = (ast.RevenueTarget, ast.MarketingShare, ast.AverageDeal, ast.Conversion,
                    ast.Deliver)
_SALES_ITEMS = (ast.SlaCalendar, ast.Touches, ast.FirstTouch, ast.Attempts, ast.AcceptReject,
                ast.Recycle)


def _stage_word(name: str, count: Decimal | int | None = None) -> str:
    """`MQL`, `customers`, `leads`: a stage as the agreement counts it."""
    if len(name) <= 3:
        return name.upper()
    if count is not None and count == 1:
        return name
    if name.endswith("y") and not name.endswith(("ay", "ey", "oy", "uy")):
        return name[:-1] + "ies"
    return name + "s"


def check_sla(rs: Ruleset) -> list[Diagnostic]:
    """Both sides of the SLA; sets `rs.funnel` (sla.derive) for every later consumer."""
    from leadrules import sla as sla_math

    out: list[Diagnostic] = []
    rs.funnel = None
    for side, sla in rs.slas.items():
        if side not in ("marketing", "sales"):
            out.append(error("LR609", f"'sla {side}': an SLA is the commitment of marketing or of"
                             " sales", sla.span, did_you_mean(side, ("marketing", "sales"))
                             or "write `sla marketing` or `sla sales`"))
            continue
        wrong = _SALES_ITEMS if side == "marketing" else _MARKETING_ITEMS
        for item in sla.items:
            if isinstance(item, wrong):
                other = "sales" if side == "marketing" else "marketing"
                out.append(error(
                    "LR612", f"this line is a {other} commitment, written in the {side} SLA",
                    item.span, f"move it to `sla {other}`"))
    marketing = rs.sla_marketing
    # A marketing SLA read in part: its arithmetic would be about the lines that could be read.
    if marketing is not None and not _hidden(rs, "sla marketing"):
        out.extend(_check_marketing(rs, marketing))
        if not any(d.severity == ERROR and d.code.startswith("LR6") for d in out):
            rs.funnel = sla_math.derive(marketing)
            if rs.funnel is not None:
                out.extend(_commitments(rs, marketing, rs.funnel))
    if rs.sla_sales is not None:
        out.extend(_check_sales(rs, rs.sla_sales))
    return out


def _stage_ref(rs: Ruleset, name: str, span: ast.Span, extra=()) -> Diagnostic | None:
    known = (*rs.stage_names, *extra)
    if name in known or _hidden(rs, name) or _hidden(rs, "stage"):
        return None
    hint = did_you_mean(name, known) or (
        "the stages are: " + ", ".join(known) if rs.stages else "there is no stages block")
    return error("LR606", f"'{name}' is not a stage", span, hint)


def _check_marketing(rs: Ruleset, sla: ast.Sla) -> list[Diagnostic]:
    from leadrules.sla import CUSTOMER, conversion_chain

    out: list[Diagnostic] = []
    steps = sla.of(ast.Conversion)
    target, deal = sla.first(ast.RevenueTarget), sla.first(ast.AverageDeal)
    share = sla.first(ast.MarketingShare)
    if steps or sla.of(ast.Deliver):
        if target is None:
            out.append(error("LR604", "the marketing SLA has no revenue target, so the volume "
                             "it needs cannot be computed", sla.span,
                             "add `revenue target 2_400_000 EUR per year` (your figure)"))
        if deal is None:
            out.append(error("LR604", "the marketing SLA has no average deal size, so the "
                             "number of customers cannot be computed", sla.span,
                             "add `average deal 12_000 EUR` (your figure)"))
    if deal is not None and deal.amount.amount <= 0:
        out.append(error("LR604", "the average deal must be above zero", deal.span))
    if target is not None and target.amount.amount <= 0:
        out.append(error("LR604", "the revenue target must be above zero", target.span))
    if share is not None and not 0 < share.share.value <= 1:
        out.append(error("LR602", f"a marketing share of {_pct(share.share.value)} is not "
                         "possible", share.share.span, "write a share above 0 % and at most 100 %"))
    ladder = {name: i for i, name in enumerate(rs.stage_names)}
    known_stages = True
    for step in steps:
        for name, extra in ((step.source, ()), (step.target, (CUSTOMER,))):
            problem = _stage_ref(rs, name, step.span, extra)
            if problem is not None:
                known_stages = False
                out.append(error("LR601", f"the conversion step names '{name}', which is not a "
                                 "stage", step.span, problem.hint))
        if not 0 < step.rate.value <= 1:
            out.append(error("LR602", f"a conversion rate of {_pct(step.rate.value)} is not "
                             "possible", step.rate.span, "write a rate above 0 % and at most 100 %"))
        if step.source in ladder and step.target in ladder and \
                ladder[step.target] <= ladder[step.source]:
            out.append(error(
                "LR603", f"the step {step.source} -> {step.target} goes backwards: "
                f"'{step.target}' is not after '{step.source}' in the stages", step.span))
    if steps and known_stages and conversion_chain(steps) is None:
        out.append(_chain_problem(steps, sla.span))
    chain_stages = {s.source for s in steps} | {CUSTOMER}
    for d in sla.of(ast.Deliver):
        problem = _stage_ref(rs, d.stage, d.span, (CUSTOMER,))
        if problem is not None:
            out.append(problem)
        elif steps and d.stage not in chain_stages:
            out.append(warning(
                "LR614", f"the commitment on '{d.stage}' cannot be checked: the conversion "
                f"steps do not go through '{d.stage}'", d.span,
                f"add a conversion step from {d.stage}"))
        if d.count.value <= 0:
            out.append(error("LR602", "a commitment of 0 is no commitment", d.count.span))
    return out


def _chain_problem(steps, span: ast.Span) -> Diagnostic:
    from leadrules.sla import CUSTOMER

    hint = None
    sources = [s.source for s in steps]
    twice = next((s for s in sources if sources.count(s) > 1), None)
    targets = {s.target for s in steps}
    starts = [s for s in steps if s.source not in targets]
    if twice is not None:
        message = f"two conversion steps start from '{twice}'"
        hint = "keep one step from each stage"
    elif not starts:
        message = "the conversion steps go round in a circle"
    elif len(starts) > 1:
        message = ("the conversion steps form separate chains, starting at "
                   + " and ".join(f"'{s.source}'" for s in starts))
        hint = "link them into one chain from the first stage to customer"
    else:
        by_source = {s.source: s for s in steps}
        at = starts[0]
        while at.target in by_source and at.target != CUSTOMER:
            at = by_source[at.target]
        message = f"the conversion chain stops at '{at.target}' and never reaches customer"
        hint = f"add `conversion {at.target} -> customer N%`"
    return error("LR603", message, span, hint)


def _commitments(rs: Ruleset, sla: ast.Sla, funnel) -> list[Diagnostic]:
    """A commitment below what the revenue target needs: a warning that shows the arithmetic."""
    from leadrules.sla import PERIODS_PER_YEAR

    out: list[Diagnostic] = []
    target = sla.first(ast.RevenueTarget)
    share = sla.first(ast.MarketingShare)
    steps = {s.source: s for s in sla.of(ast.Conversion)}
    for c in funnel.commitments:
        d = c.deliver
        if d.count.value >= c.needed:
            continue
        need = funnel.stage(d.stage)
        # Written from the Decimal: an int of thousands of digits cannot be turned into text.
        needed = _num(need.per(d.period).to_integral_value(rounding=ROUND_CEILING))
        word = _stage_word(d.stage)
        per_target = "" if target.period == "year" else \
            f" per {target.period} × {PERIODS_PER_YEAR[target.period]}"
        revenue = f"{_num(target.amount.amount)}{per_target}"
        if share is not None:
            revenue += f" × {_pct(share.share.value)}"
        customers = funnel.customers
        parts = [f"{revenue} ÷ {_num(funnel.average_deal)} = {_num(customers, 1)} customers"]
        rates: list[str] = []
        at = d.stage
        while at in steps:
            rates.append(_pct(steps[at].rate.value))
            at = steps[at].target
        yearly = f"{_num(need.per_year, 1)} {word} per year"
        if rates:
            product = rates[0] if len(rates) == 1 else "(" + " × ".join(rates) + ")"
            parts.append(f"{_num(customers, 1)} ÷ {product} = {yearly}"
                         + ("" if d.period == "year" else f", {needed} per {d.period}"))
        elif d.period != "year":
            parts[-1] += f", {needed} per {d.period}"
        out.append(warning(
            "LR605", f"the commitment of {_num(d.count.value)} {_stage_word(d.stage, d.count.value)}"
            f" per {d.period} is below the {needed} per {d.period} the revenue target requires ("
            + "; ".join(parts) + ")", d.span,
            f"write `deliver at least {needed.replace(' ', '_')} {d.stage} per {d.period}`, "
            "or revise the target, the share, the deal size or the conversion rates"))
    return out


def _check_sales(rs: Ruleset, sla: ast.Sla) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    calendar = sla.first(ast.SlaCalendar)
    if calendar is not None and calendar.name not in rs.calendars and \
            not _hidden(rs, calendar.name):
        out.append(error("LR607", f"unknown calendar '{calendar.name}'", calendar.span,
                         did_you_mean(calendar.name, rs.calendars)
                         or f"declare it: calendar {calendar.name} {{ hours mon-fri 09:00-18:00 }}"))
    for touches in sla.of(ast.Touches):
        for name in touches.events:
            if name not in rs.events and not _hidden(rs, name):
                out.append(error("LR608", f"'{name}' is not a declared event", touches.span,
                                 did_you_mean(name, rs.events)
                                 or f'declare it: event {name} "…"'))
    business: ast.Span | None = None
    for item in sla.items:
        stage_names: list[str] = []
        durations: list[ast.Duration] = []
        if isinstance(item, (ast.FirstTouch, ast.AcceptReject)):
            stage_names, durations = [item.stage], [item.within]
        elif isinstance(item, ast.Attempts):
            stage_names, durations = [item.stage], [item.within]
            if item.count.value <= 0:
                out.append(error("LR602", "at least 0 attempts is no commitment",
                                 item.count.span))
        elif isinstance(item, ast.Recycle):
            stage_names, durations = [item.without], [item.after]
        for name in stage_names:
            problem = _stage_ref(rs, name, item.span)
            if problem is not None:
                out.append(problem)
        for d in durations:
            if d.amount <= 0:
                out.append(error("LR213", f"a delay of {_value_text(d)} is empty", d.span,
                                 "give a delay above zero"))
            if d.business and business is None:
                business = d.span
    if business is not None and calendar is None:
        out.append(warning(
            "LR613", "business time is counted on the default calendar (Monday to Friday, "
            "09:00-18:00, no holidays), as the sales SLA names none", business,
            "name the calendar: add `calendar NAME` to the sales SLA"))
    return out


def check_channels(rs: Ruleset) -> list[Diagnostic]:
    """`channels by FIELD`: an enum field, and channels that are its values."""
    out: list[Diagnostic] = []
    ch = rs.channels
    if ch is None:
        return out
    f = rs.fields.get(ch.by)
    members: tuple[str, ...] | None = None
    if f is None:
        if not _hidden(rs, ch.by):
            out.append(error("LR610", f"'{ch.by}' is not a lead field", ch.span,
                             did_you_mean(ch.by, [n for n, fd in rs.fields.items()
                                                  if fd.type.name == "enum"])))
    elif f.type.name != "enum":
        out.append(error("LR610", f"channels are the values of a field with a fixed list of "
                         f"values, and '{ch.by}' is {_what(rs.type_of_field(f))}", ch.span,
                         f"declare '{ch.by}' as enum(…)"))
    else:
        members = tuple(m.name for m in f.type.members)
    seen: set[str] = set()
    for channel in ch.channels:
        if channel.name in seen:
            out.append(error("LR102", f"the channel '{channel.name}' is listed twice",
                             channel.span))
        seen.add(channel.name)
        if members is not None and channel.name not in members:
            out.append(error("LR611", f"'{channel.name}' is not one of the values of '{ch.by}'",
                             channel.span, did_you_mean(channel.name, members)
                             or "it can be: " + ", ".join(members)))
    return out


# ----------------------------------------------------------------------------- unused definitions


def check_unused(rs: Ruleset) -> list[Diagnostic]:
    """Events, lists, segments, qualifications and calendars nothing reads. Scores and grades are
    results of scoring, so they are always used."""
    if _has_syntax_errors(rs):
        return []  # what reads a definition may sit in the part that could not be read
    names: set[str] = set()
    events: set[str] = set(rs.stage_names)  # an event named like a stage dates the stage
    calendars: set[str] = set()
    business_time = False
    for module in rs.modules:
        for item in module.items:
            for node in _walk(rs, item):
                if isinstance(node, ast.Ref):
                    if not (isinstance(item, _VALUE_KINDS_TUPLE) and node.parts[0] == item.name):
                        names.add(node.parts[0])
                elif isinstance(node, (ast.Within, ast.Count, ast.DaysSince, ast.PerEventRule)):
                    events.add(node.event)
                elif isinstance(node, ast.Touches):
                    events.update(node.events)
                elif isinstance(node, ast.SlaCalendar):
                    calendars.add(node.name)
                elif isinstance(node, ast.Duration) and node.business:
                    business_time = True
    # Business durations count on the sales SLA's calendar, else on the one named `business`.
    if business_time and not calendars:
        calendars.add("business")
    events |= {n for n in names if n in rs.events}
    out: list[Diagnostic] = []
    for name, ev in rs.events.items():
        if name not in events:
            out.append(warning("LR701", f"the event '{name}' is never used", ev.span,
                               "use it in a rule or a condition, or remove it"))
    for name, lst in rs.lists.items():
        if name not in names:
            out.append(warning("LR702", f"the list '{name}' is never used", lst.span,
                               f"use it in a condition (`… in {name}`), or remove it"))
    for name, seg in rs.segments.items():
        if name not in names:
            out.append(warning("LR703", f"the segment '{name}' is never used", seg.span,
                               "use it in a score, a stage or a route, or remove it"))
    for name, q in rs.qualifications.items():
        if name not in names:
            out.append(warning("LR704", f"the qualification '{name}' is never used", q.span,
                               f"use it in a stage (`when {name}`), or remove it"))
    # A calendar named wrongly in the SLA is reported there; calling the right one unused
    # would only add noise.
    misnamed = any(c not in rs.calendars for c in calendars)
    for name, cal in rs.calendars.items():
        if name not in calendars and not misnamed:
            out.append(warning("LR705", f"the calendar '{name}' is never used", cal.span,
                               f"name it in the sales SLA: `calendar {name}`"))
    return out


_VALUE_KINDS_TUPLE = tuple(_VALUE_KINDS)


# ----------------------------------------------------------------------------- tests


def check_tests(rs: Ruleset) -> list[Diagnostic]:
    """`test` blocks: an `as of`, known fields, events and labels, values that fit their types.
    (Running them is `leadrules.testing`'s job.)"""
    out: list[Diagnostic] = []
    typer = _Typer(rs, out, unknown_code="LR802")
    labels = _rule_labels(rs)
    names: dict[str, ast.Span] = {}
    for test in rs.tests:
        if test.name in names:
            out.append(error("LR102", f'there are two tests named "{test.name}"', test.span,
                             "give each test its own name"))
        names.setdefault(test.name, test.span)
        as_of = [i for i in test.items if isinstance(i, ast.AsOf)]
        leads = [i for i in test.items if isinstance(i, ast.TestLead)]
        if not as_of:
            out.append(error("LR801", f'the test "{test.name}" does not say when it is evaluated',
                             test.span, "add a line such as `as of 2027-03-01T10:00`"))
        for extra in as_of[1:]:
            out.append(error("LR805", "this test has two `as of` lines", extra.span))
        for extra in leads[1:]:
            out.append(error("LR805", "this test has two lead records", extra.span,
                             "write one test per lead"))
        if not any(isinstance(i, (ast.Expect, ast.ExpectFired)) for i in test.items):
            out.append(warning("LR806", f'the test "{test.name}" expects nothing', test.span,
                               "add `expect …` lines"))
        for item in test.items:
            if isinstance(item, ast.TestLead):
                _record(rs, item.record, {n: f for n, f in rs.fields.items()}, "lead field", out)
            elif isinstance(item, ast.TestEvent):
                ev = rs.events.get(item.name)
                if ev is None:
                    if not _hidden(rs, item.name):
                        out.append(error("LR802", f"unknown event '{item.name}'", item.span,
                                         did_you_mean(item.name, rs.events)))
                elif item.properties is not None:
                    _record(rs, item.properties, {p.name: p for p in ev.properties},
                            f"property of '{ev.name}'", out)
            elif isinstance(item, ast.Expect):
                typer.cond(item.cond)
            # A label may belong to a rule in a part of the file that could not be read.
            elif (isinstance(item, ast.ExpectFired) and item.label not in labels
                  and not _has_syntax_errors(rs)):
                out.append(error("LR804", f'no rule is labelled "{item.label}"', item.span,
                                 did_you_mean(item.label, labels)))
    return out


def _rule_labels(rs: Ruleset) -> set[str]:
    labels: set[str] = set()
    for score in rs.scores.values():
        if isinstance(score, ast.Score):
            for item in score.items:
                for rule in item.rules if isinstance(item, ast.Group) else (item,):
                    if rule.label:
                        labels.add(rule.label)
    labels.update(d.label for d in rs.disqualify if d.label)
    return labels


def _record(rs: Ruleset, record: ast.Record, fields: dict, what: str,
            out: list[Diagnostic]) -> None:
    seen: set[str] = set()
    for entry in record.entries:
        if entry.name in seen:
            out.append(error("LR805", f"'{entry.name}' is given twice", entry.span))
        seen.add(entry.name)
        f = fields.get(entry.name)
        if f is None:
            if not _hidden(rs, entry.name):
                out.append(error("LR802", f"'{entry.name}' is not a {what}", entry.span,
                                 did_you_mean(entry.name, fields)))
            continue
        problem = _fits(rs, f, entry.value)
        if problem:
            out.append(error("LR803", f"'{entry.name}' is {problem}", entry.value.span
                             if hasattr(entry.value, "span") else entry.span))


def _fits(rs: Ruleset, f: ast.Field | ast.Property, value) -> str | None:
    """Why `value` cannot be the value of `f` in a test record, or None when it fits."""
    kind = f.type.name
    t = rs.type_of_field(f) if isinstance(f, ast.Field) else Type(kind)
    if kind == "enum":
        members = [m.name for m in f.type.members]
        if isinstance(value, ast.Ref) and value.name in members:
            return None
        if isinstance(value, ast.String) and any(
                value.value == m.name or value.value in m.spellings for m in f.type.members):
            return None
        shown = value.name if isinstance(value, ast.Ref) else _value_text(value)
        suggestion = did_you_mean(shown, members)
        return (f"one of {', '.join(members[:8])}{', …' if len(members) > 8 else ''}, "
                f"not {shown}" + (f" ({suggestion})" if suggestion else ""))
    ok = {
        "int": lambda v: isinstance(v, ast.Number) and v.value == v.value.to_integral_value(),
        "number": lambda v: isinstance(v, (ast.Number, ast.Percent)),
        "money": lambda v: isinstance(v, (ast.Number, ast.Money)),
        "text": lambda v: isinstance(v, ast.String),
        "bool": lambda v: isinstance(v, ast.Bool),
        "date": lambda v: isinstance(v, ast.DateLit),
        "datetime": lambda v: isinstance(v, (ast.DateLit, ast.DateTimeLit)),
    }.get(kind)
    if ok is None or ok(value):
        return None
    if kind == "text" and isinstance(value, ast.Ref):
        return f'a text: write it in double quotes, "{value.name}"'
    if kind == "int":
        return f"a whole number, not {_value_text(value)}"
    return f"{_what(t)}, not {_value_text(value)}"


# ----------------------------------------------------------------------------- many files


_INCLUDE = re.compile(r'^[ \t]*include[ \t]+"((?:\\.|[^"\\\n])*)"', re.M)


def _included(file: Path) -> list[Path]:
    """The rule files `file` includes, read from its include lines without parsing it (the
    includes the loader refuses are not followed here either)."""
    from leadrules.loader import refused_include

    try:
        text = file.read_bytes().decode("utf-8", "replace") if file.is_file() else ""
    except OSError:
        return []
    found = []
    for raw in _INCLUDE.findall(text):
        written = raw.replace('\\"', '"').replace("\\\\", "\\")
        target = file.parent / written
        if refused_include(written, target, 1) is None and target.is_file():
            found.append(target.resolve())
    return found


def main_files(files: list[Path]) -> list[Path]:
    """The files to check as main files: those no other file of the run includes (directly or
    not). A file only included is checked through the file that includes it, once, in context.
    Files that only include each other in a circle are each checked on their own."""
    closure: dict[Path, set[Path]] = {}

    def reachable(start: Path) -> set[Path]:
        seen: set[Path] = set()
        stack = _included(start)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(_included(current))
        return seen

    resolved = {f: f.resolve() for f in files}
    for r in resolved.values():
        closure[r] = reachable(r)
    included = set().union(*(c - {r} for r, c in closure.items())) if closure else set()
    roots = [f for f in files if resolved[f] not in included]
    covered = set().union(*(closure[resolved[f]] | {resolved[f]} for f in roots)) if roots \
        else set()
    for f in files:
        if resolved[f] not in covered:
            roots.append(f)
            covered |= closure[resolved[f]] | {resolved[f]}
    return roots


def check_files(files: list[Path], run_tests: bool = True
                ) -> tuple[list[Ruleset], list[Diagnostic], list[str]]:
    """Check every file given (folders already expanded): the checked rulesets of the main files,
    all their diagnostics de-duplicated and sorted, and every file read (as displayed). With
    `run_tests`, the `test` blocks of each file without errors are run too (LR810 when one
    fails)."""
    rulesets: list[Ruleset] = []
    diagnostics: list[Diagnostic] = []
    read: dict[str, None] = {}
    for file in main_files(list(dict.fromkeys(files))):
        rs = check(file)
        rulesets.append(rs)
        diagnostics.extend(rs.diagnostics)
        if run_tests and rs.tests and rs.ok:
            diagnostics.extend(_run_tests(rs))
        for module in rs.modules or ():
            read.setdefault(module.path)
        if not rs.modules:
            read.setdefault(str(file))
    return rulesets, finish(diagnostics), list(read)


def _run_tests(rs: Ruleset) -> list[Diagnostic]:
    from leadrules.testing import FAILED, run_tests

    try:
        return run_tests(rs)
    except Exception as exc:  # a crash of the evaluator must not hide the rest of the report
        return [error(FAILED, f"the tests of this file could not be run ({type(exc).__name__}: "
                      f"{exc})", rs.tests[0].span,
                      "this is a fault of leadrules, not of the rules: please report it")]


# The passes, in order. Where the order matters, the comment says why.
CHECKS = (
    order_definitions,     # first: later passes read rs.order
    check_header,
    check_calendars,
    check_definitions,
    check_conditions,
    check_scores,
    compute_intervals,     # needs rs.order (a score after what it reads); sets rs.intervals
    check_reachability,    # reads rs.intervals
    check_grades,          # reads rs.intervals for the bands
    check_qualifications,
    check_lifecycle,       # reads rs.order to follow what reads the stage
    check_routes,
    check_sla,             # sets rs.funnel
    check_channels,
    check_unused,
    check_tests,
)

__all__ = ["CHECKS", "check", "check_files", "collect", "dependencies", "main_files",
           "order_definitions", "regex_problem", "value_interval"]

