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
from leadrules.words import amount, cents, signed

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
    """A value as a sales rep reads it (in English; Say.value speaks the agreement's language)."""
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


def _tidy(value: Decimal) -> Decimal:
    """42.50 -> 42.5 and 5E+1 -> 50, so that a number shows only the decimals it has."""
    return value.to_integral_value() if value == value.to_integral_value() else value.normalize()


class Say:
    """The words of explain in one language (explaining/messages/<lang>.yaml), with its numbers,
    values and conditions.

    English writes conditions, names and values as the rules do (`budget >= 10_000 EUR`,
    `2027-03-01 10:00`), as explain always has. Other languages write them as the agreement's
    sentences do (render/sentences.py): "le budget annoncé est d'au moins 10 000 €", 42,5, dates
    in words.
    """

    def __init__(self, rs, lang: str = "en") -> None:
        from leadrules.render.messages import Messages
        from leadrules.render.sentences import Phrasing

        self.rs = rs
        self.lang = lang
        self.m = Messages(lang, "leadrules.explaining")
        self.t = self.m.typo
        self.phrasing = Phrasing(rs, Messages(lang)) if lang != "en" else None

    def __call__(self, key: str, count=None, gender: str | None = None, **args) -> str:
        return self.m.text(key, count, gender, **args)

    def join(self, parts) -> str:
        """Parts of one explanation: `a; b` / "a ; b"."""
        return self("punct.sep").join(parts)

    # -- figures and values

    def num(self, value: Decimal | None) -> str:
        """`42.5` / `42,5`; the unknown value of a derived score that divided by zero."""
        if self.phrasing is None:
            return amount(value)
        if value is None:
            return self("value.unknown")
        return self.t.number(_tidy(Decimal(value)))

    def signed(self, value: Decimal) -> str:
        """`+2.5` / `+2,5`: the points a rule gave, to the cent."""
        if self.phrasing is None:
            return signed(value)
        points = Decimal(value)
        if points.as_tuple().exponent < -2:
            points = cents(points)
        return self.t.signed(_tidy(points))

    def instant(self, value: datetime) -> str:
        """`2027-03-01 10:00` / "1ᵉʳ mars 2027 à 10 h", in the agreement's time zone."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(ZoneInfo(self.rs.timezone))
        if self.phrasing is None:
            return show(local, self.rs)
        return self("value.datetime", date=self.t.date(local.date()),
                    time=self.t.time(local.time()))

    def value(self, value: Any, expr: Any = None) -> str:
        """A value a condition read; `expr` (what the rules read it from) says how to show an
        enum member, a grade row, a stage or an amount of money."""
        if self.phrasing is None:
            return show(value, self.rs)
        if value is None:
            return self("value.missing")
        if isinstance(value, bool):
            return self("value.true" if value else "value.false")
        if isinstance(value, datetime):
            return self.instant(value)
        if isinstance(value, date):
            return self.t.date(value)
        sym = self._symbol(expr)
        kind = sym.type.kind if sym is not None else None
        if isinstance(value, (Decimal, int, float)):
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            if kind == "money":
                return self.phrasing.money(number, sym.type.currency)
            if kind == "percent":
                return self.t.percent(number)
            return self.t.number(_tidy(number))
        if isinstance(expr, ast.Ref) and kind in ("enum", "grade", "stage", "route"):
            return self.phrasing.operand(ast.Ref((str(value),)), expr).plain
        return str(value)

    def _symbol(self, expr):
        target = expr.target if isinstance(expr, ast.Sum) else expr
        return self.rs.resolve(target) if isinstance(target, ast.Ref) else None

    # -- conditions and what they read

    def cond(self, node) -> str:
        if self.phrasing is None:
            return unparse.cond(node)
        return self._flat(self.phrasing.clause(node))

    def _flat(self, node) -> str:
        if node.is_leaf:
            return node.text.plain
        # On one line, "(A et B) ou C" needs its brackets to say which "et" binds.
        parts = [self._flat(item) if item.is_leaf else f"({self._flat(item)})"
                 for item in node.items]
        return (self.t.list_and if node.mode == "all" else self.t.list_or)(parts)

    def expr(self, node) -> str:
        """A graded value or a derived score's formula."""
        if self.phrasing is None:
            return unparse.expr(node)
        return self.phrasing.expr(node).plain

    def subject(self, name: str, expr: Any = None) -> tuple[str, str]:
        """What a condition read, named for a reader ("le budget annoncé"), and its gender."""
        if self.phrasing is None or expr is None:
            return name, "m"
        noun, _ = self.phrasing.subject(expr)
        return self.phrasing.the(noun).plain, noun.gender or "m"

    def reading(self, name: str, value: Any, expr: Any = None) -> str:
        """`company_size is 200` / "la taille de l'entreprise est de 200"."""
        subject, gender = self.subject(name, expr)
        if value is None:
            return self("reading.missing", gender=gender, subject=subject)
        if isinstance(value, bool):
            key = "bool"
        elif isinstance(value, (date, datetime)):
            key = "date"
        elif isinstance(value, (Decimal, int, float)):
            key = "number"
        else:
            key = "text"
        return self(f"reading.{key}", subject=subject, value=self.value(value, expr))

    def event(self, name: str) -> tuple[str, str, str]:
        """An activity type: bare ("demande de démo"), after a negation ("de demande de démo"),
        and its gender."""
        if self.phrasing is None:
            return name, name, "m"
        noun = self.phrasing.event_noun(name)
        return (self.phrasing.det(noun, "bare").plain, self.phrasing.det(noun, "no").plain,
                noun.gender or "m")

    # -- names

    def row(self, row) -> str:
        """A grade row where English names it by its name alone: `hot` / "Chaud (hot)"."""
        return row.name if self.phrasing is None else self.named(row)

    def named(self, node) -> str:
        """`hot (Chaud)` / "Chaud (hot)": a row or stage by its name and its label."""
        label = getattr(node, "label", None)
        if label and label != node.name:
            return self("grade.named", name=node.name, label=label)
        return node.name

    def compare(self, left, op: str, right) -> str:
        """`engagement >= 70` / "l'engagement est d'au moins 70"."""
        if self.phrasing is None:
            return f"{unparse.expr(left)} {op} {unparse.expr(right)}"
        return self.phrasing.compare(left, op, right).plain

    def when(self, cond: str) -> str:
        """A condition in words as a clause: "lorsque le score …", "lorsqu'il y a eu …"."""
        elided = self.phrasing is not None and self.phrasing.elides(cond)
        return self(f"why_not.when.{'elided' if elided else 'plain'}", cond=cond)

    def row_text(self, row, by: Any = None) -> str:
        """A row of a grade as the rules write it (`>= 70`), or in words: its condition, or the
        graded value `by` compared with its threshold."""
        if self.phrasing is not None and isinstance(row, ast.CondRow):
            return self.cond(row.cond)
        if self.phrasing is not None and isinstance(row, ast.BandRow) and by is not None:
            return self.compare(by, row.op, row.threshold)
        return unparse.row(row)


