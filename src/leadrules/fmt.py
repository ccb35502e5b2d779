"""Source text of a `.leadrules` file -> the same rules in the one canonical layout, comments kept.

The file is parsed, then printed back from the syntax tree: the layout the user wrote is thrown
away and only three things of it are kept, because they carry meaning for people: the comments
(own-line comments stay before the statement that follows them, end-of-line comments stay on
the statement's line), blank lines inside blocks (at most one), and which one-line top-level
items were written as a group (consecutive `event` lines, for instance). The printed text is
parsed again and must give the same tree, so `fmt` can never change what a file means.
docs/fmt.md describes the layout.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

from leadrules import ast
from leadrules.diagnostics import Diagnostic

WIDTH = 120          # lines are wrapped past this column where the language allows it
FILL_WIDTH = 100     # a list that had to be broken fills its lines up to this column
INDENT = "    "
LONG_RULE = 60       # a longer score rule does not push the label column of its neighbours


class FormatError(Exception):
    """The file cannot be formatted: its syntax errors are in `diagnostics`. With no
    diagnostics, the message says why (a layout that would change the meaning: a bug)."""

    def __init__(self, diagnostics: list[Diagnostic], message: str = "") -> None:
        super().__init__(message or "; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def format_source(text: str, path: str = "<input>") -> str:
    """`text` in canonical layout. Raises FormatError when the file has syntax errors."""
    from leadrules import syntax

    module, diagnostics = syntax.parse(text, path)
    if diagnostics:
        raise FormatError(diagnostics)
    printed = Printer(module, text).module()
    _verify(module, printed, path)
    return printed


def is_formatted(text: str, path: str = "<input>") -> bool:
    return format_source(text, path) == text


def _verify(module: ast.Module, printed: str, path: str) -> None:
    """A last guard before anything is written: the new text must mean exactly the same."""
    from leadrules import syntax

    again, diagnostics = syntax.parse(printed, path)
    before = sorted(c.text for c in module.comments)
    after = sorted(c.text for c in again.comments)
    if diagnostics or again.items != module.items or before != after:
        raise FormatError([], f"{path}: left as it is: its new layout would not have meant "
                              "exactly the same (a fault of leadrules fmt: please report it "
                              "with this file)")


# ============================================================================ documents
# A small Wadler-style pretty printer: a document says where a line may break; `Group` breaks
# all its lines or none, `Fill` breaks a separator only where the next part does not fit.


@dataclass(frozen=True, slots=True)
class Line:
    """A space (or `flat`) when its group fits on the line, else a new line at the indent."""

    flat: str = " "


SOFT = Line("")


@dataclass(frozen=True, slots=True)
class Group:
    """`alone`: break only when the group itself does not fit, whatever follows it."""

    doc: object
    alone: bool = False


@dataclass(frozen=True, slots=True)
class Align:
    """Continuation lines inside start at the column where this document starts."""

    doc: object


@dataclass(frozen=True, slots=True)
class Nest:
    doc: object
    by: int = 4


@dataclass(frozen=True, slots=True)
class Fill:
    parts: tuple   # content, separator, content, separator, …, content
    start: int = 0
    width: int = FILL_WIDTH


_FLAT, _BREAK = 0, 1


def text_width(text: str) -> int:
    """Columns a text takes in a terminal: accents combine, wide characters take two."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fits(first, rest: list, room: int) -> bool:
    stack = [first]
    taken = len(rest)
    while room >= 0:
        if not stack:
            if not taken:
                return True
            taken -= 1
            stack.append(rest[taken])
            continue
        indent, mode, doc = stack.pop()
        if isinstance(doc, str):
            room -= text_width(doc)
        elif isinstance(doc, (list, tuple)):
            stack.extend((indent, mode, part) for part in reversed(doc))
        elif isinstance(doc, Line):
            if mode == _BREAK:
                return True
            room -= len(doc.flat)
        elif isinstance(doc, (Group, Align, Nest)):
            stack.append((indent, mode, doc.doc))
        elif isinstance(doc, Fill):
            stack.extend((indent, mode, part) for part in reversed(doc.parts[doc.start:]))
    return False


def render(doc, column: int = 0, indent: int = 0, width: int = WIDTH, mode: int = _BREAK) -> str:
    """The document laid out from `column`; new lines start at `indent` unless aligned."""
    out: list[str] = []
    pos = column
    commands = [(indent, mode, doc)]
    while commands:
        ind, mode, doc = commands.pop()
        if isinstance(doc, str):
            out.append(doc)
            pos += text_width(doc)
        elif isinstance(doc, (list, tuple)):
            commands.extend((ind, mode, part) for part in reversed(doc))
        elif isinstance(doc, Line):
            if mode == _FLAT:
                out.append(doc.flat)
                pos += len(doc.flat)
            else:
                out.append("\n" + " " * ind)
                pos = ind
        elif isinstance(doc, Group):
            flat = mode == _FLAT or _fits((ind, _FLAT, doc.doc), [] if doc.alone else commands,
                                          width - pos)
            commands.append((ind, _FLAT if flat else _BREAK, doc.doc))
        elif isinstance(doc, Align):
            commands.append((pos, mode, doc.doc))
        elif isinstance(doc, Nest):
            commands.append((ind + doc.by, mode, doc.doc))
        elif isinstance(doc, Fill):
            _fill(doc, ind, mode, commands, min(width, doc.width) - pos)
    return "".join(out)


