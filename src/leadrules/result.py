"""The evaluator's explained dict plus the plan -> a pydantic LeadResult (scores, rules, reasons)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from leadrules import ast, unparse
from leadrules.codegen import DISQUALIFIED, Plan
from leadrules.words import amount, cents, rule_label, signed

__all__ = [
    "CriterionResult", "GradeResult", "GroupResult", "LeadResult", "QualificationResult",
    "RuleContribution", "ScoreResult", "SegmentResult", "StageStep", "amount", "build",
    "reasons", "rule_label", "signed",
]



class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class RuleContribution(_Model):
    """What one scoring rule gave this lead."""

    index: int = Field(description="position in the generated module's RULES")
    kind: str = Field(description="'when', 'per event' or 'per unit'")
    score: str
    group: str | None = None
    label: str = Field(description="the rule's label, else what it counts, in words")
    text: str = Field(description="the rule as written")
    source: str = Field(description="file:line")
    fired: bool | None = Field(description="when-rules: the condition (None: unknown); "
                               "others: whether anything was counted")
    count: int | None = Field(None, description="events counted, or whole units of the field")
    points: Decimal = Field(description="points before decay and caps")
    decayed: Decimal = Field(description="points after decay")
    counted: Decimal = Field(description="points after the rule's own min/max")

    @property
    def capped(self) -> bool:
        return self.counted != self.decayed

    @property
    def has_decayed(self) -> bool:
        return self.decayed != self.points

    def notes(self) -> list[str]:
        """What a reader needs beside the points: how much was counted, decay, caps."""
        out = []
        if self.kind == "per event" and self.count:
            out.append(f"{self.count} event{'s' if self.count > 1 else ''}")
        elif self.kind == "per unit" and self.count:
            out.append(f"{self.count} unit{'s' if abs(self.count) > 1 else ''}")
        if self.has_decayed:
            out.append(f"{signed(self.points)} before decay: older activity counts less")
        if self.capped:
            out.append(f"capped, it would give {signed(self.decayed)}")
        return out


class GroupResult(_Model):
    name: str
    label: str | None = None
    source: str
    total: Decimal = Field(description="sum of its rules")
    counted: Decimal = Field(description="after the group's min/max")


class ScoreResult(_Model):
    name: str
    label: str | None = None
    source: str
    derived: bool = False
    formula: str | None = None
    value: Decimal | None = Field(description="rounded to 2 places; None when it cannot be "
                                  "computed (a division by zero in a derived score)")
    total: Decimal | None = Field(None, description="before the score's own min/max")
    rules: list[RuleContribution] = []
    groups: list[GroupResult] = []

    @property
    def capped(self) -> bool:
        return self.total is not None and self.value is not None and \
            cents(self.total) != self.value


class GradeResult(_Model):
    name: str
    label: str | None = None
    value: str | None
    value_label: str | None = None
    source: str | None = Field(None, description="file:line of the row that matched")
    graded: Any = Field(None, description="the value the grade is `by`")


class CriterionResult(_Model):
    name: str
    label: str | None = None
    met: bool | None
    source: str


class QualificationResult(_Model):
    name: str
    label: str | None = None
    met: bool | None
    count: int
    required: int
    criteria: list[CriterionResult]


class SegmentResult(_Model):
    name: str
    label: str | None = None
    member: bool | None


class StageStep(_Model):
    name: str
    label: str | None = None
    source: str
    evaluated: bool = Field(description="False when an earlier stage was not reached")
    held: bool | None = Field(description="the stage's condition (None: unknown or not "
                              "evaluated)")
    reached: bool


class LeadResult(_Model):
    """Everything evaluation says about one lead, with the working."""

    fingerprint: str
    as_of: datetime | None = Field(description="the instant of evaluation, in the agreement's "
                                   "time zone (None when no rule depends on time)")
    scores: dict[str, ScoreResult]
    grades: dict[str, GradeResult]
    qualifications: dict[str, QualificationResult]
    segments: dict[str, SegmentResult]
    stage: str | None = None
    stage_label: str | None = None
    ladder: list[StageStep] = []
    disqualified: bool = False
    disqualified_by: list[str] = []
    route: str | None = None
    route_label: str | None = None
    route_source: str | None = None
    reasons: list[str] = []
    values: dict[str, Any] = Field(description="the flat dict of evaluate_raw")

    def score(self, name: str) -> Decimal | None:
        return self.scores[name].value

    def grade(self, name: str) -> str | None:
        return self.grades[name].value

    def rules(self) -> list[RuleContribution]:
        return [r for s in self.scores.values() for r in s.rules]

    def fired(self, label: str) -> bool:
        """Whether a rule with this label (or rule text) gave points or held."""
        return any(r.fired is True for r in self.rules() if label in (r.label, r.text))


_KIND = {ast.WhenRule: "when", ast.PerEventRule: "per event", ast.PerUnitRule: "per unit"}

_set = object.__setattr__


def _make(cls: type[BaseModel], data: dict, given: frozenset | set) -> Any:
    """A model holding `data` (every field, in declared order), `given` the fields passed:
    what `model_construct` makes (the same __dict__, fields set, no extra, no private
    attributes), without its work per call, which costs more than the validation it skips."""
    if cls.__pydantic_post_init__ is not None or cls.__pydantic_root_model__:
        return cls.model_construct(_fields_set=set(given), **data)
    model = cls.__new__(cls)
    _set(model, "__dict__", data)
    _set(model, "__pydantic_fields_set__", set(given))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_FIELDS: dict[type, tuple[tuple[str, ...], dict[str, Any]]] = {}


def _new(cls: type[BaseModel], **values) -> Any:
    """`cls.model_construct(**values)`, faster (see _make); defaults filled in as pydantic
    fills them (a fresh copy of a mutable default)."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = (tuple(cls.model_fields), {
            name: f.default for name, f in cls.model_fields.items() if not f.is_required()})
    names, defaults = found
    data = {}
    for name in names:
        if name in values:
            data[name] = values[name]
        else:
            default = defaults[name]
            data[name] = default.copy() if isinstance(default, (list, dict, set)) else default
    return _make(cls, data, values.keys())