def _exprs(node) -> dict[str, Any]:
    """The values an elementary test reads, by the name the probe gives them."""
    return {unparse.expr(n): n for n in ast.walk(node)
            if isinstance(n, (ast.Ref, ast.Count, ast.Sum, ast.DaysSince))}


def describe(ev: Evaluated, atom: Atom, depth: int = 0, say: Say | None = None) -> str:
    """`company_size >= 500 does not hold: company_size is 200`; a segment, qualification or
    criterion that is not true is opened up to say why (a few levels deep)."""
    say = say or Say(ev.engine.ruleset)
    text = say.cond(atom.node)
    verdict = say("why.holds" if atom.value else
                  "why.unknown" if atom.value is None else "why.fails")
    if isinstance(atom.node, ast.Within):
        last = atom.readings[0][1] if atom.readings else None
        bare, negated, gender = say.event(atom.node.event)
        seen = say("why.no_event", event=negated) if last is None else \
            say("why.latest", gender=gender, event=bare, instant=say.instant(last))
        verdict = say("why.holds" if atom.value else "why.fails")
        return say("why.within", cond=text, verdict=verdict, seen=seen)
    inner = _inside(ev, atom, depth, say) if atom.value is not True and depth < 3 else None
    if inner:
        if atom.value is None:
            return say("why.inner_unknown", cond=text, inner=inner)
        return say("why.inner", cond=text, verdict=verdict, inner=inner)
    exprs = _exprs(atom.node)
    if atom.value is None:
        missing = [say.subject(name, exprs.get(name))
                   for name, v in atom.readings if v is None and name]
        if len(missing) > 1:
            names = say("punct.comma").join(s for s, _ in missing)
            return say("why.missing_many", cond=text, names=names)
        subject, gender = missing[0] if missing else (say("why.a_value"), "f")
        return say("why.missing_one", gender=gender, cond=text, names=subject)
    seen = say("punct.comma").join(say.reading(name, v, exprs.get(name))
                                   for name, v in atom.readings if name)
    return say("why.seen" if seen else "why.plain", cond=text, verdict=verdict, seen=seen)


