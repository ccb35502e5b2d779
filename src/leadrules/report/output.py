"""A Report -> its HTML page, Markdown, JSON, the per-lead results CSV and the CSV of every input
row that could not be used; files are written atomically (temp file in the folder, then rename).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from markupsafe import Markup, escape

from leadrules.report import activities as acts
from leadrules.report import metrics
from leadrules.report.compute import Report
from leadrules.report.view import View
from leadrules.report.view import build as build_view
from leadrules.writers import cell, score_cell

FORMATS = ("html", "md", "json")
_CODE = re.compile(r"`([^`]+)`")
_MD_SPECIAL = re.compile(r"([\\|*_\[\]<>#])")


def _code(text: str) -> Markup:
    """Escaped text with `this` shown as code."""
    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


def _md(text) -> str:
    """Text made inert in Markdown (no emphasis, links, tables or HTML from data)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("leadrules.report", "templates"),
                      autoescape=select_autoescape(["html.j2"]), undefined=StrictUndefined,
                      keep_trailing_newline=True, trim_blocks=False)
    env.filters["code"] = _code
    env.filters["md"] = _md
    return env


def html(view: View) -> str:
    return _environment().get_template("report.html.j2").render(view=view)


def markdown(view: View) -> str:
    text = _environment().get_template("report.md.j2").render(view=view)
    return re.sub(r"\n{3,}", "\n\n", text)


def render(report: Report, fmt: str, lang: str | None = None) -> str:
    """The report as `html`, `md` or `json` text; HTML and Markdown in `lang` (fr or en,
    default: the agreement's locale). JSON is for programs: its keys and values are the same
    in every language."""
    if fmt == "json":
        return to_json(report)
    view = build_view(report, lang)
    return html(view) if fmt == "html" else markdown(view)


# ----------------------------------------------------------------------------- JSON


def _plain(value):
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return float(round(value, 6))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 3600, 4)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _touch(t: metrics.LeadTouch) -> dict:
    return {"lead": t.key, "entered": _plain(t.entered), "due": _plain(t.due),
            "touched": _plain(t.touched), "business_hours": _plain(t.business),
            "status": t.status, "waiting_business_hours": _plain(t.waiting)}


def to_dict(report: Report) -> dict:
    """Every figure of the report, raw (durations in business hours, rates as fractions), and
    every input row that was not used."""
    v = report.volume
    w = report.window
    out: dict = {
        "title": report.title,
        "rules": report.rules,
        "fingerprint": report.fingerprint,
        "as_of": _plain(report.as_of),
        "period": {"from": w.start.isoformat(), "to": w.end.isoformat(), "timezone": w.zone.key},
        "inputs": {"leads": report.options.leads, "lead_rows": report.lead_rows,
                   "activities": report.log.path, "activity_rows": report.log.rows,
                   "activities_used": report.log.used,
                   "activity_columns": list(report.log.columns)},
        "volume": {
            "stages": list(v.stages),
            "months": [{"month": m.label, "from": m.start.isoformat(), "to": m.end.isoformat(),
                        "actual": m.actual, "plan": m.plan, "in_progress": m.current,
                        "to_come": m.future} for m in v.months],
            "total": v.totals, "plan_to_date": v.plan_totals, "plan_period": v.plan_full,
            "undated": v.undated, "disqualified": v.disqualified, "leads_in_period": v.cohort,
            "pacing": None if v.pace is None else {
                "month": v.pace.label, "elapsed": _plain(v.pace.elapsed),
                "actual": v.pace.actual,
                "expected": {k: _plain(x) for k, x in v.pace.expected.items()},
                "projected": {k: _plain(x) for k, x in v.pace.projected.items()},
                "plan": v.pace.plan},
            "commitments": [{"stage": s, "period": p, "promised": _plain(c),
                             "delivered_per_period": _plain(d), "needed": n}
                            for s, p, c, d, n in v.commitments],
        },
        "plan_note": report.plan_note,
        "conversion": [{"from": s.source, "to": s.target, "entered": s.entered,
                        "converted": s.converted, "actual": _plain(s.actual),
                        "assumed": _plain(s.assumed)} for s in report.steps],
        "channels": None,
        "follow_up": None,
        "outcome": None,
    }
    c = report.channels
    if c is not None:
        out["channels"] = {"by": c.by, "months": _plain(c.months), "currency": c.currency,
                           "rows": [{"channel": r.name, "label": r.label, "leads": r.leads,
                                     "reached": r.counts, "cost": _plain(r.cost),
                                     "cost_per_lead": _plain(r.cost / r.leads if r.cost is not
                                                             None and r.leads else None),
                                     "cost_per_customer": _plain(r.cost_per("customer")),
                                     "revenue": _plain(r.revenue), "declared": r.declared}
                                    for r in c.rows]}
    fu = report.follow_up
    if fu is not None:
        out["follow_up"] = {
            "calendar": fu.calendar, "timezone": fu.timezone,
            "touches": list(fu.touches) if fu.touches else None,
            "first_touch": [{"promise": r.text, "stage": r.stage, "condition": r.condition,
                             "counts": r.counts, "kept": _plain(r.share),
                             "median_business_hours": _plain(r.median),
                             "p90_business_hours": _plain(r.p90),
                             "leads": [_touch(t) for t in r.leads]} for r in fu.first_touch],
            "attempts": [{"promise": a.text, "required": a.required, "met": a.met,
                          "missed": a.missed, "not_yet_due": a.pending, "kept": _plain(a.share),
                          "missed_leads": [{"lead": k, "attempts": n} for k, n in a.missed_keys]}
                         for a in fu.attempts],
            "accept_or_reject": [{"promise": d.text, "in_time": d.in_time, "late": d.late,
                                  "no_decision": d.overdue, "not_yet_due": d.pending,
                                  "kept": _plain(d.share),
                                  "median_business_hours": _plain(d.median),
                                  "p90_business_hours": _plain(d.p90),
                                  "no_decision_leads": d.overdue_keys} for d in fu.decisions],
            "never_touched": [_touch(t) for t in fu.never_touched],
            "recycle": {"rule": fu.recycle_rule,
                        "leads": [{"lead": r.key, "stage": r.stage, "since": _plain(r.since),
                                   "days": r.days} for r in fu.recycle]},
        }
    o = report.outcome
    if o is not None:
        out["outcome"] = {
            "column": o.column, "leads": o.leads, "converted": o.converted,
            "unknown": o.unknown, "rate": _plain(o.rate),
            "breakdowns": [{"name": b.name, "label": b.label, "in_claimed_order": b.ordered,
                            "bands": [{"value": x.value, "label": x.label, "leads": x.leads,
                                       "converted": x.converted, "rate": _plain(x.rate),
                                       "lift": _plain(x.lift)} for x in b.bands]}
                           for b in o.breakdowns],
            "auc": [{"score": a.name, "label": a.label, "leads": a.leads, "auc": _plain(a.auc)}
                    for a in o.aucs],
        }
    out["not_used"] = {
        "activities": {reason: [{"row": p.row, "lead": p.lead, "type": p.type, "at": p.at,
                                 "detail": p.detail} for p in report.log.problems[reason]]
                       for reason in acts.REASONS},
        "lead_values": [vars_of(p) for p in report.lead_problems],
        "repeated_lead_keys": [vars_of(p) for p in report.duplicate_keys],
        "outcome_values": [vars_of(p) for p in report.outcome_problems],
    }
    return out


