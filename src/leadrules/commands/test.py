"""`leadrules test RULES [--cases FILE]`: run the rule file's tests and fixture cases."""

from __future__ import annotations

import sys
from decimal import Decimal

import click

from leadrules.cli import PROBLEMS, USAGE


@click.command("test")
@click.argument("rules", metavar="RULES")
@click.option("--cases", "cases_files", multiple=True, type=click.Path(dir_okay=False),
              metavar="FILE", help="Test cases in a YAML, JSON or CSV file (repeatable).")
@click.option("--coverage", "show_coverage", is_flag=True,
              help="List the rules, grade rows and stages no test exercises.")
@click.option("--min-coverage", "min_coverage", type=click.FloatRange(0, 100), metavar="P",
              help="Fail when less than P % of rules, grade rows and stages are exercised.")
def command(rules: str, cases_files: tuple[str, ...], show_coverage: bool,
            min_coverage: float | None) -> None:
    """Run the `test` blocks of RULES and the cases of fixture files.

    Each failed expectation shows what was expected, what the rules gave, and the rule lines
    involved. Exit code 0 when every test passes (and coverage is high enough), 1 otherwise.
    """
    from leadrules import testing
    from leadrules.commands.common import load_checked
    from leadrules.engine import RulesError, from_ruleset

    rs = load_checked(rules)
    try:
        engine = from_ruleset(rs)
    except RulesError as exc:
        from leadrules.output import format_text

        click.echo(format_text(exc.diagnostics, colour=sys.stderr.isatty()), err=True)
        raise SystemExit(PROBLEMS) from None
    cases = testing.cases_from_blocks(rs)
    for path in cases_files:
        try:
            cases += testing.cases_from_file(rs, path)
        except testing.FixtureError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(USAGE) from None
    outcomes = testing.run(engine, cases)
    click.echo(testing.format_outcomes(outcomes))
    failed = any(not o.ok for o in outcomes)
    if show_coverage or min_coverage is not None:
        cov = testing.coverage(engine, outcomes)
        click.echo("")
        click.echo(testing.format_coverage(cov) if show_coverage else
                   testing.format_coverage(cov).split("\n")[0])
        if min_coverage is not None and cov.percent < Decimal(str(min_coverage)):
            click.echo(f"Coverage is below the {min_coverage:g} % required.", err=True)
            failed = True
    if failed:
        raise SystemExit(PROBLEMS)
