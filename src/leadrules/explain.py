"""One evaluated lead -> a plain breakdown a sales rep reads, and why it is not at a stage or grade.

Conditions are looked into through probes (codegen.probe_source): the same compiler as the
evaluator tells, for every elementary test of a condition, whether it held and which values
it read, so an explanation can never disagree with the score it explains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from leadrules import ast, unparse
from leadrules.codegen import DISQUALIFIED
from leadrules.engine import Engine
from leadrules.words import amount, signed

if TYPE_CHECKING:
    from leadrules.result import LeadResult


@dataclass
class Atom:
    """One elementary test of a condition, as evaluated for a lead."""

    node: Any
    value: bool | None
    readings: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Evaluated:
    """A lead, its inputs, the evaluator's explained dict and the LeadResult (built on first
    use: a passing test never needs it)."""

    engine: Engine
    lead: dict
    events: list
    as_of: Any
    raw: dict
    built: LeadResult | None = field(default=None, repr=False, compare=False)

    @property
    def result(self) -> LeadResult:
        if self.built is None:
            from leadrules.result import build

            self.built = build(self.engine.plan, self.raw)
        return self.built

    @property
    def values(self) -> dict:
        """What a probe reads: every result, and the criteria as 'qualification.criterion'."""
        out = {k: v for k, v in self.raw.items() if k != "explain"}
        rs = self.engine.ruleset
        for name, met in self.raw["explain"]["criteria"].items():
            for criterion, value in zip(rs.qualifications[name].criteria, met, strict=False):
                out[f"{name}.{criterion.name}"] = value
        return out

    @property
    def instant(self) -> Any:
        """The instant of evaluation as evaluation fixed it (so probes see the same `now`)."""
        now = self.raw["explain"].get("as_of")
        return now.replace(tzinfo=UTC) if now is not None else self.as_of

    def atoms(self, conditions: tuple) -> dict[int, Atom]:
        """Every elementary test inside `conditions`, keyed by id() of its node."""
        if not conditions:
            return {}
        probe, atoms = self.engine.probe(conditions)
        results, seen = probe(self.lead, self.events, self.instant, self.values)
        out: dict[int, Atom] = {}
        for (node, names), value, values in zip(atoms, results, seen, strict=True):
            out[id(node)] = Atom(node, value, list(zip(names, values, strict=True)))
        return out


def evaluate(engine: Engine, lead: dict, events: list = (), as_of: Any = None,
             cuts: dict | None = None) -> Evaluated:
    raw = engine.evaluate_explained(lead, events, as_of, cuts)
    return Evaluated(engine, lead, list(events), as_of, raw)


# ----------------------------------------------------------------------------- three-valued logic


def truth(node, atoms: dict[int, Atom]) -> bool | None:
    """SQL's three-valued logic over the atoms' values."""
    if isinstance(node, ast.And):
        values = [truth(item, atoms) for item in node.items]
        return False if False in values else True if all(v is True for v in values) else None
    if isinstance(node, ast.Or):
        values = [truth(item, atoms) for item in node.items]
        return True if True in values else False if all(v is False for v in values) else None
    if isinstance(node, ast.Not):
        inner = truth(node.item, atoms)
        return None if inner is None else not inner
    return atoms[id(node)].value


def blockers(node, atoms: dict[int, Atom], want: bool = True) -> list[Atom]:
    """The elementary tests that keep `node` from being `want`: for `and`, the first part
    that fails; for `or`, every alternative."""
    if truth(node, atoms) is want:
        return []
    if isinstance(node, ast.Not):
        return blockers(node.item, atoms, not want)
    if isinstance(node, (ast.And, ast.Or)):
        all_needed = isinstance(node, ast.And) == want
        if all_needed:
            for item in node.items:
                if truth(item, atoms) is not want:
                    return blockers(item, atoms, want)
            return []
        return [a for item in node.items for a in blockers(item, atoms, want)]
    return [atoms[id(node)]]


# ----------------------------------------------------------------------------- words


def show(value: Any, rs) -> str:
    """A value as a sales rep reads it."""
    if value is None:
        return "missing"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return amount(Decimal(value))
    if isinstance(value, float):
        return amount(Decimal(repr(value)))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(ZoneInfo(rs.timezone))
        return local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def describe(ev: Evaluated, atom: Atom, depth: int = 0) -> str:
    """`company_size >= 500 does not hold: company_size is 200`; a segment, qualification or
    criterion that is not true is opened up to say why (a few levels deep)."""
    rs = ev.engine.ruleset
    text = unparse.cond(atom.node)
    if isinstance(atom.node, ast.Within):
        last = atom.readings[0][1] if atom.readings else None
        seen = f"there is no {atom.node.event}" if last is None else \
            f"the latest {atom.node.event} was on {show(last, rs)}"
        verdict = "holds" if atom.value else "does not hold"
        return f"{text} {verdict}: {seen}"
    inner = _inside(ev, atom, depth) if atom.value is not True and depth < 3 else None
    if inner:
        state = "is unknown" if atom.value is None else "does not hold"
        return f"{text} {state} ({inner})"
    missing = [name for name, v in atom.readings if v is None and name]
    if atom.value is None:
        which = ", ".join(missing) if missing else "a value it needs"
        return f"{text} is unknown: {which} {'is' if len(missing) < 2 else 'are'} missing"
    verdict = "holds" if atom.value else "does not hold"
    seen = ", ".join(f"{name} is {show(v, rs)}" for name, v in atom.readings if name)
    return f"{text} {verdict}" + (f": {seen}" if seen else "")


def _inside(ev: Evaluated, atom: Atom, depth: int) -> str | None:
    """Why a segment, qualification or criterion named by `atom` is not true."""
    node = atom.node
    if not isinstance(node, ast.Truth) or not isinstance(node.value, ast.Ref):
        return None
    rs = ev.engine.ruleset
    sym = rs.resolve(node.value)
    if sym is None:
        return None
    if sym.kind == "segment":
        seg = rs.segments[sym.name]
        atoms = ev.atoms(seg.conditions)
        if seg.any:
            failed = [a for c in seg.conditions for a in blockers(c, atoms)]
        else:
            first = next((c for c in seg.conditions if truth(c, atoms) is not True), None)
            failed = blockers(first, atoms) if first is not None else []
        return "; ".join(describe(ev, a, depth + 1) for a in failed) or None
    if sym.kind == "qualification":
        q = ev.result.qualifications[sym.name]
        parts = [f"{q.count} of {len(q.criteria)} criteria met, it needs {q.required}"]
        quals = rs.qualifications[sym.name]
        atoms = ev.atoms(tuple(c.cond for c in quals.criteria))
        for c, result in zip(quals.criteria, q.criteria, strict=True):
            if result.met is True:
                continue
            why = "; ".join(describe(ev, a, depth + 1) for a in blockers(c.cond, atoms))
            parts.append(f"{c.label or c.name}: {why}")
        return "; ".join(parts)
    if sym.kind == "criterion":
        criterion = sym.node
        atoms = ev.atoms((criterion.cond,))
        return "; ".join(describe(ev, a, depth + 1)
                         for a in blockers(criterion.cond, atoms)) or None
    return None


def named(node) -> str:
    """`hot (Chaud)`: a row or stage by its name, with its label when it has one."""
    label = getattr(node, "label", None)
    return f"{node.name} ({label})" if label and label != node.name else node.name


# ----------------------------------------------------------------------------- the breakdown


def breakdown(ev: Evaluated) -> str:
    """The plain report of `leadrules explain`: points, caps and decay, grades, qualification,
    stage and route, in that order."""
    rs = ev.engine.ruleset
    r = ev.result
    lines: list[str] = []
    when = f" on {show(r.as_of, rs)} ({rs.timezone})" if r.as_of is not None else ""
    key = rs.key
    who = f" {ev.lead.get(key.name)}" if key is not None and ev.lead.get(key.name) else ""
    email = ev.lead.get("email") if "email" in rs.fields else None
    if email and not who:
        who = f" {email}"
    lines.append(f"Lead{who}, evaluated{when}")
    unknown_rules = [c for s in r.scores.values() for c in s.rules if c.fired is None]
    nodes = {info.index: info.node for info in ev.engine.plan.rules}
    atoms = ev.atoms(tuple(nodes[c.index].cond for c in unknown_rules))
    for score in r.scores.values():
        lines.append("")
        title = score.label or score.name
        if score.derived:
            lines.append(f"{title}: {amount(score.value)}  = {score.formula}")
            continue
        lines.append(f"{title}: {amount(score.value)}")
        for c in score.rules:
            if c.fired is None:
                why = "; ".join(describe(ev, a) for a in
                                blockers(nodes[c.index].cond, atoms) if a.value is None)
                lines.append(f"     0  {c.label}: not counted, {why or 'unknown'}"
                             f"  [{c.source}]")
                continue
            if not c.counted and not c.points:
                continue
            notes = c.notes()
            note = f" ({'; '.join(notes)})" if notes else ""
            lines.append(f"{signed(c.counted):>6}  {c.label}{note}  [{c.source}]")
        for g in score.groups:
            if g.counted != g.total:
                lines.append(f"        the group {g.label or g.name} is capped at "
                             f"{amount(g.counted)} (its rules give {amount(g.total)})")
        if score.capped:
            lines.append(f"        the score is capped at {amount(score.value)} "
                         f"(its rules give {amount(score.total)})")
    if r.grades:
        lines.append("")
        for g in r.grades.values():
            if g.value is not None:
                shown = g.value + (f" ({g.value_label})" if g.value_label else "")
            elif g.graded is None:
                shown = "none, the value it grades is unknown"
            else:
                # Only a quantile grade without cut points leaves a known value ungraded.
                shown = (f"none: {rs.grades[g.name].quantiles} are cut over the leads scored "
                         "together (leadrules score); write the cut points in the rules "
                         "(score --freeze-cuts) to grade a single lead")
            lines.append(f"{g.label or g.name}: {shown}")
    for q in r.qualifications.values():
        lines.append("")
        met = {True: "met", False: "not met", None: "unknown"}[q.met]
        lines.append(f"{q.label or q.name}: {met} ({q.count} of {len(q.criteria)} criteria, "
                     f"needs {q.required})")
        for c in q.criteria:
            mark = {True: "yes", False: "no", None: "unknown"}[c.met]
            lines.append(f"  {mark:>7}  {c.label or c.name}")
    if r.ladder or r.disqualified:
        lines.append("")
        lines.extend(stage_lines(ev))
    if r.route is not None:
        lines.append("")
        lines.append(f"Route: {r.route_label or r.route}")
    return "\n".join(lines)


def stage_lines(ev: Evaluated) -> list[str]:
    rs = ev.engine.ruleset
    r = ev.result
    if r.disqualified:
        return [f"Stage: disqualified ({'; '.join(r.disqualified_by)})"]
    out = []
    if r.stage is None:
        out.append("Stage: none")
    else:
        out.append(f"Stage: {r.stage_label or r.stage}")
    step = next((s for s in r.ladder if s.evaluated and not s.reached), None)
    if step is not None:
        node = next(s for s in rs.stages if s.name == step.name)
        atoms = ev.atoms((node.cond,))
        why = "; ".join(describe(ev, a) for a in blockers(node.cond, atoms))
        out.append(f"  not {step.label or step.name}: {why}  [{step.source}]")
    return out


# ----------------------------------------------------------------------------- why not


@dataclass
class WhyNot:
    """The answer to `--why-not TARGET`."""

    target: str
    kind: str  # stage, grade or unknown
    already: bool
    text: str
    condition: str | None = None
    source: str | None = None
    failed: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"target": self.target, "kind": self.kind, "already": self.already,
                "text": self.text, "condition": self.condition, "source": self.source,
                "failed": self.failed}


def _failed(atoms: list[Atom], rs) -> list[dict]:
    return [{"condition": unparse.cond(a.node), "result": a.value,
             "saw": {name: show(v, rs) for name, v in a.readings if name}} for a in atoms]


def why_not(ev: Evaluated, target: str) -> WhyNot:
    """Why the lead is not at stage TARGET, or not graded TARGET (`grade.row` or a row name):
    the first condition that failed and the values it saw."""
    rs = ev.engine.ruleset
    if target in [s.name for s in rs.stages] or target == DISQUALIFIED:
        return _why_not_stage(ev, target)
    grade, _, row = target.partition(".") if "." in target else ("", "", target)
    if grade in rs.grades and rs.grades[grade].quantiles:
        g = rs.grades[grade]
        value = ev.result.grades[g.name].value
        graded = show(ev.result.grades[g.name].graded, rs)
        return WhyNot(target, "grade", value == row,
                      f"{g.label or g.name} is {value or 'not set'} ({unparse.expr(g.by)} is "
                      f"{graded}): it is cut into {g.quantiles} of the scored leads, so it "
                      "depends on the other leads as much as on this one.")
    for g in rs.grades.values():
        if (grade and g.name != grade) or (not grade and row not in [r.name for r in g.rows]):
            continue
        return _why_not_grade(ev, g, row)
    names = [s.name for s in rs.stages] + [r.name for g in rs.grades.values() for r in g.rows]
    from leadrules.diagnostics import did_you_mean

    hint = did_you_mean(row or target, names)
    return WhyNot(target, "unknown", False,
                  f"'{target}' is neither a stage nor a grade of these rules"
                  + (f"; {hint}" if hint else ""))


def _why_not_stage(ev: Evaluated, target: str) -> WhyNot:
    rs = ev.engine.ruleset
    r = ev.result
    if target == DISQUALIFIED:
        if r.disqualified:
            return WhyNot(target, "stage", True, "The lead is disqualified: "
                          + "; ".join(r.disqualified_by) + ".")
        conds = tuple(d.cond for d in rs.disqualify)
        atoms = ev.atoms(conds)
        failed = [a for d in rs.disqualify for a in blockers(d.cond, atoms)]
        lines = [f"- {describe(ev, a)}" for a in failed]
        return WhyNot(target, "stage", False,
                      "The lead is not disqualified: no disqualification holds.\n"
                      + "\n".join(lines), failed=_failed(failed, rs))
    if r.disqualified:
        return WhyNot(target, "stage", False, "The lead is disqualified ("
                      + "; ".join(r.disqualified_by) + "), whatever else holds.")
    names = [s.name for s in rs.stages]
    goal = names.index(target)
    if r.stage is not None and names.index(r.stage) >= goal:
        label = rs.stages[goal].label or target
        return WhyNot(target, "stage", True, f"The lead has reached {label}"
                      + (f" (it is at {r.stage_label or r.stage})." if r.stage != target
                         else "."))
    for i, step in enumerate(r.ladder[:goal + 1]):
        if step.reached:
            continue
        node = rs.stages[i]
        atoms = ev.atoms((node.cond,))
        failed = blockers(node.cond, atoms)
        head = f"Not {rs.stages[goal].label or target}"
        if i < goal:
            head += f": the lead has not reached {node.label or node.name} first (stages never " \
                    "skip)"
        state = "is unknown" if step.held is None else "does not hold"
        text = (f"{head}.\n{node.label or node.name} needs {unparse.cond(node.cond)}, which "
                f"{state}:\n" + "\n".join(f"- {describe(ev, a)}" for a in failed))
        return WhyNot(target, "stage", False, text, unparse.cond(node.cond),
                      f"{node.span.file}:{node.span.line}", _failed(failed, rs))
    return WhyNot(target, "stage", False, f"The lead is not at {target}.")


def _why_not_grade(ev: Evaluated, g: ast.Grade, row_name: str) -> WhyNot:
    rs = ev.engine.ruleset
    current = ev.result.grades[g.name]
    target = f"{g.name} {row_name}"
    if current.value == row_name:
        return WhyNot(target, "grade", True, f"{g.label or g.name} is already {row_name}.")
    rows = list(g.rows)
    index = next((i for i, r in enumerate(rows) if r.name == row_name), None)
    if index is None:
        from leadrules.diagnostics import did_you_mean

        hint = did_you_mean(row_name, [r.name for r in rows])
        listed = ", ".join(r.name for r in rows)
        return WhyNot(target, "unknown", False,
                      f"{g.name} has no row '{row_name}' (its rows are {listed})"
                      + (f"; {hint}" if hint else ""))
    row = rows[index]
    by = f" ({unparse.expr(g.by)} is {show(current.graded, rs)})" if g.by is not None else ""
    matched = ev.raw["explain"]["rows"].get(g.name)
    if matched is not None and matched < index:
        first = rows[matched]
        return WhyNot(target, "grade", False,
                      f"{g.label or g.name} is {current.value}{by}: the row "
                      f"'{unparse.row(first)}' comes first and holds (the first row that "
                      "holds wins).", unparse.row(first), f"{first.span.file}:{first.span.line}")
    if isinstance(row, ast.OtherwiseRow):
        return WhyNot(target, "grade", False, f"{g.label or g.name} is {current.value}{by}.")
    if isinstance(row, ast.BandRow):
        needs = f"{unparse.expr(g.by)} {row.op} {unparse.expr(row.threshold)}" \
            if g.by is not None else unparse.row(row)
        return WhyNot(target, "grade", False,
                      f"Not {named(row)}: it needs {needs}{by}.", needs,
                      f"{row.span.file}:{row.span.line}",
                      [{"condition": needs, "result": False,
                        "saw": {unparse.expr(g.by): show(current.graded, rs)} if g.by else {}}])
    atoms = ev.atoms((row.cond,))
    failed = blockers(row.cond, atoms)
    return WhyNot(target, "grade", False,
                  f"Not {named(row)}: it needs {unparse.cond(row.cond)}:\n"
                  + "\n".join(f"- {describe(ev, a)}" for a in failed),
                  unparse.cond(row.cond), f"{row.span.file}:{row.span.line}",
                  _failed(failed, rs))
