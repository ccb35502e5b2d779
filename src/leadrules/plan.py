"""Checked ruleset -> the funnel plan: what the revenue target demands of each stage, period by
period over the agreement's effective dates, with the formulas, the value of a lead at each stage
and the channel budget per lead and per customer; then the plan as text, Markdown, JSON or CSV.
"""

from __future__ import annotations

import csv
import io
import json
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from leadrules import ast, sla
from leadrules.model import Ruleset

PERIODS = ("month", "quarter", "year")
FORMATS = ("text", "md", "json", "csv")


class PlanError(Exception):
    """The ruleset cannot give a plan; the message says why and what to add."""


@dataclass(frozen=True, slots=True)
class Period:
    """One column of the plan. `weight` is the share of a full period the agreement covers (a
    partial first or last month weighs less); dates are None when the agreement has none."""

    label: str
    start: date | None
    end: date | None
    weight: Decimal


@dataclass(frozen=True, slots=True)
class StagePlan:
    stage: str
    label: str
    rate_to_customer: Decimal  # product of the conversion rates from this stage to customer
    per_year: Decimal  # unrounded, from the unrounded figures before it
    needed_per_year: int
    per_period: Decimal  # for a full period
    needed: tuple[int, ...]  # per period of the plan, rounded up
    value_each: Decimal  # average deal × rate to customer: what one lead at this stage is worth
    steps: tuple[Decimal, ...]  # the conversion rates from this stage down to customer


@dataclass(frozen=True, slots=True)
class Budget:
    """What the declared channel costs imply for the plan (costs in the funnel's currency)."""

    per_year: Decimal
    per_period: tuple[Decimal, ...]
    per_stage: tuple[tuple[str, Decimal], ...]  # (stage, budget ÷ needed per year)
    return_on_spend: Decimal  # marketing revenue per unit of money spent
    channels: tuple[ChannelCost, ...]  # the channels with a cost in the plan's currency
    skipped: tuple[ChannelCost, ...]  # without a cost, or with a cost in another currency


@dataclass(frozen=True, slots=True)
class ChannelCost:
    name: str
    label: str
    cost: ast.Money | None  # as declared, per `period`
    period: str | None

    @property
    def per_year(self) -> Decimal:
        return self.cost.amount * sla.PERIODS_PER_YEAR[self.period]


@dataclass(frozen=True, slots=True)
class CommitmentCheck:
    stage: str
    period: str
    promised: Decimal
    needed: int

    @property
    def enough(self) -> bool:
        return self.promised >= self.needed


@dataclass(frozen=True, slots=True)
class Plan:
    title: str
    currency: str
    period: str
    periods: tuple[Period, ...]
    funnel: sla.Funnel
    stages: tuple[StagePlan, ...]  # from the top of the funnel down to customer
    budget: Budget | None
    commitments: tuple[CommitmentCheck, ...]
    effective: tuple[date, date] | None

    def stage(self, name: str) -> StagePlan | None:
        return next((s for s in self.stages if s.stage == name), None)

    @property
    def mql_value(self) -> StagePlan | None:
        """The MQL line when the chain has one (its `value_each` is the value of one MQL)."""
        return self.stage("mql")

    def needed_between(self, stage: str, start: date, end: date) -> Decimal | None:
        """Unrounded need of `stage` over the days from `start` to `end` (inclusive), at the
        yearly pace spread over the days of each month; the report compares months with it."""
        line = self.stage(stage)
        if line is None:
            return None
        return line.per_year / 12 * months_covered(start, end)


