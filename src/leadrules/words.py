"""Numbers and rules -> the words results are written with (`42.5`, `+5`, a rule's label).

Kept apart from result.py so that what only words a result (tests, explanations) does not load
pydantic.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

from leadrules import ast, unparse


def amount(value: Decimal | None) -> str:
    """`42.5`, `50`, `-5`: a number as people write it."""
    if value is None:
        return "unknown"
    value = Decimal(value)
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def cents(value: Decimal | int) -> Decimal:
    """`value` rounded to 2 decimal places, half away from zero, however many digits it has
    (the default context keeps 28, and a rule may multiply a large value further)."""
    value = Decimal(value)
    try:
        return value.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return value.quantize(_CENT, rounding=ROUND_HALF_UP,
                              context=Context(prec=value.adjusted() + 3))


_CENT = Decimal("0.01")


def signed(value: Decimal) -> str:
    """`+5`, `-12`, `+17.68`: the points a rule gave, to the cent as scores are (a decayed
    event gives 17.6776695…, which nobody reads)."""
    points = Decimal(value)
    if points.as_tuple().exponent < -2:
        points = cents(points)
    text = amount(points)
    return text if text.startswith("-") else "+" + text


def rule_label(rs, node) -> str:
    """A rule's label, else what it counts in words (an event's label, the rule's text)."""
    if node.label:
        return node.label
    if isinstance(node, ast.PerEventRule) and node.event in rs.events:
        event = rs.events[node.event]
        return event.label or node.event
    return unparse.rule(node)
