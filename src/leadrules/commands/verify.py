"""`leadrules verify DOCUMENT RULES`: a rendered agreement + the rules -> whether they still match."""

from __future__ import annotations

from pathlib import Path

import click

from leadrules.cli import OK, PROBLEMS, USAGE


@click.command("verify")
@click.argument("document", metavar="DOCUMENT")
@click.argument("rules", metavar="RULES")
@click.option("--trust", "trusted", multiple=True, type=click.Path(dir_okay=False),
              help="A certificate (PEM or DER) whose signatures you trust; may be repeated.")
def command(document: str, rules: str, trusted: tuple[str, ...]) -> None:
    """Tell whether a rendered agreement (PDF, HTML or Markdown) still matches the rules.

    Exits with 0 when the document carries the fingerprint of RULES, has not been changed since
    it was rendered (apart from signatures) and its signatures are valid; with 1 otherwise,
    saying what differs: which definitions changed, or that the document was edited.
    """
    from leadrules.commands.common import load_checked
    from leadrules.verify import VerifyError, format_report, verify

    certificates = []
    for name in trusted:
        try:
            certificates.append(Path(name).read_bytes())
        except OSError as exc:
            click.echo(f"error: --trust {name}: cannot be read ({exc.strerror or exc}).",
                       err=True)
            raise SystemExit(USAGE) from None
    if Path(document).is_dir():
        click.echo(f"error: {document} is a folder: name the rendered document itself (PDF, "
                   "HTML or Markdown).", err=True)
        raise SystemExit(USAGE)
    if not Path(document).is_file():
        click.echo(f"error: {document}: no such file.", err=True)
        raise SystemExit(USAGE)
    rs = load_checked(rules)
    try:
        report = verify(document, rs, tuple(certificates))
    except VerifyError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(PROBLEMS) from None
    click.echo(format_report(report))
    raise SystemExit(OK if report.ok else PROBLEMS)
