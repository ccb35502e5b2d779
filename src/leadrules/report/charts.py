"""Figures -> small inline SVG charts (funnel against plan, monthly pacing, time to first touch,
conversion by grade): no script, no font or file from the network, every text escaped, labels
never cut (long ones wrap, and the chart widens to hold them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

ACTUAL = "#2f6db5"
PLAN = "#9aa5b1"
GOOD = "#2e8540"
BAD = "#c0392b"
MUTED = "#d5dbe1"
INK = "#1f2933"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:12px"
# Average advance of a character of the sans-serif fonts above, in pixels per pixel of font
# size: enough room for a label without measuring it.
CHAR = 0.6


@dataclass(frozen=True)
class ChartWords:
    """The words and number formats of the charts, in the report's language."""

    actual: str = "actual"
    plan: str = "plan"
    legend: str = "green: plan met, red: short, light: in progress; line: plan"
    planned: Callable[[str, int, int], str] = lambda label, actual, plan: \
        f"{label}: {actual} of {plan} planned"
    count: Callable[[str, int], str] = lambda label, n: f"{label}: {n}"
    rate: Callable[[str, str, int], str] = lambda label, rate, n: f"{label}: {rate} of {n} leads"
    all_leads: Callable[[str], str] = lambda rate: f"all leads: {rate}"
    num: Callable[[object], str] = str
    pct: Callable[[float], str] = lambda x: f"{x * 100:.0f} %"


def _t(text) -> str:
    return escape(str(text), quote=True)


def _width(text: str, size: int = 12) -> float:
    return len(text) * size * CHAR


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, cut between words (a longer word stays
    whole on its line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _lines(x: float, y: float, lines: list[str], anchor: str, size: int = 10) -> str:
    """A text of several lines, the first at `y`."""
    spans = "".join(f'<tspan x="{x:.1f}" dy="{0 if i == 0 else size + 2}">{_t(line)}</tspan>'
                    for i, line in enumerate(lines))
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}" '
            f'font-size="{size}">{spans}</text>')


def _svg(width: float, height: float, title: str, body: list[str]) -> Markup:
    """The chart; its title is the accessible name (the page shows it as the caption)."""
    width, height = int(round(width)), int(round(height))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px;{FONT}" role="img" aria-label="{_t(title)}">'
        f"<title>{_t(title)}</title>" + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return float(top)
    return float(10 * magnitude)


def funnel(rows: list[tuple[str, int, int | None]], title: str,
           words: ChartWords = ChartWords()) -> Markup:
    """One horizontal bar per stage: what came in (filled) against the plan (outline)."""
    bar_w, row_h = 300, 30
    label_w = max(110, max((_width(label) for label, _, _ in rows), default=0) + 16)
    shown = [words.num(a) + (f" / {words.num(p)}" if p else "") for _, a, p in rows]
    value_w = max([_width(text) for text in shown] + [60]) + 12
    height = 30 + row_h * len(rows) + 10
    top = _nice_max(max([a for _, a, _ in rows] + [p or 0 for _, _, p in rows] + [1]))
    legend_gap = _width(words.actual) + 30
    body = [f'<rect x="{label_w:.1f}" y="4" width="12" height="10" fill="{ACTUAL}"/>'
            f'<text x="{label_w + 16:.1f}" y="13" fill="{INK}">{_t(words.actual)}</text>'
            f'<rect x="{label_w + legend_gap:.1f}" y="4" width="12" height="10" fill="none" '
            f'stroke="{INK}" stroke-dasharray="3,2"/>'
            f'<text x="{label_w + legend_gap + 16:.1f}" y="13" fill="{INK}">'
            f"{_t(words.plan)}</text>"]
    for i, (label, actual, planned) in enumerate(rows):
        y = 30 + i * row_h
        w = bar_w * actual / top
        body.append(f'<text x="{label_w - 8:.1f}" y="{y + 17}" text-anchor="end" fill="{INK}">'
                    f"{_t(label)}</text>")
        body.append(f'<rect x="{label_w:.1f}" y="{y + 4}" width="{w:.1f}" height="20" '
                    f'fill="{ACTUAL}"/>')
        if planned:
            pw = bar_w * planned / top
            body.append(f'<rect x="{label_w:.1f}" y="{y + 2}" width="{pw:.1f}" height="24" '
                        f'fill="none" stroke="{INK}" stroke-dasharray="3,2"/>')
        body.append(f'<text x="{label_w + max(w, (bar_w * (planned or 0) / top)) + 6:.1f}" '
                    f'y="{y + 18}" fill="{INK}">{_t(shown[i])}</text>')
    return _svg(label_w + bar_w + value_w, height, title, body)


