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
from leadrules.report.numbers import money, num, pct

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
class Formula:
    """`name = expression = result`, as a reader checks it with a pocket calculator."""

    name: str
    expression: str
    result: str


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
    formula: Formula


@dataclass(frozen=True, slots=True)
class Budget:
    """What the declared channel costs imply for the plan (costs in the funnel's currency)."""

    per_year: Decimal
    per_period: tuple[Decimal, ...]
    per_stage: tuple[tuple[str, Decimal], ...]  # (stage, budget ÷ needed per year)
    return_on_spend: Decimal  # marketing revenue per unit of money spent
    channels: tuple[tuple[str, str, Decimal], ...]  # (name, label, cost per year)
    skipped: tuple[str, ...]  # channels without a cost, or with a cost in another currency
    formulas: tuple[Formula, ...]


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
    formulas: tuple[Formula, ...]  # marketing revenue, customers, then each stage
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
    labels.setdefault(sla.CUSTOMER, "Customer")
    cur = funnel.currency
    per_year_count = sla.PERIODS_PER_YEAR[period]

    formulas = [
        Formula("marketing revenue",
                f"{money(funnel.revenue_target_per_year, cur)} × {pct(funnel.share)}",
                money(funnel.marketing_revenue, cur, 2 if _frac(funnel.marketing_revenue) else 0)),
        Formula("customers",
                f"{money(funnel.marketing_revenue, cur)} / {money(funnel.average_deal, cur)}",
                _rounded(funnel.customers)),
    ]
    stages = []
    steps_by_source = {c.source: c for c in marketing.of(ast.Conversion)}
    for need in funnel.stages:
        per_period = need.per_year / per_year_count
        if need.stage == sla.CUSTOMER:
            formula = formulas[1]
        else:
            steps = _steps_below(need.stage, steps_by_source)
            expression = f"{num(funnel.customers, 1 if _frac(funnel.customers) else 0)} / " + (
                f"({' × '.join(pct(r) for r in steps)})" if len(steps) > 1 else pct(steps[0]))
            formula = Formula(f"{labels.get(need.stage, need.stage)} needed", expression,
                              _rounded(need.per_year))
            formulas.append(formula)
        stages.append(StagePlan(
            stage=need.stage,
            label=labels.get(need.stage, need.stage),
            rate_to_customer=need.rate,
            per_year=need.per_year,
            needed_per_year=sla.ceil(need.per_year),
            per_period=per_period,
            needed=tuple(sla.ceil(per_period * p.weight) for p in periods),
            value_each=funnel.average_deal * need.rate,
            formula=formula,
        ))
    commitments = tuple(
        CommitmentCheck(c.deliver.stage, c.deliver.period, c.deliver.count.value, c.needed)
        for c in funnel.commitments)
    plan_stages = tuple(stages)
    return Plan(
        title=rs.agreement.title if rs.agreement else rs.path,
        currency=cur,
        period=period,
        periods=periods,
        funnel=funnel,
        stages=plan_stages,
        formulas=tuple(formulas),
        budget=_budget(rs, funnel, plan_stages, periods, period),
        commitments=commitments,
        effective=effective,
    )


def _frac(value: Decimal) -> bool:
    return value != value.to_integral_value()


def _rounded(value: Decimal) -> str:
    """`1 066.7, so 1 067` when rounding up changes the figure, else the figure."""
    if _frac(value):
        return f"{num(value, 1)}, rounded up to {num(sla.ceil(value))}"
    return num(value)


def _steps_below(stage: str, steps: dict[str, ast.Conversion]) -> list[Decimal]:
    """The conversion rates from `stage` down to customer, in funnel order (derive() has
    already checked that they form one chain)."""
    out = []
    current = stage
    while current != sla.CUSTOMER:
        out.append(steps[current].rate.value)
        current = steps[current].target
    return out


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
    cur = funnel.currency
    costed, skipped = [], []
    for ch in rs.channels.channels:
        if ch.cost is None or ch.period not in sla.PERIODS_PER_YEAR:
            skipped.append(f"{ch.name} (no cost given)")
        elif ch.cost.currency != cur:
            skipped.append(f"{ch.name} (cost in {ch.cost.currency}, the plan is in {cur})")
        else:
            yearly = ch.cost.amount * sla.PERIODS_PER_YEAR[ch.period]
            costed.append((ch.name, ch.label or ch.name, yearly))
    if not costed:
        return None
    per_year = sum((c for _, _, c in costed), Decimal(0))
    parts = " + ".join(
        f"{money(ch.cost.amount, cur)} × {sla.PERIODS_PER_YEAR[ch.period]}"
        for ch in rs.channels.channels
        if ch.cost is not None and ch.cost.currency == cur and ch.period in sla.PERIODS_PER_YEAR)
    formulas = [Formula("channel budget per year", parts, money(per_year, cur))]
    per_stage = []
    for s in stages:
        if s.needed_per_year:
            each = per_year / s.needed_per_year
            per_stage.append((s.stage, each))
            formulas.append(Formula(f"budget per {s.stage}",
                                    f"{money(per_year, cur)} / {num(s.needed_per_year)}",
                                    money(each, cur, 2)))
    ros = funnel.marketing_revenue / per_year
    formulas.append(Formula("marketing revenue per unit spent",
                            f"{money(funnel.marketing_revenue, cur)} / {money(per_year, cur)}",
                            num(ros, 2)))
    per_count = sla.PERIODS_PER_YEAR[period]
    return Budget(per_year, tuple(per_year / per_count * p.weight for p in periods),
                  tuple(per_stage), ros, tuple(costed), tuple(skipped), tuple(formulas))


# ----------------------------------------------------------------------------- output


