"""Lead facts + the plan + the SLA -> the report's measurements: volume against commitment per
month with pacing, conversion against the assumed rates, channels, sales follow-up in business
time, and (with an outcome) conversion and lift per grade and stage and the AUC of each score.
"""

from __future__ import annotations

import math
import statistics
from calendar import monthrange
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from leadrules import ast, sla
from leadrules.businesstime import BusinessCalendar, business_duration
from leadrules.model import Ruleset
from leadrules.plan import Plan, months_covered
from leadrules.report.calendar import Due, deadline, plain
from leadrules.report.facts import DISQUALIFIED, Ladder, LeadFacts

# Activity types that record sales accepting or rejecting a lead (besides the next stage).
DECISION_TYPES = frozenset({"accept", "accepted", "reject", "rejected", "sales_accepted",
                            "sales_rejected", "sal", "sales_accepted_lead"})
# Where time-to-first-touch falls, in business hours, for the distribution chart.
TOUCH_BINS = (0.5, 1, 2, 4, 8, 16, 40)
NOT_GIVEN = "(not given)"


def ratio(part: int, whole: int) -> Decimal | None:
    """part / whole as an exact fraction, None when there is nothing to divide by."""
    return Decimal(part) / Decimal(whole) if whole else None


# ----------------------------------------------------------------------------- window