def _inside(ev: Evaluated, atom: Atom, depth: int, say: Say) -> str | None:
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
        return say.join(describe(ev, a, depth + 1, say) for a in failed) or None
    if sym.kind == "qualification":
        q = ev.result.qualifications[sym.name]
        parts = [say("why.criteria", q.count, n=str(q.count), total=str(len(q.criteria)),
                     required=str(q.required))]
        quals = rs.qualifications[sym.name]
        atoms = ev.atoms(tuple(c.cond for c in quals.criteria))
        for c, result in zip(quals.criteria, q.criteria, strict=True):
            if result.met is True:
                continue
            why = say.join(describe(ev, a, depth + 1, say) for a in blockers(c.cond, atoms))
            parts.append(say("why.criterion", name=c.label or c.name, why=why))
        return say.join(parts)
    if sym.kind == "criterion":
        criterion = sym.node
        atoms = ev.atoms((criterion.cond,))
        return say.join(describe(ev, a, depth + 1, say)
                        for a in blockers(criterion.cond, atoms)) or None
    return None


def named(node) -> str:
    """`hot (Chaud)`: a row or stage by its name, with its label when it has one."""
    label = getattr(node, "label", None)
    return f"{node.name} ({label})" if label and label != node.name else node.name


# ----------------------------------------------------------------------------- the breakdown


def breakdown(ev: Evaluated, say: Say | None = None) -> str:
    """The plain report of `leadrules explain`: points, caps and decay, grades, qualification,
    stage and route, in that order (in English unless `say` speaks another language)."""
    rs = ev.engine.ruleset
    say = say or Say(rs)
    r = ev.result
    lines: list[str] = []
    when = say("head.when", instant=say.instant(r.as_of), zone=rs.timezone) \
        if r.as_of is not None else ""
    key = rs.key
    who = f" {ev.lead.get(key.name)}" if key is not None and ev.lead.get(key.name) else ""
    email = ev.lead.get("email") if "email" in rs.fields else None
    if email and not who:
        who = f" {email}"
    lines.append(say("head.lead", who=who, when=when))
    unknown_rules = [c for s in r.scores.values() for c in s.rules if c.fired is None]
    nodes = {info.index: info.node for info in ev.engine.plan.rules}
    atoms = ev.atoms(tuple(nodes[c.index].cond for c in unknown_rules))
    for score in r.scores.values():
        lines.append("")
        title = score.label or score.name
        if score.derived:
            lines.append(say("score.derived", title=title, value=say.num(score.value),
                             formula=say.expr(rs.scores[score.name].expr)))
            continue
        lines.append(say("score.value", title=title, value=say.num(score.value)))
        for c in score.rules:
            if c.fired is None:
                why = say.join(describe(ev, a, 0, say) for a in
                               blockers(nodes[c.index].cond, atoms) if a.value is None)
                text = say("score.not_counted", title=c.label, why=why or say("score.unknown"))
                lines.append(f"     0  {text}  [{c.source}]")
                continue
            if not c.counted and not c.points:
                continue
            notes = _notes(c, say)
            note = f" ({say.join(notes)})" if notes else ""
            lines.append(f"{say.signed(c.counted):>6}  {c.label}{note}  [{c.source}]")
        for g in score.groups:
            if g.counted != g.total:
                lines.append("        " + say("score.group_capped", name=g.label or g.name,
                                              counted=say.num(g.counted),
                                              total=say.num(g.total)))
        if score.capped:
            lines.append("        " + say("score.capped", value=say.num(score.value),
                                          total=say.num(score.total)))
    if r.grades:
        lines.append("")
        for g in r.grades.values():
            if g.value is not None:
                shown = say("grade.named", name=g.value, label=g.value_label) \
                    if g.value_label else g.value
            elif g.graded is None:
                shown = say("grade.unknown")
            else:
                # Only a quantile grade without cut points leaves a known value ungraded.
                shown = say("grade.cut", quantiles=say(f"quantiles.{rs.grades[g.name].quantiles}"))
            lines.append(say("grade.line", title=g.label or g.name, value=shown))
    for q in r.qualifications.values():
        lines.append("")
        state = say({True: "qualification.met", False: "qualification.not_met",
                     None: "qualification.unknown"}[q.met])
        lines.append(say("qualification.line", q.count, title=q.label or q.name, state=state,
                         n=str(q.count), total=str(len(q.criteria)), required=str(q.required)))
        for c in q.criteria:
            mark = say({True: "mark.held", False: "mark.failed", None: "mark.unknown"}[c.met])
            lines.append(f"  {mark:>7}  {c.label or c.name}")
    if r.ladder or r.disqualified:
        lines.append("")
        lines.extend(stage_lines(ev, say))
    if r.route is not None:
        lines.append("")
        lines.append(say("route", route=r.route_label or r.route))
    return "\n".join(lines)


