"""Figures -> small inline SVG charts (funnel against plan, monthly pacing, time to first touch,
conversion by grade): no script, no font or file from the network, every text escaped.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from leadrules.report.numbers import num

ACTUAL = "#2f6db5"
PLAN = "#9aa5b1"
GOOD = "#2e8540"
BAD = "#c0392b"
MUTED = "#d5dbe1"
INK = "#1f2933"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:12px"


def _t(text) -> str:
    return escape(str(text), quote=True)


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    """The chart; its title is the accessible name (the page shows it as the caption)."""
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


def funnel(rows: list[tuple[str, int, int | None]], title: str) -> Markup:
    """One horizontal bar per stage: what came in (filled) against the plan (outline)."""
    label_w, bar_w, row_h = 110, 300, 30
    height = 30 + row_h * len(rows) + 10
    top = _nice_max(max([a for _, a, _ in rows] + [p or 0 for _, _, p in rows] + [1]))
    body = [f'<rect x="{label_w}" y="4" width="12" height="10" fill="{ACTUAL}"/>'
            f'<text x="{label_w + 16}" y="13" fill="{INK}">actual</text>'
            f'<rect x="{label_w + 70}" y="4" width="12" height="10" fill="none" '
            f'stroke="{INK}" stroke-dasharray="3,2"/>'
            f'<text x="{label_w + 86}" y="13" fill="{INK}">plan</text>']
    for i, (label, actual, planned) in enumerate(rows):
        y = 30 + i * row_h
        w = bar_w * actual / top
        body.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" fill="{INK}">'
                    f"{_t(label[:16])}</text>")
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="20" '
                    f'fill="{ACTUAL}"/>')
        if planned:
            pw = bar_w * planned / top
            body.append(f'<rect x="{label_w}" y="{y + 2}" width="{pw:.1f}" height="24" '
                        f'fill="none" stroke="{INK}" stroke-dasharray="3,2"/>')
        shown = num(actual) + (f" / {num(planned)}" if planned else "")
        body.append(f'<text x="{label_w + max(w, (bar_w * (planned or 0) / top)) + 6:.1f}" '
                    f'y="{y + 18}" fill="{INK}">{_t(shown)}</text>')
    return _svg(label_w + bar_w + 100, height, title, body)


def pacing(months: list[tuple[str, int, int | None, bool]], title: str) -> Markup:
    """Vertical bars per month (actual) with the plan as a tick; the month in progress lighter."""
    left, plot_h, col_w = 40, 160, 44
    width = left + col_w * max(len(months), 1) + 10
    top = _nice_max(max([a for _, a, _, _ in months] + [p or 0 for _, _, p, _ in months] + [1]))
    base = 30 + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="{INK}"/>',
            f'<text x="{left - 4}" y="34" text-anchor="end" fill="{INK}">{_t(int(top))}</text>',
            f'<text x="{left - 4}" y="{base}" text-anchor="end" fill="{INK}">0</text>']
    for i, (label, actual, planned, current) in enumerate(months):
        x = left + i * col_w + 8
        h = plot_h * actual / top
        colour = ACTUAL if not current else "#8fb3de"
        if planned is not None and not current:
            colour = GOOD if actual >= planned else BAD
        body.append(f'<rect x="{x}" y="{base - h:.1f}" width="{col_w - 16}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{_t(f"{label}: {actual}")}'
                    f'{_t(f" of {planned} planned" if planned is not None else "")}</title></rect>')
        if planned is not None:
            py = base - plot_h * planned / top
            body.append(f'<line x1="{x - 4}" y1="{py:.1f}" x2="{x + col_w - 12}" y2="{py:.1f}" '
                        f'stroke="{INK}" stroke-width="2"/>')
        body.append(f'<text x="{x + (col_w - 16) / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                    f'fill="{INK}" font-size="10">{_t(label[-2:] if len(label) == 7 else label)}'
                    "</text>")
    body.append(f'<text x="{left}" y="{base + 30}" fill="{INK}" font-size="10">green: plan '
                "met, red: short, light: in progress; line: plan</text>")
    return _svg(max(width, 360), base + 36, title, body)


def histogram(bins: list[tuple[str, int, bool]], title: str) -> Markup:
    """Leads per band of time to first touch; bands within the promise in green."""
    left, plot_h, col_w = 40, 140, 62
    width = left + col_w * len(bins) + 10
    top = _nice_max(max([n for _, n, _ in bins] + [1]))
    base = 30 + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="{INK}"/>',
            f'<text x="{left - 4}" y="34" text-anchor="end" fill="{INK}">{_t(int(top))}</text>']
    for i, (label, count, ok) in enumerate(bins):
        x = left + i * col_w + 6
        h = plot_h * count / top
        body.append(f'<rect x="{x}" y="{base - h:.1f}" width="{col_w - 12}" height="{h:.1f}" '
                    f'fill="{GOOD if ok else BAD}"><title>{_t(f"{label}: {count}")}</title></rect>')
        body.append(f'<text x="{x + (col_w - 12) / 2:.1f}" y="{base - h - 4:.1f}" '
                    f'text-anchor="middle" fill="{INK}" font-size="10">{count}</text>')
        body.append(f'<text x="{x + (col_w - 12) / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                    f'fill="{INK}" font-size="10">{_t(label)}</text>')
    return _svg(max(width, 360), base + 24, title, body)


def rates(bars: list[tuple[str, float | None, int]], overall: float | None,
          title: str) -> Markup:
    """Conversion rate per band, with the overall rate as a dashed line."""
    left, plot_h, col_w = 40, 140, 70
    width = left + col_w * max(len(bars), 1) + 10
    values = [r for _, r, _ in bars if r is not None] + ([overall] if overall else [])
    top = min(1.0, max(values + [0.01]) * 1.15)
    base = 30 + plot_h
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="{INK}"/>']
    for i, (label, rate, n) in enumerate(bars):
        x = left + i * col_w + 8
        h = plot_h * (rate or 0) / top
        shown = f"{rate * 100:.0f} %" if rate is not None else "–"
        body.append(f'<rect x="{x}" y="{base - h:.1f}" width="{col_w - 16}" height="{h:.1f}" '
                    f'fill="{ACTUAL}"><title>{_t(f"{label}: {shown} of {n}")}</title></rect>')
        body.append(f'<text x="{x + (col_w - 16) / 2:.1f}" y="{base - h - 4:.1f}" '
                    f'text-anchor="middle" fill="{INK}" font-size="10">{_t(shown)}</text>')
        body.append(f'<text x="{x + (col_w - 16) / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                    f'fill="{INK}" font-size="10">{_t(label[:12])}</text>')
    if overall is not None:
        y = base - plot_h * overall / top
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                    f'stroke="{INK}" stroke-dasharray="4,3"/>')
        body.append(f'<text x="{width - 12}" y="{y - 4:.1f}" text-anchor="end" fill="{INK}" '
                    f'font-size="10">all leads {overall * 100:.0f} %</text>')
    return _svg(max(width, 360), base + 24, title, body)
