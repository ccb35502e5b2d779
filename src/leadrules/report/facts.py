"""Typed leads + their activities + the evaluator -> one `LeadFacts` per lead: its evaluated stage,
grades and scores, the stages it reached and when it entered each, its channel, its outcome.

Everything the report measures is computed from these facts, so that the per-lead CSV and the
aggregated tables can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from leadrules import ast, data, sla
from leadrules.model import Ruleset
from leadrules.report.activities import normalise_type

DISQUALIFIED = "disqualified"
# Activity types, besides the stage's own name, that say a lead became a customer.
CUSTOMER_TYPES = frozenset({"customer", "won", "closed_won", "deal_won"})


@dataclass(slots=True)
class Evaluated:
    """What the rules say of one lead at the report's as-of instant."""

    stage: str | None
    grades: dict[str, str | None]
    scores: dict[str, Decimal | None]
    # One per SLA condition, in `Ladder.conditions`; empty when they were not tested.
    conditions: tuple[bool | None, ...] = ()


# lead, its events, as of, the SLA conditions to test -> what the rules say of it
Evaluate = Callable[[dict, list, datetime, tuple], Evaluated]


@dataclass(slots=True)
class LeadFacts:
    key: str
    row: int
    channel: str | None
    evaluated: Evaluated
    entered: dict[str, datetime]  # stage -> instant (UTC) it was entered, where known
    reached: int  # index in the ladder of the furthest stage reached, -1 for none
    activities: list[tuple[datetime, str]]  # (instant in UTC, normalised type), in time order
    outcome: bool | None = None
    revenue: Decimal | None = None

    def has_reached(self, ladder_index: int) -> bool:
        return self.reached >= ladder_index

    @property
    def first_entry(self) -> datetime | None:
        return min(self.entered.values()) if self.entered else None


@dataclass(frozen=True, slots=True)
class Ladder:
    """The stages the report follows: the rules' ladder, then `customer` when the ladder does not
    end with it; where each stage's entry instant comes from; the conditions the sales SLA
    tests per lead."""

    stages: tuple[str, ...]
    labels: dict[str, str]
    entered_at: dict[str, str]  # stage -> lead field giving its entry instant
    conditions: tuple[ast.Cond, ...]
    condition_stages: frozenset[str] = frozenset()  # the stages those conditions are about

    def index(self, stage: str) -> int:
        return self.stages.index(stage) if stage in self.stages else -1


def ladder_of(rs: Ruleset) -> Ladder:
    stages = list(rs.stage_names)
    if sla.CUSTOMER not in stages:
        stages.append(sla.CUSTOMER)
    labels = {s.name: s.label or s.name for s in rs.stages}
    labels.setdefault(sla.CUSTOMER, "Customer")
    entered = {s.name: s.entered_at.name for s in rs.stages if s.entered_at is not None}
    sales = rs.sla_sales
    conditional = [ft for ft in sales.of(ast.FirstTouch) if ft.cond is not None] if sales else []
    return Ladder(tuple(stages), labels, entered, tuple(ft.cond for ft in conditional),
                  frozenset(ft.stage for ft in conditional))


def as_utc(value: Any, zone: ZoneInfo) -> datetime | None:
    """A typed date or date-time field as an instant in UTC (a date is its local midnight)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), zone).astimezone(UTC)
    return None


_NO_PROPERTIES: dict = {}


def events_for(lead: dict, activities: list, events: Container[str]) -> list:
    """The lead's events for scoring: those of its JSON record, and its activities whose type
    is one of `events` (the rules' events; the log has resolved labels to names already), as
    the (type, instant, properties) tuples the evaluator reads (activities carry none)."""
    none = _NO_PROPERTIES
    found = [(kind, at, none) for at, kind in activities if kind in events]
    own = lead.get(data.EVENTS_KEY)
    return [*own, *found] if own else found


def lead_facts(rs: Ruleset, ladder: Ladder, row: int, lead: dict, activities: list,
               events: list, evaluate: Evaluate, as_of: datetime, zone: ZoneInfo,
               channel_field: str | None, stage_types: frozenset[str]) -> LeadFacts:
    """The facts of one lead, evaluated by `evaluate` at `as_of` with `events`. `stage_types`
    are the activity types that record entering a stage (see `stage_activity_types`). The sales
    SLA's conditions are only tested for a lead that entered the stage they are about."""
    key_field = rs.key
    key_value = lead.get(key_field.name) if key_field else None
    key = "" if key_value is None else str(key_value)
    entered: dict[str, datetime] = {}
    for stage, field_name in ladder.entered_at.items():
        instant = as_utc(lead.get(field_name), zone)
        if instant is not None:
            entered[stage] = instant
    if stage_types:
        for at, kind in activities:
            if kind in stage_types:
                stage = sla.CUSTOMER if kind in CUSTOMER_TYPES else kind
                if stage not in entered:
                    entered[stage] = at
    conditions = ladder.conditions if ladder.condition_stages & entered.keys() else ()
    evaluated = evaluate(lead, events, as_of, conditions)
    reached = max((ladder.index(s) for s in entered), default=-1)
    if evaluated.stage and evaluated.stage != DISQUALIFIED:
        reached = max(reached, ladder.index(evaluated.stage))
    channel = lead.get(channel_field) if channel_field else None
    return LeadFacts(key, row, None if channel is None else str(channel), evaluated, entered,
                     reached, activities)


def stage_activity_types(ladder: Ladder, types) -> frozenset[str]:
    """The activity types (as found in the log) that say when a lead entered a stage: the
    stage's own name, for a stage whose entry no `entered at` field gives (and `won`, `closed
    won`… for customer)."""
    wanted = {s for s in ladder.stages if s not in ladder.entered_at}
    return frozenset(t for t in types
                     if (sla.CUSTOMER if t in CUSTOMER_TYPES else t) in wanted)


def type_aliases(rs: Ruleset) -> dict[str, str]:
    """Normalised spellings an activity log may use -> the name in the rules: an event's or a
    stage's label names it as well as its name does ("Appel commercial" is `call`)."""
    aliases: dict[str, str] = {}
    named = [*rs.events.items(), *((s.name, s) for s in rs.stages)]
    for name, _ in named:
        aliases.setdefault(normalise_type(name), name)
    for name, item in named:
        if item.label:
            aliases.setdefault(normalise_type(item.label), name)
    return aliases

