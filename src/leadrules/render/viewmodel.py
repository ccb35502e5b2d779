"""Checked ruleset + language + date -> the view-model of the agreement: plain data (strings,
Rich text, condition nodes) that the HTML and Markdown templates lay out, and nothing else.

Sections appear in a fixed order and only when the rules have something to say in them; their
numbers and the table of contents follow from what is present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from leadrules import ast
from leadrules import version as leadrules_version
from leadrules.codegen import QUANTILES as QUANTILE_GROUPS
from leadrules.model import Ruleset
from leadrules.render.messages import Messages
from leadrules.render.sentences import CondNode, Phrasing, export_spelling, humanise
from leadrules.render.typography import CODE, FIGURE, TERM, TEXT, Rich, join_rich
from leadrules.sla import CUSTOMER, PERIODS_PER_YEAR, Funnel

# A stage label that is, or ends with, an abbreviation in capitals: "MQL", "… (SQL)".
_ABBREVIATION = re.compile(r"^([A-Z]{2,6})$|\(([A-Z]{2,6})\)\s*$")

# Where the `icp` segment is, the document presents it first, as the ideal customer.
IDEAL_CUSTOMER_NAMES = ("icp", "ideal_customer", "ideal_customer_profile")


@dataclass
class Section:
    """One numbered section: `kind` selects its layout in the templates, `data` its content."""

    id: str
    kind: str
    title: str
    number: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class Party:
    role: str
    field: str
    heading: Rich
    name: str
    title: str


@dataclass
class Agreement:
    """Everything the templates print. Texts are typeset for `lang` already."""

    lang: str
    title: str
    version: str | None
    effective: Rich | None
    date: str
    date_iso: str
    parties: list[Party]
    between: list[Rich]
    fingerprint: str
    sections: list[Section]
    footer_left: str
    page_words: tuple[str, str, str]  # "page ", " / ", "" around the two counters
    canonical_json: str
    rules_name: str
    description: str
    renderer: str  # the version of leadrules that rendered the document


def build(rs: Ruleset, lang: str, on: date, canonical_json: str) -> Agreement:
    """The view-model of the agreement of `rs`, in `lang`, dated `on`."""
    m = Messages(lang)
    return _Builder(rs, m, on, canonical_json).agreement()


class _Builder:
    def __init__(self, rs: Ruleset, m: Messages, on: date, canonical_json: str) -> None:
        self.rs = rs
        self.m = m
        self.t = m.typo
        self.p = Phrasing(rs, m)
        self.on = on
        self.canonical_json = canonical_json
        self.funnel: Funnel | None = rs.funnel  # derived once by the checker

    # ------------------------------------------------------------------ helpers

    def text(self, key: str, **args) -> str:
        return self.m.text(key, **args)

    def rich(self, key: str, **args) -> Rich:
        return self.m.rich(key, **args)

    def words(self, text: str) -> str:
        return self.t.words(text)

    def label(self, node, name: str | None = None) -> str:
        return self.words(self.p.label_of(node, name))

    def term(self, text: str) -> Rich:
        return Rich([(TERM, text)])

    def figure(self, text: str) -> Rich:
        return Rich([(FIGURE, text)])

    @property
    def item_end(self) -> str:
        return self.text("punct.item")

    @property
    def last_end(self) -> str:
        return self.text("punct.end")

    # ------------------------------------------------------------------ the whole document

    def agreement(self) -> Agreement:
        rs = self.rs
        a = rs.agreement
        title = self.words(a.title) if a else self.text("document.untitled")
        version = a.version.value if a and a.version else None
        effective = None
        if a and a.effective_from and a.effective_to:
            start, end = a.effective_from.value, a.effective_to.value
            # "du 1er janvier au 31 décembre 2027": a year both dates share is said once.
            shown = self.t.day_month(start) if start.year == end.year else self.t.date(start)
            effective = self.rich("document.effective", start=self.figure(shown),
                                  end=self.figure(self.t.date(end)))
        parties = [self.party(p) for p in (a.parties if a else ())]
        between = []
        for i, party in enumerate(parties):
            line = self.rich("document.party", name=party.name, title=party.title,
                             side=self.side(party.role, "for"))
            between.append(line + (self.item_end if i < len(parties) - 1 else self.last_end))
        sections = [s for s in (
            self.preamble(), self.conventions(), self.definitions(), self.scores(),
            self.grades(), self.qualifications(), self.lifecycle(), self.routing(),
            self.marketing(), self.sales(), self.channels(), self.review(),
            self.signatures(parties), self.appendix(),
        ) if s is not None]
        appendix = 0
        for i, section in enumerate(sections, start=1):
            if section.kind == "appendix":
                appendix += 1
                section.number = self.text("document.appendix_number",
                                           letter="ABCDEFGHIJ"[appendix - 1])
            else:
                section.number = self.text("document.section_number", n=str(i))
        footer = self.text("footer.version", title=title, version=version) if version \
            else title
        before, between_pages, after = self.text("footer.page", page="\x00",
                                                 pages="\x00").split("\x00")
        return Agreement(
            lang=self.m.lang, title=title, version=version, effective=effective,
            date=self.t.date(self.on), date_iso=self.on.isoformat(), parties=parties,
            between=between, fingerprint=rs.fingerprint, sections=sections,
            footer_left=footer, page_words=(before, between_pages, after),
            canonical_json=self.canonical_json, rules_name=_basename(rs.path),
            description=self.text("document.description", title=title,
                                  fingerprint=rs.fingerprint),
            renderer=leadrules_version())

    def side(self, role: str, form: str) -> Rich:
        """"pour le marketing", "Marketing": the words for a party's side."""
        key = f"party.{role}.{form}"
        if self.m.has(key):
            return self.rich(key)
        return self.rich(f"party.other.{form}", name=humanise(role))

    def party(self, p: ast.Party) -> Party:
        return Party(p.role, p.role, self.side(p.role, "heading"), self.words(p.name),
                     self.words(p.title))

    # ------------------------------------------------------------------ sections

    def preamble(self) -> Section | None:
        a = self.rs.agreement
        if not a or not a.preamble:
            return None
        paragraphs = [" ".join(line.strip() for line in block.splitlines() if line.strip())
                      for block in a.preamble.value.split("\n\n")]
        return Section("preamble", "preamble", self.text("section.preamble"),
                       data={"paragraphs": [self.words(p) for p in paragraphs if p]})

    def conventions(self) -> Section:
        keys = ["missing", "between", "text", "months", "rounding"]
        if any(s.decay for s in self.rs.scores.values() if isinstance(s, ast.Score)):
            keys.append("decay")
        if self.rs.calendars:
            keys.append("business")
        items = [self.rich(f"conventions.{k}") for k in keys]
        return Section("conventions", "conventions", self.text("section.conventions"),
                       data={"intro": self.rich("conventions.intro"),
                             "points": _punctuate(items, self.item_end, self.last_end)})

    def definitions(self) -> Section | None:
        rs = self.rs
        if not rs.segments and not rs.lists:
            return None
        ideal = next((rs.segments[n] for n in IDEAL_CUSTOMER_NAMES if n in rs.segments), None)
        segments = []
        for seg in ([ideal] if ideal else []) + [s for s in rs.segments.values() if s is not ideal]:
            intro_key = "definitions.segment_any" if seg.any else "definitions.segment_all"
            if len(seg.conditions) == 1:
                intro_key = "definitions.segment_one"
            segments.append({
                "id": f"segment-{seg.name}",
                "title": self.rich("definitions.segment_title", name=_capital(self.label(seg))),
                "ideal": seg is ideal,
                "intro": self.rich(intro_key, name=self.term(self.label(seg))),
                "conditions": self.p.conditions(seg.conditions, "any" if seg.any else "all",
                                                self.last_end),
            })
        lists = [{
            "id": f"list-{ld.name}",
            "title": self.rich("definitions.list_title", name=self.term(humanise(ld.name))),
            "values": self.t.list_and([_set_item(i) for i in ld.items.items]),
        } for ld in rs.lists.values()]
        return Section("definitions", "definitions", self.text("section.definitions"),
                       data={"segments": segments, "lists": lists})

    # -- scores

    def scores(self) -> Section | None:
        if not self.rs.scores:
            return None
        out = []
        for s in self.rs.scores.values():
            if isinstance(s, ast.DerivedScore):
                out.append({
                    "id": f"score-{s.name}", "title": _capital(self.label(s)), "derived": True,
                    "formula": self.rich("scores.formula", name=self.term(self.label(s)),
                                         expr=self.p.expr(s.expr)),
                    "rows": [], "notes": self.bounds_notes(s.bounds, "score"),
                })
                continue
            rows = []
            for item in s.items:
                if isinstance(item, ast.Group):
                    rows.append({"group": True, "label": self.rich("scores.group",
                                                                   name=self.label(item)),
                                 "condition": None, "points": "",
                                 "cap": self.cap(item.bounds)})
                    rows.extend(self.rule_row(rule, nested=True) for rule in item.rules)
                else:
                    rows.append(self.rule_row(item))
            notes = self.bounds_notes(s.bounds, "score")
            if s.decay:
                notes.extend(self.decay(s))
            out.append({"id": f"score-{s.name}", "title": _capital(self.label(s)), "derived": False,
                        "formula": None, "rows": rows, "notes": notes})
        return Section("scores", "scores", self.text("section.scores"),
                       data={"intro": self.rich("scores.intro"), "scores": out,
                             "headers": [self.text(f"scores.header.{k}")
                                         for k in ("criterion", "points", "cap")]})

    def rule_row(self, rule: ast.Rule, nested: bool = False) -> dict:
        label = self.label(rule) if rule.label else None
        if isinstance(rule, ast.WhenRule):
            condition = self.p.sentence(rule.cond)
            points = self.t.signed(rule.points.value)
        elif isinstance(rule, ast.PerEventRule):
            event = self.p.event_noun(rule.event)
            condition = CondNode(line=self.rich("scores.per_event",
                                                each=self.p.det(event, "each"),
                                                window=self.p.window(rule.window)).capitalized())
            points = self.text("scores.points_each", points=self.t.signed(rule.points.value))
        else:
            sym = self.rs.resolve(rule.field)
            noun = self.p.field_noun(sym.node) if sym is not None else self.p.noun(
                None, rule.field.name)
            unit = (self.p.money(rule.unit.value, sym.type.currency)
                    if sym is not None and sym.type.kind == "money"
                    else self.t.number(rule.unit.value))
            condition = CondNode(line=self.rich("scores.per_unit", gender=noun.gender, unit=unit,
                                                the=self.p.det(noun, "the")).capitalized())
            points = self.text("scores.points_each_unit", points=self.t.signed(rule.points.value),
                               unit=unit)
        return {"group": False, "nested": nested, "label": label, "condition": condition,
                "points": points, "cap": self.cap(rule.bounds)}

    def cap(self, bounds: ast.Bounds) -> str:
        parts = []
        if bounds.max is not None:
            parts.append(self.text("scores.cap_max", n=self.t.number(bounds.max.value)))
        if bounds.min is not None:
            parts.append(self.text("scores.cap_min", n=self.t.number(bounds.min.value)))
        return self.t.list_and(parts) if parts else ""

    def bounds_notes(self, bounds: ast.Bounds, what: str) -> list[Rich]:
        lo, hi = bounds.min, bounds.max
        if lo is not None and hi is not None:
            return [self.rich(f"scores.{what}_between", low=self.t.number(lo.value),
                              high=self.t.number(hi.value))]
        if hi is not None:
            return [self.rich(f"scores.{what}_max", n=self.t.number(hi.value))]
        if lo is not None:
            return [self.rich(f"scores.{what}_min", n=self.t.number(lo.value))]
        return []

    def decay(self, s: ast.Score) -> list[Rich]:
        """How the points of a decaying score's events decrease, then which rules follow the
        most recent event (only when the score has one) and which never decrease."""
        d = s.decay
        unit = f"{'business.' if d.period.business else ''}{d.period.unit}"
        period = self.p.duration(d.period)
        if d.kind == "halflife":
            notes = [self.rich("scores.halflife", period=period, every=self.text(
                f"scores.every_period.{unit}", count=d.period.amount,
                n=self.t.number(d.period.amount)))]
        else:
            rate = d.rate.value
            if rate <= 0:
                return [self.rich("scores.decay_none")]
            # The factor max(0, 1 - rate x full periods) is 0 once `steps` periods are over.
            steps = -(-Decimal(1) // rate)
            zero = ast.Duration(d.period.amount * steps, d.period.unit, d.period.business)
            each = self.text(f"scores.each_period.{unit}", count=d.period.amount, period=period)
            zero_text = self.p.duration(zero)
            notes = [self.rich("scores.decay", each=each, rate=self.t.percent(rate),
                               period=period, zero=zero_text,
                               of_zero=self.p.linked("de", zero_text)).capitalized()]
        if any(isinstance(rule, ast.WhenRule)
               and any(isinstance(n, ast.Within) for n in ast.walk(rule.cond))
               for rule in _rules(s)):
            notes.append(self.rich("scores.decay_latest"))
        notes.append(self.rich("scores.decay_fixed"))
        return [join_rich(notes, " ")]

    # -- grades

    def grades(self) -> Section | None:
        if not self.rs.grades:
            return None
        out = []
        for g in self.rs.grades.values():
            basis = of_basis = None
            if g.by is not None:
                noun, _ = self.p.subject(g.by)
                basis, of_basis = self.p.the(noun), self.p.of(noun)
            if g.quantiles:
                note = self.rich("grades.quantiles.frozen" if g.cuts else "grades.quantiles.batch",
                                 basis=basis, of_basis=of_basis,
                                 split=self.text(f"grades.split.{g.quantiles}.name"),
                                 groups=self.text(f"grades.split.{g.quantiles}.groups"))
                groups = len(g.cuts) + 1 if g.cuts else QUANTILE_GROUPS.get(g.quantiles, 5)
                # A reader meets the labels q1… in the conditions of other grades and stages.
                named = self.rich("grades.groups", first=self.term("q1"),
                                  last=self.term(f"q{groups}"))
                cuts = None
                if g.cuts:
                    cuts = self.cut_points(g)
                out.append({"id": f"grade-{g.name}", "title": _capital(self.label(g)), "intro": note,
                            "named": named, "rows": self.quantile_rows(g), "cuts": cuts})
                continue
            intro = (self.rich("grades.intro_by", of_basis=of_basis) if basis is not None
                     else self.rich("grades.intro"))
            out.append({"id": f"grade-{g.name}", "title": _capital(self.label(g)), "intro": intro,
                        "named": None, "rows": self.grade_rows(g), "cuts": None})
        return Section("grades", "grades", self.text("section.grades"),
                       data={"grades": out, "headers": [self.text("grades.header.grade"),
                                                        self.text("grades.header.when")]})

    def grade_rows(self, g: ast.Grade) -> list[dict]:
        rows = []
        previous: list[ast.BandRow] = []
        for row in g.rows:
            name = self.term(self.label(row) if row.label else row.name)
            if isinstance(row, ast.BandRow):
                when = CondNode(line=self.band(row, previous, g))
                previous.append(row)
            elif isinstance(row, ast.CondRow):
                when = self.p.sentence(row.cond)
            else:
                # Ranges read in lower case ("70 ou plus"), sentences with a capital.
                banded = all(isinstance(r, (ast.BandRow, ast.OtherwiseRow)) for r in g.rows)
                when = CondNode(line=self.rich("grades.otherwise_band" if banded
                                               else "grades.otherwise"))
            rows.append({"name": name, "when": when})
        return rows

    def quantile_rows(self, g: ast.Grade) -> list[dict]:
        """With frozen cut points, the range of values each group covers: q1 up to the first
        cut point, each next group above one cut point and up to the next."""
        values = [self.band_value(c, g) for c in g.cuts]
        if not values:
            return []
        rows = []
        for i in range(len(values) + 1):
            if i == 0:
                line = self.rich("grades.band.le", value=values[0])
            elif i == len(values):
                line = self.rich("grades.band.gt", value=values[-1])
            else:
                line = self.rich("grades.range.gt_le", value=values[i - 1], limit=values[i])
            rows.append({"name": self.term(f"q{i + 1}"), "when": CondNode(line=line)})
        return rows

    def band(self, row: ast.BandRow, previous: list[ast.BandRow], g: ast.Grade) -> Rich:
        """The range a band really covers, given that earlier rows win: with A at 70 or more
        before it, "B when >= 40" covers 40 to less than 70."""
        value = self.band_value(row.threshold, g)
        key = {">=": "ge", ">": "gt", "<=": "le", "<": "lt", "==": "eq", "!=": "ne"}[row.op]
        upward = {">=", ">"}
        downward = {"<=", "<"}
        family = upward if row.op in upward else downward if row.op in downward else None
        if family and previous and all(p.op in family for p in previous):
            nearest = (min if family is upward else max)(
                previous, key=lambda p: _number(p.threshold))
            limit = self.band_value(nearest.threshold, g)
            edge = {">=": "lt", ">": "le", "<=": "gt", "<": "ge"}[nearest.op]
            return self.rich(f"grades.range.{key}_{edge}", value=value, limit=limit)
        return self.rich(f"grades.band.{key}", value=value)

    def cut_points(self, g: ast.Grade) -> Rich:
        """« Seuils figés : 2 400 €, 6 000 € … », « … 1, 2, 3 et 5 achats »: each with its unit,
        as in the table above; a number of events says what it counts once, at the end."""
        values = self.t.list_and([self.band_value(c, g) for c in g.cuts])
        if isinstance(g.by, ast.Count):
            last = _number(g.cuts[-1])
            events = self.p.det(self.p.event_noun(g.by.event) if last == 1
                                else self.p.event_plural(g.by.event), "bare")
            return self.rich("grades.cuts_of", count=len(g.cuts), values=values, events=events)
        return self.rich("grades.cuts", count=len(g.cuts), values=values)

    def band_value(self, threshold, g: ast.Grade) -> str:
        if isinstance(threshold, ast.Number) and isinstance(g.by, ast.DaysSince):
            return self.text("grades.days", count=threshold.value,
                             n=self.t.number(threshold.value))
        if isinstance(threshold, ast.Number) and g.by is not None:
            # A sum of amounts (`sum(purchase.amount …)`) is money, as a money field is.
            by = g.by.target if isinstance(g.by, ast.Sum) else g.by
            sym = self.rs.resolve(by) if isinstance(by, ast.Ref) else None
            if sym is not None and sym.type.kind == "money":
                return self.p.money(threshold.value, sym.type.currency)
        return self.p.literal(threshold).plain

    # -- qualification, lifecycle, routing

    def qualifications(self) -> Section | None:
        if not self.rs.qualifications:
            return None
        out = []
        for q in self.rs.qualifications.values():
            total = len(q.criteria)
            if q.require is not None and int(q.require.value) < total:
                intro = self.rich("qualification.require", name=self.term(self.label(q)),
                                  count=q.require.value, k=self.t.number(q.require.value),
                                  n=self.t.number(total))
            else:
                intro = self.rich("qualification.all", name=self.term(self.label(q)))
            rows = [{"name": self.term(self.label(c)), "when": self.p.sentence(c.cond)}
                    for c in q.criteria]
            out.append({"id": f"qualification-{q.name}", "title": _capital(self.label(q)), "intro": intro,
                        "rows": rows})
        return Section("qualification", "qualification", self.text("section.qualification"),
                       data={"qualifications": out,
                             "headers": [self.text("qualification.header.criterion"),
                                         self.text("qualification.header.when")]})

    def lifecycle(self) -> Section | None:
        rs = self.rs
        if not rs.stages and not rs.disqualify:
            return None
        steps = []
        for i, stage in enumerate(rs.stages, start=1):
            entered = None
            if stage.entered_at is not None:
                sym = rs.resolve(stage.entered_at)
                field_ref = self.p.field_ref(sym.node if sym is not None else None,
                                             stage.entered_at.name)
                entered = self.rich("lifecycle.entered_field", field=field_ref)
            elif stage.name in rs.events:
                entered = self.rich("lifecycle.entered_event",
                                    event=self.p.det(self.p.event_noun(stage.name), "bare"))
            steps.append({"number": self.t.number(i), "name": self.term(self.label(stage)),
                          "when": self.p.sentence(stage.cond, self.last_end),
                          "entered": entered, "first": i == 1})
        disqualify = []
        for d in rs.disqualify:
            label = self.term(self.words(d.label)) if d.label else None
            when = (self.p.finish(self.p.cond(d.cond), self.last_end) if label
                    else self.p.sentence(d.cond, self.last_end))
            disqualify.append({"name": label, "when": when})
        return Section("lifecycle", "lifecycle", self.text("section.lifecycle"),
                       data={"intro": self.rich("lifecycle.intro") if steps else None,
                             "steps": steps,
                             "disqualify_intro": self.rich("lifecycle.disqualify"),
                             "disqualify": disqualify})

    def routing(self) -> Section | None:
        if not self.rs.routes:
            return None
        rows = []
        for r in self.rs.routes:
            when = (self.p.sentence(r.cond) if r.cond is not None
                    else CondNode(line=self.rich("routing.otherwise")))
            rows.append({"name": self.term(self.label(r)), "when": when})
        return Section("routing", "routing", self.text("section.routing"),
                       data={"intro": self.rich("routing.intro"), "rows": rows,
                             "headers": [self.text("routing.header.team"),
                                         self.text("routing.header.when")]})

    # -- the service level agreement

    def marketing(self) -> Section | None:
        sla = self.rs.sla_marketing
        if sla is None:
            return None
        inputs = []
        target = sla.first(ast.RevenueTarget)
        if target:
            inputs.append((self.text("marketing.input.target"),
                           self.rich("marketing.per", amount=self.p.money(
                               target.amount.amount, target.amount.currency),
                               period=self.p.period(target.period))))
        share = sla.first(ast.MarketingShare)
        if share:
            inputs.append((self.text("marketing.input.share"),
                           self.figure(self.t.percent(share.share.value))))
        deal = sla.first(ast.AverageDeal)
        if deal:
            inputs.append((self.text("marketing.input.deal"), self.figure(
                self.p.money(deal.amount.amount, deal.amount.currency))))
        for conv in sla.of(ast.Conversion):
            inputs.append((self.rich("marketing.input.conversion",
                                     source=self.p.stage_name(conv.source),
                                     target=self.p.stage_name(conv.target)),
                           self.figure(self.t.percent(conv.rate.value))))
        data: dict = {"intro": self.rich("marketing.intro"),
                      "calc_intro": self.rich("marketing.calc_intro"), "inputs": inputs, "headers": [self.text(f"marketing.header.{k}") for k in
                                                    ("stage", "formula", "year", "month")],
                      "inputs_headers": [self.text("marketing.header.figure"),
                                         self.text("marketing.header.value")],
                      "revenue": [], "rows": [], "commitments": [], "missing": None}
        f = self.funnel
        if f is None:
            data["missing"] = self.rich("marketing.missing")
        else:
            data["revenue"] = self.revenue_lines(f, target)
            data["rows"] = self.funnel_rows(f)
            data["note"] = self.rich("marketing.rounding")
        for d in sla.of(ast.Deliver):
            line = self.deliver(d)
            need = None
            if f is not None and f.stage(d.stage) is not None and d.period in PERIODS_PER_YEAR:
                needed = f.stage(d.stage).needed(d.period)
                key = "marketing.covers" if d.count.value >= needed else "marketing.short"
                need = self.rich(key, n=self.t.number(needed), period=self.p.period(d.period))
            data["commitments"].append({"line": line + self.last_end, "need": need,
                                        "short": need is not None and d.count.value < needed})
        title = self.words(sla.label) if sla.label else self.text("section.marketing")
        return Section("marketing", "marketing", title, data=data)

    def deliver(self, d: ast.Deliver) -> Rich:
        """"au moins 450 leads par mois" at the first stage, "au moins 90 MQL par mois" for a
        stage labelled "… (MQL)", else "au moins 90 leads au stade X par mois"."""
        args = {"count": d.count.value, "n": self.t.number(d.count.value),
                "period": self.p.period(d.period), "stage": self.p.stage_name(d.stage)}
        stages = self.rs.stages
        if stages and stages[0].name == d.stage:
            return self.rich("marketing.deliver_first", **args)
        stage = next((s for s in stages if s.name == d.stage), None)
        found = _ABBREVIATION.search(stage.label) if stage is not None and stage.label else None
        if found:
            return self.rich("marketing.deliver_abbr", abbr=found.group(1) or found.group(2),
                             **args)
        return self.rich("marketing.deliver", **args)

    def revenue_lines(self, f: Funnel, target) -> list[Rich]:
        money = self.p.money
        cur = f.currency
        lines = []
        if target is not None and target.period != "year":
            lines.append(self.rich(
                "marketing.formula.year", amount=money(target.amount.amount, cur),
                times=self.t.number(PERIODS_PER_YEAR[target.period]),
                result=money(f.revenue_target_per_year, cur)))
        lines.append(self.rich("marketing.formula.revenue",
                               target=money(f.revenue_target_per_year, cur),
                               share=self.t.percent(f.share),
                               result=money(f.marketing_revenue, cur)))
        return lines

    def funnel_rows(self, f: Funnel) -> list[dict]:
        money = self.p.money
        rows = []
        for need in reversed(f.stages):
            if need.stage == CUSTOMER:
                exact = f.customers
                formula = self.rich("marketing.formula.customers",
                                    revenue=money(f.marketing_revenue, f.currency),
                                    deal=money(f.average_deal, f.currency),
                                    result=self.exact(exact))
                name = self.rich("stage.customers")
            else:
                rates = " \u00d7 ".join(self.t.percent(r) for r in self._rates(need.stage))
                if "\u00d7" in rates:
                    rates = f"({rates})"
                formula = self.rich("marketing.formula.stage", customers=self.exact(f.customers),
                                    rates=rates, result=self.exact(need.per_year))
                name = self.p.stage_name(need.stage)
            rows.append({"stage": name, "formula": formula,
                         "year": self.t.number(need.needed("year")),
                         "month": self.t.number(need.needed("month"))})
        rows.reverse()
        return rows

    def _rates(self, stage: str) -> list[Decimal]:
        """The conversion rates from `stage` down to customer, in funnel order."""
        steps = {c.source: c for c in self.rs.sla_marketing.of(ast.Conversion)}
        rates = []
        while stage in steps and stage != CUSTOMER:
            rates.append(steps[stage].rate.value)
            stage = steps[stage].target
        return rates

    def exact(self, value: Decimal) -> str:
        """80 or 1 066,7: a whole number as it is, anything else to one decimal."""
        if value == value.to_integral_value():
            return self.t.number(value.to_integral_value())
        return self.t.rounded(value, 1)

    def sales(self) -> Section | None:
        sla = self.rs.sla_sales
        if sla is None:
            return None
        items = []
        touches = sla.first(ast.Touches)
        if touches:
            events = [self.p.det(self.p.event_noun(e), "bare") for e in touches.events]
            items.append(self.rich("sales.touches", count=len(events),
                                   events=self.t.rich_list(events, "and")))
        clauses = []
        for item in sla.items:
            if isinstance(item, ast.FirstTouch):
                args = {**self.delay_args(item.within),
                        "stage": self.p.stage_name(item.stage)}
                if item.cond is None:
                    clauses.append((self.rich("sales.first_touch", **args), None))
                else:
                    node = self.p.clause(item.cond)
                    if node.children:
                        clauses.append((self.rich(f"sales.first_touch_when_list.{node.mode}",
                                                  **args), node))
                    else:
                        clauses.append((self.rich("sales.first_touch_when", when=node.line,
                                                  **args), None))
            elif isinstance(item, ast.Attempts):
                clauses.append((self.rich("sales.attempts", count=item.count.value,
                                          n=self.t.number(item.count.value),
                                          **self.delay_args(item.within),
                                          stage=self.p.stage_name(item.stage)), None))
            elif isinstance(item, ast.AcceptReject):
                clauses.append((self.rich("sales.accept", **self.delay_args(item.within),
                                          stage=self.p.stage_name(item.stage)), None))
            elif isinstance(item, ast.Recycle):
                start = self.recycle_start(sla)
                form = "nurturing" if item.target == "nurturing" else "other"
                clauses.append((self.rich(
                    f"sales.recycle.{form}", delay=self.p.delay(item.after),
                    stage=self.p.stage_name(item.without),
                    start=self.rich("sales.recycle_start", stage=self.p.stage_name(start))
                    if start else "",
                    target=self.term(humanise(item.target))), None))
        commitments = [{"line": line + (self.last_end if node is None else ""), "node": node}
                       for line, node in clauses]
        cal = sla.first(ast.SlaCalendar)
        calendar = self.calendar(self.rs.calendars.get(cal.name)) if cal else None
        title = self.words(sla.label) if sla.label else self.text("section.sales")
        return Section("sales", "sales", title,
                       data={"intro": self.rich("sales.intro"), "touches": items, "commitments": commitments,
                             "calendar": calendar})

    def delay_args(self, d: ast.Duration) -> dict:
        """A commitment's delay, alone ("30 minutes") and after "de" ("d'une heure")."""
        delay = self.p.delay(d)
        return {"delay": delay, "of_delay": self.p.linked("de", delay)}

    def recycle_start(self, sla: ast.Sla) -> str | None:
        """The stage from which recycling counts, as the report does: the stage of the first
        unconditional first-touch rule, else of the first one, else the second stage."""
        touches = sla.of(ast.FirstTouch)
        general = next((t for t in touches if t.cond is None), touches[0] if touches else None)
        if general is not None:
            return general.stage
        return self.rs.stages[1].name if len(self.rs.stages) > 1 else None

    def calendar(self, cal: ast.Calendar | None) -> dict | None:
        if cal is None:
            return None
        hours = []
        for h in cal.hours:
            hours.append(self.rich("calendar.hours", days=self.p.days(h.days),
                                   times=self.p.times(h.windows)))
        city = self.t.zone_city(self.rs.timezone)
        zone = (self.rich("calendar.zone.city", of_city=self.p.linked("de", city)) if city
                else self.rich("calendar.zone.id", timezone=self.rs.timezone))
        hours_line = self.rich("calendar.intro", zone=zone,
                               hours=join_rich(hours, self.item_end + " "))
        # Holidays by year, the year said once: « Jours fériés 2027, qui ne comptent pas : … ».
        years: dict[int, list[Rich]] = {}
        for d in sorted(h.value for h in cal.holidays):
            years.setdefault(d.year, []).append(self.figure(self.t.day_month(d)))
        lines = [self.rich("calendar.holidays", count=len(days), year=str(year),
                           dates=self.t.rich_list(days, "and")) + self.last_end
                 for year, days in years.items()]
        return {"hours": hours_line + self.last_end,
                "holidays": join_rich(lines, " ") if lines else None}

    def channels(self) -> Section | None:
        ch = self.rs.channels
        if ch is None:
            return None
        rows = []
        total = Decimal(0)
        currency = self.rs.currency or "EUR"
        sym = self.rs.resolve(ast.Ref((ch.by,)))
        for c in ch.channels:
            value = self.p.export_value(sym.node if sym is not None else None, c.name)
            if c.cost is not None and c.period in PERIODS_PER_YEAR:
                yearly = c.cost.amount * PERIODS_PER_YEAR[c.period]
                total += yearly
                currency = c.cost.currency
                cost = self.rich("marketing.per", amount=self.p.money(c.cost.amount,
                                                                      c.cost.currency),
                                 period=self.p.period(c.period))
                yearly_text = self.p.money(yearly, c.cost.currency)
            else:
                cost, yearly_text = self.rich("channels.no_cost"), ""
            rows.append({"name": self.term(self.label(c)), "value": value, "cost": cost,
                         "yearly": yearly_text})
        field_name = self.p.field_ref(sym.node if sym is not None else None, ch.by)
        return Section("channels", "channels", self.text("section.channels"),
                       data={"intro": self.rich("channels.intro", field=field_name),
                             "rows": rows, "total": self.p.money(total, currency),
                             "headers": [self.text(f"channels.header.{k}") for k in
                                         ("channel", "value", "cost", "yearly")],
                             "total_label": self.text("channels.total")})

    def review(self) -> Section | None:
        a = self.rs.agreement
        if not a or not a.review:
            return None
        return Section("review", "review", self.text("section.review"),
                       data={"line": self.rich("review.every",
                                               period=self.text(f"period.every.{a.review}"))
                             + self.last_end, "change": self.rich("review.change")})

    def signatures(self, parties: list[Party]) -> Section | None:
        if not parties:
            return None
        return Section("signatures", "signatures", self.text("section.signatures"),
                       data={"intro": self.rich("signatures.intro", count=len(parties)),
                             "parties": parties})

    def appendix(self) -> Section | None:
        rs = self.rs
        if not rs.fields and not rs.events:
            return None
        fields = []
        for f in rs.fields.values():
            fields.append({"name": self.words(f.label) if f.label
                           else self.p.unlabelled(f.name, f.column, f.type.name),
                           "code": Rich([(CODE, f.name)]), "type": self.type_words(f.type),
                           "column": f.source_column, "key": f.key})
        events = [{"name": self.words(e.label) if e.label else _capital(humanise(e.name)),
                   "code": Rich([(CODE, e.name)]),
                   "properties": self.t.rich_list([
                       Rich([(TEXT, self.words(p.label))]) if p.label
                       else self.p.unlabelled(p.name, None, p.type.name)
                       for p in e.properties], "and")}
                  for e in rs.events.values()]
        return Section("appendix-data", "appendix", self.text("section.data"),
                       data={"intro": self.rich("data.intro"), "fields": fields, "events": events,
                             "field_headers": [self.text(f"data.header.{k}") for k in
                                               ("field", "name", "type", "column")],
                             "event_headers": [self.text(f"data.header.{k}") for k in
                                               ("event", "name", "properties")],
                             "events_title": self.text("data.events"),
                             "fields_title": self.text("data.fields"),
                             "key_note": self.text("data.key")})

    def type_words(self, spec: ast.TypeSpec) -> Rich:
        if spec.name == "enum":
            values = [self.p.quoted(export_spelling(m)) for m in spec.members]
            return self.rich("data.type.enum", values=self.t.rich_list(values, "and"))
        if spec.name == "money":
            code = getattr(spec, "currency", None) or self.rs.currency
            return self.rich("data.type.money", currency=self.t.currency_name(code) if code
                             else "")
        key = f"data.type.{spec.name}"
        return self.rich(key) if self.m.has(key) else Rich([(CODE, spec.name)])


def _rules(s: ast.Score):
    """The rules of a score, those inside its groups included."""
    for item in s.items:
        yield from (item.rules if isinstance(item, ast.Group) else (item,))


def _capital(text: str) -> str:
    """A name at the head of a table cell: job title -> Job title (MQL date stays)."""
    return text[:1].upper() + text[1:]


def _punctuate(items: list[Rich], item_end: str, last_end: str) -> list[Rich]:
    return [item + (last_end if i == len(items) - 1 else item_end)
            for i, item in enumerate(items)]


def _set_item(expr) -> str:
    if isinstance(expr, ast.String):
        return expr.value
    if isinstance(expr, ast.Ref):
        return expr.name
    if isinstance(expr, ast.Number):
        return format(expr.value.normalize(), "f")
    return str(expr)


def _number(expr) -> Decimal:
    if isinstance(expr, ast.Number):
        return expr.value
    if isinstance(expr, ast.Money):
        return expr.amount
    if isinstance(expr, ast.Percent):
        return expr.value
    return Decimal(0)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