def _fill(doc: Fill, ind: int, mode: int, commands: list, room: int) -> None:
    parts, i = doc.parts, doc.start
    left = len(parts) - i
    if left <= 0:
        return
    content = parts[i]
    content_fits = mode == _FLAT or _fits((ind, _FLAT, content), [], room)
    content_cmd = (ind, _FLAT if content_fits else _BREAK, content)
    if left == 1:
        commands.append(content_cmd)
        return
    separator = parts[i + 1]
    if left == 2:
        commands.append((ind, _FLAT if content_fits else _BREAK, separator))
        commands.append(content_cmd)
        return
    # The last part is checked with what follows the fill (a closing bracket, a label).
    after = commands if left == 3 else []
    pair_fits = mode == _FLAT or _fits((ind, _FLAT, [content, separator, parts[i + 2]]), after, room)
    commands.append((ind, mode, Fill(parts, i + 2, doc.width)))
    commands.append((ind, _FLAT if pair_fits else _BREAK, separator))
    commands.append(content_cmd)


def flat(doc) -> str:
    """The document on one line."""
    return render(doc, mode=_FLAT)


def _join(docs, separator) -> list:
    out: list = []
    for i, doc in enumerate(docs):
        if i:
            out.append(separator)
        out.append(doc)
    return out


def _bracketed(opening: str, items: list, closing: str, alone: bool = False):
    """`{a, b}` on one line, or broken with the items filled on indented lines."""
    if not items:
        return opening + closing
    parts: list = []
    for i, item in enumerate(items):
        if i:
            parts.append(Line())
        parts.append([item, ","] if i < len(items) - 1 else item)
    return Group([opening, Nest([SOFT, Fill(tuple(parts))]), SOFT, closing], alone)


# ============================================================================ words and values


def quote(value: str) -> str:
    """A double-quoted string that reads back as `value`."""
    # A backslash is doubled only where it would otherwise start an escape, so that a pattern
    # such as `\d+` keeps the spelling its author wrote.
    escaped = re.sub(r'\\(?=["\\nt]|$)', r"\\\\", value)
    escaped = escaped.replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def number(value: Decimal, money: bool = False) -> str:
    """As written, with `_` between thousands from 10_000 on (from 1_000 on for money)."""
    text = format(value, "f")
    sign = "-" if text.startswith("-") else ""
    whole, dot, fraction = text.lstrip("-").partition(".")
    if len(whole) >= 5 or (money and len(whole) >= 4):
        head = len(whole) % 3 or 3
        whole = "_".join([whole[:head]] + [whole[j:j + 3] for j in range(head, len(whole), 3)])
    return sign + whole + dot + fraction


def points(value: Decimal) -> str:
    text = number(value)
    return text if text.startswith("-") else "+" + text


def percent(value: Decimal) -> str:
    return number((value * 100).normalize()) + "%"


def money(node: ast.Money) -> str:
    return f"{number(node.amount, money=True)} {node.currency}"


def duration(node: ast.Duration) -> str:
    unit = node.unit[:-1] if node.amount == 1 and node.unit.endswith("s") else node.unit
    business = " business" if node.business else ""
    return f"{number(node.amount)}{business} {unit}"


def instant(node: ast.DateLit | ast.DateTimeLit) -> str:
    if isinstance(node, ast.DateLit):
        return node.value.isoformat()
    value = node.value
    return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")


def bounds(b: ast.Bounds) -> str:
    out = []
    if b.min is not None:
        out.append(f" min {number(b.min.value)}")
    if b.max is not None:
        out.append(f" max {number(b.max.value)}")
    return "".join(out)


def label(text: str | None) -> str:
    return "" if text is None else " " + quote(text)


def literal(node, alone: bool = False):
    """A literal or a name, as a document (sets may break over lines; in a condition, `alone`,
    only when the set itself is too long: a short set is never broken for the label after it)."""
    match node:
        case ast.Number():
            return number(node.value)
        case ast.Percent():
            return percent(node.value)
        case ast.Money():
            return money(node)
        case ast.Duration():
            return duration(node)
        case ast.DateLit() | ast.DateTimeLit():
            return instant(node)
        case ast.String():
            return quote(node.value)
        case ast.Bool():
            return "true" if node.value else "false"
        case ast.SetLit():
            return _bracketed("{", [literal(item) for item in node.items], "}", alone)
        case _:
            return value(node)