def render(plan: Plan, fmt: str) -> str:
    """The plan in one of FORMATS."""
    return {"text": to_text, "md": to_markdown, "json": to_json, "csv": to_csv}[fmt](plan)


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def _lines(plan: Plan) -> dict[str, list]:
    """What the text and Markdown forms share: headers and rows of each table. The period table
    has one row per period, so that a year of months reads down a terminal, not across it."""
    cur = plan.currency
    headers = [plan.period.capitalize(), *(s.stage for s in plan.stages)]
    rows = [[p.label, *(num(s.needed[i]) for s in plan.stages)]
            for i, p in enumerate(plan.periods)]
    total = ["per year", *(num(s.needed_per_year) for s in plan.stages)]
    if plan.budget is not None:
        headers.append("channel budget")
        for row, b in zip(rows, plan.budget.per_period, strict=True):
            row.append(money(b, cur, 0))
        total.append(money(plan.budget.per_year, cur, 0))
    value_rows = [[s.stage, s.label, pct(s.rate_to_customer, None), money(s.value_each, cur, 2)]
                  for s in plan.stages]
    return {
        "period_headers": headers,
        "period_rows": rows + [total],
        "value_headers": ["Stage", "Label", "Becomes a customer", "Worth"],
        "value_rows": value_rows,
    }


def _intro(plan: Plan) -> list[str]:
    out = [f"Funnel plan: {plan.title}"]
    if plan.effective:
        start, end = plan.effective
        count = len(plan.periods)
        out.append(f"Effective {start.isoformat()} to {end.isoformat()}, "
                   f"{count} {plan.period}{'' if count == 1 else 's'}, each figure rounded up.")
    else:
        out.append(f"The agreement gives no effective dates: one year of {plan.period}s is shown, "
                   "each figure rounded up.")
    return out


def _notes(plan: Plan) -> list[str]:
    out = []
    mql = plan.mql_value
    if mql is not None:
        out.append(f"One MQL is worth {money(plan.funnel.average_deal, plan.currency)} × "
                   f"{pct(mql.rate_to_customer)} = {money(mql.value_each, plan.currency, 2)}.")
    for c in plan.commitments:
        verdict = "covers" if c.enough else "is BELOW"
        leads = "lead" if c.promised == 1 else "leads"
        out.append(f"The commitment to deliver at least {num(c.promised)} {leads} at stage "
                   f"{c.stage} per {c.period} {verdict} the {num(c.needed)} the revenue target "
                   "needs.")
    if plan.budget is not None:
        for s in plan.budget.skipped:
            out.append(f"Channel left out of the budget: {s}.")
    if any(p.weight != 1 for p in plan.periods):
        out.append("Partial periods at the ends of the agreement get a share of a full period's "
                   "figure in proportion to the days they cover.")
    return out


def _formula_lines(formulas) -> list[str]:
    return [f"{f.name} = {f.expression} = {f.result}" for f in formulas]


def to_text(plan: Plan) -> str:
    parts = _lines(plan)
    out = _intro(plan) + ["", "Formulas (each figure from the unrounded ones before it):"]
    out += ["  " + line for line in _formula_lines(plan.formulas)]
    out += ["", f"Needed per {plan.period}:"]
    out += ["  " + line for line in _table(parts["period_headers"], parts["period_rows"],
                                            set(range(1, len(parts["period_headers"]))))]
    out += ["", "Value of one lead at each stage (average deal × its rate to customer):"]
    out += ["  " + line for line in _table(parts["value_headers"], parts["value_rows"], {2, 3})]
    if plan.budget is not None:
        out += ["", "Budget the plan implies (declared channel costs):"]
        out += ["  " + line for line in _formula_lines(plan.budget.formulas)]
    notes = _notes(plan)
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


def to_markdown(plan: Plan) -> str:
    parts = _lines(plan)
    intro = _intro(plan)
    out = [f"# {_md_escape(intro[0])}", "", _md_escape(intro[1]), "", "## Formulas", ""]
    out += [f"- {_md_escape(line)}" for line in _formula_lines(plan.formulas)]
    out += ["", f"## Needed per {plan.period}", ""]
    out += _md_table(parts["period_headers"], parts["period_rows"])
    out += ["", "## Value of one lead at each stage", ""]
    out += _md_table(parts["value_headers"], parts["value_rows"], {2, 3})
    if plan.budget is not None:
        out += ["", "## Budget the plan implies", ""]
        out += [f"- {_md_escape(line)}" for line in _formula_lines(plan.budget.formulas)]
    notes = _notes(plan)
    if notes:
        out += [""] + [_md_escape(n) for n in notes]
    return "\n".join(out) + "\n"


def _dec(value: Decimal, places: int = 6) -> float | int:
    """A JSON number: whole numbers stay integers, others keep `places` decimals."""
    if value == value.to_integral_value():
        return int(value)
    return float(round(value, places))


def to_dict(plan: Plan) -> dict:
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
            "stage": s.stage, "label": s.label, "rate_to_customer": _dec(s.rate_to_customer),
            "per_year": _dec(s.per_year), "needed_per_year": s.needed_per_year,
            "per_period": _dec(s.per_period), "needed": list(s.needed),
            "value_each": _dec(s.value_each, 2),
        } for s in plan.stages],
        "mql_value": _dec(plan.mql_value.value_each, 2) if plan.mql_value else None,
        "formulas": [{"name": x.name, "expression": x.expression, "result": x.result}
                     for x in plan.formulas],
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
            "channels": [{"channel": n, "label": lab, "cost_per_year": _dec(c)}
                         for n, lab, c in b.channels],
            "left_out": list(b.skipped),
        }
    return out


def to_json(plan: Plan) -> str:
    return json.dumps(to_dict(plan), ensure_ascii=False, indent=2) + "\n"


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
