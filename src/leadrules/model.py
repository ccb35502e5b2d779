"""The checked ruleset: every definition by name, what each name means, and the derived figures.

`check.check()` builds it from parsed modules; every later stage (evaluation, code generation,
rendering, the SLA plan and report) reads it and never goes back to the raw text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from leadrules import ast
from leadrules.diagnostics import ERROR, Diagnostic

# Kinds of things a name can mean, and the type of value it gives in a condition.
FIELD = "field"
SEGMENT = "segment"
SCORE = "score"
GRADE = "grade"
QUALIFICATION = "qualification"
CRITERION = "criterion"
QUALIFICATION_COUNT = "qualification count"
STAGE = "stage"
ROUTE = "route"
EVENT = "event"
LIST = "list"
EMAIL_DOMAIN = "email domain"
EVENT_PROPERTY = "event property"


@dataclass(frozen=True, slots=True)
class Type:
    """A value's type: `kind` is int, number, money, text, bool, date, datetime, enum, grade,
    stage, route, percent or duration; `of` names the enum field, the grade or the route set."""

    kind: str
    of: str | None = None
    currency: str | None = None

    def __str__(self) -> str:
        if self.kind in ("enum", "grade") and self.of:
            return f"{self.kind} {self.of}"
        if self.kind == "money" and self.currency:
            return f"money ({self.currency})"
        return self.kind


@dataclass(frozen=True, slots=True)
class Symbol:
    """What a (possibly dotted) name in a condition refers to."""

    kind: str
    name: str
    type: Type
    node: object = None


@dataclass
class Ruleset:
    """A checked agreement. Dictionaries keep the order of definition."""

    path: str
    modules: tuple[ast.Module, ...]
    agreement: ast.Agreement | None = None
    calendars: dict[str, ast.Calendar] = field(default_factory=dict)
    fields: dict[str, ast.Field] = field(default_factory=dict)
    events: dict[str, ast.Event] = field(default_factory=dict)
    lists: dict[str, ast.ListDef] = field(default_factory=dict)
    segments: dict[str, ast.Segment] = field(default_factory=dict)
    scores: dict[str, ast.Score | ast.DerivedScore] = field(default_factory=dict)
    grades: dict[str, ast.Grade] = field(default_factory=dict)
    qualifications: dict[str, ast.Qualification] = field(default_factory=dict)
    stages: tuple[ast.Stage, ...] = ()
    disqualify: tuple[ast.Disqualify, ...] = ()
    routes: tuple[ast.Route, ...] = ()
    slas: dict[str, ast.Sla] = field(default_factory=dict)
    channels: ast.Channels | None = None
    tests: tuple[ast.Test, ...] = ()
    # Segments, scores, grades and qualifications in an order where each comes after
    # everything it reads (check.py computes it; evaluation follows it).
    order: tuple[str, ...] = ()
    # The lowest and highest value each score can take (interval arithmetic, check.py).
    intervals: dict[str, tuple] = field(default_factory=dict)
    # The SLA figures derived from the marketing commitments (sla.py), when there are some.
    funnel: object = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Names that the parts of the files which could not be read seem to define: a reference to
    # one is not reported as unknown, the syntax error already explains it (check.py).
    unreadable: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return not any(d.severity == ERROR for d in self.diagnostics)

    @property
    def key(self) -> ast.Field | None:
        return next((f for f in self.fields.values() if f.key), None)

    @property
    def locale(self) -> str:
        if self.agreement and self.agreement.locale:
            return self.agreement.locale.name
        return "en"

    @property
    def currency(self) -> str | None:
        if self.agreement and self.agreement.currency:
            return self.agreement.currency.name
        return None

    @property
    def timezone(self) -> str:
        if self.agreement and self.agreement.timezone:
            return self.agreement.timezone.value
        return "UTC"

    @property
    def sla_marketing(self) -> ast.Sla | None:
        return self.slas.get("marketing")

    @property
    def sla_sales(self) -> ast.Sla | None:
        return self.slas.get("sales")

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    @cached_property
    def fingerprint(self) -> str:
        from leadrules.canonical import fingerprint

        return fingerprint(self)

    def resolve(self, ref: ast.Ref) -> Symbol | None:
        """What a name in a condition means, or None when it means nothing here."""
        return resolve(self, ref)

    def type_of_field(self, f: ast.Field) -> Type:
        return field_type(f, self.currency)


def field_type(f: ast.Field | ast.Property, currency: str | None) -> Type:
    if f.type.name == "enum":
        return Type("enum", f.name)
    if f.type.name == "money":
        return Type("money", currency=currency)
    return Type(f.type.name)


def resolve(rs: Ruleset, ref: ast.Ref) -> Symbol | None:
    head, *rest = ref.parts
    if not rest:
        if head in rs.fields:
            f = rs.fields[head]
            return Symbol(FIELD, head, field_type(f, rs.currency), f)
        if head in rs.segments:
            return Symbol(SEGMENT, head, Type("bool"), rs.segments[head])
        if head in rs.scores:
            return Symbol(SCORE, head, Type("number"), rs.scores[head])
        if head in rs.grades:
            return Symbol(GRADE, head, Type("grade", head), rs.grades[head])
        if head in rs.qualifications:
            return Symbol(QUALIFICATION, head, Type("bool"), rs.qualifications[head])
        if head == "stage" and rs.stages:
            return Symbol(STAGE, head, Type("stage"))
        if head == "route" and rs.routes:
            return Symbol(ROUTE, head, Type("route"))
        if head in rs.lists:
            return Symbol(LIST, head, Type("list"), rs.lists[head])
        if head in rs.events:
            return Symbol(EVENT, head, Type("event"), rs.events[head])
        return None
    if len(rest) == 1:
        (tail,) = rest
        if head in rs.fields and tail == "domain" and rs.fields[head].type.name == "text":
            return Symbol(EMAIL_DOMAIN, ref.name, Type("text"), rs.fields[head])
        if head in rs.qualifications:
            q = rs.qualifications[head]
            if tail == "count":
                return Symbol(QUALIFICATION_COUNT, ref.name, Type("int"), q)
            criterion = next((c for c in q.criteria if c.name == tail), None)
            if criterion is not None:
                return Symbol(CRITERION, ref.name, Type("bool"), criterion)
        if head in rs.events:
            prop = next((p for p in rs.events[head].properties if p.name == tail), None)
            if prop is not None:
                return Symbol(EVENT_PROPERTY, ref.name, field_type(prop, rs.currency), prop)
    return None