def value(node):
    match node:
        case ast.Ref():
            return node.name
        case ast.Count():
            window = f" within {duration(node.window)}" if node.window else ""
            return f"count({node.event}{window})"
        case ast.Sum():
            window = f" within {duration(node.window)}" if node.window else ""
            return f"sum({node.target.name}{window})"
        case ast.DaysSince():
            return f"days since last {node.event}"
        case ast.BinOp() | ast.Neg():
            return expr(node)
        case _:
            return literal(node)


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def expr(node, need: int = 0) -> str:
    """Arithmetic of a derived score, with the brackets precedence needs and no others."""
    if isinstance(node, ast.BinOp):
        own = _PRECEDENCE[node.op]
        text = f"{expr(node.left, own)} {node.op} {expr(node.right, own + 1)}"
    elif isinstance(node, ast.Neg):
        own = 3
        text = "-" + expr(node.operand, 3)
    else:
        return flat(value(node))
    return f"({text})" if own < need else text


def cond(node):
    """A condition as a document: `and`/`or` chains break after the operator when too long."""
    match node:
        case ast.Or():
            # `and` inside `or` is bracketed although it binds tighter: readers need not know.
            return Group(_join([_operand(item, (ast.And, ast.Or)) for item in node.items],
                               [" or", Line()]))
        case ast.And():
            return Group(_join([_operand(item, (ast.And, ast.Or)) for item in node.items],
                               [" and", Line()]))
        case ast.Not():
            return ["not ", _operand(node.item, (ast.And, ast.Or))]
        case ast.Compare():
            return [value(node.left), f" {node.op} ", literal(node.right, alone=True)]
        case ast.Between():
            return [value(node.value), " between ", literal(node.low), " and ",
                    literal(node.high)]
        case ast.In():
            return [value(node.value), " not in " if node.negated else " in ",
                    literal(node.options, alone=True)]
        case ast.TextTest():
            return [value(node.value), f" {node.op} ", literal(node.operand)]
        case ast.Presence():
            return [value(node.value), " is present" if node.present else " is missing"]
        case ast.Within():
            return f"{node.event} within {duration(node.window)}"
        case ast.Truth():
            return value(node.value)
    raise TypeError(f"not a condition: {node!r}")


def _operand(node, bracket_when):
    if isinstance(node, bracket_when):
        return ["(", Align(cond(node)), ")"]
    return cond(node)


def when(node) -> list:
    return ["when ", Align(cond(node))]


def type_spec(spec: ast.TypeSpec) -> str:
    if spec.name != "enum":
        return spec.name
    members = []
    for member in spec.members:
        if not member.spellings:
            members.append(member.name)
        elif len(member.spellings) == 1:
            members.append(f"{member.name} = {quote(member.spellings[0])}")
        else:
            spelled = ", ".join(quote(s) for s in member.spellings)
            members.append(f"{member.name} = {{{spelled}}}")
    return "enum(" + ", ".join(members) + ")"


def _prose(text: str, indent: str) -> str | None:
    """`text` as a triple-quoted paragraph at `indent`, when it reads back identically."""
    from leadrules.build import unquote

    if not text or '"""' in text:
        return None
    inner = indent + INDENT
    body = "\n".join(inner + line if line else "" for line in text.split("\n"))
    token = f'"""\n{body}\n{indent}"""'
    return token if unquote(token) == text else None


# ============================================================================ the layout tree


BLANK = "blank"


@dataclass(eq=False)
class Node:
    """One printed statement or block, with the source lines it came from and its comments.

    `cells` are the columns aligned with the neighbouring statements (`style` says how), `rest`
    the document that follows them. Blocks have `children` and print `head` before ` {`.
    """

    style: str
    cells: tuple = ()
    rest: object = ""
    label: str | None = None
    start: int = 0                # source lines, 0 when the tree does not say
    end: int = 0
    col: int = 1
    kind: str = ""                # top-level items of the same kind may stand together
    children: list[Node] | None = None
    head: str = ""
    brace: int = 0                # source line of `{` and `}`
    close: int = 0
    leading: list = field(default_factory=list)
    inner: list = field(default_factory=list)
    head_comment: ast.Comment | None = None
    close_comment: ast.Comment | None = None
    tail: list = field(default_factory=list)
    index: _Index | None = None

    @property
    def is_block(self) -> bool:
        return self.children is not None


def stmt(style: str, node, cells=(), rest="", label=None, kind="") -> Node:
    span = getattr(node, "span", ast.NOWHERE)
    return Node(style, tuple(cells), rest, label, span.line, span.end_line, max(span.col, 1), kind)


def block(head: str, node, style: str, children: list[Node], kind: str = "") -> Node:
    span = node.span
    return Node(style, (), "", None, span.line, span.end_line, max(span.col, 1), kind, children,
                head)


def names(name: str, text: str | None, rest="", node=None, kind="") -> Node:
    """A row of a name/label table: the name, its label, then the rest of the statement."""
    return stmt("names", node, (name, "" if text is None else quote(text)), rest, kind=kind)


