"""Syntax-tree nodes -> the rule text as one would write it (one line, for comments and messages)."""

from __future__ import annotations

from decimal import Decimal

from leadrules import ast

# Binding strength of the arithmetic operators in derived scores.
_ARITH = {"+": 1, "-": 1, "*": 2, "/": 2}


def number(value: Decimal) -> str:
    """`10_000`, `42.5`, `-5`: plain digits, thousands grouped with `_` as in the language."""
    text = format(value.normalize(), "f") if value == value.to_integral_value() \
        else format(value, "f").rstrip("0").rstrip(".")
    if text in ("-0", "+0"):
        return "0"
    head, dot, tail = text.partition(".")
    sign = "-" if head.startswith("-") else ""
    digits = head.lstrip("-")
    if len(digits) > 4:
        groups = []
        while digits:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = "_".join(groups)
    return sign + digits + (dot + tail if dot else "")


def points(value: Decimal) -> str:
    """Points always carry their sign: `+30`, `-50`."""
    text = number(value)
    return text if text.startswith("-") else "+" + text


def string(value: str) -> str:
    """A double-quoted string literal, escaped the way the language reads it back."""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\t", "\\t"))
    return f'"{escaped}"'


def duration(node: ast.Duration) -> str:
    unit = node.unit[:-1] if node.amount == 1 and node.unit.endswith("s") else node.unit
    business = " business" if node.business else ""
    return f"{number(node.amount)}{business} {unit}"


def expr(node) -> str:
    """A value or a literal."""
    if isinstance(node, ast.Number):
        return number(node.value)
    if isinstance(node, ast.Percent):
        return number(node.value * 100) + "%"
    if isinstance(node, ast.Money):
        return f"{number(node.amount)} {node.currency}"
    if isinstance(node, ast.Duration):
        return duration(node)
    if isinstance(node, ast.DateLit):
        return node.value.isoformat()
    if isinstance(node, ast.DateTimeLit):
        v = node.value
        return v.strftime("%Y-%m-%dT%H:%M") + (f":{v.second:02d}" if v.second else "")
    if isinstance(node, ast.String):
        return string(node.value)
    if isinstance(node, ast.Bool):
        return "true" if node.value else "false"
    if isinstance(node, ast.SetLit):
        return "{" + ", ".join(expr(item) for item in node.items) + "}"
    if isinstance(node, ast.Ref):
        return node.name
    if isinstance(node, ast.Count):
        window = f" within {duration(node.window)}" if node.window else ""
        return f"count({node.event}{window})"
    if isinstance(node, ast.Sum):
        window = f" within {duration(node.window)}" if node.window else ""
        return f"sum({node.target.name}{window})"
    if isinstance(node, ast.DaysSince):
        return f"days since last {node.event}"
    if isinstance(node, ast.BinOp):
        return _binop(node)
    if isinstance(node, ast.Neg):
        inner = expr(node.operand)
        return f"-({inner})" if isinstance(node.operand, ast.BinOp) else f"-{inner}"
    raise TypeError(f"not a value: {type(node).__name__}")


def _binop(node: ast.BinOp) -> str:
    strength = _ARITH[node.op]

    def side(sub, right: bool) -> str:
        text = expr(sub)
        if isinstance(sub, ast.BinOp):
            inner = _ARITH[sub.op]
            if inner < strength or (right and inner == strength):
                return f"({text})"
        return text

    return f"{side(node.left, False)} {node.op} {side(node.right, True)}"


def cond(node) -> str:
    """A condition, with parentheses only where the meaning needs them."""
    if isinstance(node, ast.And):
        return " and ".join(_wrap(item, (ast.Or,)) for item in node.items)
    if isinstance(node, ast.Or):
        return " or ".join(_wrap(item, (ast.And,)) for item in node.items)
    if isinstance(node, ast.Not):
        return "not " + _wrap(node.item, (ast.And, ast.Or))
    if isinstance(node, ast.Compare):
        return f"{expr(node.left)} {node.op} {expr(node.right)}"
    if isinstance(node, ast.Between):
        return f"{expr(node.value)} between {expr(node.low)} and {expr(node.high)}"
    if isinstance(node, ast.In):
        word = "not in" if node.negated else "in"
        return f"{expr(node.value)} {word} {expr(node.options)}"
    if isinstance(node, ast.TextTest):
        return f"{expr(node.value)} {node.op} {expr(node.operand)}"
    if isinstance(node, ast.Presence):
        return f"{expr(node.value)} is {'present' if node.present else 'missing'}"
    if isinstance(node, ast.Within):
        return f"{node.event} within {duration(node.window)}"
    if isinstance(node, ast.Truth):
        return expr(node.value)
    raise TypeError(f"not a condition: {type(node).__name__}")