def _notes(c, say: Say) -> list[str]:
    """What a reader needs beside a rule's points (RuleContribution.notes, in `say`'s words)."""
    out = []
    if c.kind == "per event" and c.count:
        out.append(say("note.events", c.count, n=say.num(Decimal(c.count))))
    elif c.kind == "per unit" and c.count:
        out.append(say("note.units", c.count, n=say.num(Decimal(c.count))))
    if c.has_decayed:
        out.append(say("note.decay", points=say.signed(c.points)))
    if c.capped:
        out.append(say("note.capped", points=say.signed(c.decayed)))
    return out


def _barred(ev: Evaluated, say: Say) -> list[str]:
    """The disqualifications that hold, by label, else by their condition in words."""
    rs = ev.engine.ruleset
    if say.phrasing is None:
        return ev.result.disqualified_by
    barred = ev.raw["explain"].get("barred", [])
    return [d.label or say.cond(d.cond)
            for d, hit in zip(rs.disqualify, barred, strict=False) if hit]


def stage_lines(ev: Evaluated, say: Say | None = None) -> list[str]:
    rs = ev.engine.ruleset
    say = say or Say(rs)
    r = ev.result
    if r.disqualified:
        return [say("stage.disqualified", why=say.join(_barred(ev, say)))]
    out = []
    if r.stage is None:
        out.append(say("stage.none"))
    else:
        out.append(say("stage.line", stage=r.stage_label or r.stage))
    step = next((s for s in r.ladder if s.evaluated and not s.reached), None)
    if step is not None:
        node = next(s for s in rs.stages if s.name == step.name)
        atoms = ev.atoms((node.cond,))
        why = say.join(describe(ev, a, 0, say) for a in blockers(node.cond, atoms))
        text = say("stage.not_yet", stage=step.label or step.name, why=why)
        out.append(f"  {text}  [{step.source}]")
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