def rule(node: ast.Rule) -> Node:
    b = bounds(node.bounds)
    if isinstance(node, ast.WhenRule):
        body = [when(node.cond), b]
    elif isinstance(node, ast.PerEventRule):
        window = f" within {duration(node.window)}" if node.window else ""
        body = f"per {node.event}{window}{b}"
    else:
        body = f"per {number(node.unit.value)} of {node.field.name}{b}"
    return stmt("rules", node, (points(node.points.value),), body,
                None if node.label is None else quote(node.label))


def _row(node) -> Node:
    match node:
        case ast.BandRow():
            rest = f"when {node.op} {flat(literal(node.threshold))}"
        case ast.CondRow():
            rest = when(node.cond)
        case _:
            rest = "otherwise"
    return names(node.name, node.label, rest, node)


def field_row(node: ast.Field | ast.Property) -> Node:
    cells = [node.name, type_spec(node.type)]
    tail = []
    if isinstance(node, ast.Field):
        if node.column is not None:
            cells.append(f"from {quote(node.column)}")
        if node.key:
            tail.append("key")
        if node.missing:
            tail.append("missing " + ", ".join(quote(m) for m in node.missing))
    if node.label is not None:
        tail.append(quote(node.label))
    if tail:
        cells.append("  ".join(tail))
    return stmt("fields", node, cells)


