"""A Report + a language -> the view-model the HTML and Markdown templates render: sections of
headed paragraphs, tables of display strings and inline SVG charts, every word from the report's
message files (report/messages/<lang>.yaml) and every figure typeset by Babel for the language.
No template sees a Report or a syntax-tree node, only the strings and numbers prepared here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_percent
from markupsafe import Markup

from leadrules import ast, sla
from leadrules.model import Ruleset
from leadrules.render.messages import LANGUAGES, Messages
from leadrules.render.sentences import CondNode, Phrasing, humanise
from leadrules.report import activities as acts
from leadrules.report import charts, metrics
from leadrules.report.compute import Report, RowProblem
from leadrules.report.facts import DISQUALIFIED

# Rows of each list shown in HTML and Markdown; the JSON form and --problems-out have them all.
LIST_LIMIT = 500

# Why an activity row is not used -> its message keys (data.reason.*, data.detail.*).
REASON_KEYS = {acts.MISSING_LEAD: "missing_lead", acts.MISSING_TYPE: "missing_type",
               acts.UNKNOWN_LEAD: "unknown_lead", acts.BAD_TIMESTAMP: "bad_timestamp",
               acts.OUT_OF_RANGE: "out_of_range", acts.DUPLICATE: "duplicate",
               acts.MALFORMED: "malformed"}
DETAIL_KEYS = {acts.EMPTY_KEY: "empty_key", acts.EMPTY_TYPE: "empty_type",
               acts.NO_SUCH_LEAD: "no_such_lead", acts.HOW_TO_WRITE: "how_to_write",
               acts.TOO_EARLY: "too_early", acts.TOO_LATE: "too_late",
               acts.REPEATED: "repeated"}
# A stage label ending with its abbreviation, "Lead qualifié marketing (MQL)": the column
# headers and the charts use the abbreviation.
_ABBREVIATION = re.compile(r"\(([^()]{1,12})\)\s*$")


def abbreviated(label: str) -> str:
    """The abbreviation a label ends with ("Lead qualifié marketing (MQL)" -> "MQL"), else the
    label: what heads a column of figures per stage."""
    found = _ABBREVIATION.search(label)
    return found.group(1) if found else label


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)  # right-aligned columns
    caption: str = ""
    more: str = ""  # says how many rows were left out of this table (LIST_LIMIT)


@dataclass
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[tuple[str, Markup]] = field(default_factory=list)  # (caption, svg)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class View:
    lang: str
    title: str
    page_title: str
    subtitle: str
    facts: list[tuple[str, str]]  # the key figures at the top
    sections: list[Section]
    footer: str
    contents: str  # the label of the table of contents
    none: str  # what an empty table says
    colon: str  # after a key figure's name: ":" or, in French, " :"


def language_of(report: Report, lang: str | None = None) -> str:
    """`lang` when given, else the agreement's locale when the report speaks it, else English."""
    if lang:
        return lang
    locale = report.ruleset.locale if report.ruleset is not None else "en"
    return locale if locale in LANGUAGES else "en"