def build(rs: Ruleset, period: str = "month") -> Plan:
    """The plan of a checked ruleset; raises PlanError when it has no usable marketing SLA."""
    if period not in PERIODS:
        raise PlanError(f"unknown period '{period}': use one of {', '.join(PERIODS)}")
    marketing = rs.sla_marketing
    if marketing is None:
        raise PlanError(
            f"{rs.path} has no marketing SLA, so there is no revenue target to plan from. "
            "Add an `sla marketing { … }` block with `revenue target`, `average deal` and the "
            "`conversion` rates (see docs/sla.md).")
    funnel = rs.funnel  # derived once by the checker
    if funnel is None:
        raise PlanError(
            f"{rs.path}:{marketing.span.line}: the marketing SLA cannot give a funnel: it needs a "
            "`revenue target`, an `average deal` above zero, and `conversion` steps (all above "
            "0 %) that form one chain ending at `customer`. `leadrules check` says what is missing.")
    effective = _effective(rs)
    periods = periods_of(effective, period)
    labels = {s.name: s.label or s.name for s in rs.stages}
    per_year_count = sla.PERIODS_PER_YEAR[period]
    steps_by_source = {c.source: c for c in marketing.of(ast.Conversion)}
    stages = tuple(
        StagePlan(
            stage=need.stage,
            label=labels.get(need.stage, ""),
            rate_to_customer=need.rate,
            per_year=need.per_year,
            needed_per_year=sla.ceil(need.per_year),
            per_period=need.per_year / per_year_count,
            needed=tuple(sla.ceil(need.per_year / per_year_count * p.weight) for p in periods),
            value_each=funnel.average_deal * need.rate,
            steps=_steps_below(need.stage, steps_by_source),
        )
        for need in funnel.stages)
    commitments = tuple(
        CommitmentCheck(c.deliver.stage, c.deliver.period, c.deliver.count.value, c.needed)
        for c in funnel.commitments)
    return Plan(
        title=rs.agreement.title if rs.agreement else rs.path,
        currency=funnel.currency,
        period=period,
        periods=periods,
        funnel=funnel,
        stages=stages,
        budget=_budget(rs, funnel, stages, periods, period),
        commitments=commitments,
        effective=effective,
    )


def _steps_below(stage: str, steps: dict[str, ast.Conversion]) -> tuple[Decimal, ...]:
    """The conversion rates from `stage` down to customer, in funnel order (derive() has
    already checked that they form one chain)."""
    out = []
    current = stage
    while current != sla.CUSTOMER:
        out.append(steps[current].rate.value)
        current = steps[current].target
    return tuple(out)


def _effective(rs: Ruleset) -> tuple[date, date] | None:
    a = rs.agreement
    if a and a.effective_from and a.effective_to and a.effective_to.value >= a.effective_from.value:
        return a.effective_from.value, a.effective_to.value
    return None


def periods_of(effective: tuple[date, date] | None, period: str) -> tuple[Period, ...]:
    """The plan's columns: the months (quarters, years) the effective dates touch, partial ones
    weighted by the days they cover; one generic year of periods without effective dates."""
    if effective is None:
        count = sla.PERIODS_PER_YEAR[period]
        word = {"month": "month", "quarter": "quarter", "year": "year"}[period]
        return tuple(Period(f"{word} {i + 1}", None, None, Decimal(1)) for i in range(count))
    start, end = effective
    out = []
    cursor = _period_start(start, period)
    while cursor <= end:
        nxt = _next_period(cursor, period)
        last = nxt - timedelta(days=1)
        lo, hi = max(cursor, start), min(last, end)
        full_days = (last - cursor).days + 1
        covered = (hi - lo).days + 1
        weight = Decimal(1) if covered == full_days else Decimal(covered) / Decimal(full_days)
        out.append(Period(_label(cursor, period), lo, hi, weight))
        cursor = nxt
    return tuple(out)


def _period_start(d: date, period: str) -> date:
    if period == "month":
        return d.replace(day=1)
    if period == "quarter":
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return date(d.year, 1, 1)