class Printer:
    """Builds the layout tree of one module, places its comments, and prints it."""

    def __init__(self, module: ast.Module, text: str) -> None:
        self.module_node = module
        self.source = _Source(text)

    # ------------------------------------------------------------------------ tree

    def module(self) -> str:
        root = Node("top", children=[self.item(item) for item in self.module_node.items],
                    start=0, end=0, brace=0, close=self.source.count + 1)
        self._place(root, 0, self.source.count + 1)
        for comment in self.module_node.comments:
            self._attach(root, comment)
        self._gaps(root)
        lines = self._top(root)
        text = "\n".join(line.rstrip() for line in lines).strip("\n")
        return text + "\n" if text else ""

    def item(self, node) -> Node:
        match node:
            case ast.Agreement():
                return block(f"agreement {quote(node.title)}", node, "plain",
                             self._agreement(node))
            case ast.Calendar():
                children = [stmt("plain", h, rest=_hours(h)) for h in node.hours]
                if node.holidays:
                    dates = [instant(d) for d in node.holidays]
                    parts = []
                    for i, text in enumerate(dates):
                        if i:
                            parts.append(Line())
                        parts.append(text + ("," if i < len(dates) - 1 else ""))
                    holidays = Node("plain", rest=["holidays ", Align(Fill(tuple(parts)))],
                                    start=min(d.span.line for d in node.holidays),
                                    end=max(d.span.end_line for d in node.holidays))
                    children.append(holidays)
                return block(f"calendar {node.name}", node, "plain", children)
            case ast.Include():
                return stmt("plain", node, rest=f"include {quote(node.path)}", kind="include")
            case ast.Lead():
                return block("lead", node, "fields", [field_row(f) for f in node.fields])
            case ast.Event():
                head = f"event {node.name}{label(node.label)}"
                if node.properties:
                    return block(head, node, "fields", [field_row(p) for p in node.properties])
                return names(f"event {node.name}", node.label, node=node, kind="event")
            case ast.ListDef():
                return stmt("plain", node, rest=[f"list {node.name} = ", literal(node.items)],
                            kind="list")
            case ast.Segment():
                any_ = " any" if node.any else ""
                return block(f"segment {node.name}{label(node.label)}{any_}", node, "plain",
                             [stmt("plain", c, rest=Nest(cond(c))) for c in node.conditions])
            case ast.Score():
                decay = ""
                if node.decay is not None and node.decay.kind == "rate":
                    decay = (f" decay {percent(node.decay.rate.value)} every "
                             f"{duration(node.decay.period)}")
                elif node.decay is not None:
                    decay = f" halflife {duration(node.decay.period)}"
                head = f"score {node.name}{label(node.label)}{bounds(node.bounds)}{decay}"
                return block(head, node, "rules", [self._score_item(i) for i in node.items])
            case ast.DerivedScore():
                return names(f"score {node.name}", node.label,
                             f"= {expr(node.expr)}{bounds(node.bounds)}", node, "derived")
            case ast.Grade():
                return self._grade(node)
            case ast.Qualification():
                require = ""
                if node.require is not None:
                    require = f" require {number(node.require.value)} of {number(node.of.value)}"
                return block(f"qualification {node.name}{label(node.label)}{require}", node,
                             "names", [names(c.name, c.label, when(c.cond), c)
                                       for c in node.criteria])
            case ast.Stages():
                return block("stages", node, "names", self._stages(node))
            case ast.Disqualify():
                return stmt("rules", node, ("disqualify",), when(node.cond),
                            None if node.label is None else quote(node.label), "disqualify")
            case ast.Route():
                rest = "otherwise" if node.cond is None else when(node.cond)
                return names(f"route {node.name}", node.label, rest, node, "route")
            case ast.Sla():
                return block(f"sla {node.side}{label(node.label)}", node, "plain",
                             [stmt("plain", i, rest=_sla_item(i)) for i in node.items])
            case ast.Channels():
                rows = []
                for c in node.channels:
                    cost = f"cost {money(c.cost)} per {c.period}" if c.cost is not None else ""
                    rows.append(names(c.name, c.label, cost, c))
                return block(f"channels by {node.by}", node, "names", rows)
            case ast.Test():
                return block(f"test {quote(node.name)}", node, "plain",
                             [stmt("plain", i, rest=_test_item(i)) for i in node.items])
        raise TypeError(f"cannot lay out {type(node).__name__}")

    def _agreement(self, node: ast.Agreement) -> list[Node]:
        out = []

        def add(part, rest):
            out.append(stmt("plain", part, rest=rest))

        if node.version is not None:
            add(node.version, f"version {quote(node.version.value)}")
        if node.locale is not None:
            add(node.locale, f"locale {node.locale.name}")
        if node.currency is not None:
            add(node.currency, f"currency {node.currency.name}")
        if node.timezone is not None:
            add(node.timezone, f"timezone {quote(node.timezone.value)}")
        if node.effective_from is not None and node.effective_to is not None:
            out.append(Node("plain", rest=f"effective {instant(node.effective_from)} to "
                                          f"{instant(node.effective_to)}",
                            start=node.effective_from.span.line,
                            end=node.effective_to.span.end_line))
        if node.review is not None:
            line = self.source.find(r"\breview\s+every\b", node.span.line, node.span.end_line)
            out.append(Node("plain", rest=f"review every {node.review}", start=line, end=line))
        for party in node.parties:
            add(party, f"party {party.role} {quote(party.name)}, {quote(party.title)}")
        if node.preamble is not None:
            add(node.preamble, _Preamble(node.preamble.value))
        return out

    def _score_item(self, node) -> Node:
        if isinstance(node, ast.Group):
            head = f"group {node.name}{label(node.label)}{bounds(node.bounds)}"
            return block(head, node, "rules", [rule(r) for r in node.rules])
        return rule(node)

    def _grade(self, node: ast.Grade) -> Node:
        by = f" by {flat(value(node.by))}" if node.by is not None else ""
        if node.quantiles is not None:
            cuts = ""
            if node.cuts:
                cuts = " at " + ", ".join(number(c.value) for c in node.cuts)
            return names(f"grade {node.name}", node.label, f"by {flat(value(node.by))} "
                         f"{node.quantiles}{cuts}", node, "quantiles")
        return block(f"grade {node.name}{label(node.label)}{by}", node, "names",
                     [_row(r) for r in node.rows])

    def _stages(self, node: ast.Stages) -> list[Node]:
        out = [stmt("entered", o, rest=f"entered at {o.field.name}") for o in node.orphans]
        for s in node.stages:
            out.append(names(s.name, s.label, when(s.cond), s))
            if s.entered_at is not None:
                out.append(stmt("entered", s.entered_at, rest=f"entered at {s.entered_at.name}"))
        return out

    # ------------------------------------------------------------------------ source lines

    def _place(self, parent: Node, first: int, last: int) -> None:
        """Complete each child's source lines: a statement owns every line of code up to the
        next statement (closing brackets included); a block runs from its `{` to its `}`."""
        children = sorted(parent.children, key=lambda n: n.start)
        for i, child in enumerate(children):
            after = children[i - 1].end if i else first
            if not child.start:
                child.start = self.source.next_code(after + 1, last)
            if child.is_block:
                child.brace, child.close = self.source.braces(child.start, child.col)
                child.end = child.close
                self._place(child, child.brace, child.close)
            else:
                following = children[i + 1].start if i + 1 < len(children) else 0
                bound = following - 1 if following else last - (parent.style != "top")
                child.end = max(child.end or child.start,
                                self.source.last_code(child.start, bound))
        parent.index = _Index(parent.children)

    # ------------------------------------------------------------------------ comments

    def _attach(self, root: Node, comment: ast.Comment) -> None:
        line = comment.line
        parent = root
        while True:
            inside = next((c for c in parent.index.containing(line) if c.is_block), None)
            if inside is None:
                break
            parent = inside
        statement = next((c for c in parent.index.containing(line) if not c.is_block), None)
        if statement is not None:
            statement.inner.append(comment)
            return
        if not comment.own_line:
            if parent is not root and line == parent.brace and parent.head_comment is None:
                parent.head_comment = comment
                return
            if parent is not root and line == parent.close and parent.close_comment is None:
                parent.close_comment = comment
                return
            before = parent.index.before(line)
            if before is not None:
                before.inner.append(comment)
                return
        following = parent.index.after(line)
        if following is not None:
            following.leading.append(comment)
        else:
            parent.tail.append(comment)

    def _gaps(self, parent: Node) -> None:
        """Blank lines the user left before each child (and before the closing brace)."""
        children = sorted(parent.children, key=lambda n: n.start)
        previous = parent.brace
        for child in children:
            child.leading = self._with_blanks(child.leading, previous, child.start)
            previous = child.end
            if child.is_block:
                self._gaps(child)
        parent.tail = self._with_blanks(parent.tail, previous, parent.close)

    def _with_blanks(self, comments: list, after: int, before: int) -> list:
        entries = [(c.line, c) for c in comments]
        entries += [(n, BLANK) for n in range(after + 1, before) if self.source.empty(n)]
        out: list = []
        for _, entry in sorted(entries, key=lambda e: e[0]):
            if entry is BLANK and out and out[-1] is BLANK:
                continue
            out.append(entry)
        return out

    # ------------------------------------------------------------------------ printing

    def _top(self, root: Node) -> list[str]:
        out: list[str] = []
        groups: list[list[Node]] = []
        for item in root.children:
            _split_inner(item)
            together = (groups and item.kind and groups[-1][-1].kind == item.kind
                        and not groups[-1][-1].is_block and not item.is_block
                        and BLANK not in item.leading)
            if together:
                groups[-1].append(item)
            else:
                if groups and (not item.leading or item.leading[0] is not BLANK):
                    item.leading.insert(0, BLANK)
                groups.append([item])
        if groups:
            first = groups[0][0]
            while first.leading and first.leading[0] is BLANK:
                first.leading.pop(0)
        for group in groups:
            out.extend(self._section(group, ""))
        out.extend(_entries(_trim_tail(root.tail, leading=not root.children), ""))
        return out

    def _block(self, node: Node, indent: str) -> list[str]:
        head = f"{indent}{node.head} {{"
        inside = indent + INDENT
        for child in node.children:
            _split_inner(child)
        if node.children:
            first = node.children[0]
            while first.leading and first.leading[0] is BLANK:
                first.leading.pop(0)
        tail = _trim_tail(node.tail, leading=not node.children)
        if not node.children and not tail and None in (node.head_comment, node.close_comment):
            return [_with_comment(head[:-1] + "{}", node.head_comment or node.close_comment)]
        lines = [_with_comment(head, node.head_comment)]
        section: list[Node] = []
        for child in node.children:
            if child.style == "entered":
                child.leading = [e for e in child.leading if e is not BLANK]
            starts_new = child.is_block or BLANK in child.leading or (
                section and section[-1].is_block)
            if starts_new and section:
                lines.extend(self._section(section, inside))
                section = []
            section.append(child)
        if section:
            lines.extend(self._section(section, inside))
        lines.extend(_entries(tail, inside))
        lines.append(_with_comment(f"{indent}}}", node.close_comment))
        return lines

    def _section(self, nodes: list[Node], indent: str) -> list[str]:
        """Consecutive statements laid out as one table, then their comments."""
        code = _table([n for n in nodes if not n.is_block], indent)
        out: list[str] = []
        run: list[int] = []        # indexes in `out` of single lines with an aligned comment
        run_comments: list[ast.Comment] = []

        def flush():
            if run:
                column = max(text_width(out[i]) for i in run) + 2
                for i, comment in zip(run, run_comments, strict=True):
                    out[i] = out[i] + " " * (column - text_width(out[i])) + comment.text
                run.clear()
                run_comments.clear()

        for node in nodes:
            if node.leading:
                flush()
                out.extend(_entries(node.leading, indent))
            if node.is_block:
                flush()
                out.extend(self._block(node, indent))
                continue
            lines = code[id(node)]
            trailing = node.inner[-1] if node.inner else None
            if trailing is None or len(lines) > 1:
                flush()
                out.extend(lines[:-1])
                out.append(_with_comment(lines[-1], trailing))
            else:
                out.append(lines[0])
                run.append(len(out) - 1)
                run_comments.append(trailing)
        flush()
        return out


