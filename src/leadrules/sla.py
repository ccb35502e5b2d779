"""Marketing SLA -> the funnel it implies: marketing revenue, customers, and the volume needed at
each stage, per year and per month, each figure from the unrounded ones before it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from leadrules import ast

PERIODS_PER_YEAR = {"year": 1, "quarter": 4, "month": 12, "week": 52, "day": 365}
CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class StageNeed:
    """How many leads must reach `stage` for the revenue target, and the rate product used."""

    stage: str
    per_year: Decimal
    rate: Decimal  # product of the conversion rates from this stage to customer

    def per(self, period: str) -> Decimal:
        return self.per_year / PERIODS_PER_YEAR[period]

    def needed(self, period: str = "year") -> int:
        """Rounded up: nobody signs for 80.3 customers."""
        return ceil(self.per(period))


@dataclass(frozen=True, slots=True)
class Commitment:
    deliver: ast.Deliver
    needed: int  # what the target requires in the commitment's own period


@dataclass(frozen=True, slots=True)
class Funnel:
    currency: str
    revenue_target_per_year: Decimal
    share: Decimal
    marketing_revenue: Decimal
    average_deal: Decimal
    customers: Decimal
    stages: tuple[StageNeed, ...]  # from the top of the funnel down to customer
    commitments: tuple[Commitment, ...]

    def stage(self, name: str) -> StageNeed | None:
        return next((s for s in self.stages if s.stage == name), None)


def ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def derive(sla: ast.Sla) -> Funnel | None:
    """The funnel of a marketing SLA, or None when a figure it needs is missing or unusable
    (check.py reports why)."""
    target = sla.first(ast.RevenueTarget)
    share = sla.first(ast.MarketingShare)
    deal = sla.first(ast.AverageDeal)
    if target is None or deal is None or deal.amount.amount <= 0:
        return None
    per_year = target.amount.amount * PERIODS_PER_YEAR.get(target.period, 1)
    share_value = share.share.value if share else Decimal(1)
    revenue = per_year * share_value
    customers = revenue / deal.amount.amount
    chain = conversion_chain(sla.of(ast.Conversion))
    if chain is None:
        return None
    needs = [StageNeed(CUSTOMER, customers, Decimal(1))]
    rate = Decimal(1)
    for step in reversed(chain):
        if step.rate.value <= 0:
            return None
        rate *= step.rate.value
        needs.append(StageNeed(step.source, customers / rate, rate))
    needs.reverse()
    by_stage = {n.stage: n for n in needs}
    commitments = tuple(
        Commitment(d, by_stage[d.stage].needed(d.period))
        for d in sla.of(ast.Deliver)
        if d.stage in by_stage and d.period in PERIODS_PER_YEAR
    )
    return Funnel(target.amount.currency, per_year, share_value, revenue, deal.amount.amount,
                  customers, tuple(needs), commitments)


def conversion_chain(steps) -> list[ast.Conversion] | None:
    """The conversion steps ordered from the top of the funnel to `customer`, or None when they
    do not form one unbroken chain ending at customer."""
    if not steps:
        return None
    by_source = {}
    for step in steps:
        if step.source in by_source:
            return None
        by_source[step.source] = step
    targets = {s.target for s in steps}
    starts = [s for s in steps if s.source not in targets]
    if len(starts) != 1:
        return None
    chain = [starts[0]]
    while chain[-1].target != CUSTOMER:
        nxt = by_source.get(chain[-1].target)
        if nxt is None or len(chain) > len(steps):
            return None
        chain.append(nxt)
    return chain if len(chain) == len(steps) else None



