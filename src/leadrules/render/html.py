"""Agreement view-model -> one standalone HTML file (inline CSS, no network) or Markdown text.

Templates use StrictUndefined and HTML autoescape; Rich text is escaped piece by piece by the
`rich` filter, so text from a rule file can never become markup.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from leadrules.render import seal
from leadrules.render.messages import Messages
from leadrules.render.typography import CODE, FIGURE, QUOTE, TERM, Rich
from leadrules.render.viewmodel import Agreement


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("leadrules.render", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["rich"] = rich_html
    env.filters["md"] = markdown_text
    env.filters["css_string"] = css_string
    env.filters["json_script"] = json_script
    return env


def stylesheet() -> str:
    return files("leadrules.render").joinpath("templates").joinpath(
        "agreement.css").read_text("utf-8")


def to_html(doc: Agreement) -> str:
    """The sealed HTML document (its digest covers every byte but the digest itself)."""
    m = Messages(doc.lang)
    text = environment().get_template("agreement.html.j2").render(
        doc=doc, t=m.text, css=Markup(stylesheet()), digest=seal.PLACEHOLDER)
    return seal.seal_text(text)


def to_markdown(doc: Agreement) -> str:
    m = Messages(doc.lang)
    text = environment().get_template("agreement.md.j2").render(
        doc=doc, t=m.text, digest=seal.PLACEHOLDER)
    return seal.seal_text(text)


def rich_html(value) -> Markup:
    """Rich (or plain) text as HTML: every piece escaped, terms in italics."""
    if value is None:
        return Markup("")
    if not isinstance(value, Rich):
        return escape(str(value))
    out = []
    for kind, text in value:
        if kind == TERM:
            out.append(Markup('<em class="term">{}</em>').format(text))
        elif kind == CODE:
            out.append(Markup("<code>{}</code>").format(text))
        elif kind == QUOTE:
            out.append(Markup('<span class="literal">{}</span>').format(text))
        elif kind == FIGURE:
            # Figures and dates are never hyphenated.
            out.append(Markup('<span class="nb">{}</span>').format(text))
        else:
            out.append(escape(text))
    return Markup("").join(out)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&!])")


def markdown_text(value) -> str:
    """Rich (or plain) text as Markdown: punctuation that Markdown reads is backslashed."""
    if value is None:
        return ""
    if not isinstance(value, Rich):
        return _md_escape(str(value))
    out = []
    for kind, text in value:
        if kind == TERM:
            out.append(f"*{_md_escape(text)}*")
        elif kind == CODE:
            # A backtick inside code needs a longer fence, padded with spaces.
            out.append(f"`` {text} ``" if "`" in text else f"`{text}`")
        else:
            out.append(_md_escape(text))
    return "".join(out)


def _md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def css_string(value: str) -> Markup:
    """A CSS string literal: everything but ASCII letters and digits as a hex escape (each
    followed by the one space that ends an escape, which CSS then drops)."""
    out = []
    for ch in str(value):
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x} ")
    return Markup('"' + "".join(out) + '"')


def json_script(value: str) -> Markup:
    """JSON text safe inside <script type="application/json"> (no <, > or & left)."""
    data = json.loads(value)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