def vars_of(p) -> dict:
    return {"row": p.row, "column": p.column, "value": p.value, "problem": p.message}


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2, default=_plain) + "\n"


# ----------------------------------------------------------------------------- CSV files


def leads_csv(report: Report) -> str:
    """One row per lead: key, stage, grades, scores, when it entered each stage, its first
    touch and the business time it took, attempts, channel and outcome."""
    facts = report.facts
    grades = sorted({g for f in facts for g in f.evaluated.grades}, key=_order(facts, "grades"))
    scores = sorted({s for f in facts for s in f.evaluated.scores}, key=_order(facts, "scores"))
    stages = report.ladder.stages
    per_lead = report.follow_up.by_key if report.follow_up else {}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["lead", "row", "channel", "stage", *grades, *scores,
                *(f"entered_{s}" for s in stages), "first_touch_at",
                "first_touch_business_hours", "first_touch", "attempts", "outcome", "revenue"])
    zone = report.window.zone
    for f in facts:
        extra = per_lead.get(f.key, {})
        w.writerow([
            f.key, f.row, f.channel or "", f.evaluated.stage or "",
            *(cell(f.evaluated.grades.get(g)) for g in grades),
            *(score_cell(f.evaluated.scores.get(s)) for s in scores),
            *(cell(f.entered[s].astimezone(zone)) if s in f.entered else "" for s in stages),
            cell(extra["first_touch_at"].astimezone(zone)) if extra.get("first_touch_at") else "",
            cell(_plain(extra.get("first_touch_business"))),
            extra.get("first_touch_status", ""), cell(extra.get("attempts")),
            cell(f.outcome), cell(f.revenue)])
    return buf.getvalue()


def _order(facts, attr):
    first = getattr(facts[0].evaluated, attr) if facts else {}
    names = list(first)
    return lambda name: (names.index(name) if name in names else len(names), name)


def problems_csv(report: Report) -> str:
    """Every input row the report did not use, whatever the file and the reason."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", "row", "reason", "lead", "type", "column", "value", "detail"])
    for reason in acts.REASONS:
        for p in report.log.problems[reason]:
            w.writerow([report.log.path, p.row, reason, p.lead, p.type, report.log.columns[2],
                        p.at, p.detail])
    for reason, found in (("value does not fit its field", report.lead_problems),
                          ("repeated lead key", report.duplicate_keys),
                          ("outcome or revenue unreadable", report.outcome_problems)):
        for p in found:
            w.writerow([report.options.leads, p.row, reason, "", "", p.column, p.value,
                        p.message])
    return buf.getvalue()


def write_atomic(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) so that `path` is either the old file or the complete new one."""
    from leadrules.writers import AtomicFile

    out = AtomicFile(path)
    try:
        out.file.write(text.encode("utf-8"))
        # A temporary file is private (0600); the report is an ordinary file, shared as the
        # user's umask says.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(out.file.fileno(), 0o666 & ~umask)
    except BaseException:
        out.abort()
        raise
    out.commit()