# Decimal values are immutable: the points most rules give are shared, not made per lead.
_SMALL = {i: Decimal(i) for i in range(-1000, 1001)}


def _dec(value) -> Decimal:
    if type(value) is int:
        found = _SMALL.get(value)
        return found if found is not None else Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _src(node) -> str:
    return f"{node.span.file}:{node.span.line}"


_RULE_FIELDS = frozenset(RuleContribution.model_fields)


def build(plan: Plan, raw: dict) -> LeadResult:
    """The LeadResult of one lead from the dict `evaluate(..., explain=True)` returned.

    The models are made without validation (see _make): every value is our own, of the
    declared type already (Decimal points, bool or None truths, int counts), and validating
    2,000 rule contributions per lead would cost more than evaluating the lead.
    """
    rs = plan.rs
    work = raw["explain"]
    as_of = work.get("as_of")
    if as_of is not None:
        as_of = as_of.replace(tzinfo=UTC).astimezone(ZoneInfo(rs.timezone))
    values = {k: v for k, v in raw.items() if k != "explain"}

    statics = plan.cache.get("rules")
    if statics is None:
        # Texts and labels never change for a plan: work them out once.
        statics = plan.cache["rules"] = [
            {"index": info.index, "kind": _KIND[type(info.node)], "score": info.score,
             "group": info.group, "label": rule_label(rs, info.node),
             "text": unparse.rule(info.node), "source": _src(info.node)}
            for info in plan.rules]
    rules_by_score: dict[str, list[RuleContribution]] = {}
    for info, static in zip(plan.rules, statics, strict=True):
        fired, count, points, decayed, counted = work["rules"][info.index]
        # The fields in their declared order, as validation would have stored them.
        contribution = _make(RuleContribution, {
            **static, "fired": fired, "count": count, "points": _dec(points),
            "decayed": _dec(decayed), "counted": _dec(counted)}, _RULE_FIELDS)
        rules_by_score.setdefault(info.score, []).append(contribution)
    groups_by_score: dict[str, list[GroupResult]] = {}
    for g in plan.groups:
        total, counted = work["groups"][g.index]
        groups_by_score.setdefault(g.score, []).append(_new(
            GroupResult, name=g.node.name, label=g.node.label, source=_src(g.node),
            total=_dec(total), counted=_dec(counted)))

    scores: dict[str, ScoreResult] = {}
    for name, node in rs.scores.items():
        value = raw.get(name)
        total = work["sums"].get(name)
        derived = isinstance(node, ast.DerivedScore)
        formula = plan.cache.get(("formula", name))
        if derived and formula is None:
            formula = plan.cache[("formula", name)] = unparse.expr(node.expr)
        scores[name] = _new(
            ScoreResult, name=name, label=node.label, source=_src(node), derived=derived, formula=formula,
            value=cents(value) if value is not None else None,
            total=_dec(total) if total is not None else None,
            rules=rules_by_score.get(name, []), groups=groups_by_score.get(name, []))

    grades: dict[str, GradeResult] = {}
    for name, node in rs.grades.items():
        value = raw.get(name)
        row_index = work["rows"].get(name)
        row = node.rows[row_index] if row_index is not None and not node.quantiles else None
        if node.quantiles:
            graded = raw.get(f"{name}.value")
        elif node.by is not None and isinstance(node.by, ast.Ref):
            graded = raw.get(node.by.name, None)
        else:
            graded = None
        grades[name] = _new(
            GradeResult, name=name, label=node.label, value=value,
            value_label=(row.label if row is not None else None),
            source=_src(row) if row is not None else None, graded=graded)

    qualifications: dict[str, QualificationResult] = {}
    for name, node in rs.qualifications.items():
        met_each = work["criteria"].get(name, ())
        required = int(node.require.value) if node.require is not None else len(node.criteria)
        qualifications[name] = _new(
            QualificationResult, name=name, label=node.label, met=raw.get(name),
            count=raw.get(f"{name}.count", 0), required=required,
            criteria=[_new(CriterionResult, name=c.name, label=c.label, met=m, source=_src(c))
                      for c, m in zip(node.criteria, met_each, strict=False)])

    segments = {name: _new(SegmentResult, name=name, label=node.label, member=raw.get(name))
                for name, node in rs.segments.items()}

    ladder: list[StageStep] = []
    results = work.get("ladder", [])
    stage = raw.get("stage")
    reached_names: set[str] = set()
    for i, st in enumerate(rs.stages):
        evaluated = i < len(results)
        held = results[i] if evaluated else None
        reached = evaluated and held is True
        if reached:
            reached_names.add(st.name)
        ladder.append(_new(
            StageStep, name=st.name, label=st.label, source=_src(st), evaluated=evaluated,
            held=held, reached=reached))
    barred = work.get("barred", [])
    disqualified_by = [d.label or unparse.cond(d.cond)
                       for d, hit in zip(rs.disqualify, barred, strict=False) if hit]
    stage_label = None
    if stage == DISQUALIFIED:
        stage_label = "Disqualified"
    elif stage is not None:
        stage_label = next((s.label for s in rs.stages if s.name == stage), None)
    route = raw.get("route")
    route_row = work.get("route")
    route_node = rs.routes[route_row] if route_row is not None else None

    result = _new(
        LeadResult, fingerprint=rs.fingerprint, as_of=as_of, scores=scores, grades=grades,
        qualifications=qualifications, segments=segments, stage=stage,
        stage_label=stage_label, ladder=ladder, disqualified=bool(raw.get("disqualified")),
        disqualified_by=disqualified_by, route=route,
        route_label=route_node.label if route_node is not None else None,
        route_source=_src(route_node) if route_node is not None else None,
        reasons=[], values=values)
    # As model_copy(update=…) would, without copying: the result is not out yet.
    result.__dict__["reasons"] = reasons(result)
    return result