def _wrap(node, kinds: tuple) -> str:
    """`(a or b)` inside an `and`: parentheses keep the meaning; elsewhere they are not needed."""
    text = cond(node)
    return f"({text})" if isinstance(node, kinds) else text


def bounds(node: ast.Bounds) -> str:
    parts = []
    if node.max is not None:
        parts.append(f" max {number(node.max.value)}")
    if node.min is not None:
        parts.append(f" min {number(node.min.value)}")
    return "".join(parts)


def label(text: str | None) -> str:
    return f" {string(text)}" if text is not None else ""


def rule(node) -> str:
    """A score rule as written: `+30 when icp "Dans le profil client idéal"`."""
    if isinstance(node, ast.WhenRule):
        head = f"{points(node.points.value)} when {cond(node.cond)}"
    elif isinstance(node, ast.PerEventRule):
        window = f" within {duration(node.window)}" if node.window else ""
        head = f"{points(node.points.value)} per {node.event}{window}"
    elif isinstance(node, ast.PerUnitRule):
        head = (f"{points(node.points.value)} per {number(node.unit.value)} "
                f"of {node.field.name}")
    else:
        raise TypeError(f"not a rule: {type(node).__name__}")
    return head + bounds(node.bounds) + label(node.label)


def decay(node: ast.Decay) -> str:
    if node.kind == "halflife":
        return f"halflife {duration(node.period)}"
    rate = number(node.rate.value * 100) if node.rate else "0"
    return f"decay {rate}% every {duration(node.period)}"


def heading(node) -> str:
    """The first line of a block: `score fit "Adéquation au profil" max 100 {`, without `{`."""
    if isinstance(node, ast.Score):
        tail = f" {decay(node.decay)}" if node.decay else ""
        return f"score {node.name}{label(node.label)}{bounds(node.bounds)}{tail}"
    if isinstance(node, ast.DerivedScore):
        return f"score {node.name}{label(node.label)} = {expr(node.expr)}{bounds(node.bounds)}"
    if isinstance(node, ast.Group):
        return f"group {node.name}{label(node.label)}{bounds(node.bounds)}"
    if isinstance(node, ast.Segment):
        mode = " any" if node.any else ""
        return f"segment {node.name}{label(node.label)}{mode}"
    if isinstance(node, ast.Grade):
        by = f" by {expr(node.by)}" if node.by is not None else ""
        if node.quantiles:
            cuts = ", ".join(number(c.value) for c in node.cuts)
            return (f"grade {node.name}{label(node.label)}{by} {node.quantiles}"
                    + (f" at {cuts}" if cuts else ""))
        return f"grade {node.name}{label(node.label)}{by}"
    if isinstance(node, ast.Qualification):
        need = ""
        if node.require is not None and node.of is not None:
            need = f" require {number(node.require.value)} of {number(node.of.value)}"
        return f"qualification {node.name}{label(node.label)}{need}"
    raise TypeError(f"no heading for {type(node).__name__}")


def row(node) -> str:
    """A grade row: `A when >= 70`, `p1 "Priorité 1" when fit_grade == A`, `D otherwise`."""
    if isinstance(node, ast.BandRow):
        return f"{node.name}{label(node.label)} when {node.op} {expr(node.threshold)}"
    if isinstance(node, ast.CondRow):
        return f"{node.name}{label(node.label)} when {cond(node.cond)}"
    if isinstance(node, ast.OtherwiseRow):
        return f"{node.name}{label(node.label)} otherwise"
    raise TypeError(f"not a grade row: {type(node).__name__}")


def line(node) -> str:
    """Any node that stands on a line of its own in a rule file."""
    if isinstance(node, (ast.WhenRule, ast.PerEventRule, ast.PerUnitRule)):
        return rule(node)
    if isinstance(node, (ast.BandRow, ast.CondRow, ast.OtherwiseRow)):
        return row(node)
    if isinstance(node, ast.Criterion):
        return f"{node.name}{label(node.label)} when {cond(node.cond)}"
    if isinstance(node, ast.Stage):
        return f"{node.name}{label(node.label)} when {cond(node.cond)}"
    if isinstance(node, ast.Disqualify):
        return f"disqualify when {cond(node.cond)}{label(node.label)}"
    if isinstance(node, ast.Route):
        if node.cond is None:
            return f"route {node.name}{label(node.label)} otherwise"
        return f"route {node.name}{label(node.label)} when {cond(node.cond)}"
    if isinstance(node, (ast.Score, ast.DerivedScore, ast.Group, ast.Segment, ast.Grade,
                         ast.Qualification)):
        return heading(node)
    return cond(node)