@dataclass(frozen=True, slots=True)
class _Preamble:
    text: str


def _hours(node: ast.Hours) -> str:
    days = ", ".join(a if a == b else f"{a}-{b}" for a, b in node.days)
    windows = ", ".join(f"{a}-{b}" for a, b in node.windows)
    return f"hours {days} {windows}"


def _sla_item(node) -> object:
    match node:
        case ast.RevenueTarget():
            return f"revenue target {money(node.amount)} per {node.period}"
        case ast.MarketingShare():
            return f"marketing share {percent(node.share.value)}"
        case ast.AverageDeal():
            return f"average deal {money(node.amount)}"
        case ast.Conversion():
            return f"conversion {node.source} -> {node.target} {percent(node.rate.value)}"
        case ast.Deliver():
            return f"deliver at least {number(node.count.value)} {node.stage} per {node.period}"
        case ast.SlaCalendar():
            return f"calendar {node.name}"
        case ast.Touches():
            return "touches " + ", ".join(node.events)
        case ast.FirstTouch():
            head = f"first touch within {duration(node.within)} of {node.stage}"
            return head if node.cond is None else [head, " ", when(node.cond)]
        case ast.Attempts():
            return (f"attempts at least {number(node.count.value)} within "
                    f"{duration(node.within)} of {node.stage}")
        case ast.AcceptReject():
            return f"accept or reject within {duration(node.within)} of {node.stage}"
        case ast.Recycle():
            return f"recycle to {node.target} after {duration(node.after)} without {node.without}"
    raise TypeError(f"not an SLA line: {node!r}")


