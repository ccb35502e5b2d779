"""`leadrules render RULES`: the checked rules -> the agreement to sign (HTML, PDF or Markdown)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE
from leadrules.files import write_atomically

_SUFFIX = {"html": ".html", "pdf": ".pdf", "md": ".md"}


def document_date(value: str | None) -> date:
    """--date, else SOURCE_DATE_EPOCH (reproducible builds), else today."""
    if value is not None:
        try:
            return date.fromisoformat(value)
        except ValueError:
            click.echo(f"error: --date '{value}' is not a date: write it as YYYY-MM-DD, "
                       "for example 2027-01-01.", err=True)
            raise SystemExit(USAGE) from None
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date()
    return date.today()


# What a suffix of -o says about the format.
_FORMAT_OF = {".html": "html", ".htm": "html", ".pdf": "pdf", ".md": "md", ".markdown": "md"}


def output_format(fmt: str | None, output: str | None) -> str:
    """--format, else the format the suffix of -o names, else html. A suffix that names
    another format, or none that leadrules writes, is a usage error: a PDF saved as
    `accord.html` or HTML saved as `accord.docx` would open as garbage."""
    suffix = Path(output).suffix.lower() if output else ""
    implied = _FORMAT_OF.get(suffix)
    if fmt is not None and implied is not None and implied != fmt:
        kind = {"html": "an HTML", "pdf": "a PDF", "md": "a Markdown"}[implied]
        click.echo(f"error: --format {fmt}, but -o {output} names {kind} file: make them "
                   "agree.", err=True)
        raise SystemExit(USAGE)
    if fmt is None and suffix and implied is None:
        click.echo(f"error: cannot tell the format from the name '{output}': end it with "
                   ".html, .pdf or .md, or say --format html|pdf|md.", err=True)
        raise SystemExit(USAGE)
    return fmt or implied or "html"


@click.command("render")
@click.argument("rules", metavar="RULES")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "md"]), default=None,
              help="Output format (default: from the -o file name, else html).")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the document (default: the agreement's locale).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="File to write (default: standard output for html and md; "
                   "RULES name with .pdf for pdf).")
@click.option("--date", "when", default=None, metavar="YYYY-MM-DD",
              help="Date printed on the document and written in its metadata (default: today). "
                   "Same rules, language and date give the same bytes.")
def command(rules: str, fmt: str | None, lang: str | None, output: str | None,
            when: str | None) -> None:
    """Render the agreement to sign from the rules, and nothing else.

    The document carries the fingerprint of the rules; `leadrules verify` tells later whether
    it still matches them. A PDF is a tagged PDF/A-3b with the rule file attached and one
    signature field per party (`leadrules sign`).
    """
    from leadrules.commands.common import load_checked, refuse_overwriting
    from leadrules.render import RenderError, render

    fmt = output_format(fmt, output)
    on = document_date(when)
    if output is not None and not Path(output).parent.is_dir():
        click.echo(f"error: -o {output}: the folder '{Path(output).parent}' does not exist; "
                   "create it first or write the document elsewhere.", err=True)
        raise SystemExit(USAGE)
    refuse_overwriting({"the rule file": rules}, {"-o": output})
    rs = load_checked(rules)
    try:
        data = render(rs, fmt, lang, on)
    except RenderError as exc:
        click.echo(f"{rules}: {exc}", err=True)
        raise SystemExit(PROBLEMS) from None
    if output is None and fmt == "pdf":
        output = Path(rules).with_suffix(_SUFFIX["pdf"]).name
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(output)
    try:
        write_atomically(target, data)
    except OSError as exc:
        click.echo(f"{output}: cannot be written ({exc.strerror or exc}).", err=True)
        raise SystemExit(PROBLEMS) from None
    click.echo(f"{output}: agreement written ({fmt}, fingerprint {rs.fingerprint}).", err=True)
