"""`leadrules plan RULES`: the funnel the revenue target demands, per period, on standard output."""

from __future__ import annotations

import click

from leadrules.cli import PROBLEMS


@click.command("plan")
@click.argument("rules", metavar="RULES")
@click.option("--period", type=click.Choice(["month", "quarter", "year"]), default="month",
              show_default=True, help="Length of each column of the plan.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json", "csv"]), default="text",
              show_default=True, help="Output format.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the plan [default: the agreement's locale].")
def command(rules: str, period: str, fmt: str, lang: str | None) -> None:
    """Show what the revenue target demands of each stage, period by period.

    Reads the marketing SLA of RULES (revenue target, marketing share, average deal, conversion
    rates) and works back from customers to leads, rounding each figure up.
    """
    from leadrules import plan
    from leadrules.commands.common import load_checked

    rs = load_checked(rules)
    try:
        result = plan.build(rs, period)
    except plan.PlanError as e:
        click.echo(f"error: {e}", err=True)
        raise SystemExit(PROBLEMS) from None
    click.echo(plan.render(result, fmt, lang or plan.language_of(rs)), nl=False)
