"""`leadrules compile RULES --target python -o FILE`: the standalone evaluator, written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE


@click.command("compile")
@click.argument("rules", type=click.Path(dir_okay=False))
@click.option("--target", type=click.Choice(["python"]), default="python", show_default=True,
              help="What to compile to.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="File to write (default: standard output).")
def command(rules: str, target: str, output: str | None) -> None:
    """Compile RULES to a standalone evaluator.

    The Python module needs nothing but the standard library. It exposes
    `evaluate(lead, events=(), as_of=None, explain=False)`, which returns a dict of every
    score, grade, segment, qualification, stage and route of the lead. The same rules always
    give the same file, byte for byte.
    """
    from leadrules import codegen
    from leadrules.commands.common import load_checked
    from leadrules.output import format_text

    rs = load_checked(rules)
    try:
        source = codegen.generate(rs)
    except codegen.CodegenError as exc:
        click.echo(format_text(exc.diagnostics, colour=sys.stderr.isatty()), err=True)
        click.echo(f"{rules}: these rules cannot be compiled; fix the problem(s) above.",
                   err=True)
        raise SystemExit(PROBLEMS) from None
    if output is None:
        click.echo(source, nl=False)
        return
    path = Path(output)
    if not path.parent.exists():
        click.echo(f"error: the folder '{path.parent}' does not exist", err=True)
        raise SystemExit(USAGE)
    try:
        write_atomically(path, source)
    except OSError as exc:
        click.echo(f"error: cannot write '{output}' ({exc.strerror or exc})", err=True)
        raise SystemExit(PROBLEMS) from None
    click.echo(f"wrote {output}: {len(rs.scores)} score(s), fingerprint {rs.fingerprint}",
               err=True)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written module."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