@dataclass(frozen=True, slots=True)
class Window:
    """The days the report covers (local dates, both included) and the instant it is made."""

    start: date
    end: date
    as_of: datetime  # UTC
    zone: ZoneInfo

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def contains(self, instant: datetime) -> bool:
        return self.start <= self.local_date(instant) <= self.end

    def begin_instant(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    @property
    def last_day_so_far(self) -> date:
        """The last day of the window that has begun by the as-of instant."""
        return min(self.end, self.local_date(self.as_of))


def months_of(window: Window) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of each month the window touches, clipped to it."""
    out = []
    cursor = window.start.replace(day=1)
    while cursor <= window.end:
        last = cursor.replace(day=monthrange(cursor.year, cursor.month)[1])
        out.append((f"{cursor.year}-{cursor.month:02d}", max(cursor, window.start),
                    min(last, window.end)))
        cursor = last + timedelta(days=1)
    return out


def in_cohort(f: LeadFacts, window: Window) -> bool:
    """A lead belongs to the period under review when the first stage entry we know of falls in
    the window; a lead with no dated entry at all cannot be placed and is kept (and counted as
    undated)."""
    first = f.first_entry
    return first is None or window.contains(first)


# ----------------------------------------------------------------------------- volume


@dataclass(slots=True)
class MonthVolume:
    label: str
    start: date
    end: date
    actual: dict[str, int]
    plan: dict[str, int | None]
    current: bool = False
    future: bool = False


@dataclass(slots=True)
class Pace:
    """The month in progress: what the plan expects by now and where the month is heading."""

    label: str
    elapsed: Decimal  # share of the month's working time gone by
    actual: dict[str, int]
    expected: dict[str, Decimal | None]  # plan × elapsed
    projected: dict[str, Decimal | None]  # actual ÷ elapsed
    plan: dict[str, int | None]


@dataclass(slots=True)
class Volume:
    stages: tuple[str, ...]
    months: list[MonthVolume]
    totals: dict[str, int]  # dated in the window
    undated: dict[str, int]  # reached, but no date says when
    plan_totals: dict[str, int | None]  # the plan for the window up to the as-of day
    plan_full: dict[str, int | None]  # the plan for the whole window
    pace: Pace | None
    disqualified: int
    cohort: int
    commitments: list[tuple[str, str, Decimal, Decimal, int | None]]  # stage, period, promised,
    # delivered per period on average, needed


def volume(facts: list[LeadFacts], ladder: Ladder, window: Window, plan: Plan | None,
           cal: BusinessCalendar, rs: Ruleset) -> Volume:
    stages = ladder.stages
    months = months_of(window)
    by_month = {label: Counter() for label, _, _ in months}
    month_of_day = {}
    for label, lo, _ in months:
        month_of_day[(lo.year, lo.month)] = label
    totals: Counter = Counter()
    undated: Counter = Counter()
    disqualified = 0
    cohort = 0
    for f in facts:
        member = in_cohort(f, window)
        cohort += member
        if member and f.evaluated.stage == DISQUALIFIED:
            disqualified += 1
        for i, stage in enumerate(stages):
            if not f.has_reached(i):
                break
            at = f.entered.get(stage)
            if at is None:
                undated[stage] += member
                continue
            day = window.local_date(at)
            if window.start <= day <= window.end:
                label = month_of_day[(day.year, day.month)]
                by_month[label][stage] += 1
                totals[stage] += 1
    today = window.local_date(window.as_of)
    rows = []
    pace = None
    for label, lo, hi in months:
        planned = {s: _plan_between(plan, s, lo, hi) for s in stages}
        row = MonthVolume(label, lo, hi, {s: by_month[label][s] for s in stages}, planned,
                          current=lo <= today <= hi, future=lo > today)
        rows.append(row)
        if row.current:
            pace = _pace(row, stages, window, cal)
    so_far = window.last_day_so_far
    plan_totals = {s: _plan_between(plan, s, window.start, so_far) if so_far >= window.start
                   else 0 for s in stages}
    plan_full = {s: _plan_between(plan, s, window.start, window.end) for s in stages}
    return Volume(stages, rows, {s: totals[s] for s in stages}, {s: undated[s] for s in stages},
                  plan_totals, plan_full, pace, disqualified, cohort,
                  _commitments(rs, totals, window))


def _plan_between(plan: Plan | None, stage: str, lo: date, hi: date) -> int | None:
    if plan is None:
        return None
    need = plan.needed_between(stage, lo, hi)
    return None if need is None else sla.ceil(need)


def _pace(row: MonthVolume, stages, window: Window, cal: BusinessCalendar) -> Pace:
    start = window.begin_instant(row.start)
    end = window.begin_instant(row.end + timedelta(days=1))
    total = business_duration(cal, start, end)
    gone = business_duration(cal, start, min(window.as_of, end))
    if total > timedelta(0):
        share = Decimal(gone.total_seconds()) / Decimal(total.total_seconds())
    else:
        share = Decimal((window.as_of - start).total_seconds()) / Decimal(
            (end - start).total_seconds())
    share = min(max(share, Decimal(0)), Decimal(1))
    expected = {s: (Decimal(row.plan[s]) * share if row.plan[s] is not None else None)
                for s in stages}
    projected = {s: (Decimal(row.actual[s]) / share if share else None) for s in stages}
    return Pace(row.label, share, dict(row.actual), expected, projected, dict(row.plan))


def _commitments(rs: Ruleset, totals: Counter, window: Window):
    marketing = rs.sla_marketing
    if marketing is None:
        return []
    out = []
    months = months_covered(window.start, window.last_day_so_far) \
        if window.last_day_so_far >= window.start else Decimal(0)
    funnel = rs.funnel  # derived once by the checker
    for d in marketing.of(ast.Deliver):
        per_year = sla.PERIODS_PER_YEAR.get(d.period)
        if per_year is None:
            continue
        periods = months * per_year / 12
        delivered = Decimal(totals.get(d.stage, 0)) / periods if periods else Decimal(0)
        need = funnel.stage(d.stage).needed(d.period) if funnel and funnel.stage(d.stage) else None
        out.append((d.stage, d.period, d.count.value, delivered, need))
    return out


# ----------------------------------------------------------------------------- conversion


@dataclass(slots=True)
class Step:
    source: str
    target: str
    entered: int  # cohort leads that reached `source`
    converted: int  # of those, how many reached `target`
    assumed: Decimal | None

    @property
    def actual(self) -> Decimal | None:
        return ratio(self.converted, self.entered)


def conversion(facts: list[LeadFacts], ladder: Ladder, window: Window, rs: Ruleset) -> list[Step]:
    """Each step of the SLA's conversion chain (or of the ladder when the SLA has none), with
    the share of the cohort's leads at the first stage that reached the second."""
    chain = None
    if rs.sla_marketing is not None:
        chain = sla.conversion_chain(rs.sla_marketing.of(ast.Conversion))
    pairs = ([(c.source, c.target, c.rate.value) for c in chain] if chain else
             [(a, b, None) for a, b in zip(ladder.stages, ladder.stages[1:], strict=False)])
    cohort = [f for f in facts if in_cohort(f, window)]
    out = []
    for source, target, assumed in pairs:
        i, j = ladder.index(source), ladder.index(target)
        if i < 0 or j < 0:
            continue
        entered = sum(1 for f in cohort if f.has_reached(i))
        converted = sum(1 for f in cohort if f.has_reached(j))
        out.append(Step(source, target, entered, converted, assumed))
    return out


# ----------------------------------------------------------------------------- channels


@dataclass(slots=True)
class ChannelRow:
    name: str
    label: str
    counts: dict[str, int]  # stage -> cohort leads that reached it
    leads: int
    cost: Decimal | None
    revenue: Decimal | None
    declared: bool

    def cost_per(self, stage: str) -> Decimal | None:
        n = self.counts.get(stage, 0)
        return self.cost / n if self.cost is not None and n else None

    @property
    def lead_to_customer(self) -> Decimal | None:
        return ratio(self.counts.get(sla.CUSTOMER, 0), self.leads)


@dataclass(slots=True)
class Channels:
    by: str
    rows: list[ChannelRow]
    months: Decimal  # months of spending the costs cover (window up to the as-of day)
    currency: str | None
    has_revenue: bool


def channel_field(rs: Ruleset) -> str | None:
    if rs.channels is not None:
        return rs.channels.by
    return "source" if "source" in rs.fields else None


def channels(facts: list[LeadFacts], ladder: Ladder, window: Window, rs: Ruleset,
             has_revenue: bool) -> Channels | None:
    by = channel_field(rs)
    if by is None:
        return None
    months = months_covered(window.start, window.last_day_so_far) \
        if window.last_day_so_far >= window.start else Decimal(0)
    declared = {c.name: c for c in rs.channels.channels} if rs.channels else {}
    groups: dict[str, list[LeadFacts]] = defaultdict(list)
    for f in facts:
        if in_cohort(f, window):
            groups[f.channel if f.channel is not None else NOT_GIVEN].append(f)
    names = list(declared) + sorted(n for n in groups if n not in declared)
    rows = []
    for name in names:
        members = groups.get(name, [])
        counts = {s: sum(1 for f in members if f.has_reached(i))
                  for i, s in enumerate(ladder.stages)}
        ch = declared.get(name)
        cost = None
        if ch is not None and ch.cost is not None and ch.period in sla.PERIODS_PER_YEAR:
            cost = ch.cost.amount * sla.PERIODS_PER_YEAR[ch.period] / 12 * months
        revenue = None
        if has_revenue:
            revenue = sum((f.revenue for f in members if f.revenue is not None), Decimal(0))
        rows.append(ChannelRow(name, (ch.label if ch and ch.label else name), counts,
                               len(members), cost, revenue, ch is not None))
    return Channels(by, rows, months, rs.currency, has_revenue)


# ----------------------------------------------------------------------------- follow-up


IN_TIME, LATE, OVERDUE, PENDING = "in time", "late", "never touched, overdue", "not yet due"


@dataclass(slots=True)
class LeadTouch:
    """One lead under one first-touch promise."""

    key: str
    entered: datetime
    due: datetime | None  # when the promise ran out (for a lead not touched yet)
    touched: datetime | None
    business: timedelta | None  # business time from entry to first touch
    status: str
    waiting: timedelta | None = None  # never touched: business time from entry to as-of


@dataclass(slots=True)
class TouchRule:
    text: str  # the promise in words
    stage: str
    within: ast.Duration
    condition: str | None
    leads: list[LeadTouch]
    counts: dict[str, int]
    median: timedelta | None
    p90: timedelta | None
    cond: ast.Cond | None = None  # the condition itself, for a report that words it

    @property
    def measured(self) -> int:
        return self.counts[IN_TIME] + self.counts[LATE] + self.counts[OVERDUE]

    @property
    def share(self) -> Decimal | None:
        return ratio(self.counts[IN_TIME], self.measured)

    @property
    def delays(self) -> list[timedelta]:
        return [t.business for t in self.leads if t.business is not None]


@dataclass(slots=True)
class AttemptsRule:
    text: str
    stage: str
    required: int
    within: ast.Duration
    met: int
    missed: int
    pending: int
    missed_keys: list[tuple[str, int]]  # (key, attempts made) of leads that missed

    @property
    def share(self) -> Decimal | None:
        return ratio(self.met, self.met + self.missed)


@dataclass(slots=True)
class DecisionRule:
    text: str
    stage: str
    within: ast.Duration
    in_time: int
    late: int
    overdue: int
    pending: int
    median: timedelta | None
    p90: timedelta | None
    overdue_keys: list[str]

    @property
    def share(self) -> Decimal | None:
        return ratio(self.in_time, self.in_time + self.late + self.overdue)


@dataclass(slots=True)
class Recycle:
    key: str
    stage: str
    since: datetime
    days: int


@dataclass(slots=True)
class FollowUp:
    calendar: str
    timezone: str
    touches: tuple[str, ...] | None  # None: every activity that is not a stage change
    first_touch: list[TouchRule]
    attempts: list[AttemptsRule]
    decisions: list[DecisionRule]
    never_touched: list[LeadTouch]
    recycle: list[Recycle]
    recycle_rule: str | None
    by_key: dict[str, dict] = field(default_factory=dict)  # per-lead figures for the CSV
    recycle_item: ast.Recycle | None = None
    calendar_declared: bool = True


def _kept(cal: BusinessCalendar, within: ast.Duration, start: datetime, end: datetime,
          spent: timedelta) -> bool:
    """Whether `end` is still within the promise made at `start`. Business minutes and hours
    are measured as business time elapsed (`spent`): a touch on Saturday of a lead whose four
    business hours ran out at Friday's closing has taken exactly four business hours. Business
    days end at the same clock time on the N-th working day; plain durations are elapsed time."""
    if within.business and within.unit in ("minutes", "hours"):
        return spent <= plain(within)
    if not within.business or within.unit in ("months", "years"):
        return end - start <= plain(within)
    return Due(cal, start, within).covers(end)


def _describe(d: ast.Duration) -> str:
    amount = d.amount if d.amount != int(d.amount) else int(d.amount)
    unit = d.unit[:-1] if amount == 1 else d.unit
    return f"{amount} {'business ' if d.business else ''}{unit}"


def percentile(sorted_values: list, p: float):
    """Nearest rank: the smallest value with at least p of the values at or below it."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)]


def median(values: list[timedelta]) -> timedelta | None:
    return statistics.median(values) if values else None


def follow_up(facts: list[LeadFacts], ladder: Ladder, window: Window, rs: Ruleset,
              cal: BusinessCalendar, condition_text) -> FollowUp | None:
    sales = rs.sla_sales
    if sales is None:
        return None
    stage_types = set(ladder.stages) | {"customer", "won", "closed_won", "deal_won"}
    declared = sales.first(ast.Touches)
    touch_types = frozenset(declared.events) if declared else None

    def touches_of(f: LeadFacts) -> list[datetime]:
        if touch_types is not None:
            return [at for at, kind in f.activities if kind in touch_types]
        return [at for at, kind in f.activities
                if kind not in stage_types and kind not in DECISION_TYPES]

    cal_item = sales.first(ast.SlaCalendar)
    # The calendar measured on: the SLA's, else the file's first (as compute.py chooses).
    calendar_name = cal_item.name if cal_item else next(iter(rs.calendars), None)
    by_key: dict[str, dict] = defaultdict(dict)
    touch_cache = {}
    spans: dict[tuple[datetime, datetime], timedelta] = {}

    def business(start: datetime, end: datetime) -> timedelta:
        found = spans.get((start, end))
        if found is None:
            found = spans[(start, end)] = business_duration(cal, start, end)
        return found

    first_touch_rules = []
    conditional = 0
    for rule in sales.of(ast.FirstTouch):
        stage_i = ladder.index(rule.stage)
        leads = []
        cond_index = None
        if rule.cond is not None:
            cond_index = conditional
            conditional += 1
        for f in facts:
            entry = f.entered.get(rule.stage)
            if entry is None or not window.contains(entry) or stage_i < 0:
                continue
            if cond_index is not None and (len(f.evaluated.conditions) <= cond_index or
                                           f.evaluated.conditions[cond_index] is not True):
                continue
            touches = touch_cache.get(f.key)
            if touches is None:
                touches = touch_cache[f.key] = touches_of(f)
            first = next((t for t in touches if t >= entry), None)
            if first is not None:
                spent = business(entry, first)
                status = IN_TIME if _kept(cal, rule.within, entry, first, spent) else LATE
                touch = LeadTouch(f.key, entry, None, first, spent, status)
            else:
                waiting = business(entry, window.as_of)
                late = not _kept(cal, rule.within, entry, window.as_of, waiting)
                touch = LeadTouch(f.key, entry, deadline(cal, entry, rule.within).astimezone(UTC),
                                  None, None, OVERDUE if late else PENDING, waiting)
            leads.append(touch)
            if cond_index is None:
                by_key[f.key].update(first_touch_at=first, first_touch_business=touch.business,
                                     first_touch_status=touch.status)
        delays = sorted(t.business for t in leads if t.business is not None)
        counts = Counter(t.status for t in leads)
        text = f"first touch within {_describe(rule.within)} of {rule.stage}"
        cond_words = condition_text(rule.cond) if rule.cond is not None else None
        if cond_words:
            text += f" when {cond_words}"
        first_touch_rules.append(TouchRule(
            text, rule.stage, rule.within, cond_words, leads,
            {s: counts[s] for s in (IN_TIME, LATE, OVERDUE, PENDING)},
            median(delays), percentile(delays, 0.9), rule.cond))

    attempts_rules = []
    for rule in sales.of(ast.Attempts):
        required = int(rule.count.value)
        met = missed = pending = 0
        missed_keys = []
        for f in facts:
            entry = f.entered.get(rule.stage)
            if entry is None or not window.contains(entry):
                continue
            touches = touch_cache.get(f.key)
            if touches is None:
                touches = touch_cache[f.key] = touches_of(f)
            after = [t for t in touches if t >= entry]
            due = Due(cal, entry, rule.within)
            if len(after) >= required and due.covers(after[required - 1]):
                made = required + sum(1 for t in after[required:] if due.covers(t))
            else:
                made = sum(1 for t in after if due.covers(t))
            by_key[f.key]["attempts"] = made
            if made >= required:
                met += 1
            elif due.passed(window.as_of):
                missed += 1
                missed_keys.append((f.key, made))
            else:
                pending += 1
        attempts_rules.append(AttemptsRule(
            f"at least {required} attempts within {_describe(rule.within)} of {rule.stage}",
            rule.stage, required, rule.within, met, missed, pending, missed_keys))

    decisions = []
    for rule in sales.of(ast.AcceptReject):
        stage_i = ladder.index(rule.stage)
        following = ladder.stages[stage_i + 1] if 0 <= stage_i < len(ladder.stages) - 1 else None
        in_time = late = overdue = pending = 0
        delays = []
        overdue_keys = []
        for f in facts:
            entry = f.entered.get(rule.stage)
            if entry is None or not window.contains(entry):
                continue
            candidates = [at for at, kind in f.activities
                          if kind in DECISION_TYPES and at >= entry]
            if following and following in f.entered and f.entered[following] >= entry:
                candidates.append(f.entered[following])
            decided = min(candidates) if candidates else None
            due = Due(cal, entry, rule.within)
            if decided is not None:
                delays.append(business_duration(cal, entry, decided))
                if due.covers(decided):
                    in_time += 1
                else:
                    late += 1
            elif due.passed(window.as_of):
                overdue += 1
                overdue_keys.append(f.key)
            else:
                pending += 1
        delays.sort()
        decisions.append(DecisionRule(
            f"accept or reject within {_describe(rule.within)} of {rule.stage}", rule.stage,
            rule.within, in_time, late, overdue, pending, median(delays),
            percentile(delays, 0.9), overdue_keys))

    general = next((r for r in first_touch_rules if r.condition is None),
                   first_touch_rules[0] if first_touch_rules else None)
    never = [t for t in general.leads if t.status == OVERDUE] if general else []

    recycle_rule = sales.first(ast.Recycle)
    recycle = []
    if recycle_rule is not None:
        recycle = _recycling(facts, ladder, window, recycle_rule, general, cal)
    return FollowUp(
        calendar=calendar_name or "(default: Monday to Friday 09:00-18:00)",
        timezone=cal.timezone, touches=declared.events if declared else None,
        first_touch=first_touch_rules, attempts=attempts_rules, decisions=decisions,
        never_touched=never, recycle=recycle,
        recycle_rule=(f"recycle to {recycle_rule.target} after {_describe(recycle_rule.after)} "
                      f"without {recycle_rule.without}") if recycle_rule else None,
        by_key=dict(by_key), recycle_item=recycle_rule, calendar_declared=bool(calendar_name))


def _recycling(facts, ladder: Ladder, window: Window, rule: ast.Recycle,
               general: TouchRule | None, cal: BusinessCalendar) -> list[Recycle]:
    """Leads past the promised stage that have waited `after` without reaching `without`, and
    were not already sent to `target`: the list sales owes marketing back."""
    limit = ladder.index(rule.without)
    start = ladder.index(general.stage) if general else 1
    if limit < 0:
        return []
    after = rule.after
    out = []
    for f in facts:
        if f.evaluated.stage == DISQUALIFIED or f.has_reached(limit) or not f.has_reached(start):
            continue
        dated = [(at, s) for s, at in f.entered.items() if ladder.index(s) >= start]
        if not dated:
            continue
        since, stage = max(dated)
        if any(kind == rule.target and at >= since for at, kind in f.activities):
            continue
        waited = window.as_of - since
        if deadline(cal, since, after) <= window.as_of:
            out.append(Recycle(f.key, stage, since, waited.days))
    out.sort(key=lambda r: r.since)
    return out


# ----------------------------------------------------------------------------- outcome


@dataclass(slots=True)
class Band:
    value: str
    label: str
    leads: int
    converted: int
    overall: Decimal | None

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.converted, self.leads)

    @property
    def lift(self) -> Decimal | None:
        r = self.rate
        return r / self.overall if r is not None and self.overall else None


@dataclass(slots=True)
class Breakdown:
    name: str
    label: str
    bands: list[Band]
    ordered: bool | None  # for banded grades: each band converts at least as well as the next


@dataclass(slots=True)
class ScoreAuc:
    name: str
    label: str
    auc: Decimal | None
    leads: int


@dataclass(slots=True)
class Outcome:
    column: str
    leads: int
    converted: int
    unknown: int
    breakdowns: list[Breakdown]
    aucs: list[ScoreAuc]

    @property
    def rate(self) -> Decimal | None:
        return ratio(self.converted, self.leads)


def auc(pairs: list[tuple[Decimal, bool]]) -> Decimal | None:
    """Area under the ROC curve by Mann–Whitney: the chance that a converted lead scores above a
    lead that did not convert, ties counted half. None without both kinds of lead."""
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    ordered = sorted(pairs, key=lambda p: p[0])
    rank_sum = Decimal(0)
    i = 0
    n = len(ordered)
    while i < n:
        j = i
        while j + 1 < n and ordered[j + 1][0] == ordered[i][0]:
            j += 1
        average_rank = Decimal(i + j + 2) / 2  # ranks are 1-based
        tied_positives = sum(1 for k in range(i, j + 1) if ordered[k][1])
        rank_sum += average_rank * tied_positives
        i = j + 1
    u = rank_sum - Decimal(positives) * (positives + 1) / 2
    return u / (Decimal(positives) * negatives)


def outcome(facts: list[LeadFacts], ladder: Ladder, window: Window, rs: Ruleset,
            column: str) -> Outcome:
    cohort = [f for f in facts if in_cohort(f, window)]
    known = [f for f in cohort if f.outcome is not None]
    converted = sum(1 for f in known if f.outcome)
    overall = ratio(converted, len(known))
    breakdowns = []
    for name, grade in rs.grades.items():
        labels = _grade_labels(grade)
        counts: dict[str, list[int]] = {v: [0, 0] for v in labels}
        for f in known:
            value = f.evaluated.grades.get(name)
            slot = counts.setdefault(value if value is not None else NOT_GIVEN, [0, 0])
            slot[0] += 1
            slot[1] += bool(f.outcome)
        bands = [Band(v, labels.get(v, v), n, c, overall) for v, (n, c) in counts.items()]
        breakdowns.append(Breakdown(name, grade.label or name, bands, _ordered(grade, bands)))
    stage_counts: dict[str, list[int]] = {s: [0, 0] for s in rs.stage_names}
    for f in known:
        stage = f.evaluated.stage or NOT_GIVEN
        slot = stage_counts.setdefault(stage, [0, 0])
        slot[0] += 1
        slot[1] += bool(f.outcome)
    stage_labels = dict(ladder.labels)
    if rs.stages:
        breakdowns.append(Breakdown("stage", "Stage", [
            Band(s, stage_labels.get(s, s), n, c, overall) for s, (n, c) in stage_counts.items()],
            None))
    aucs = []
    for name, score in rs.scores.items():
        pairs = [(f.evaluated.scores[name], bool(f.outcome)) for f in known
                 if f.evaluated.scores.get(name) is not None]
        aucs.append(ScoreAuc(name, score.label or name, auc(pairs), len(pairs)))
    return Outcome(column, len(known), converted, len(cohort) - len(known), breakdowns, aucs)


def _grade_labels(grade: ast.Grade) -> dict[str, str]:
    return {row.name: row.label or row.name for row in grade.rows}


def _ordered(grade: ast.Grade, bands: list[Band]) -> bool | None:
    """For a grade written as bands, best first (`hot`, `warm`, `cold`): does each band convert
    at least as often as the one written after it? None when the grade is not banded or a band
    has no lead."""
    if not grade.rows or not all(isinstance(r, (ast.BandRow, ast.OtherwiseRow))
                                 for r in grade.rows):
        return None
    rates = [b.rate for b in bands if b.value != NOT_GIVEN]
    if len(rates) < 2 or any(r is None for r in rates):
        return None
    return all(a >= b for a, b in zip(rates, rates[1:], strict=False))
