"""Scores and conditions -> the range of values each score can take, and whether a threshold on
a value can ever hold (interval arithmetic over rules, caps, groups, decay and derived scores).

An interval is a pair of Decimals `(lo, hi)`, either end possibly infinite. A region is a union
of intervals with open or closed ends; grade bands carve the range of their value into regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from leadrules import ast

INF = Decimal("Infinity")
NINF = -INF
ZERO = Decimal(0)
CENT = Decimal("0.01")
UNBOUNDED = (NINF, INF)

Interval = tuple[Decimal, Decimal]

# Ranges are computed without traps: a figure too large to hold becomes infinite (a score of
# 10^1000000 points is unbounded for every practical purpose) instead of stopping the check.
_CONTEXT = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


def _mul(a: Decimal, b: Decimal) -> Decimal:
    # 0 × ∞ is 0 here: a rule worth 0 points stays at 0 however often it fires.
    if a == 0 or b == 0:
        return ZERO
    return a * b


def add(a: Interval, b: Interval) -> Interval:
    return a[0] + b[0], a[1] + b[1]


def neg(a: Interval) -> Interval:
    return -a[1], -a[0]


def mul(a: Interval, b: Interval) -> Interval:
    products = [_mul(x, y) for x in a for y in b]
    return min(products), max(products)


def div(a: Interval, b: Interval) -> Interval:
    if b[0] <= 0 <= b[1]:
        return UNBOUNDED
    return mul(a, (Decimal(1) / b[1], Decimal(1) / b[0]))


def hull(*intervals: Interval) -> Interval:
    return min(i[0] for i in intervals), max(i[1] for i in intervals)


def point(value: Decimal) -> Interval:
    return value, value


def clamp(a: Interval, bounds: ast.Bounds) -> Interval:
    """Clamping is monotone, so clamping both ends gives the exact clamped range."""
    lo, hi = a
    if bounds.min is not None:
        lo, hi = max(lo, bounds.min.value), max(hi, bounds.min.value)
    if bounds.max is not None:
        lo, hi = min(lo, bounds.max.value), min(hi, bounds.max.value)
    return lo, hi


def rounded(a: Interval) -> Interval:
    """Both ends rounded to the cent, half away from zero, as scores are (ends too long to
    round are kept as they are)."""
    return tuple(v if v.is_infinite() or v.adjusted() > 40 else
                 v.quantize(CENT, rounding=ROUND_HALF_UP) for v in a)


def _sane(a: Interval) -> Interval:
    """An interval whose ends are numbers: what the arithmetic could not tell is unbounded."""
    lo, hi = a
    return (NINF if lo.is_nan() else lo, INF if hi.is_nan() else hi)


def _floor_div(value: Decimal, unit: Decimal) -> Decimal:
    if value.is_infinite():
        return value if unit > 0 else -value
    return (value / unit).to_integral_value(rounding=ROUND_FLOOR)


# ----------------------------------------------------------------------------- scores


def rule_interval(rule: ast.Rule, value_of) -> Interval:
    """The range of one rule's total, after its own caps. Decay multiplies each occurrence by a
    factor between 0 and 1, which only moves points toward 0: it never widens the range."""
    p = rule.points.value
    if isinstance(rule, ast.WhenRule):
        raw = (min(ZERO, p), max(ZERO, p))
    elif isinstance(rule, ast.PerEventRule):
        # Any number of occurrences, each worth between 0 and p after decay.
        raw = (ZERO, INF) if p > 0 else (NINF, ZERO) if p < 0 else point(ZERO)
    else:
        unit = rule.unit.value
        if unit <= 0:
            return point(ZERO)
        field = value_of(rule.field) or UNBOUNDED
        ends = [_mul(_floor_div(end, unit), p) for end in field]
        # A missing field gives no points.
        raw = hull(point(ZERO), (min(ends), max(ends)))
    return clamp(raw, rule.bounds)


def score_interval(score: ast.Score | ast.DerivedScore, value_of) -> Interval:
    """The lowest and highest value `score` can take; `value_of(ref)` gives the interval of a
    value a rule or an expression reads (None when it is not a number with a known range)."""
    with localcontext(_CONTEXT):
        return _sane(rounded(_score_interval(score, value_of)))


def _score_interval(score: ast.Score | ast.DerivedScore, value_of) -> Interval:
    if isinstance(score, ast.DerivedScore):
        return clamp(expr_interval(score.expr, value_of), score.bounds)
    total = point(ZERO)
    for item in score.items:
        if isinstance(item, ast.Group):
            group = point(ZERO)
            for rule in item.rules:
                group = add(group, rule_interval(rule, value_of))
            total = add(total, clamp(group, item.bounds))
        else:
            total = add(total, rule_interval(item, value_of))
    return clamp(total, score.bounds)


def expr_interval(expr: ast.Expr, value_of) -> Interval:
    if isinstance(expr, ast.Number):
        return point(expr.value)
    if isinstance(expr, ast.Neg):
        return neg(expr_interval(expr.operand, value_of))
    if isinstance(expr, ast.BinOp):
        left = expr_interval(expr.left, value_of)
        right = expr_interval(expr.right, value_of)
        if expr.op == "+":
            return add(left, right)
        if expr.op == "-":
            return add(left, neg(right))
        if expr.op == "*":
            return mul(left, right)
        return div(left, right)
    if isinstance(expr, ast.Ref):
        return value_of(expr) or UNBOUNDED
    return UNBOUNDED


# ----------------------------------------------------------------------------- conditions


def verdict(interval: Interval, op: str, value: Decimal) -> str | None:
    """"never" when no value in `interval` satisfies `x op value`, "always" when every one
    does, else None."""
    lo, hi = interval
    if op == ">=":
        return "never" if hi < value else "always" if lo >= value else None
    if op == ">":
        return "never" if hi <= value else "always" if lo > value else None
    if op == "<=":
        return "never" if lo > value else "always" if hi <= value else None
    if op == "<":
        return "never" if lo >= value else "always" if hi < value else None
    if op == "==":
        return "never" if not lo <= value <= hi else "always" if lo == hi == value else None
    if op == "!=":
        return "always" if not lo <= value <= hi else "never" if lo == hi == value else None
    return None


def between_verdict(interval: Interval, low: Decimal, high: Decimal) -> str | None:
    lo, hi = interval
    if hi < low or lo > high:
        return "never"
    if low <= lo and hi <= high:
        return "always"
    return None


@dataclass(frozen=True, slots=True)
class Piece:
    """One interval of a region, each end open or closed."""

    lo: Decimal
    lo_closed: bool
    hi: Decimal
    hi_closed: bool

    @property
    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))


Region = tuple[Piece, ...]


def region(interval: Interval) -> Region:
    lo, hi = interval
    return (Piece(lo, not lo.is_infinite(), hi, not hi.is_infinite()),)


def half_line(op: str, value: Decimal) -> Region:
    """The values x with `x op value`."""
    if op == ">=":
        return (Piece(value, True, INF, False),)
    if op == ">":
        return (Piece(value, False, INF, False),)
    if op == "<=":
        return (Piece(NINF, False, value, True),)
    if op == "<":
        return (Piece(NINF, False, value, False),)
    if op == "==":
        return (Piece(value, True, value, True),)
    return (Piece(NINF, False, value, False), Piece(value, False, INF, False))


def _cut(a: Piece, b: Piece) -> Piece:
    if a.lo > b.lo or (a.lo == b.lo and not a.lo_closed):
        lo, lo_closed = a.lo, a.lo_closed
    else:
        lo, lo_closed = b.lo, b.lo_closed
    if a.hi < b.hi or (a.hi == b.hi and not a.hi_closed):
        hi, hi_closed = a.hi, a.hi_closed
    else:
        hi, hi_closed = b.hi, b.hi_closed
    return Piece(lo, lo_closed, hi, hi_closed)


def intersect(a: Region, b: Region) -> Region:
    return tuple(p for x in a for y in b if not (p := _cut(x, y)).empty)


def _complement(r: Region) -> Region:
    out = [Piece(NINF, False, INF, False)]
    for p in r:
        below = Piece(NINF, False, p.lo, not p.lo_closed)
        above = Piece(p.hi, not p.hi_closed, INF, False)
        out = [q for o in out for q in (_cut(o, below), _cut(o, above)) if not q.empty]
    return tuple(out)


def subtract(a: Region, b: Region) -> Region:
    return intersect(a, _complement(b))


def is_empty(r: Region) -> bool:
    return all(p.empty for p in r)
