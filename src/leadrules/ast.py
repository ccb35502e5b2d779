"""The syntax tree of a `.leadrules` file: frozen dataclasses, every node with a Span.

Class names mirror the grammar rules of `grammar/leadrules.lark`. Nodes are never mutated once
built; children are tuples. Judging a tree (names, types, reachability) is `check.py`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Where a node is written: 1-based line and column of its first and last character."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Span("<builtin>", 0, 0, 0, 0)


def _span() -> Span:
    return field(default=NOWHERE, compare=False, repr=False)


# ----------------------------------------------------------------------------- literals


@dataclass(frozen=True, slots=True)
class Number:
    value: Decimal
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Percent:
    """`40%`; `value` is the fraction (0.40)."""

    value: Decimal
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Duration:
    """`30 days`, `4 business hours`. `unit` is plural: minutes, hours, days, weeks, months, years."""

    amount: Decimal
    unit: str
    business: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DateLit:
    value: date
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DateTimeLit:
    value: datetime
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class String:
    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SetLit:
    """`{saas, finance}` or `{"FR", "BE"}`; bare names are `Ref`s (enum members, grade labels)."""

    items: tuple[Expr, ...]
    span: Span = _span()


Literal = Number | Percent | Money | Duration | DateLit | DateTimeLit | String | Bool | SetLit

# ----------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class Ref:
    """A name, possibly dotted: `company_size`, `email.domain`, `bant.authority`, `bant.count`."""

    parts: tuple[str, ...]
    span: Span = _span()

    @property
    def name(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class Count:
    """`count(EVENT within D)`: how many events of that type (in the window)."""

    event: str
    window: Duration | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Sum:
    """`sum(EVENT.property within D)`."""

    target: Ref
    window: Duration | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DaysSince:
    """`days since last EVENT`: whole days between the most recent such event and `as of`."""

    event: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class BinOp:
    """Arithmetic in a derived score: `0.6 * fit + 0.4 * engagement`."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    span: Span = _span()


Value = Ref | Count | Sum | DaysSince
Expr = Literal | Value | BinOp | Neg

# ----------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Cond, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Cond, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Not:
    item: Cond
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Compare:
    """`left OP right` with OP one of == != < <= > >=."""

    left: Expr
    op: str
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Between:
    """`value between low and high`, both ends included."""

    value: Expr
    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class In:
    """`value in {…}` or `value in list_name`; `negated` for `not in`."""

    value: Expr
    options: SetLit | Ref
    negated: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TextTest:
    """`value contains|starts with|ends with|matches operand` (case-insensitive except `matches`)."""

    value: Expr
    op: str
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Presence:
    """`value is present` (present=True) or `value is missing`."""

    value: Expr
    present: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Within:
    """`EVENT within D`: an event of that type happened in the last D before `as of`."""

    event: str
    window: Duration
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Truth:
    """A bare value used as a condition: a segment, a qualification, a criterion, a bool field."""

    value: Expr
    span: Span = _span()


Cond = And | Or | Not | Compare | Between | In | TextTest | Presence | Within | Truth

# ----------------------------------------------------------------------------- agreement header