# ----------------------------------------------------------------------------- reasons


def reasons(result: LeadResult) -> list[str]:
    """Short plain sentences: what gave points, what capped or decayed them, the stage, the
    route. The order is the order of evaluation."""
    out: list[str] = []
    for score in result.scores.values():
        name = score.label or score.name
        if score.derived:
            out.append(f"{name} is {amount(score.value)} ({score.formula}).")
            continue
        for rule in score.rules:
            if not rule.counted and not rule.points:
                continue
            line = f"{signed(rule.counted)} {name}: {rule.label}"
            notes = rule.notes()
            if notes:
                line += " (" + "; ".join(notes) + ")"
            out.append(line + ".")
        for group in score.groups:
            if group.counted != group.total:
                out.append(f"{name}: the group {group.label or group.name} is capped at "
                           f"{amount(group.counted)} (its rules gave {amount(group.total)}).")
        if score.capped:
            out.append(f"{name} is capped at {amount(score.value)} (its rules gave "
                       f"{amount(score.total)}).")
        out.append(f"{name} is {amount(score.value)}.")
    for grade in result.grades.values():
        if grade.value is not None:
            shown = grade.value_label or grade.value
            out.append(f"{grade.label or grade.name} is {shown}.")
    if result.disqualified:
        out.append("Disqualified: " + "; ".join(result.disqualified_by) + ".")
    if result.ladder:
        if result.stage is None:
            first = result.ladder[0]
            why = "unknown" if first.held is None else "not met"
            out.append(f"No stage reached: the condition of {first.label or first.name} is "
                       f"{why}.")
        elif not result.disqualified:
            last = next((s for s in result.ladder if s.name == result.stage), None)
            out.append(f"Stage: {last.label or last.name if last else result.stage}.")
            nxt = next((s for s in result.ladder if s.evaluated and not s.reached), None)
            if nxt is not None:
                why = "is unknown" if nxt.held is None else "does not hold"
                out.append(f"Not {nxt.label or nxt.name}: its condition {why}.")
    if result.route is not None:
        out.append(f"Routed to {result.route_label or result.route}.")
    return out

