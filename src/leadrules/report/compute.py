"""Checked ruleset + leads file + activity log + options -> a `Report`: every measurement of the
monthly review, plus every input row that could not be used and why.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from leadrules import ast, data, plan, sla
from leadrules.calendars import agreement_calendar
from leadrules.model import Ruleset
from leadrules.report import activities as acts
from leadrules.report import metrics
from leadrules.report.calendar import business_calendar
from leadrules.report.facts import (
    Evaluate,
    Ladder,
    LeadFacts,
    events_for,
    ladder_of,
    lead_facts,
    stage_activity_types,
    type_aliases,
)

REVENUE_COLUMNS = ("revenue", "amount", "deal_amount", "deal amount", "won_amount")
_YES = frozenset({"converted", "won", "customer", "closed won", "closed_won", "signed",
                  "converti", "gagné", "client", "signé"})
_NO = frozenset({"not converted", "lost", "closed lost", "closed_lost", "no deal",
                 "non converti", "perdu"})


class ReportError(Exception):
    """Inputs the report cannot use; the message says which and what to do."""


@dataclass(frozen=True, slots=True)
class Options:
    leads: str
    activities: str
    start: date | None = None
    end: date | None = None
    as_of: datetime | None = None  # naive: in the agreement's time zone
    outcome: str | None = None
    revenue: str | None = None
    activity_lead: str | None = None
    activity_type: str | None = None
    activity_at: str | None = None
    encoding: str = "utf-8"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A leads-file value or row the report could not use."""

    row: int
    column: str
    value: str
    message: str  # in English; `key` and `params` let the report word it in its language
    key: str = ""
    params: tuple[tuple[str, str], ...] = ()


@dataclass
class Report:
    title: str
    rules: str
    fingerprint: str
    currency: str | None
    as_of: datetime
    window: metrics.Window
    ladder: Ladder
    options: Options
    lead_rows: int
    lead_problems: list[RowProblem]
    duplicate_keys: list[RowProblem]
    outcome_problems: list[RowProblem]
    log: acts.ActivityLog
    plan: plan.Plan | None
    plan_note: str | None
    volume: metrics.Volume
    steps: list[metrics.Step]
    channels: metrics.Channels | None
    follow_up: metrics.FollowUp | None
    outcome: metrics.Outcome | None
    facts: list[LeadFacts] = field(repr=False, default_factory=list)
    undated_leads: int = 0
    ruleset: Ruleset | None = field(repr=False, default=None)


def build(rs: Ruleset, options: Options, evaluate: Evaluate | None = None,
          now: datetime | None = None) -> Report:
    """The report. `evaluate` defaults to the rules' engine; `now` to the clock (used only when
    no as-of instant is given). Raises ReportError or data.DataError on unusable inputs."""
    # Millions of small tuples and no reference cycles: the cyclic collector would only walk
    # them again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(rs, options, evaluate, now)
    finally:
        if enabled:
            gc.enable()