def _record(node: ast.Record):
    return _bracketed("{", [[f"{e.name}: ", literal(e.value)] for e in node.entries], "}")


def _test_item(node) -> object:
    match node:
        case ast.AsOf():
            return f"as of {instant(node.value)}"
        case ast.TestLead():
            return ["lead ", _record(node.record)]
        case ast.TestEvent():
            head = f"event {node.name} at {instant(node.at)}"
            return head if node.properties is None else [head, " ", _record(node.properties)]
        case ast.Expect():
            return ["expect ", Align(cond(node.cond))]
        case ast.ExpectFired():
            return f"expect {'not ' if node.negated else ''}fired {quote(node.label)}"
    raise TypeError(f"not a test line: {node!r}")


# ============================================================================ tables


def _pad(text: str, width: int) -> str:
    return text + " " * (width - text_width(text))


def _render_rest(rest, prefix: str, indent: str) -> list[str]:
    if isinstance(rest, _Preamble):
        token = _prose(rest.text, indent)
        rest = "preamble " + (token if token is not None else quote(rest.text))
        return (prefix + rest).split("\n")
    text = render(rest, text_width(prefix), len(indent))
    return (prefix + text).split("\n")


def _table(nodes: list[Node], indent: str) -> dict[int, list[str]]:
    """The code lines of each statement of a section, columns aligned as its style wants."""
    out: dict[int, list[str]] = {}
    by_style: dict[str, list[Node]] = {}
    for node in nodes:
        by_style.setdefault(node.style, []).append(node)
    for style, rows in by_style.items():
        if style == "fields":
            _fields(rows, indent, out)
        elif style == "rules":
            _rules(rows, indent, out)
        elif style in ("names", "entered"):
            continue
        else:
            for node in rows:
                out[id(node)] = _render_rest(node.rest, indent, indent)
    if "names" in by_style or "entered" in by_style:
        _names(by_style.get("names", []), by_style.get("entered", []), indent, out)
    return out


def _fields(rows: list[Node], indent: str, out: dict) -> None:
    """name, type, `from "Column"`, then `key`, `missing …` and the label: columns two spaces
    apart, an absent `from` leaving its place to what follows. An enum type does not count in
    the type column's width (it would push every column far to the right): the rest of its row
    simply follows it, two spaces apart."""
    widths: dict[int, int] = {}
    for node in rows:
        if node.cells[1].startswith("enum("):
            widths[0] = max(widths.get(0, 0), text_width(node.cells[0]))
            continue
        for col, cell in enumerate(node.cells[:-1]):
            widths[col] = max(widths.get(col, 0), text_width(cell))
    for node in rows:
        parts = []
        aligned = True
        for col, cell in enumerate(node.cells):
            if col == len(node.cells) - 1:
                parts.append(cell)
                continue
            if col == 1 and cell.startswith("enum("):
                aligned = False
            room = widths.get(col, 0) + 2 - text_width(cell) if aligned else 2
            parts.append(cell + " " * max(2, room))
        out[id(node)] = [indent + "".join(parts)]


def _rules(rows: list[Node], indent: str, out: dict) -> None:
    """Points, the rule, and the labels in one column, two spaces after the longest rule. The
    column is placed where the most labels can stand in it without passing the line width (the
    leftmost such place on a tie), and never after a rule longer than LONG_RULE; the other rules
    keep their label two spaces after them, and are wrapped when even that is too long."""
    points_width = max(text_width(n.cells[0]) for n in rows)
    start = len(indent) + points_width + 1
    texts = {id(n): flat(n.rest) for n in rows}
    bodies = {key: text_width(text) for key, text in texts.items()}
    labelled = [(bodies[id(n)], text_width(n.label), n) for n in rows if n.label is not None]

    def aligned(column: int) -> list[Node]:
        return [n for body, width, n in labelled
                if body <= column and start + column + 2 + width <= WIDTH]

    body_width, fitting = 0, []
    for column in sorted({body for body, _, _ in labelled if body <= LONG_RULE}):
        candidates = aligned(column)
        if len(candidates) > len(fitting):
            body_width, fitting = column, candidates
    in_column = {id(n) for n in fitting}
    for node in rows:
        prefix = indent + _pad(node.cells[0], points_width) + " "
        if id(node) in in_column:
            out[id(node)] = [prefix + _pad(texts[id(node)], body_width) + "  " + node.label]
        elif node.label is not None:
            out[id(node)] = _render_rest([node.rest, "  ", node.label], prefix, indent)
        else:
            out[id(node)] = _render_rest(node.rest, prefix, indent)