@dataclass(frozen=True, slots=True)
class Party:
    role: str
    name: str
    title: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Agreement:
    title: str
    version: String | None = None
    locale: Ref | None = None
    currency: Ref | None = None
    timezone: String | None = None
    effective_from: DateLit | None = None
    effective_to: DateLit | None = None
    review: str | None = None
    parties: tuple[Party, ...] = ()
    preamble: String | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Hours:
    """`hours mon-fri 09:00-18:00`: days as (first, last) name pairs, windows as ("HH:MM", "HH:MM")
    as written (check.py validates them and turns them into clock times)."""

    days: tuple[tuple[str, str], ...]
    windows: tuple[tuple[str, str], ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Calendar:
    name: str
    hours: tuple[Hours, ...]
    holidays: tuple[DateLit, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Include:
    path: str
    span: Span = _span()


# ----------------------------------------------------------------------------- lead record


@dataclass(frozen=True, slots=True)
class EnumMember:
    """An enum member and how exports spell it (its own name when `spellings` is empty)."""

    name: str
    spellings: tuple[str, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """`int`, `number`, `money`, `text`, `bool`, `date`, `datetime` or `enum` (with members)."""

    name: str
    members: tuple[EnumMember, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: TypeSpec
    column: str | None = None
    key: bool = False
    missing: tuple[str, ...] = ()
    label: str | None = None
    span: Span = _span()

    @property
    def source_column(self) -> str:
        """The export column this field is read from."""
        return self.column if self.column is not None else self.name


@dataclass(frozen=True, slots=True)
class Lead:
    fields: tuple[Field, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    type: TypeSpec
    label: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    label: str | None = None
    properties: tuple[Property, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ListDef:
    name: str
    items: SetLit
    span: Span = _span()


# ----------------------------------------------------------------------------- segments and scores


@dataclass(frozen=True, slots=True)
class Segment:
    """All conditions must hold, or at least one when `any`."""

    name: str
    label: str | None
    any: bool
    conditions: tuple[Cond, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Bounds:
    """`min`/`max` caps of a rule, a group or a score (None where not given)."""

    min: Number | None = None
    max: Number | None = None


@dataclass(frozen=True, slots=True)
class WhenRule:
    """`±N when COND`."""

    points: Number
    cond: Cond
    bounds: Bounds = Bounds()
    label: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PerEventRule:
    """`±N per EVENT [within D]`: points per occurrence, each decayed by its own age."""

    points: Number
    event: str
    window: Duration | None = None
    bounds: Bounds = Bounds()
    label: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class PerUnitRule:
    """`±N per K of FIELD`: floor(field / K) × N."""

    points: Number
    unit: Number
    field: Ref
    bounds: Bounds = Bounds()
    label: str | None = None
    span: Span = _span()


Rule = WhenRule | PerEventRule | PerUnitRule


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    label: str | None
    bounds: Bounds
    rules: tuple[Rule, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Decay:
    """`decay 50% every 30 days` (kind "rate") or `halflife 14 days` (kind "halflife")."""

    kind: str
    period: Duration
    rate: Percent | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Score:
    name: str
    label: str | None
    bounds: Bounds
    decay: Decay | None
    items: tuple[Rule | Group, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class DerivedScore:
    """`score total = 0.6 * fit + 0.4 * engagement`."""

    name: str
    label: str | None
    expr: Expr
    bounds: Bounds = Bounds()
    span: Span = _span()


# ----------------------------------------------------------------------------- grades


@dataclass(frozen=True, slots=True)
class BandRow:
    """`A when >= 70`: the graded value compared with a threshold."""

    name: str
    label: str | None
    op: str
    threshold: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class CondRow:
    """`p1 when fit_grade == A and temperature == hot`."""

    name: str
    label: str | None
    cond: Cond
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class OtherwiseRow:
    name: str
    label: str | None
    span: Span = _span()


GradeRow = BandRow | CondRow | OtherwiseRow


@dataclass(frozen=True, slots=True)
class Grade:
    """Rows are tried in order, the first that holds wins. `by` is the graded value, if any.

    A quantile grade (`by X quintiles`) has no rows: `quantiles` names the split and `cuts`
    holds the frozen cut points, when the file gives them.
    """

    name: str
    label: str | None
    by: Value | None
    rows: tuple[GradeRow, ...] = ()
    quantiles: str | None = None
    cuts: tuple[Number, ...] = ()
    span: Span = _span()


# ----------------------------------------------------------------------------- qualification, stages, routes


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str
    label: str | None
    cond: Cond
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Qualification:
    """`require K of N`; without it every criterion is required."""

    name: str
    label: str | None
    require: Number | None
    of: Number | None
    criteria: tuple[Criterion, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    label: str | None
    cond: Cond
    entered_at: Ref | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class EnteredAt:
    """An `entered at FIELD` line; the builder attaches it to the stage written before it."""

    field: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Stages:
    """The ladder, in order. `orphans` are `entered at` lines with no stage before them."""

    stages: tuple[Stage, ...]
    orphans: tuple[EnteredAt, ...] = ()
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Disqualify:
    cond: Cond
    label: str | None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Route:
    """`cond` is None for the `otherwise` route."""

    name: str
    label: str | None
    cond: Cond | None
    span: Span = _span()


# ----------------------------------------------------------------------------- SLA and channels


@dataclass(frozen=True, slots=True)
class RevenueTarget:
    amount: Money
    period: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class MarketingShare:
    share: Percent
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AverageDeal:
    amount: Money
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Conversion:
    source: str
    target: str
    rate: Percent
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Deliver:
    """`deliver at least 70 mql per month`."""

    count: Number
    stage: str
    period: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class SlaCalendar:
    name: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Touches:
    events: tuple[str, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class FirstTouch:
    within: Duration
    stage: str
    cond: Cond | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Attempts:
    count: Number
    within: Duration
    stage: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AcceptReject:
    within: Duration
    stage: str
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Recycle:
    """`recycle to nurturing after 90 days without opportunity`."""

    target: str
    after: Duration
    without: str
    span: Span = _span()


SlaItem = (
    RevenueTarget | MarketingShare | AverageDeal | Conversion | Deliver
    | SlaCalendar | Touches | FirstTouch | Attempts | AcceptReject | Recycle
)


@dataclass(frozen=True, slots=True)
class Sla:
    """`sla marketing { … }` or `sla sales { … }`; `side` is the name written after `sla`."""

    side: str
    label: str | None
    items: tuple[SlaItem, ...]
    span: Span = _span()

    def of(self, kind: type) -> tuple:
        """The items of one kind, in the order written."""
        return tuple(item for item in self.items if isinstance(item, kind))

    def first(self, kind: type):
        found = self.of(kind)
        return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    label: str | None
    cost: Money | None = None
    period: str | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Channels:
    by: str
    channels: tuple[Channel, ...]
    span: Span = _span()


# ----------------------------------------------------------------------------- tests


@dataclass(frozen=True, slots=True)
class Entry:
    """`name: value` in a test record; a bare name value is a `Ref` (an enum member)."""

    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Record:
    entries: tuple[Entry, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class AsOf:
    value: DateTimeLit | DateLit
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestLead:
    record: Record
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class TestEvent:
    name: str
    at: DateTimeLit | DateLit
    properties: Record | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class Expect:
    cond: Cond
    span: Span = _span()


@dataclass(frozen=True, slots=True)
class ExpectFired:
    """`expect fired "label"` (or `expect not fired`)."""

    label: str
    negated: bool = False
    span: Span = _span()


TestItem = AsOf | TestLead | TestEvent | Expect | ExpectFired


@dataclass(frozen=True, slots=True)
class Test:
    name: str
    items: tuple[TestItem, ...]
    span: Span = _span()

    # pytest must not mistake this class for a test case.
    __test__ = False


Item = (
    Agreement | Calendar | Include | Lead | Event | ListDef | Segment | Score | DerivedScore
    | Grade | Qualification | Stages | Disqualify | Route | Sla | Channels | Test
)


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment, kept for `leadrules fmt`; `own_line` when nothing else is on its line."""

    text: str
    line: int
    col: int
    own_line: bool


@dataclass(frozen=True, slots=True)
class Module:
    """One parsed file: its items in order, and its comments."""

    path: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = ()


def children(node) -> list:
    """The nodes directly inside `node`, in field order."""
    out: list = []
    for name in node.__dataclass_fields__:
        if name == "span":
            continue
        value = getattr(node, name)
        if isinstance(value, tuple):
            out.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
        elif hasattr(value, "__dataclass_fields__"):
            out.append(value)
    return out


def walk(node):
    """`node` and every node inside it, depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))