def _build(rs: Ruleset, options: Options, evaluate: Evaluate | None,
           now: datetime | None) -> Report:
    zone = ZoneInfo(rs.timezone)
    typing = data.Typing(rs)
    if rs.key is None:
        raise ReportError("the rules declare no key field (`key` after a field of the lead): the "
                          "report needs it to join activities to leads")
    if evaluate is None:
        from leadrules.report.evaluation import engine_evaluator

        evaluate = engine_evaluator(rs)
    as_of = _as_of(options, zone, now)
    try:
        cal = business_calendar(agreement_calendar(rs), rs.timezone)
    except ValueError as e:
        raise ReportError(str(e)) from None
    ladder = ladder_of(rs)

    leads, lead_problems, duplicates, rows = _read_leads(rs, options)
    extras, outcome_problems = _read_extras(rs, options, typing)
    log = acts.read(options.activities, set(leads), typing, as_of,
                    lead_column=options.activity_lead, type_column=options.activity_type,
                    at_column=options.activity_at, key_column=rs.key.source_column,
                    key_name=rs.key.name, encoding=options.encoding,
                    aliases=type_aliases(rs))
    by_field = metrics.channel_field(rs)
    empty: list = []
    when = as_of.astimezone(zone)
    by_lead = log.by_lead
    unfrozen = getattr(evaluate, "unfrozen_quantiles", None)
    if unfrozen:
        # Quantiles are relative to the leads under review: a first pass finds the cut points.
        values: dict[str, list] = {name: [] for name in unfrozen}
        for key, (_, lead) in leads.items():
            events = events_for(lead, by_lead.get(key, empty), rs.events)
            for name, value in evaluate.graded_values(lead, events, when).items():
                values[name].append(value)
        evaluate.set_cuts(values)
    facts = []
    customer = ladder.index(sla.CUSTOMER)
    stage_types = stage_activity_types(ladder, log.types)
    for key, (row, lead) in leads.items():
        activities = by_lead.get(key, empty)
        f = lead_facts(rs, ladder, row, lead, activities, events_for(lead, activities, rs.events),
                       evaluate, when, zone, by_field, stage_types)
        extra = extras.get(row)
        if extra is not None:
            f.outcome, f.revenue = extra
            if f.outcome:
                # A converted lead is a customer, even when no activity says when.
                f.reached = max(f.reached, customer)
        facts.append(f)

    window = _window(rs, options, facts, as_of, zone)
    the_plan, plan_note = _plan(rs)
    has_revenue = any(f.revenue is not None for f in facts)
    return Report(
        title=rs.agreement.title if rs.agreement else rs.path,
        rules=rs.path,
        fingerprint=rs.fingerprint,
        currency=rs.currency,
        as_of=as_of,
        window=window,
        ladder=ladder,
        options=options,
        lead_rows=rows,
        lead_problems=lead_problems,
        duplicate_keys=duplicates,
        outcome_problems=outcome_problems,
        log=log,
        plan=the_plan,
        plan_note=plan_note,
        volume=metrics.volume(facts, ladder, window, the_plan, cal, rs),
        steps=metrics.conversion(facts, ladder, window, rs),
        channels=metrics.channels(facts, ladder, window, rs, has_revenue),
        follow_up=metrics.follow_up(facts, ladder, window, rs, cal, condition_words),
        outcome=(metrics.outcome(facts, ladder, window, rs, options.outcome)
                 if options.outcome else None),
        facts=facts,
        undated_leads=sum(1 for f in facts if f.first_entry is None),
        ruleset=rs,
    )


def condition_words(cond: ast.Cond) -> str:
    """A condition as the rule file writes it (for the report's headings)."""
    from leadrules.unparse import cond as unparse

    return unparse(cond)


def _as_of(options: Options, zone: ZoneInfo, now: datetime | None) -> datetime:
    if options.as_of is not None:
        moment = options.as_of
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(UTC)
    return (now or datetime.now(UTC)).astimezone(UTC)


def _window(rs: Ruleset, options: Options, facts: list[LeadFacts], as_of: datetime,
            zone: ZoneInfo) -> metrics.Window:
    a = rs.agreement
    start, end = options.start, options.end
    if start is None:
        if a and a.effective_from:
            start = a.effective_from.value
        else:
            firsts = [f.first_entry for f in facts if f.first_entry is not None]
            start = min(firsts).astimezone(zone).date() if firsts else as_of.astimezone(zone).date()
    if end is None:
        end = a.effective_to.value if a and a.effective_to else as_of.astimezone(zone).date()
    if end < start:
        raise ReportError(f"the report would end ({end}) before it starts ({start}): check "
                          "--from and --to")
    return metrics.Window(start, end, as_of, zone)


def _plan(rs: Ruleset) -> tuple[plan.Plan | None, str | None]:
    try:
        return plan.build(rs, "month"), None
    except plan.PlanError as e:
        return None, str(e)