def _next_period(d: date, period: str) -> date:
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    m = d.month - 1 + months
    return date(d.year + m // 12, m % 12 + 1, 1)


def _label(d: date, period: str) -> str:
    if period == "month":
        return f"{d.year}-{d.month:02d}"
    if period == "quarter":
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"
    return str(d.year)


def months_covered(start: date, end: date) -> Decimal:
    """How many months the days from `start` to `end` make, each month counting its own days."""
    total = Decimal(0)
    cursor = start.replace(day=1)
    while cursor <= end:
        days = monthrange(cursor.year, cursor.month)[1]
        last = cursor.replace(day=days)
        lo, hi = max(cursor, start), min(last, end)
        if hi >= lo:
            total += Decimal((hi - lo).days + 1) / days
        cursor = last + timedelta(days=1)
    return total


def _budget(rs: Ruleset, funnel: sla.Funnel, stages: tuple[StagePlan, ...],
            periods: tuple[Period, ...], period: str) -> Budget | None:
    if rs.channels is None:
        return None
    channels = [ChannelCost(ch.name, ch.label or ch.name, ch.cost, ch.period)
                for ch in rs.channels.channels]
    costed = [c for c in channels if c.cost is not None and c.period in sla.PERIODS_PER_YEAR
              and c.cost.currency == funnel.currency]
    if not costed:
        return None
    per_year = sum((c.per_year for c in costed), Decimal(0))
    per_count = sla.PERIODS_PER_YEAR[period]
    return Budget(
        per_year=per_year,
        per_period=tuple(per_year / per_count * p.weight for p in periods),
        per_stage=tuple((s.stage, per_year / s.needed_per_year)
                        for s in stages if s.needed_per_year),
        return_on_spend=funnel.marketing_revenue / per_year,
        channels=tuple(costed),
        skipped=tuple(c for c in channels if c not in costed),
    )


# ----------------------------------------------------------------------------- output


def language_of(rs: Ruleset) -> str:
    """The agreement's locale when the plan speaks it, else English."""
    return rs.locale if rs.locale in ("fr", "en") else "en"


def render(plan: Plan, fmt: str, lang: str = "en") -> str:
    """The plan in one of FORMATS; the words of text, Markdown and the JSON formulas in `lang`."""
    if fmt == "csv":
        return to_csv(plan)
    words = _Words(plan, lang)
    return {"text": to_text, "md": to_markdown, "json": to_json}[fmt](plan, words)


@dataclass(frozen=True, slots=True)
class Formula:
    """`name = expression = result`, as a reader checks it with a pocket calculator."""

    name: str
    expression: str
    result: str

    def __str__(self) -> str:
        return f"{self.name} = {self.expression} = {self.result}"


class _Words:
    """The plan's words and figures in one language (report/messages/<lang>.yaml, `plan.*`)."""

    def __init__(self, plan: Plan, lang: str) -> None:
        from leadrules.report.view import Words

        self.plan = plan
        self.w = Words(lang, None)

    def __call__(self, key: str, count=None, **args) -> str:
        return self.w(f"plan.{key}", count, **args)

    def num(self, value, places: int | None = None) -> str:
        return self.w.num(value, places)

    def money(self, amount, places: int = 0) -> str:
        return self.w.money(amount, self.plan.currency, places)

    def pct(self, fraction, places: int | None = None) -> str:
        return self.w.pct(fraction, places)

    def stage(self, line: StagePlan) -> str:
        if line.stage == sla.CUSTOMER and not line.label:
            return self.w("stage.customer")
        return line.label or line.stage

    def column(self, line: StagePlan) -> str:
        """A stage as a column header: its label, or the abbreviation the label ends with
        ("Lead qualifié marketing (MQL)" heads its column "MQL"), as the report writes it."""
        from leadrules.report.view import abbreviated

        return abbreviated(self.stage(line))

    def period_label(self, index: int, p: Period) -> str:
        if p.start is None:
            return self(f"generic.{self.plan.period}", n=str(index + 1))
        if self.plan.period == "quarter":
            return self("quarter", year=str(p.start.year), n=str((p.start.month - 1) // 3 + 1))
        return p.label

    def rounded(self, value: Decimal) -> str:
        """`1 066.7, rounded up to 1 067` when rounding up changes the figure, else the figure."""
        if value != value.to_integral_value():
            return self("rounded", value=self.num(value, 1), up=self.num(sla.ceil(value)))
        return self.num(value)

    def formulas(self) -> list[Formula]:
        """Marketing revenue, customers, then the need of each stage above customer."""
        f = self.plan.funnel
        out = [
            Formula(self("formula.revenue"),
                    f"{self.money(f.revenue_target_per_year)} × {self.pct(f.share)}",
                    self.money(f.marketing_revenue, 0 if _whole(f.marketing_revenue) else 2)),
            Formula(self("formula.customers"),
                    f"{self.money(f.marketing_revenue)} / {self.money(f.average_deal)}",
                    self.rounded(f.customers)),
        ]
        for line in self.plan.stages:
            if line.stage == sla.CUSTOMER:
                continue
            rates = [self.pct(r) for r in line.steps]
            divisor = f"({' × '.join(rates)})" if len(rates) > 1 else rates[0]
            out.append(Formula(self("formula.needed", stage=self.stage(line)),
                               f"{self.num(f.customers, 0 if _whole(f.customers) else 1)} / {divisor}",
                               self.rounded(line.per_year)))
        return out

    def budget_formulas(self, budget: Budget) -> list[Formula]:
        parts = " + ".join(f"{self.money(c.cost.amount)} × {sla.PERIODS_PER_YEAR[c.period]}"
                           for c in budget.channels)
        out = [Formula(self("formula.budget"), parts, self.money(budget.per_year))]
        for stage, each in budget.per_stage:
            line = self.plan.stage(stage)
            out.append(Formula(self("formula.budget_per", stage=self.stage(line)),
                               f"{self.money(budget.per_year)} / {self.num(line.needed_per_year)}",
                               self.money(each, 2)))
        out.append(Formula(self("formula.return"),
                           f"{self.money(self.plan.funnel.marketing_revenue)} / "
                           f"{self.money(budget.per_year)}",
                           self.num(budget.return_on_spend, 2)))
        return out

    def intro(self) -> list[str]:
        plan = self.plan
        out = [self("title", title=plan.title)]
        count = len(plan.periods)
        periods = self(f"count.{plan.period}", count, n=self.num(count))
        if plan.effective:
            start, end = plan.effective
            out.append(self("effective", start=self.w.day(start), end=self.w.day(end),
                            periods=periods))
        else:
            out.append(self("no_dates", periods=periods))
        return out

    def tables(self) -> dict[str, list]:
        """What the text and Markdown forms share: headers and rows of each table. The period
        table has one row per period, so that a year of months reads down a terminal."""
        plan = self.plan
        headers = [self(f"column.{plan.period}"), *(self.column(s) for s in plan.stages)]
        rows = [[self.period_label(i, p), *(self.num(s.needed[i]) for s in plan.stages)]
                for i, p in enumerate(plan.periods)]
        total = [self("per_year"), *(self.num(s.needed_per_year) for s in plan.stages)]
        if plan.budget is not None:
            headers.append(self("column.budget"))
            for row, b in zip(rows, plan.budget.per_period, strict=True):
                row.append(self.money(b))
            total.append(self.money(plan.budget.per_year))
        return {
            "period_headers": headers,
            "period_rows": rows + [total],
            "value_headers": [self("column.stage"), self("column.label"),
                              self("column.rate"), self("column.worth")],
            "value_rows": [[s.stage, self.stage(s), self.pct(s.rate_to_customer),
                            self.money(s.value_each, 2)] for s in plan.stages],
        }

    def notes(self) -> list[str]:
        plan = self.plan
        out = []
        mql = plan.mql_value
        if mql is not None:
            out.append(self("mql_worth", deal=self.money(plan.funnel.average_deal),
                            rate=self.pct(mql.rate_to_customer),
                            value=self.money(mql.value_each, 2)))
        for c in plan.commitments:
            line = plan.stage(c.stage)
            out.append(self("commitment.covers" if c.enough else "commitment.below", c.promised,
                            n=self.num(c.promised), stage=self.stage(line) if line else c.stage,
                            period=self(f"per.{c.period}"), needed=self.num(c.needed)))
        if plan.budget is not None:
            for ch in plan.budget.skipped:
                reason = (self("skipped.no_cost") if ch.cost is None or ch.period is None
                          else self("skipped.currency", currency=ch.cost.currency,
                                    plan=plan.currency))
                out.append(self("skipped.line", channel=ch.label, reason=reason))
        if any(p.weight != 1 for p in plan.periods):
            out.append(self("partial"))
        return out


def _whole(value: Decimal) -> bool:
    return value == value.to_integral_value()


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def to_text(plan: Plan, words: _Words) -> str:
    parts = words.tables()
    out = words.intro() + ["", words("heading.formulas_long")]
    out += [f"  {f}" for f in words.formulas()]
    out += ["", words("heading.needed_long", period=words(f"per.{plan.period}"))]
    out += ["  " + line for line in _table(parts["period_headers"], parts["period_rows"],
                                            set(range(1, len(parts["period_headers"]))))]
    out += ["", words("heading.value_long")]
    out += ["  " + line for line in _table(parts["value_headers"], parts["value_rows"], {2, 3})]
    if plan.budget is not None:
        out += ["", words("heading.budget_long")]
        out += [f"  {f}" for f in words.budget_formulas(plan.budget)]
    notes = words.notes()
    if notes:
        out += [""] + notes
    return "\n".join(out) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace(
        "_", "\\_").replace("<", "&lt;").replace(">", "&gt;").replace("`", "\\`")


def _md_table(headers: list[str], rows: list[list[str]], right: set[int] | None = None
              ) -> list[str]:
    """A Markdown table; the columns in `right` (all but the first by default) are figures,
    aligned right."""
    right = set(range(1, len(headers))) if right is None else right
    out = ["| " + " | ".join(_md_escape(h) for h in headers) + " |",
           "|" + "|".join(" ---: " if i in right else " --- " for i in range(len(headers)))
           + "|"]
    out += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    return out


def to_markdown(plan: Plan, words: _Words) -> str:
    parts = words.tables()
    intro = words.intro()
    out = [f"# {_md_escape(intro[0])}", "", _md_escape(intro[1]), "",
           f"## {words('heading.formulas')}", ""]
    out += [f"- {_md_escape(str(f))}" for f in words.formulas()]
    out += ["", f"## {words('heading.needed', period=words(f'per.{plan.period}'))}", ""]
    out += _md_table(parts["period_headers"], parts["period_rows"])
    out += ["", f"## {words('heading.value')}", ""]
    out += _md_table(parts["value_headers"], parts["value_rows"], {2, 3})
    if plan.budget is not None:
        out += ["", f"## {words('heading.budget')}", ""]
        out += [f"- {_md_escape(str(f))}" for f in words.budget_formulas(plan.budget)]
    notes = words.notes()
    if notes:
        out += [""] + [_md_escape(n) for n in notes]
    return "\n".join(out) + "\n"


def _dec(value: Decimal, places: int = 6) -> float | int:
    """A JSON number: whole numbers stay integers, others keep `places` decimals."""
    if value == value.to_integral_value():
        return int(value)
    return float(round(value, places))


def to_dict(plan: Plan, words: _Words) -> dict:
    f = plan.funnel
    out = {
        "title": plan.title,
        "currency": plan.currency,
        "period": plan.period,
        "effective": [d.isoformat() for d in plan.effective] if plan.effective else None,
        "periods": [{"label": p.label, "start": p.start.isoformat() if p.start else None,
                     "end": p.end.isoformat() if p.end else None, "weight": _dec(p.weight)}
                    for p in plan.periods],
        "revenue_target_per_year": _dec(f.revenue_target_per_year),
        "marketing_share": _dec(f.share),
        "marketing_revenue": _dec(f.marketing_revenue),
        "average_deal": _dec(f.average_deal),
        "stages": [{
            "stage": s.stage, "label": words.stage(s), "rate_to_customer": _dec(s.rate_to_customer),
            "per_year": _dec(s.per_year), "needed_per_year": s.needed_per_year,
            "per_period": _dec(s.per_period), "needed": list(s.needed),
            "value_each": _dec(s.value_each, 2),
        } for s in plan.stages],
        "mql_value": _dec(plan.mql_value.value_each, 2) if plan.mql_value else None,
        "formulas": [{"name": x.name, "expression": x.expression, "result": x.result}
                     for x in words.formulas()],
        "commitments": [{"stage": c.stage, "period": c.period, "promised": _dec(c.promised),
                         "needed": c.needed, "enough": c.enough} for c in plan.commitments],
        "budget": None,
    }
    b = plan.budget
    if b is not None:
        out["budget"] = {
            "per_year": _dec(b.per_year),
            "per_period": [_dec(x, 2) for x in b.per_period],
            "per_stage": {stage: _dec(v, 2) for stage, v in b.per_stage},
            "marketing_revenue_per_unit_spent": _dec(b.return_on_spend, 4),
            "channels": [{"channel": c.name, "label": c.label, "cost_per_year": _dec(c.per_year)}
                         for c in b.channels],
            "left_out": [c.name for c in b.skipped],
        }
    return out


def to_json(plan: Plan, words: _Words) -> str:
    return json.dumps(to_dict(plan, words), ensure_ascii=False, indent=2) + "\n"


def to_csv(plan: Plan) -> str:
    """One row per stage and period: what a spreadsheet or a BI tool imports."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["stage", "period", "start", "end", "needed", "unrounded"])
    for s in plan.stages:
        for p, n in zip(plan.periods, s.needed, strict=True):
            w.writerow([s.stage, p.label, p.start.isoformat() if p.start else "",
                        p.end.isoformat() if p.end else "", n, f"{s.per_period * p.weight:.4f}"])
    return buf.getvalue()