def pacing(months: list[tuple[str, int, int | None, bool]], title: str,
           words: ChartWords = ChartWords()) -> Markup:
    """Vertical bars per month (actual) with the plan as a tick; the month in progress lighter."""
    left, plot_h = 40, 160
    col_w = max([44] + [_width(label, 10) + 12 for label, _, _, _ in months])
    width = left + col_w * max(len(months), 1) + 10
    top = _nice_max(max([a for _, a, _, _ in months] + [p or 0 for _, _, p, _ in months] + [1]))
    base = 30 + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10:.1f}" y2="{base}" stroke="{INK}"/>',
            f'<text x="{left - 4}" y="34" text-anchor="end" fill="{INK}">'
            f"{_t(words.num(int(top)))}</text>",
            f'<text x="{left - 4}" y="{base}" text-anchor="end" fill="{INK}">0</text>']
    for i, (label, actual, planned, current) in enumerate(months):
        x = left + i * col_w + 8
        bar = col_w - 16
        h = plot_h * actual / top
        colour = ACTUAL if not current else "#8fb3de"
        if planned is not None and not current:
            colour = GOOD if actual >= planned else BAD
        tip = words.planned(label, actual, planned) if planned is not None \
            else words.count(label, actual)
        body.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{_t(tip)}</title></rect>')
        if planned is not None:
            py = base - plot_h * planned / top
            body.append(f'<line x1="{x - 4:.1f}" y1="{py:.1f}" x2="{x + bar + 4:.1f}" '
                        f'y2="{py:.1f}" stroke="{INK}" stroke-width="2"/>')
        body.append(_lines(x + bar / 2, base + 14, [label], "middle"))
    legend_w = _width(words.legend, 10) + left + 10
    body.append(f'<text x="{left}" y="{base + 30}" fill="{INK}" font-size="10">'
                f"{_t(words.legend)}</text>")
    return _svg(max(width, 360, legend_w), base + 36, title, body)


def histogram(bins: list[tuple[str, int, bool]], title: str,
              words: ChartWords = ChartWords()) -> Markup:
    """Leads per band of time to first touch; bands within the promise in green."""
    left, plot_h = 40, 140
    col_w = max([62] + [_width(label, 10) + 16 for label, _, _ in bins])
    width = left + col_w * len(bins) + 10
    top = _nice_max(max([n for _, n, _ in bins] + [1]))
    base = 30 + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10:.1f}" y2="{base}" stroke="{INK}"/>',
            f'<text x="{left - 4}" y="34" text-anchor="end" fill="{INK}">'
            f"{_t(words.num(int(top)))}</text>"]
    for i, (label, count, ok) in enumerate(bins):
        x = left + i * col_w + 6
        bar = col_w - 12
        h = plot_h * count / top
        body.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{GOOD if ok else BAD}"><title>{_t(words.count(label, count))}'
                    "</title></rect>")
        body.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" '
                    f'text-anchor="middle" fill="{INK}" font-size="10">'
                    f"{_t(words.num(count))}</text>")
        body.append(_lines(x + bar / 2, base + 14, [label], "middle"))
    return _svg(max(width, 360), base + 24, title, body)


def rates(bars: list[tuple[str, object, int]], overall, title: str,
          words: ChartWords = ChartWords()) -> Markup:
    """Conversion rate per band (fractions, None when unknown), with the overall rate as a
    dashed line. Long band labels wrap under their bar."""
    left, plot_h = 40, 140
    wrapped = [wrap(label, 14) for label, _, _ in bars]
    col_w = max([70] + [_width(line, 10) + 16 for lines in wrapped for line in lines])
    depth = max((len(lines) for lines in wrapped), default=1)
    width = left + col_w * max(len(bars), 1) + 10
    values = [float(r) for _, r, _ in bars if r is not None] + \
        ([float(overall)] if overall else [])
    top = min(1.0, max(values + [0.01]) * 1.15)
    base = 36 + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10:.1f}" y2="{base}" stroke="{INK}"/>']
    for i, (label, rate, n) in enumerate(bars):
        x = left + i * col_w + 8
        bar = col_w - 16
        h = plot_h * float(rate or 0) / top
        shown = words.pct(rate) if rate is not None else "–"
        body.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{ACTUAL}"><title>{_t(words.rate(label, shown, n))}</title></rect>')
        body.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" '
                    f'text-anchor="middle" fill="{INK}" font-size="10">{_t(shown)}</text>')
        body.append(_lines(x + bar / 2, base + 14, wrapped[i], "middle"))
    if overall is not None:
        # The overall rate is named in a key above the plot, where no bar label can cover it.
        y = base - plot_h * float(overall) / top
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10:.1f}" y2="{y:.1f}" '
                    f'stroke="{INK}" stroke-dasharray="4,3"/>')
        body.append(f'<line x1="{left}" y1="10" x2="{left + 24}" y2="10" stroke="{INK}" '
                    f'stroke-dasharray="4,3"/>')
        body.append(f'<text x="{left + 30}" y="14" fill="{INK}" font-size="10">'
                    f"{_t(words.all_leads(words.pct(overall)))}</text>")
    return _svg(max(width, 360), base + 12 + 12 * depth, title, body)