def _read_leads(rs: Ruleset, options: Options):
    """key -> (row, typed lead), the values that did not fit, the repeated keys, rows read."""
    key = rs.key.name
    leads: dict[str, tuple[int, dict]] = {}
    problems: list[RowProblem] = []
    duplicates: list[RowProblem] = []
    rows = 0
    for row, lead, found in data.read_leads(rs, options.leads, encoding=options.encoding):
        rows += 1
        problems.extend(RowProblem(p.row, p.column, p.value, p.message, p.key, p.params)
                        for p in found)
        value = lead.get(key)
        if value is None:
            continue
        text = str(value)
        if text in leads:
            first = str(leads[text][0])
            duplicates.append(RowProblem(row, rs.key.source_column, text,
                                         f"repeats the key of row {first}; this row was left out",
                                         "repeated_key", (("row", first),)))
            continue
        leads[text] = (row, lead)
    return leads, problems, duplicates, rows


def parse_outcome(raw) -> bool | None:
    """Converted or not: yes/no, 1/0, true/false, oui/non, won/lost, converted/not converted.
    None when empty; ValueError when it says something else."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        word = data.normalise(raw)
        if word in _YES:
            return True
        if word in _NO:
            return False
    try:
        return data.parse_bool(raw)
    except data.ValueProblem:
        raise ValueError(raw) from None


def _read_extras(rs: Ruleset, options: Options, typing: data.Typing):
    """row -> (outcome, revenue) from the columns the lead schema does not describe."""
    if options.outcome is None and options.revenue is None:
        columns = _columns(options)
        revenue_col = _find(columns, REVENUE_COLUMNS)
        if revenue_col is None:
            return {}, []
    source = data.open_source(options.leads, None, options.encoding)
    problems: list[RowProblem] = []
    out: dict[int, tuple[bool | None, Decimal | None]] = {}
    try:
        outcome_col = revenue_col = None
        if options.outcome:
            outcome_col = source.find_column(options.outcome)
            if outcome_col is None:
                raise ReportError(_missing_column(source, options.outcome, "--outcome"))
        if options.revenue:
            revenue_col = source.find_column(options.revenue)
            if revenue_col is None:
                raise ReportError(_missing_column(source, options.revenue, "--revenue"))
        else:
            revenue_col = source.find_column(*REVENUE_COLUMNS)
        if isinstance(source, data.ParquetSource):
            source.wanted = [c for c in (outcome_col, revenue_col) if c]
        get_outcome = source.getter(outcome_col) if outcome_col else None
        get_revenue = source.getter(revenue_col) if revenue_col else None
        for row, record in source.records():
            result: bool | None = None
            amount: Decimal | None = None
            if get_outcome is not None:
                raw = get_outcome(record)
                try:
                    result = parse_outcome(raw)
                except ValueError:
                    problems.append(RowProblem(row, outcome_col, data.display_value(raw),
                                               "is not an outcome (write 1/0, yes/no, won/lost)",
                                               "not_outcome"))
            if get_revenue is not None:
                raw = get_revenue(record)
                if raw is not None and data.display_value(raw).strip():
                    try:
                        amount = data.parse_money(raw, typing.currency, typing.decimal_comma)
                    except data.ValueProblem as e:
                        problems.append(RowProblem(row, revenue_col, data.display_value(raw),
                                                   str(e), e.key, tuple(e.params.items())))
            out[row] = (result, amount)
    finally:
        source.close()
    return out, problems


def _columns(options: Options) -> list[str]:
    source = data.open_source(options.leads, None, options.encoding)
    try:
        return list(source.columns)
    finally:
        source.close()


def _find(columns: list[str], names) -> str | None:
    lowered = {data.normalise(c): c for c in columns}
    return next((lowered[data.normalise(n)] for n in names if data.normalise(n) in lowered), None)


def _missing_column(source, name: str, option: str) -> str:
    listed = ", ".join(f"'{c}'" for c in source.columns[:15])
    more = f" and {len(source.columns) - 15} more" if len(source.columns) > 15 else ""
    return (f"the leads file '{source.path}' has no column '{name}' (named by {option}). "
            f"Its columns are {listed}{more}.")
