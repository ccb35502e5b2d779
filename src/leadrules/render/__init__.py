"""Checked ruleset -> the agreement to sign, as HTML, Markdown or PDF.

    render_html(rs, lang="fr", on=date(2027, 1, 1)) -> str
    render_markdown(rs, ...) -> str
    render_pdf(rs, ...) -> bytes            (needs the `pdf` extra: WeasyPrint)

The language defaults to the agreement's `locale`; the date (printed, and written into the
PDF's metadata) defaults to today. Same rules, language and date: same bytes.
"""

from __future__ import annotations

from datetime import date

from leadrules.model import Ruleset
from leadrules.render.messages import LANGUAGES

FORMATS = ("html", "pdf", "md")

__all__ = ["FORMATS", "LANGUAGES", "RenderError", "language_of", "render", "render_html",
           "render_markdown", "render_pdf"]


class RenderError(Exception):
    """The agreement cannot be rendered; the message says why and what to do."""


def language_of(rs: Ruleset, lang: str | None = None) -> str:
    """The language to render in: `lang`, else the agreement's locale (fr or en)."""
    chosen = lang or rs.locale
    if chosen not in LANGUAGES:
        raise RenderError(
            f"the agreement cannot be rendered in '{chosen}': the languages available are "
            f"{' and '.join(LANGUAGES)} (choose one with --lang, or change 'locale' in the "
            f"agreement block)")
    return chosen


def _view(rs: Ruleset, lang: str | None, on: date | None):
    from leadrules.canonical import canonical_json
    from leadrules.render.viewmodel import build

    return build(rs, language_of(rs, lang), on or date.today(), canonical_json(rs))


def render_html(rs: Ruleset, lang: str | None = None, on: date | None = None) -> str:
    """The agreement as one standalone, sealed HTML file."""
    from leadrules.render.html import to_html

    return to_html(_view(rs, lang, on))


def render_markdown(rs: Ruleset, lang: str | None = None, on: date | None = None) -> str:
    from leadrules.render.html import to_markdown

    return to_markdown(_view(rs, lang, on))


def render_pdf(rs: Ruleset, lang: str | None = None, on: date | None = None) -> bytes:
    """The agreement as a tagged PDF/A-3b with the rule files and the canonical rules attached,
    one empty signature field per party, sealed."""
    try:
        from leadrules.render.pdf import to_pdf
    except ImportError as exc:
        raise RenderError(
            "PDF output needs WeasyPrint, which is not installed: install it with "
            "`pip install 'leadrules[pdf]'` (it also needs the Pango library of your system)"
        ) from exc
    return to_pdf(rs, _view(rs, lang, on))


def render(rs: Ruleset, fmt: str, lang: str | None = None, on: date | None = None) -> bytes:
    """The agreement in `fmt` (html, pdf or md), as bytes ready to write to a file."""
    if fmt == "pdf":
        return render_pdf(rs, lang, on)
    if fmt == "html":
        return render_html(rs, lang, on).encode("utf-8")
    if fmt == "md":
        return render_markdown(rs, lang, on).encode("utf-8")
    raise RenderError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")
