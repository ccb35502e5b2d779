"""Lark parse tree -> ast nodes. Builds, never judges: every check lives in check.py."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from lark import Token, Transformer, Tree, v_args

from leadrules import ast

_UNITS = {
    "minute": "minutes", "hour": "hours", "day": "days", "week": "weeks",
    "month": "months", "year": "years",
}


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def unquote(raw: str) -> str:
    """The value of a STRING token: triple-quoted prose is dedented; `\\"`, `\\\\`, `\\n` and `\\t`
    are escapes, and any other backslash stays as written (so `matches "\\d+"` means `\\d+`)."""
    if raw.startswith('"""'):
        return _dedent_prose(raw[3:-3])
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _dedent_prose(text: str) -> str:
    """Prose paragraphs: common indentation removed, blank lines kept as paragraph breaks."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:].rstrip() for line in lines)


def decimal(raw: str) -> Decimal:
    return Decimal(raw.replace("_", "").lstrip("+"))


@v_args(meta=True, inline=True)
class Builder(Transformer):
    """Turns the tree of one chunk of a file into ast nodes; `line_offset` places the chunk."""

    def __init__(self, path: str, line_offset: int = 0) -> None:
        super().__init__()
        self.path = path
        self.line_offset = line_offset

    # -- positions

    def _span(self, meta) -> ast.Span:
        if getattr(meta, "empty", False) or not hasattr(meta, "line"):
            return ast.NOWHERE
        return ast.Span(
            self.path, meta.line + self.line_offset, meta.column,
            meta.end_line + self.line_offset, meta.end_column,
        )

    def _tok(self, token: Token) -> ast.Span:
        return ast.Span(
            self.path, token.line + self.line_offset, token.column,
            token.end_line + self.line_offset, token.end_column,
        )

    # -- small pieces

    def start(self, meta, *items):
        return list(items)

    def label(self, meta, token):
        return ("label", unquote(token))

    def mode(self, meta, token):
        return str(token)

    def period(self, meta, token):
        return str(token)

    def unit(self, meta, token):
        return _UNITS.get(str(token), str(token))

    def quantiles(self, meta, token):
        return str(token)

    def number(self, meta, token):
        return ast.Number(decimal(token), self._span(meta))

    def percent(self, meta, token):
        return ast.Percent(decimal(token[:-1]) / 100, self._span(meta))

    def money(self, meta, amount, currency):
        return ast.Money(decimal(amount), str(currency), self._span(meta))

    def duration(self, meta, amount, *rest):
        business = len(rest) == 2
        return ast.Duration(decimal(amount), rest[-1], business, self._span(meta))

    def date(self, meta, token):
        return ast.DateLit(date.fromisoformat(token), self._span(meta))

    def datetime(self, meta, token):
        return ast.DateTimeLit(datetime.fromisoformat(token), self._span(meta))

    def string(self, meta, token):
        return ast.String(unquote(token), self._span(meta))

    def true(self, meta):
        return ast.Bool(True, self._span(meta))

    def false(self, meta):
        return ast.Bool(False, self._span(meta))

    def name(self, meta, token):
        return ast.Ref((str(token),), self._span(meta))

    def set_lit(self, meta, *items):
        return ast.SetLit(tuple(items), self._span(meta))

    def ref(self, meta, *parts):
        return ast.Ref(tuple(str(p) for p in parts), self._span(meta))

    def window(self, meta, duration):
        return duration

    def count(self, meta, event, window=None):
        return ast.Count(str(event), window, self._span(meta))

    def sum_(self, meta, target, window=None):
        return ast.Sum(target, window, self._span(meta))

    def days_since(self, meta, event):
        return ast.DaysSince(str(event), self._span(meta))

    def binop(self, meta, left, op, right):
        return ast.BinOp(str(op), left, right, self._span(meta))

    def neg(self, meta, operand):
        return ast.Neg(operand, self._span(meta))

    # -- conditions

    def or_(self, meta, left, right):
        items = (left.items if isinstance(left, ast.Or) else (left,)) + (right,)
        return ast.Or(items, self._span(meta))

    def and_(self, meta, left, right):
        items = (left.items if isinstance(left, ast.And) else (left,)) + (right,)
        return ast.And(items, self._span(meta))

    def not_(self, meta, item):
        return ast.Not(item, self._span(meta))

    def compare(self, meta, left, op, right):
        return ast.Compare(left, str(op), right, self._span(meta))

    def between(self, meta, value, low, high):
        return ast.Between(value, low, high, self._span(meta))

    def in_(self, meta, value, options):
        return ast.In(value, options, False, self._span(meta))

    def not_in(self, meta, value, options):
        return ast.In(value, options, True, self._span(meta))

    def contains(self, meta, value, operand):
        return ast.TextTest(value, "contains", operand, self._span(meta))

    def starts_with(self, meta, value, operand):
        return ast.TextTest(value, "starts with", operand, self._span(meta))

    def ends_with(self, meta, value, operand):
        return ast.TextTest(value, "ends with", operand, self._span(meta))

    def matches(self, meta, value, pattern):
        return ast.TextTest(value, "matches", ast.String(unquote(pattern), self._tok(pattern)),
                            self._span(meta))

    def is_present(self, meta, value):
        return ast.Presence(value, True, self._span(meta))

    def is_missing(self, meta, value):
        return ast.Presence(value, False, self._span(meta))

    def within(self, meta, event, window):
        return ast.Within(str(event), window, self._span(meta))

    def truth(self, meta, value):
        return ast.Truth(value, self._span(meta))

    # -- header

    def agreement(self, meta, title, *items):
        values: dict = {"parties": []}
        for key, value in items:
            if key == "party":
                values["parties"].append(value)
            elif key == "effective":
                values["effective_from"], values["effective_to"] = value
            else:
                values[key] = value
        values["parties"] = tuple(values["parties"])
        return ast.Agreement(unquote(title), span=self._span(meta), **values)

    def version(self, meta, token):
        return "version", ast.String(unquote(token), self._tok(token))

    def locale(self, meta, token):
        return "locale", ast.Ref((str(token),), self._tok(token))

    def currency(self, meta, token):
        return "currency", ast.Ref((str(token),), self._tok(token))

    def timezone(self, meta, token):
        return "timezone", ast.String(unquote(token), self._tok(token))

    def effective(self, meta, start, end):
        return "effective", (ast.DateLit(date.fromisoformat(start), self._tok(start)),
                             ast.DateLit(date.fromisoformat(end), self._tok(end)))

    def review(self, meta, period):
        return "review", period

    def party(self, meta, role, name, title):
        return "party", ast.Party(str(role), unquote(name), unquote(title), self._span(meta))

    def preamble(self, meta, token):
        return "preamble", ast.String(unquote(token), self._tok(token))

    def calendar(self, meta, name, *items):
        hours = tuple(i for i in items if isinstance(i, ast.Hours))
        holidays = tuple(d for i in items if isinstance(i, tuple) for d in i)
        return ast.Calendar(str(name), hours, holidays, self._span(meta))

    def hours(self, meta, *spans):
        days = tuple(s for kind, s in spans if kind == "days")
        windows = tuple(s for kind, s in spans if kind == "time")
        return ast.Hours(days, windows, self._span(meta))

    def day_span(self, meta, first, last=None):
        return "days", (str(first), str(last if last is not None else first))

    def time_span(self, meta, start, end):
        return "time", (str(start), str(end))

    def holidays(self, meta, *dates):
        return tuple(ast.DateLit(date.fromisoformat(d), self._tok(d)) for d in dates)

    def include(self, meta, path):
        return ast.Include(unquote(path), self._span(meta))

    # -- lead record

    def lead(self, meta, *fields):
        return ast.Lead(tuple(fields), self._span(meta))

    def field(self, meta, name, type_, *options):
        values: dict = {}
        for key, value in options:
            values[key] = value
        return ast.Field(str(name), type_, span=self._span(meta), **values)

    def from_column(self, meta, token):
        return "column", unquote(token)

    def key_marker(self, meta):
        return "key", True

    def missing_marker(self, meta, *tokens):
        return "missing", tuple(unquote(t) for t in tokens)

    def type_(self, meta, spec):
        return spec

    def simple_type(self, meta, name):
        return ast.TypeSpec(str(name), (), self._span(meta))

    def enum_type(self, meta, *members):
        return ast.TypeSpec("enum", tuple(members), self._span(meta))

    def enum_member(self, meta, name, *spellings):
        return ast.EnumMember(str(name), tuple(unquote(s) for s in spellings), self._span(meta))

    def event(self, meta, name, *rest):
        label = _label(rest)
        props = tuple(r for r in rest if isinstance(r, ast.Property))
        return ast.Event(str(name), label, props, self._span(meta))

    def property(self, meta, name, type_, label=None):
        return ast.Property(str(name), type_, label[1] if label else None, self._span(meta))

    def list_def(self, meta, name, items):
        return ast.ListDef(str(name), items, self._span(meta))

    # -- segments and scores

    def segment(self, meta, name, *rest):
        conds = tuple(r for r in rest if not isinstance(r, (tuple, str)))
        return ast.Segment(str(name), _label(rest), "any" in rest, conds, self._span(meta))

    def bound(self, meta, kind, value):
        return ("bound", str(kind), value)

    def decay_rate(self, meta, rate, period):
        return ast.Decay("rate", period, ast.Percent(decimal(rate[:-1]) / 100, self._tok(rate)),
                         self._span(meta))

    def halflife(self, meta, period):
        return ast.Decay("halflife", period, None, self._span(meta))

    def points(self, meta, token):
        return ast.Number(decimal(token), self._span(meta))

    def score(self, meta, name, *rest):
        decay = next((r for r in rest if isinstance(r, ast.Decay)), None)
        items = tuple(r for r in rest if isinstance(r, (ast.WhenRule, ast.PerEventRule,
                                                        ast.PerUnitRule, ast.Group)))
        return ast.Score(str(name), _label(rest), _bounds(rest), decay, items, self._span(meta))

    def group(self, meta, name, *rest):
        rules = tuple(r for r in rest if not isinstance(r, tuple))
        return ast.Group(str(name), _label(rest), _bounds(rest), rules, self._span(meta))

    def when_rule(self, meta, points, cond, *rest):
        return ast.WhenRule(points, cond, _bounds(rest), _label(rest), self._span(meta))

    def per_event_rule(self, meta, points, event, *rest):
        window = next((r for r in rest if isinstance(r, ast.Duration)), None)
        return ast.PerEventRule(points, str(event), window, _bounds(rest), _label(rest),
                                self._span(meta))

    def per_unit_rule(self, meta, points, unit, field, *rest):
        return ast.PerUnitRule(points, ast.Number(decimal(unit), self._tok(unit)), field,
                               _bounds(rest), _label(rest), self._span(meta))

    def derived_score(self, meta, name, *rest):
        expr = next(r for r in rest if not isinstance(r, tuple))
        return ast.DerivedScore(str(name), _label(rest), expr, _bounds(rest), self._span(meta))

    # -- grades

    def grade(self, meta, name, *rest):
        rows = tuple(r for r in rest if isinstance(r, (ast.BandRow, ast.CondRow, ast.OtherwiseRow)))
        by = next((r for r in rest if not isinstance(r, tuple) and r not in rows), None)
        return ast.Grade(str(name), _label(rest), by, rows, span=self._span(meta))

    def quantile_grade(self, meta, name, *rest):
        label = _label(rest)
        rest = tuple(r for r in rest if not (isinstance(r, tuple) and r and r[0] == "label"))
        by, quantiles, *cuts = rest
        return ast.Grade(str(name), label, by, (), quantiles, cuts[0] if cuts else (),
                         self._span(meta))

    def cuts(self, meta, *numbers):
        return tuple(numbers)

    def band_row(self, meta, name, *rest):
        *_, op, threshold = rest
        return ast.BandRow(str(name), _label(rest), str(op), threshold, self._span(meta))

    def cond_row(self, meta, name, *rest):
        return ast.CondRow(str(name), _label(rest), rest[-1], self._span(meta))

    def otherwise_row(self, meta, name, *rest):
        return ast.OtherwiseRow(str(name), _label(rest), self._span(meta))

    # -- qualification, stages, routes

    def qualification(self, meta, name, *rest):
        requirement = next((r for r in rest if isinstance(r, tuple) and r[0] == "require"), None)
        criteria = tuple(r for r in rest if isinstance(r, ast.Criterion))
        require, of = requirement[1:] if requirement else (None, None)
        return ast.Qualification(str(name), _label(rest), require, of, criteria, self._span(meta))

    def requirement(self, meta, require, of):
        return ("require", ast.Number(decimal(require), self._tok(require)),
                ast.Number(decimal(of), self._tok(of)))

    def criterion(self, meta, name, *rest):
        return ast.Criterion(str(name), _label(rest), rest[-1], self._span(meta))

    def stages(self, meta, *lines):
        stages: list[ast.Stage] = []
        orphans: list[ast.EnteredAt] = []
        for line in lines:
            if isinstance(line, ast.Stage):
                stages.append(line)
            elif stages and stages[-1].entered_at is None:
                last = stages.pop()
                stages.append(ast.Stage(last.name, last.label, last.cond, line.field, last.span))
            else:
                orphans.append(line)
        return ast.Stages(tuple(stages), tuple(orphans), self._span(meta))

    def stage(self, meta, name, *rest):
        entered = rest[-1] if isinstance(rest[-1], ast.EnteredAt) else None
        cond = rest[-2] if entered is not None else rest[-1]
        return ast.Stage(str(name), _label(rest), cond, entered.field if entered else None,
                         self._span(meta))

    def entered_at(self, meta, field):
        return ast.EnteredAt(ast.Ref((str(field),), self._tok(field)), self._span(meta))

    def disqualify(self, meta, cond, label=None):
        return ast.Disqualify(cond, label[1] if label else None, self._span(meta))

    def route(self, meta, name, *rest):
        return ast.Route(str(name), _label(rest), rest[-1], self._span(meta))

    def route_otherwise(self, meta, name, *rest):
        return ast.Route(str(name), _label(rest), None, self._span(meta))

    # -- SLA

    def sla(self, meta, side, *rest):
        items = tuple(r for r in rest if not isinstance(r, tuple))
        return ast.Sla(str(side), _label(rest), items, self._span(meta))

    def revenue_target(self, meta, money, period):
        return ast.RevenueTarget(money, period, self._span(meta))

    def marketing_share(self, meta, share):
        return ast.MarketingShare(share, self._span(meta))

    def average_deal(self, meta, money):
        return ast.AverageDeal(money, self._span(meta))

    def conversion(self, meta, source, target, rate):
        return ast.Conversion(str(source), str(target), rate, self._span(meta))

    def deliver(self, meta, count, stage, period):
        return ast.Deliver(ast.Number(decimal(count), self._tok(count)), str(stage), period,
                           self._span(meta))

    def sla_calendar(self, meta, name):
        return ast.SlaCalendar(str(name), self._span(meta))

    def touches(self, meta, *events):
        return ast.Touches(tuple(str(e) for e in events), self._span(meta))

    def first_touch(self, meta, within, stage, cond=None):
        return ast.FirstTouch(within, str(stage), cond, self._span(meta))

    def attempts(self, meta, count, within, stage):
        return ast.Attempts(ast.Number(decimal(count), self._tok(count)), within, str(stage),
                            self._span(meta))

    def accept_reject(self, meta, within, stage):
        return ast.AcceptReject(within, str(stage), self._span(meta))

    def recycle(self, meta, target, after, without):
        return ast.Recycle(str(target), after, str(without), self._span(meta))

    def channels(self, meta, by, *channels):
        return ast.Channels(str(by), tuple(channels), self._span(meta))

    def channel(self, meta, name, *rest):
        money = next((r for r in rest if isinstance(r, ast.Money)), None)
        period = next((r for r in rest if isinstance(r, str)), None)
        return ast.Channel(str(name), _label(rest), money, period, self._span(meta))

    # -- tests

    def test(self, meta, name, *items):
        return ast.Test(unquote(name), tuple(items), self._span(meta))

    def as_of(self, meta, token):
        return ast.AsOf(self._instant(token), self._span(meta))

    def _instant(self, token):
        if "T" in token:
            return ast.DateTimeLit(datetime.fromisoformat(token), self._tok(token))
        return ast.DateLit(date.fromisoformat(token), self._tok(token))

    def test_lead(self, meta, record):
        return ast.TestLead(record, self._span(meta))

    def test_event(self, meta, name, at, record=None):
        return ast.TestEvent(str(name), self._instant(at), record, self._span(meta))

    def record(self, meta, *entries):
        return ast.Record(tuple(entries), self._span(meta))

    def entry(self, meta, name, value):
        return ast.Entry(str(name), value, self._span(meta))

    def entry_name(self, meta, name, value):
        return ast.Entry(str(name), ast.Ref((str(value),), self._tok(value)), self._span(meta))

    def expect(self, meta, cond):
        return ast.Expect(cond, self._span(meta))

    def expect_fired(self, meta, label):
        return ast.ExpectFired(unquote(label), False, self._span(meta))

    def expect_not_fired(self, meta, label):
        return ast.ExpectFired(unquote(label), True, self._span(meta))


def _label(rest) -> str | None:
    for r in rest:
        if isinstance(r, tuple) and r and r[0] == "label":
            return r[1]
    return None


def _bounds(rest) -> ast.Bounds:
    found = {r[1]: r[2] for r in rest if isinstance(r, tuple) and r and r[0] == "bound"}
    return ast.Bounds(min=found.get("min"), max=found.get("max"))


def build(tree: Tree, path: str, line_offset: int = 0) -> list[ast.Item]:
    """The items of one parsed chunk, as ast nodes."""
    return Builder(path, line_offset).transform(tree)


# ============================================================================ building while parsing
# Lark's LALR parser can call a transformer at each reduction instead of building a tree, but
# not with `meta` (positions). What follows does the same with positions: each rule's callback
# is lark's own (child filter, single-child expansion) around the Builder method, inside a
# wrapper that works out the rule's place as lark's `propagate_positions` does. No parse tree,
# no second pass: reading 2,000 rules takes about half the time.

# Nodes nested deeper than this are refused (LR003), as the recursive transform of the tree
# refused them (by running out of stack): the checker's passes recurse into conditions too.
MAX_DEPTH = 490


class Held:
    """A value built from one rule, with the place of its text: `line`… as `meta` gives them
    to a Builder method, `container_*` the place of what it was lifted out of (the brackets
    around a condition), which is what the rule around it counts."""

    __slots__ = ("value", "depth", "last", "empty", "line", "column", "start_pos", "end_line",
                 "end_column", "end_pos", "container_line", "container_column",
                 "container_start_pos", "container_end_line", "container_end_column",
                 "container_end_pos")

    def __init__(self) -> None:
        self.value = None
        self.depth = 1
        # The last child lark's tree would have held (error messages quote the last token).
        self.last = None
        self.empty = True

    def __lark_meta__(self):
        # Lark's own position wrapper (kept for the rules inlined into others) reads a child
        # that is not a tree or a token through this.
        return self


class Embedded:
    """A parser that builds ast nodes while it parses. `parse(text, path, offset, start)`."""

    def __init__(self, parser, builder: Builder) -> None:
        import threading

        self.parser = parser
        self.builder = builder
        self.lock = threading.Lock()
        self.current: Held | None = None
        # The first failure of a Builder method (a date such as 2027-02-30), raised once the
        # text has parsed: a syntax error further down still comes first, as before.
        self.failure: Exception | None = None

    def parse(self, text: str, path: str, line_offset: int = 0, start: str = "start"):
        """What `build` gives for the tree of `text`; raises what parsing and building raise."""
        with self.lock:
            self.builder.path = path
            self.builder.line_offset = line_offset
            self.failure = None
            try:
                result = self.parser.parse(text, start=start)
                if self.failure is not None:
                    raise self.failure
            finally:
                self.current = None
                self.failure = None
        return result.value if type(result) is Held else result


def embed(parser) -> Embedded | None:
    """Make a Lark LALR parser (built with propagate_positions) call the Builder at each
    reduction. None, leaving the parser as it was, when this lark is not laid out as expected
    (its callbacks are an implementation detail): trees are then built and transformed."""
    try:
        from lark.exceptions import GrammarError, VisitError
        from lark.parse_tree_builder import ExpandSingleChild, PropagatePositions
        from lark.tree import Meta

        callbacks = parser._callbacks
        rules = parser._parse_tree_builder.rule_builders
    except (ImportError, AttributeError):
        return None
    builder = Builder("", 0)
    embedded = Embedded(parser, builder)
    replaced = {}
    for rule, chain in rules:
        name = rule.alias or rule.options.template_source or rule.origin.name
        if name.startswith("_"):
            # Inlined into the rule around it by lark's child filter: lark's tree stays.
            continue
        if PropagatePositions not in chain or rule not in callbacks:
            return None
        only = rule.expansion[0] if len(rule.expansion) == 1 else None
        if rule.options.expand1 and not rule.alias and only is not None and \
                not only.is_term and not only.name.startswith("_") and \
                list(chain) == [ExpandSingleChild, PropagatePositions]:
            # `?value: ref`: the value of its one rule, whose place already covers it all.
            replaced[rule] = _only
            continue
        method = getattr(builder, name, None)
        call = _call(embedded, name, getattr(method, "base_func", method), Meta, VisitError,
                     GrammarError)
        for wrapper in chain:
            if wrapper is not PropagatePositions:
                call = wrapper(call)
        replaced[rule] = _placed(embedded, call)
    callbacks.update(replaced)
    return embedded


def _call(embedded: Embedded, name: str, method, meta_class, visit_error, grammar_error):
    """The Builder method of rule `name` on the children lark's filter kept."""
    def call(children: list) -> Held:
        held = embedded.current
        values = []
        depth = 0
        for child in children:
            if type(child) is Held:
                values.append(child.value)
                if child.depth > depth:
                    depth = child.depth
            else:
                values.append(child)
        held.depth = depth + 1
        held.last = children[-1] if children else None
        if held.depth > MAX_DEPTH and not isinstance(embedded.failure, RecursionError):
            embedded.failure = RecursionError(f"nested more than {MAX_DEPTH} levels deep")
        try:
            if method is None:
                held.value = Tree(name, values, _meta(held, meta_class))
            else:
                held.value = method(held, *values)
        except grammar_error:
            raise
        except Exception as exc:  # as lark's Transformer: any failure of a method
            if embedded.failure is None:
                embedded.failure = visit_error(name, Tree(name, values, _meta(held, meta_class)),
                                               exc)
        return held
    return call


