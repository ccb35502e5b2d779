"""A checked ruleset -> the report's evaluator: one lead, its events and the as-of instant in,
its stage, grades, scores and the truth of the sales SLA's conditions out, computed by the
engine (the generated evaluator, and its probes for the conditions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadrules import ast
from leadrules.model import Ruleset
from leadrules.report.facts import Evaluated


class EngineEvaluator:
    """Calls `Engine.evaluate_raw` (no explanation: the fast path) and, for the conditions of
    the sales SLA (`when temperature == hot`), the engine's probe over the values it produced,
    combined in three-valued logic exactly as `leadrules explain` does."""

    def __init__(self, rs: Ruleset):
        from leadrules.engine import RulesError, from_ruleset

        try:
            self.engine = from_ruleset(rs)
        except RulesError as e:
            from leadrules.report.compute import ReportError

            raise ReportError(str(e)) from None
        self.rs = rs
        self.scores = list(rs.scores)
        self.grades = list(rs.grades)
        self.cuts: dict[str, list] | None = None
        self._probe = None
        sales = rs.sla_sales
        conditions = [ft.cond for ft in sales.of(ast.FirstTouch) if ft.cond is not None] \
            if sales else []
        # Criteria (`bant.budget`) are only in the explained result, which costs more.
        self._needs_criteria = _reads_criteria(rs, conditions)
        # A condition on grades, scores or fields reads no event: its probe is given none,
        # which spares it sorting out every event of the lead again.
        self._reads_events = any(isinstance(node, _EVENT_NODES)
                                 for cond in conditions for node in ast.walk(cond))

    @property
    def unfrozen_quantiles(self) -> dict[str, str]:
        """Quantile grades whose cut points the file does not give: name -> kind."""
        return {name: g.quantiles for name, g in self.rs.grades.items()
                if g.quantiles and not g.cuts}

    def graded_values(self, lead: dict, events: list, as_of: datetime) -> dict[str, Any]:
        raw = self.engine.evaluate_raw(lead, events, as_of, False, None)
        return {name: raw.get(f"{name}.value") for name in self.unfrozen_quantiles}

    def set_cuts(self, values: dict[str, list]) -> None:
        """Cut the unfrozen quantile grades on the population, as `leadrules score` does."""
        from leadrules.engine import quantile_cuts

        self.cuts = {name: quantile_cuts(values[name], kind)
                     for name, kind in self.unfrozen_quantiles.items()}

    def __call__(self, lead: dict, events: list, as_of: datetime,
                 conditions: tuple[ast.Cond, ...]) -> Evaluated:
        explain = bool(conditions) and self._needs_criteria
        raw = self.engine.evaluate_raw(lead, events, as_of, explain, self.cuts)
        truths: tuple[bool | None, ...] = ()
        if conditions:
            truths = self._conditions(raw, lead, events, as_of, conditions)
        return Evaluated(raw.get("stage"), {g: raw.get(g) for g in self.grades},
                         {s: raw.get(s) for s in self.scores}, truths)

    def _conditions(self, raw: dict, lead: dict, events: list, as_of: datetime,
                    conditions: tuple) -> tuple[bool | None, ...]:
        from leadrules.explain import Atom, truth

        if self._probe is None:
            self._probe = self.engine.probe(conditions)
        probe, atoms = self._probe
        values = {k: v for k, v in raw.items() if k != "explain"}
        if "explain" in raw:
            for name, met in raw["explain"]["criteria"].items():
                for criterion, value in zip(self.rs.qualifications[name].criteria, met,
                                            strict=False):
                    values[f"{name}.{criterion.name}"] = value
        results, _ = probe(lead, events if self._reads_events else (), as_of, values)
        found = {id(node): Atom(node, value) for (node, _), value in
                 zip(atoms, results, strict=True)}
        return tuple(truth(c, found) for c in conditions)


_EVENT_NODES = (ast.Within, ast.Count, ast.Sum, ast.DaysSince)


def _reads_criteria(rs: Ruleset, conditions) -> bool:
    for cond in conditions:
        for node in ast.walk(cond):
            if isinstance(node, ast.Ref) and len(node.parts) == 2 \
                    and node.parts[0] in rs.qualifications and node.parts[1] != "count":
                return True
    return False


def engine_evaluator(rs: Ruleset) -> EngineEvaluator:
    return EngineEvaluator(rs)