class Words:
    """The report's words and figures in one language: message lookups, and numbers, amounts,
    percentages, durations and instants typeset the way the language writes them."""

    def __init__(self, lang: str, rs: Ruleset | None) -> None:
        self.lang = lang
        self.m = Messages(lang, "leadrules.report")
        self.t = self.m.typo
        self.phrasing = Phrasing(rs, Messages(lang)) if rs is not None else None

    def __call__(self, key: str, count=None, **args) -> str:
        return self.m.text(key, count, **args)

    # -- figures

    def num(self, value, places: int | None = None) -> str:
        """1 066,7 / 1,066.7 with `places`; without, whole numbers show no decimals and the
        others at most two."""
        if value is None:
            return "–"
        d = value if isinstance(value, Decimal) else Decimal(str(value))
        if places is None:
            if d == d.to_integral_value():
                return self.t.number(d.to_integral_value())
            d = d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
            return self.t.number(d)
        return self.t.rounded(d, places) if places else self.t.number(
            d.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def pct(self, fraction, places: int | None = None) -> str:
        """0.4 -> 40 % / 40%; `places` fixes the decimals."""
        if fraction is None:
            return "–"
        d = fraction if isinstance(fraction, Decimal) else Decimal(str(fraction))
        pattern = self.t.locale.percent_formats[None].pattern
        if places:
            pattern = pattern.replace("#,##0", "#,##0." + "0" * places, 1)
        elif places is None:
            return self.t.percent(d)
        return format_percent(d, format=pattern, locale=self.t.locale,
                              decimal_quantization=True).replace("-", "\u2212")

    def money(self, amount, currency: str | None, places: int = 0) -> str:
        if amount is None:
            return "–"
        if not currency:
            return self.num(amount, places)
        d = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        pattern = self.t.locale.currency_formats["standard"].pattern
        if not places:
            pattern = re.sub(r"\.0+", "", pattern)
        return format_currency(d, currency, format=pattern, locale=self.t.locale,
                               currency_digits=False).replace("-", "\u2212")

    def hours(self, delta: timedelta | None) -> str:
        """A (business) duration: 3 h 05."""
        if delta is None:
            return "–"
        minutes = int(round(delta.total_seconds() / 60))
        h, m = divmod(abs(minutes), 60)
        text = self("format.hours", h=self.t.number(h), m=f"{m:02d}")
        return ("\u2212" if minutes < 0 else "") + text

    def instant(self, instant: datetime | None, zone) -> str:
        if instant is None:
            return "–"
        return instant.astimezone(zone).strftime(self("format.instant"))

    def month(self, day: date, short: bool = False, capital: bool = True) -> str:
        """"Avril 2027" at the head of a table row; "avril 2027" inside a sentence."""
        pattern = self("format.month_short" if short else "format.month_long")
        text = format_date(day, pattern, locale=self.t.locale)
        return text[:1].upper() + text[1:] if capital else text

    def day(self, day: date) -> str:
        return self.t.date(day)

    # -- words of the agreement

    def duration(self, d: ast.Duration) -> str:
        if self.phrasing is not None:
            return self.phrasing.duration(d)
        return f"{self.num(d.amount)} {d.unit}"

    def condition(self, cond: ast.Cond | None, fallback: str | None) -> str:
        if cond is None or self.phrasing is None:
            return fallback or ""
        return self._flat(self.phrasing.clause(cond))

    def _flat(self, node: CondNode) -> str:
        if node.is_leaf:
            return node.text.plain
        parts = [self._flat(item) for item in node.items]
        return (self.t.list_and if node.mode == "all" else self.t.list_or)(parts)

    def event(self, name: str) -> str:
        """An activity type in a sentence: "appel commercial", as the agreement writes it."""
        if self.phrasing is None:
            return humanise(name)
        p = self.phrasing
        return p.det(p.event_noun(name), "bare").plain

    def hours_of(self, calendar: ast.Calendar) -> str:
        """The working hours of a calendar in words: "du lundi au jeudi, de 9 h à 12 h 30 …"."""
        p = self.phrasing
        parts = [p.m.text("calendar.hours", days=p.days(h.days), times=p.times(h.windows))
                 for h in calendar.hours]
        return (p.m.text("punct.item") + " ").join(parts)

    def field(self, name: str) -> str:
        if self.phrasing is None:
            return f"`{name}`"
        sym = self.phrasing.rs.fields.get(name)
        return self.phrasing.field_ref(sym, name).plain


class _Builder:
    def __init__(self, report: Report, lang: str) -> None:
        self.r = report
        self.w = Words(lang, report.ruleset)
        self.zone = report.window.zone

    # -- names

    def stage(self, name: str) -> str:
        """A stage as a column header: its label, or the abbreviation the label ends with."""
        return abbreviated(self.stage_label(name))

    def stage_label(self, name: str) -> str:
        if name == sla.CUSTOMER and name not in (self.r.ruleset.stage_names
                                                 if self.r.ruleset else ()):
            return self.w("stage.customer")
        if name == DISQUALIFIED:
            return self.w("stage.disqualified")
        if name == metrics.NOT_GIVEN:
            return self.w("stage.not_given")
        label = self.r.ladder.labels.get(name)
        return self.w.t.words(label) if label and label != name else humanise(name)

    def named(self, label: str, name: str) -> str:
        """"Chaud (hot)": a label with the name the rules use, when they differ."""
        if name == metrics.NOT_GIVEN:
            return self.w("stage.not_given")
        shown = self.w.t.words(label) if label != name else humanise(name)
        return shown if label == name else f"{shown} ({name})"

    def shown(self, label: str) -> str:
        if label == metrics.NOT_GIVEN:
            return self.w("stage.not_given")
        return self.w.t.words(label)

    def local(self, instant: datetime | None) -> str:
        return self.w.instant(instant, self.zone)

    def vs(self, actual: int, planned: int | None) -> str:
        if planned is None:
            return self.w.num(actual)
        return self.w("volume.vs", actual=self.w.num(actual), plan=self.w.num(planned))

    def limited(self, items: list, row) -> tuple[list[list[str]], str]:
        """The first LIST_LIMIT items as table rows, and the note saying how many are not."""
        more = max(0, len(items) - LIST_LIMIT)
        note = self.w("document.more", count=more, n=self.w.num(more)) if more else ""
        return [row(x) for x in items[:LIST_LIMIT]], note

    def chart(self, section: Section, caption: str, draw, *args) -> None:
        section.charts.append((caption, draw(*args, caption, self.chart_words())))

    def chart_words(self) -> charts.ChartWords:
        w = self.w
        return charts.ChartWords(
            actual=w("chart.actual"), plan=w("chart.plan"), legend=w("chart.legend"),
            planned=lambda label, actual, plan: w("chart.planned", label=label,
                                                  actual=w.num(actual), plan=w.num(plan)),
            count=lambda label, n: w("chart.count", label=label, n=w.num(n)),
            rate=lambda label, rate, n: w("chart.rate", label=label, rate=rate, n=w.num(n)),
            all_leads=lambda rate: w("chart.all_leads", rate=rate),
            num=w.num, pct=lambda x: w.pct(x, 0))

    # -- the whole report

    def view(self) -> View:
        r, w = self.r, self.w
        win = r.window
        as_of = r.as_of.astimezone(self.zone)
        facts = [
            (w("facts.as_of"), w("document.at", date=w.day(as_of.date()),
                                 time=w.t.time(as_of.time().replace(second=0, microsecond=0)),
                                 zone=win.zone.key)),
            (w("facts.period"), w("document.period", start=w.day(win.start),
                                  end=w.day(win.end))),
            (w("facts.leads"), w.num(r.lead_rows)),
            (w("facts.activities"), w("facts.used_of", used=w.num(r.log.used),
                                      rows=w.num(r.log.rows))),
        ]
        v = r.volume
        if "mql" in v.stages:
            facts.append((w("facts.delivered", stage=self.stage("mql")),
                          self.vs(v.totals["mql"], v.plan_totals.get("mql"))))
        if r.follow_up and r.follow_up.first_touch:
            rule = r.follow_up.first_touch[0]
            facts.append((w("facts.touched", delay=w.duration(rule.within)),
                          w.pct(rule.share, 1)))
        if r.outcome is not None:
            facts.append((w("facts.conversion"), w.pct(r.outcome.rate, 1)))
        sections = [self.volume(), self.conversion()]
        if r.channels is not None:
            sections.append(self.channels())
        if r.follow_up is not None:
            sections.append(self.follow_up())
        if r.outcome is not None:
            sections.append(self.outcome())
        sections.append(self.quality())
        shown_as_of = self.local(r.as_of)
        return View(
            lang=w.lang, title=r.title, page_title=w("document.title", title=r.title),
            subtitle=w("document.subtitle", rules=r.rules), facts=facts, sections=sections,
            footer=w("document.footer", rules=r.rules, fingerprint=r.fingerprint,
                     as_of=shown_as_of),
            contents=w("document.contents"), none=w("document.none"),
            colon=w("document.colon"))

    # -- volume

    def volume(self) -> Section:
        r, w = self.r, self.w
        v = r.volume
        s = Section("volume", w("volume.title"))
        if r.plan is None:
            rs = r.ruleset
            s.paragraphs.append(w("volume.no_sla") if rs is None or rs.sla_marketing is None
                                else w("volume.no_funnel"))
        else:
            s.paragraphs.append(w("volume.intro"))
        headers = [w("volume.month"), *(self.stage(st) for st in v.stages)]
        rows = []
        for m in v.months:
            name = w.month(m.start)
            if m.current:
                name = w("volume.in_progress", month=name)
            elif m.future:
                name = w("volume.to_come", month=name)
            rows.append([name, *(self.vs(m.actual[st], m.plan[st]) for st in v.stages)])
        rows.append([w("volume.total"), *(self.vs(v.totals[st], v.plan_totals[st])
                                          for st in v.stages)])
        if any(v.undated.values()):
            rows.append([w("volume.undated"), *(w.num(v.undated[st]) for st in v.stages)])
        s.tables.append(Table(headers, rows, set(range(1, len(headers))), w("volume.caption")))
        if v.disqualified:
            s.paragraphs.append(w("volume.disqualified", count=v.disqualified,
                                  n=w.num(v.disqualified)))
        if any(v.undated.values()):
            s.paragraphs.append(w("volume.undated_note"))
        if v.pace is not None and r.plan is not None:
            s.tables.append(self.pacing())
        for stage, period, promised, delivered, need in v.commitments:
            per = w(f"period.{period}")
            verdict = w("volume.kept") if delivered >= promised else w("volume.not_kept")
            text = w("volume.commitment", count=promised, n=w.num(promised),
                     stage=self.stage_label(stage), period=per, delivered=w.num(delivered, 1),
                     verdict=verdict)
            if need is not None:
                text += " " + w("volume.need", n=w.num(need), period=per)
            s.paragraphs.append(text)
        if r.plan is None and not any(v.totals.values()):
            return s  # nothing dated and nothing planned: no chart to draw
        chart_rows = [(self.stage(st), v.totals[st], v.plan_totals[st]) for st in v.stages]
        self.chart(s, w("volume.chart_funnel"), charts.funnel, chart_rows)
        paced = self.paced_stage()
        if paced is not None and v.months:
            self.chart(s, w("volume.chart_pacing", stage=self.stage(paced)), charts.pacing,
                       [(w.month(m.start, short=True), m.actual[paced], m.plan[paced], m.current)
                        for m in v.months if not m.future])
        return s

    def pacing(self) -> Table:
        w = self.w
        v = self.r.volume
        p = v.pace
        rows = []
        for st in v.stages:
            expected, projected, planned = p.expected[st], p.projected[st], p.plan[st]
            verdict = "–"
            if expected is not None and planned is not None and projected is not None:
                # Behind only when a whole lead short of the pace: early in a month the pace
                # expects a fraction of a lead, and nobody is late for 0.4 of one.
                verdict = w("volume.pace.on_track") if p.actual[st] >= int(expected) \
                    else w("volume.pace.behind")
            rows.append([self.stage(st), w.num(p.actual[st]),
                         w.num(expected, 1) if expected is not None else "–",
                         w.num(projected, 0) if projected is not None else "–",
                         w.num(planned) if planned is not None else "–", verdict])
        month = next((m.start for m in v.months if m.current), None)
        caption = w("volume.pace.caption",
                    month=w.month(month, capital=False) if month else p.label,
                    share=w.pct(p.elapsed, 0))
        return Table([w(f"volume.pace.{k}") for k in ("stage", "so_far", "expected", "heading",
                                                       "plan", "pace")],
                     rows, {1, 2, 3, 4}, caption)

    def paced_stage(self) -> str | None:
        v = self.r.volume
        for c in v.commitments:
            if c[0] in v.stages:
                return c[0]
        if "mql" in v.stages:
            return "mql"
        return v.stages[0] if v.stages else None

    # -- conversion

    def conversion(self) -> Section:
        w = self.w
        s = Section("conversion", w("conversion.title"))
        if not self.r.steps:
            s.paragraphs.append(w("conversion.none"))
            return s
        intro = w("conversion.intro")
        if self.r.outcome is not None:
            intro += " " + w("conversion.outcome", column=self.r.outcome.column)
        s.paragraphs.append(intro)
        rows = []
        for step in self.r.steps:
            actual = step.actual
            gap = "–"
            if actual is not None and step.assumed is not None:
                points = (actual - step.assumed) * 100
                gap = w("format.points", n=("+" if points >= 0 else "") + w.num(points, 1))
            rows.append([f"{self.stage(step.source)} → {self.stage(step.target)}",
                         w.num(step.entered), w.num(step.converted), w.pct(actual, 1),
                         w.pct(step.assumed), gap])
        s.tables.append(Table([w(f"conversion.{k}") for k in ("step", "entered", "converted",
                                                               "actual", "assumed",
                                                               "difference")],
                              rows, {1, 2, 3, 4, 5}))
        return s

    # -- channels

    def channels(self) -> Section:
        w = self.w
        c = self.r.channels
        cur = c.currency
        s = Section("channels", w("channels.title"))
        months = Decimal(c.months).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        whole = months == months.to_integral_value()
        s.paragraphs.append(w("channels.intro", count=months, field=w.field(c.by),
                              months=w.num(months, 0 if whole else 1)))
        stages = self.r.ladder.stages
        mql = "mql" if "mql" in stages else (stages[1] if len(stages) > 1 else stages[0])
        headers = [w("channels.channel"), w("channels.leads"),
                   *(self.stage(st) for st in stages[1:]),
                   w("channels.to_customer", first=self.stage(stages[0]),
                     last=self.stage(sla.CUSTOMER)),
                   w("channels.cost"), *(w("channels.per", stage=Phrasing.lower_first(
                       self.stage(st))) for st in (stages[0], mql, sla.CUSTOMER))]
        if c.has_revenue:
            headers += [w("channels.revenue"), w("channels.revenue_per_cost")]
        rows = []
        for ch in c.rows:
            per_lead = ch.cost / ch.leads if ch.cost is not None and ch.leads else None
            row = [self.named(ch.label, ch.name), w.num(ch.leads),
                   *(w.num(ch.counts[st]) for st in stages[1:]), w.pct(ch.lead_to_customer, 1),
                   w.money(ch.cost, cur, 0), w.money(per_lead, cur, 2),
                   w.money(ch.cost_per(mql), cur, 2), w.money(ch.cost_per(sla.CUSTOMER), cur, 2)]
            if c.has_revenue:
                row += [w.money(ch.revenue, cur, 0),
                        w.num(ch.revenue / ch.cost, 2) if ch.revenue is not None and ch.cost
                        else "–"]
            rows.append(row)
        s.tables.append(Table(headers, rows, set(range(1, len(headers)))))
        return s

    # -- follow-up

    def promise(self, rule: metrics.TouchRule) -> str:
        w = self.w
        args = {"delay": w.duration(rule.within), "stage": self.stage(rule.stage)}
        if rule.cond is None and rule.condition is None:
            return w("follow_up.first_touch", **args)
        return w("follow_up.first_touch_when", condition=w.condition(rule.cond, rule.condition),
                 **args)

    def bins(self, rule: metrics.TouchRule) -> list[tuple[str, int, bool]]:
        limit = _limit_hours(rule)
        edges = list(metrics.TOUCH_BINS)
        counts = [0] * (len(edges) + 1)
        for d in rule.delays:
            h = d.total_seconds() / 3600
            i = next((k for k, e in enumerate(edges) if h <= e), len(edges))
            counts[i] += 1
        out = [(f"≤ {self.short_hours(e)}", counts[k], limit is None or e <= limit)
               for k, e in enumerate(edges)]
        out.append((f"> {self.short_hours(edges[-1])}", counts[-1], False))
        return out

    def short_hours(self, value: float) -> str:
        if value < 1:
            return f"{int(value * 60)}\u00a0min"
        return f"{self.w.num(Decimal(str(value)))}\u00a0h"

    def follow_up(self) -> Section:
        w = self.w
        fu = self.r.follow_up
        s = Section("follow-up", w("follow_up.title"))
        touches = (self.w.t.list_and([w.event(e) for e in fu.touches]) if fu.touches
                   else w("follow_up.every_activity"))
        declared = self.r.ruleset.calendars.get(fu.calendar) if fu.calendar_declared and \
            self.r.ruleset is not None else None
        hours = w.hours_of(declared) if declared is not None and declared.hours and \
            w.phrasing is not None else w("follow_up.default_calendar")
        s.paragraphs.append(w("follow_up.intro", hours=hours, zone=fu.timezone,
                              touches=touches))
        h = {k: w(f"follow_up.{k}") for k in (
            "promise", "due", "in_time", "late", "never", "pending", "kept", "median", "p90",
            "met", "missed", "no_decision", "lead", "entered", "was_due", "waiting", "stage",
            "since", "days")}
        rows = []
        for r in fu.first_touch:
            c = r.counts
            rows.append([self.promise(r), w.num(r.measured), w.num(c[metrics.IN_TIME]),
                         w.num(c[metrics.LATE]), w.num(c[metrics.OVERDUE]),
                         w.num(c[metrics.PENDING]), w.pct(r.share, 1), w.hours(r.median),
                         w.hours(r.p90)])
        if rows:
            s.tables.append(Table([h[k] for k in ("promise", "due", "in_time", "late", "never",
                                                  "pending", "kept", "median", "p90")],
                                  rows, set(range(1, 9)), w("follow_up.first_touch_caption")))
        for r in fu.first_touch:
            if r.delays:
                self.chart(s, w("follow_up.chart", promise=self.promise(r)), charts.histogram,
                           self.bins(r))
        arows = [[w("follow_up.attempts", count=a.required, n=w.num(a.required),
                    delay=w.duration(a.within), stage=self.stage(a.stage)),
                  w.num(a.met + a.missed), w.num(a.met), w.num(a.missed), w.num(a.pending),
                  w.pct(a.share, 1)] for a in fu.attempts]
        if arows:
            s.tables.append(Table([h[k] for k in ("promise", "due", "met", "missed", "pending",
                                                  "kept")],
                                  arows, {1, 2, 3, 4, 5}, w("follow_up.attempts_caption")))
        drows = [[w("follow_up.decision", delay=w.duration(d.within), stage=self.stage(d.stage)),
                  w.num(d.in_time + d.late + d.overdue), w.num(d.in_time), w.num(d.late),
                  w.num(d.overdue), w.num(d.pending), w.pct(d.share, 1), w.hours(d.median),
                  w.hours(d.p90)] for d in fu.decisions]
        if drows:
            s.tables.append(Table([h[k] for k in ("promise", "due", "in_time", "late",
                                                  "no_decision", "pending", "kept", "median",
                                                  "p90")],
                                  drows, set(range(1, 9)), w("follow_up.decision_caption")))
        never = fu.never_touched
        shown, more = self.limited(never, lambda t: [t.key, self.local(t.entered),
                                                     self.local(t.due), w.hours(t.waiting)])
        s.tables.append(Table([h["lead"], h["entered"], h["was_due"], h["waiting"]], shown,
                              {3}, w("follow_up.never_caption", n=w.num(len(never))), more))
        item = fu.recycle_item
        if item is not None:
            rule = w("follow_up.recycle", target=humanise(item.target),
                     delay=w.duration(item.after), stage=self.stage(item.without))
            shown, more = self.limited(fu.recycle, lambda x: [x.key, self.stage(x.stage),
                                                              self.local(x.since), w.num(x.days)])
            s.tables.append(Table([h["lead"], h["stage"], h["since"], h["days"]], shown, {3},
                                  w("follow_up.recycle_caption", rule=rule,
                                    n=w.num(len(fu.recycle))), more))
        return s

    # -- outcome

    def outcome(self) -> Section:
        w = self.w
        o = self.r.outcome
        s = Section("outcome", w("outcome.title", column=o.column))
        intro = w("outcome.intro", converted=w.num(o.converted), leads=w.num(o.leads),
                  rate=w.pct(o.rate, 1))
        if o.unknown:
            intro += " " + w("outcome.unknown", count=o.unknown, n=w.num(o.unknown))
        s.paragraphs.append(intro + " " + w("outcome.lift") + " " + w("outcome.stage_note"))
        headers = [w(f"outcome.{k}") for k in ("band", "leads", "converted", "rate",
                                                "lift_header")]
        for b in o.breakdowns:
            is_stage = b.name == "stage"
            rows = [[self.stage_label(band.value) if is_stage
                     else self.named(band.label, band.value),
                     w.num(band.leads), w.num(band.converted), w.pct(band.rate, 1),
                     w.num(band.lift, 2) if band.lift is not None else "–"]
                    for band in b.bands]
            grade = w("outcome.stage") if is_stage else self.named(b.label, b.name)
            caption = grade
            if b.ordered is True:
                caption = w("outcome.ordered", grade=grade)
            elif b.ordered is False:
                caption = w("outcome.not_ordered", grade=grade)
            s.tables.append(Table(headers, rows, {1, 2, 3, 4}, caption))
            if not is_stage and b.bands:
                self.chart(s, w("outcome.chart", grade=w.t.words(b.label)), charts.rates,
                           [(self.shown(band.label), band.rate, band.leads) for band in b.bands],
                           o.rate)
        rows = [[self.named(a.label, a.name), w.num(a.leads),
                 w.num(a.auc, 3) if a.auc is not None else "–", self.auc_words(a.auc)]
                for a in o.aucs]
        s.tables.append(Table([w(f"outcome.{k}") for k in ("score", "leads", "auc", "reading")],
                              rows, {1, 2}, w("outcome.auc_caption")))
        return s

    def auc_words(self, value: Decimal | None) -> str:
        if value is None:
            key = "none"
        elif value >= Decimal("0.8"):
            key = "very_well"
        elif value >= Decimal("0.7"):
            key = "well"
        elif value >= Decimal("0.6"):
            key = "somewhat"
        elif value > Decimal("0.5"):
            key = "barely"
        else:
            key = "chance"
        return self.w(f"outcome.auc_{key}")

    # -- data quality

    def quality(self) -> Section:
        r, w = self.r, self.w
        s = Section("data", w("data.title"))
        log = r.log
        s.paragraphs.append(w("data.activities", count=log.rows, n=w.num(log.rows), path=log.path,
                              columns=w.t.list_and(list(log.columns)), used=w.num(log.used),
                              unused=w.num(log.problem_count)))
        s.paragraphs.append(w("data.leads", count=r.lead_rows, n=w.num(r.lead_rows),
                              bad=w.num(len(r.lead_problems)),
                              repeated=w.num(len(r.duplicate_keys))))
        summary = [[self.reason(reason), w.num(len(log.problems[reason]))]
                   for reason in acts.REASONS]
        s.tables.append(Table([w("data.not_used"), w("data.count")], summary, {1}))
        for reason in acts.REASONS:
            found = log.problems[reason]
            if not found:
                continue
            rows, more = self.limited(found, lambda p: [w.num(p.row), p.lead, p.type, p.at,
                                                        self.detail(p.detail)])
            s.tables.append(Table([w(f"data.{k}") for k in ("row", "lead", "type", "timestamp",
                                                             "why")],
                                  rows, {0}, w("data.caption", reason=self.reason(reason),
                                               n=w.num(len(found))), more))
        for key, found in (("lead_values", r.lead_problems), ("repeated_keys", r.duplicate_keys),
                           ("outcome_values", r.outcome_problems)):
            if found:
                rows, more = self.limited(found, lambda p: [w.num(p.row), p.column, p.value,
                                                            self.problem(p)])
                s.tables.append(Table([w(f"data.{k}") for k in ("row", "column", "value",
                                                                 "problem")],
                                      rows, {0}, w(f"data.{key}", n=w.num(len(found))), more))
        if r.undated_leads:
            s.paragraphs.append(w("data.undated", count=r.undated_leads,
                                  n=w.num(r.undated_leads)))
        return s

    def reason(self, reason: str) -> str:
        return self.w(f"data.reason.{REASON_KEYS[reason]}")

    def problem(self, p: RowProblem) -> str:
        """What is wrong with a value, in the report's language."""
        if not p.key:
            return p.message
        return self.w(f"data.value_problem.{p.key}", **dict(p.params))

    def detail(self, detail: str) -> str:
        key = DETAIL_KEYS.get(detail)
        return self.w(f"data.detail.{key}") if key else detail


def _limit_hours(rule: metrics.TouchRule) -> float | None:
    d = rule.within
    if d.unit == "minutes":
        return float(d.amount) / 60
    if d.unit == "hours":
        return float(d.amount)
    return None


def build(report: Report, lang: str | None = None) -> View:
    """The view of `report` in `lang` (fr or en; default: the agreement's locale)."""
    return _Builder(report, language_of(report, lang)).view()
