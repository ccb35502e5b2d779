"""`leadrules compile RULES --target python -o FILE`: the standalone evaluator, written atomically."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE
from leadrules.files import write_atomically


@click.command("compile")
@click.argument("rules", type=click.Path(dir_okay=False))
@click.option("--target", type=click.Choice(["python", "sql"]), default="python", show_default=True,
              help="What to compile to.")
@click.option("--dialect", type=click.Choice(["duckdb", "postgres"]), default="duckdb",
              show_default=True, help="SQL only: the database the query is for.")
@click.option("--table", default="leads", show_default=True,
              help="SQL only: the table of leads (one column per field).")
@click.option("--events-table", default="events", show_default=True,
              help="SQL only: the table of events (key, type, at, properties).")
@click.option("--as-of", "as_of", help="SQL only: the evaluation instant (default: the "
              "database's clock when the query runs).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="File to write (default: standard output).")
def command(rules: str, target: str, output: str | None, dialect: str, table: str,
            events_table: str, as_of: str | None) -> None:
    """Compile RULES to a standalone evaluator.

    The Python module needs nothing but the standard library. It exposes
    `evaluate(lead, events=(), as_of=None, explain=False)`, which returns a dict of every
    score, grade, segment, qualification, stage and route of the lead. The same rules always
    give the same file, byte for byte. With `--target sql`, one SQL query that gives the same
    values for every lead of a table (docs/sql.md).
    """
    from leadrules import codegen
    from leadrules.commands.common import load_checked, refuse_overwriting
    from leadrules.output import format_text

    refuse_overwriting({"the rule file": rules}, {"-o": output})
    rs = load_checked(rules)
    try:
        if target == "sql":
            from leadrules import sqlgen

            source = sqlgen.for_command(rs, dialect, table, events_table, as_of)
        else:
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