def _hinted(say: Say, text: str, name: str, candidates) -> str:
    """`text; did you mean 'x'?` when a known name is close enough (as did_you_mean finds)."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return say("why_not.hint", text=text, name=close[0]) if close else text


def why_not(ev: Evaluated, target: str, say: Say | None = None) -> WhyNot:
    """Why the lead is not at stage TARGET, or not graded TARGET (`grade.row` or a row name):
    the first condition that failed and the values it saw. `text` is in `say`'s language
    (English by default); `condition` and `failed` are as the rules write them, for programs."""
    rs = ev.engine.ruleset
    say = say or Say(rs)
    if target in [s.name for s in rs.stages] or target == DISQUALIFIED:
        return _why_not_stage(ev, target, say)
    grade, _, row = target.partition(".") if "." in target else ("", "", target)
    if grade in rs.grades and rs.grades[grade].quantiles:
        g = rs.grades[grade]
        value = ev.result.grades[g.name].value
        graded = ev.result.grades[g.name].graded
        return WhyNot(target, "grade", value == row, say(
            "why_not.quantile", grade=g.label or g.name, value=value or say("grade.unset"),
            reading=say.reading(unparse.expr(g.by), graded, g.by),
            quantiles=say(f"quantiles.{g.quantiles}")))
    for g in rs.grades.values():
        if (grade and g.name != grade) or (not grade and row not in [r.name for r in g.rows]):
            continue
        return _why_not_grade(ev, g, row, say)
    names = [s.name for s in rs.stages] + [r.name for g in rs.grades.values() for r in g.rows]
    return WhyNot(target, "unknown", False,
                  _hinted(say, say("why_not.unknown_target", target=target), row or target,
                          names))


def _why_not_stage(ev: Evaluated, target: str, say: Say) -> WhyNot:
    rs = ev.engine.ruleset
    r = ev.result
    if target == DISQUALIFIED:
        if r.disqualified:
            return WhyNot(target, "stage", True,
                          say("why_not.disqualified", why=say.join(_barred(ev, say))))
        conds = tuple(d.cond for d in rs.disqualify)
        atoms = ev.atoms(conds)
        failed = [a for d in rs.disqualify for a in blockers(d.cond, atoms)]
        lines = [say("why_not.item", why=describe(ev, a, 0, say)) for a in failed]
        return WhyNot(target, "stage", False,
                      say("why_not.not_disqualified") + "\n" + "\n".join(lines),
                      failed=_failed(failed, rs))
    if r.disqualified:
        return WhyNot(target, "stage", False,
                      say("why_not.disqualified_anyway", why=say.join(_barred(ev, say))))
    names = [s.name for s in rs.stages]
    goal = names.index(target)
    if r.stage is not None and names.index(r.stage) >= goal:
        label = rs.stages[goal].label or target
        if r.stage != target:
            return WhyNot(target, "stage", True, say("why_not.reached_beyond", stage=label,
                                                     current=r.stage_label or r.stage))
        return WhyNot(target, "stage", True, say("why_not.reached", stage=label))
    for i, step in enumerate(r.ladder[:goal + 1]):
        if step.reached:
            continue
        node = rs.stages[i]
        atoms = ev.atoms((node.cond,))
        failed = blockers(node.cond, atoms)
        goal_label = rs.stages[goal].label or target
        head = say("why_not.not_stage", stage=goal_label) if i >= goal else \
            say("why_not.not_first", stage=goal_label, first=node.label or node.name)
        verdict = say("why_not.unknown" if step.held is None else "why_not.fails")
        cond = say.cond(node.cond)
        text = (say("why_not.needs", head=head, stage=node.label or node.name, cond=cond,
                    when=say.when(cond), verdict=verdict) + "\n"
                + "\n".join(say("why_not.item", why=describe(ev, a, 0, say)) for a in failed))
        return WhyNot(target, "stage", False, text, unparse.cond(node.cond),
                      f"{node.span.file}:{node.span.line}", _failed(failed, rs))
    return WhyNot(target, "stage", False, say("why_not.not_at", stage=target))


def _why_not_grade(ev: Evaluated, g: ast.Grade, row_name: str, say: Say) -> WhyNot:
    rs = ev.engine.ruleset
    current = ev.result.grades[g.name]
    target = f"{g.name} {row_name}"
    title = g.label or g.name
    rows = list(g.rows)
    index = next((i for i, r in enumerate(rows) if r.name == row_name), None)
    if current.value == row_name:
        return WhyNot(target, "grade", True,
                      say("why_not.already", grade=title, row=say.row(rows[index])))
    if index is None:
        listed = say("punct.comma").join(r.name for r in rows)
        return WhyNot(target, "unknown", False, _hinted(
            say, say("why_not.no_row", grade=g.name, row=row_name, rows=listed), row_name,
            [r.name for r in rows]))
    row = rows[index]
    by = say("why_not.by", reading=say.reading(unparse.expr(g.by), current.graded, g.by)) \
        if g.by is not None else ""
    value = say.row(next(r for r in rows if r.name == current.value)) \
        if current.value is not None else say("grade.unset")
    matched = ev.raw["explain"]["rows"].get(g.name)
    if matched is not None and matched < index:
        first = rows[matched]
        return WhyNot(target, "grade", False,
                      say("why_not.first_row", grade=title, value=value, by=by,
                          row=unparse.row(first), first=say.named(first),
                          when=say.when(say.row_text(first, g.by))),
                      unparse.row(first), f"{first.span.file}:{first.span.line}")
    if isinstance(row, ast.OtherwiseRow):
        return WhyNot(target, "grade", False,
                      say("why_not.otherwise", grade=title, value=value, by=by))
    if isinstance(row, ast.BandRow):
        needs = f"{unparse.expr(g.by)} {row.op} {unparse.expr(row.threshold)}" \
            if g.by is not None else unparse.row(row)
        shown = say.compare(g.by, row.op, row.threshold) if g.by is not None else \
            say.row_text(row)
        return WhyNot(target, "grade", False,
                      say("why_not.band", row=say.named(row), needs=shown, by=by,
                          when=say.when(shown)), needs,
                      f"{row.span.file}:{row.span.line}",
                      [{"condition": needs, "result": False,
                        "saw": {unparse.expr(g.by): show(current.graded, rs)} if g.by else {}}])
    atoms = ev.atoms((row.cond,))
    failed = blockers(row.cond, atoms)
    cond = say.cond(row.cond)
    return WhyNot(target, "grade", False,
                  say("why_not.row", row=say.named(row), cond=cond, when=say.when(cond)) + "\n"
                  + "\n".join(say("why_not.item", why=describe(ev, a, 0, say)) for a in failed),
                  unparse.cond(row.cond), f"{row.span.file}:{row.span.line}",
                  _failed(failed, rs))