def _only(children: list):
    return children[0]


def _meta(held: Held, meta_class):
    meta = meta_class()
    if not held.empty:
        meta.empty = False
        for key in ("line", "column", "start_pos", "end_line", "end_column", "end_pos"):
            setattr(meta, key, getattr(held, key))
    return meta


def _placed(embedded: Embedded, inner):
    """Lark's PropagatePositions, for values: the place of a rule runs from the start of its
    first child that has one to the end of its last (tokens the filter drops count)."""
    def placed(children: list):
        held = Held()
        for child in children:
            kind = type(child)
            if kind is Token:
                held.line = held.container_line = child.line
                held.column = held.container_column = child.column
                held.start_pos = held.container_start_pos = child.start_pos
                break
            if kind is Held:
                if child.empty:
                    continue
            else:
                child = _place(child)
                if child is None:
                    continue
            held.line = held.container_line = getattr(child, "container_line", child.line)
            held.column = held.container_column = getattr(child, "container_column",
                                                          child.column)
            held.start_pos = held.container_start_pos = getattr(child, "container_start_pos",
                                                                child.start_pos)
            break
        else:
            # No child has a place (an empty rule): nor has the value.
            embedded.current = held
            return inner(children)
        held.empty = False
        for child in reversed(children):
            kind = type(child)
            if kind is Token:
                held.end_line = held.container_end_line = child.end_line
                held.end_column = held.container_end_column = child.end_column
                held.end_pos = held.container_end_pos = child.end_pos
                break
            if kind is Held:
                if child.empty:
                    continue
            else:
                child = _place(child)
                if child is None:
                    continue
            held.end_line = held.container_end_line = getattr(child, "container_end_line",
                                                              child.end_line)
            held.end_column = held.container_end_column = getattr(
                child, "container_end_column", child.end_column)
            held.end_pos = held.container_end_pos = getattr(child, "container_end_pos",
                                                            child.end_pos)
            break
        embedded.current = held
        result = inner(children)
        if result is not held:
            # A single child passed up as it is (`?rule`): it now also spans this rule's text.
            target = result if type(result) is Held else getattr(result, "meta", None) \
                if isinstance(result, Tree) else None
            if target is not None:
                target.container_line = held.line
                target.container_column = held.column
                target.container_start_pos = held.start_pos
                target.container_end_line = held.end_line
                target.container_end_column = held.end_column
                target.container_end_pos = held.end_pos
        return result
    return placed


def _place(child):
    """What lark's position wrapper reads the place of a child from, or None."""
    if type(child) is Held:
        return None if child.empty else child
    if isinstance(child, Token):
        return child
    if isinstance(child, Tree):
        meta = child.meta
        return None if meta.empty else meta
    return None
