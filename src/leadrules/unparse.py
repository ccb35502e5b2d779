"""Syntax-tree nodes -> the rule text as one would write it, on one line (for the comments of
generated code and for messages). The words come from fmt's printer, so a rule reads the same
here as in a formatted file."""

from __future__ import annotations

from decimal import Decimal

from leadrules import ast, fmt

points = fmt.points
string = fmt.quote
duration = fmt.duration


def number(value: Decimal) -> str:
    """`10_000`, `42.5`, `-5`: as the language writes numbers."""
    return fmt.number(value)


def expr(node) -> str:
    """A value, a literal or the arithmetic of a derived score."""
    return fmt.flat(fmt.value(node))


def cond(node) -> str:
    """A condition, with the brackets fmt writes."""
    return fmt.flat(fmt.cond(node))


bounds = fmt.bounds
label = fmt.label


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
    rate = fmt.percent(node.rate.value) if node.rate else "0%"
    return f"decay {rate} every {duration(node.period)}"


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