def _names(rows: list[Node], entered: list[Node], indent: str, out: dict) -> None:
    """name, label, the rest: columns one space apart (`entered at` lines under the labels)."""
    name_width = max((text_width(n.cells[0]) for n in rows), default=0)
    labelled = any(n.cells[1] for n in rows)
    label_width = max((text_width(n.cells[1]) for n in rows), default=0)
    for node in rows:
        prefix = indent + _pad(node.cells[0], name_width) + " "
        if labelled:
            prefix += _pad(node.cells[1], label_width) + " "
        if node.rest == "":
            out[id(node)] = [prefix.rstrip()]
        else:
            out[id(node)] = _render_rest(node.rest, prefix, indent)
    column = indent + " " * (name_width + 1 if rows else 0)
    for node in entered:
        out[id(node)] = [column + node.rest]


# ============================================================================ comments


def _split_inner(node: Node) -> None:
    """Comments found inside a statement: one written at the end of its last line stays there;
    the others move to their own lines just above it."""
    if node.is_block or not node.inner:
        return
    inner = sorted(node.inner, key=lambda c: c.line)
    keep = inner[-1] if not inner[-1].own_line and inner[-1].line == node.end else None
    moved = [c for c in inner if c is not keep]
    node.leading.extend(moved)
    node.inner = [keep] if keep is not None else []


def _entries(entries: list, indent: str) -> list[str]:
    return ["" if e is BLANK else indent + e.text for e in entries]


def _trim_tail(entries: list, leading: bool) -> list:
    entries = list(entries)
    while entries and entries[-1] is BLANK:
        entries.pop()
    while leading and entries and entries[0] is BLANK:
        entries.pop(0)
    return entries


def _with_comment(line: str, comment: ast.Comment | None) -> str:
    return line if comment is None else f"{line}  {comment.text}"


class _Index:
    """A block's children by source line, to find in a few steps the one a comment belongs to."""

    def __init__(self, children: list[Node]) -> None:
        self.nodes = sorted(children, key=lambda n: (n.start, n.end))
        self.starts = [n.start for n in self.nodes]
        self.reach = list(accumulate((n.end for n in self.nodes), max))

    def containing(self, line: int):
        """The children whose lines include `line`, the latest to start first."""
        i = bisect_right(self.starts, line) - 1
        while i >= 0 and self.reach[i] >= line:
            if self.nodes[i].end >= line:
                yield self.nodes[i]
            i -= 1

    def before(self, line: int) -> Node | None:
        """The last statement that ends before `line`."""
        for i in range(bisect_right(self.starts, line) - 1, -1, -1):
            node = self.nodes[i]
            if not node.is_block and node.end < line:
                return node
        return None

    def after(self, line: int) -> Node | None:
        i = bisect_right(self.starts, line)
        return self.nodes[i] if i < len(self.nodes) else None


# ============================================================================ the source text


_STRING = re.compile(r'"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"?')


class _Source:
    """The file's lines with strings and comments masked, so that brackets and blank lines can
    be found without being fooled by what a text or a comment says."""

    def __init__(self, text: str) -> None:
        chars = list(text)
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == '"':
                match = _STRING.match(text, i)
                end = match.end() if match else i + 1
                for j in range(i, end):
                    if chars[j] != "\n":
                        chars[j] = "x"
                i = end
            elif ch == "#":
                end = text.find("\n", i)
                end = n if end < 0 else end
                for j in range(i, end):
                    chars[j] = " "
                i = end
            else:
                i += 1
        self.raw = text.split("\n")
        self.lines = "".join(chars).split("\n")
        self.count = len(self.lines)
        self._pairs: dict[tuple[int, int], tuple[int, int]] = {}
        stack: list[tuple[int, int]] = []
        for number_, line in enumerate(self.lines, start=1):
            for col, ch in enumerate(line, start=1):
                if ch in "{(":
                    stack.append((number_, col))
                elif ch in "})" and stack:
                    self._pairs[stack.pop()] = (number_, col)

    def empty(self, line: int) -> bool:
        return 0 < line <= self.count and not self.raw[line - 1].strip()

    def no_code(self, line: int) -> bool:
        return 0 < line <= self.count and not self.lines[line - 1].strip()

    def next_code(self, line: int, last: int) -> int:
        while line < last and self.no_code(line):
            line += 1
        return max(line, 1)

    def last_code(self, first: int, last: int) -> int:
        line = min(last, self.count)
        while line > first and self.no_code(line):
            line -= 1
        return max(line, first)

    def find(self, pattern: str, first: int, last: int) -> int:
        regex = re.compile(pattern)
        for line in range(max(first, 1), min(last, self.count) + 1):
            if regex.search(self.lines[line - 1]):
                return line
        return first

    def braces(self, start: int, col: int) -> tuple[int, int]:
        """Lines of the `{` that opens a block written from (start, col), and of its `}`."""
        for line in range(max(start, 1), self.count + 1):
            found = self.lines[line - 1].find("{", col - 1 if line == start else 0) + 1
            if found:
                closing = self._pairs.get((line, found))
                return line, closing[0] if closing else line
        return start, start
