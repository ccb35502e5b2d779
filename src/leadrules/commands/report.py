"""`leadrules report RULES --leads L --activities A`: the monthly review of the agreement, measured
on CRM exports, as HTML (default), Markdown or JSON, plus optional per-lead and problem CSVs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date: write it as 2027-03-01",
                                 param_hint=option) from None


@click.command("report")
@click.argument("rules", type=click.Path(dir_okay=False))
@click.option("--leads", "-l", required=True, type=click.Path(),
              help="The leads export (CSV, JSON Lines or Parquet), read as `leadrules score` "
                   "reads it.")
@click.option("--activities", "-a", required=True, type=click.Path(),
              help="The activity log (CSV, JSON Lines or Parquet): lead key, type, timestamp.")
@click.option("--from", "start", metavar="DATE",
              help="First day of the period under review (default: the agreement's start).")
@click.option("--to", "end", metavar="DATE",
              help="Last day of the period under review (default: the agreement's end).")
@click.option("--as-of", "as_of", metavar="T",
              help="The instant the report is made at (default: now), e.g. 2027-06-15T18:00.")
@click.option("--outcome", metavar="COLUMN",
              help="A column of the leads file saying whether the lead converted (1/0, yes/no, "
                   "won/lost): adds conversion and lift per grade and stage, and the AUC of "
                   "each score.")
@click.option("--revenue", metavar="COLUMN",
              help="A column of the leads file with the revenue a lead brought (default: a "
                   "column named revenue or amount, when there is one).")
@click.option("--activity-lead", metavar="COLUMN",
              help="Activity column with the lead key (default: the key field's column, or "
                   "`lead`).")
@click.option("--activity-type", metavar="COLUMN",
              help="Activity column with the type (default: `type`).")
@click.option("--activity-at", metavar="COLUMN",
              help="Activity column with the timestamp (default: `at`).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Where to write the report (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]),
              help="Report format (default: from the suffix of -o, else html).")
@click.option("--lang", type=click.Choice(["fr", "en"]),
              help="Language of the HTML and Markdown report (default: the agreement's "
                   "locale, else English).")
@click.option("--leads-out", type=click.Path(dir_okay=False),
              help="Also write one CSV row per lead: stage, grades, scores, stage dates, first "
                   "touch, attempts, outcome.")
@click.option("--problems-out", type=click.Path(dir_okay=False),
              help="Also write a CSV of every input row the report could not use, and why.")
@click.option("--encoding", default="utf-8", show_default=True,
              help="Text encoding of CSV and JSON Lines inputs (e.g. latin-1, cp1252).")
def command(rules: str, leads: str, activities: str, start: str | None, end: str | None,
            as_of: str | None, outcome: str | None, revenue: str | None,
            activity_lead: str | None, activity_type: str | None, activity_at: str | None,
            output: str | None, fmt: str | None, lang: str | None, leads_out: str | None,
            problems_out: str | None, encoding: str) -> None:
    """Measure the agreement on real data: leads and MQLs delivered against the plan, conversion
    against the assumed rates, channels, sales follow-up in business time and, with --outcome,
    whether the grades really separate the leads that convert.

    Activities for unknown leads, with unreadable or impossible timestamps, or repeated, are
    counted and listed in the report, never dropped silently.
    """
    from leadrules.commands.common import load_checked, refuse_overwriting
    from leadrules.data import DataError, check_encoding
    from leadrules.report import compute
    from leadrules.report import output as out
    from leadrules.scoring import parse_as_of

    def fail(message: str, code: int = PROBLEMS) -> None:
        click.echo(f"error: {message}", err=True)
        raise SystemExit(code)

    start_day, end_day = _day(start, "--from"), _day(end, "--to")
    if start_day and end_day and end_day < start_day:
        fail(f"--to {end_day} is before --from {start_day}", USAGE)
    try:
        check_encoding(encoding)
    except DataError as exc:
        fail(str(exc), USAGE)
    chosen = fmt or _format_of(output)
    if output and fmt is None and chosen == "html" and \
            Path(output).suffix.lower() not in ("", ".html", ".htm"):
        fail(f"cannot tell the report format from the name '{output}': name it .html, .md or "
             ".json, or say --format", USAGE)
    for path, what in ((leads, "leads"), (activities, "activities")):
        if Path(path).is_dir():
            fail(f"'{path}' is a folder: give the {what} file itself", USAGE)
        if not Path(path).is_file():
            fail(f"the {what} file '{path}' does not exist", USAGE)
    refuse_overwriting(
        {"the rule file": rules, "the leads file": leads, "the activities file": activities},
        {"-o": output, "--leads-out": leads_out, "--problems-out": problems_out})
    for target in (output, leads_out, problems_out):
        if target and not Path(target).resolve().parent.is_dir():
            fail(f"cannot write '{target}': the folder '{Path(target).parent}' does not exist",
                 USAGE)
    rs = load_checked(rules)
    try:
        moment = parse_as_of(as_of, rs) if as_of else None
    except DataError as exc:
        fail(str(exc), USAGE)
    options = compute.Options(
        leads=leads, activities=activities, start=start_day, end=end_day, as_of=moment,
        outcome=outcome, revenue=revenue, activity_lead=activity_lead,
        activity_type=activity_type, activity_at=activity_at, encoding=encoding)
    try:
        report = compute.build(rs, options)
        text = out.render(report, chosen, lang)
        extra = []
        if leads_out:
            extra.append((leads_out, out.leads_csv(report)))
        if problems_out:
            extra.append((problems_out, out.problems_csv(report)))
        for path, content in extra:
            out.write_atomic(path, content)
        if output:
            out.write_atomic(output, text)
        else:
            click.echo(text, nl=False)
    except (compute.ReportError, DataError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write the report: {exc.strerror or exc}")
    if output:
        log = report.log
        click.echo(f"{output}: report written ({report.lead_rows} leads, {log.used} of "
                   f"{log.rows} activities used, {log.problem_count} listed as not usable).",
                   err=True)


def _format_of(output: str | None) -> str:
    if output:
        suffix = Path(output).suffix.lower()
        if suffix in (".md", ".markdown"):
            return "md"
        if suffix == ".json":
            return "json"
    return "html"
