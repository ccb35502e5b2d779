"""`leadrules explain RULES LEAD.json`: how one lead was scored, in plain words (or JSON)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE


@click.command("explain")
@click.argument("rules", metavar="RULES")
@click.argument("lead_file", metavar="LEAD.json", type=click.Path(dir_okay=False))
@click.option("--as-of", "as_of", metavar="T",
              help="The instant to evaluate at (default: now), e.g. 2027-03-01T10:00.")
@click.option("--why-not", "why_not", metavar="STAGE|GRADE",
              help="Say why the lead is not at this stage, or not graded this "
                   "(a row name such as hot, or grade.row such as fit_grade.A).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text for people, json for programs.")
@click.option("--lang", type=click.Choice(["fr", "en"]), default=None,
              help="Language of the text [default: the agreement's locale].")
def command(rules: str, lead_file: str, as_of: str | None, why_not: str | None,
            fmt: str, lang: str | None) -> None:
    """Explain, point by point, how one lead was scored.

    LEAD.json holds the lead's fields (by field name or by export column; enum values as the
    export spells them or by member name) and, optionally, an `events` array of
    {"type": ..., "at": ..., properties...}.

    The text speaks the agreement's language (`locale fr` or `en`) unless --lang says
    otherwise; JSON keeps the words of the rules, for programs.

    Exit code 0 when every value was read, 1 when some did not fit (they are taken as missing
    and the lead is still explained), 2 for a wrong command line.
    """
    from leadrules import explain
    from leadrules.commands.common import load_checked
    from leadrules.engine import (
        RulesError,
        coerce_events,
        coerce_lead,
        from_ruleset,
        parse_as_of,
        plain,
    )
    from leadrules.output import terminal_text
    from leadrules.plan import language_of

    def fail(message: str, code: int = PROBLEMS) -> None:
        click.echo(f"error: {message}", err=True)
        raise SystemExit(code)

    rs = load_checked(rules)
    path = Path(lead_file)
    try:
        record = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        fail(f"the lead file '{lead_file}' does not exist", USAGE)
    except UnicodeDecodeError as exc:
        fail(f"the lead file '{lead_file}' is not UTF-8 text (byte {exc.start + 1} cannot be "
             "read): save it as UTF-8")
    except IsADirectoryError:
        fail(f"'{lead_file}' is a folder, not a lead file", USAGE)
    except OSError as exc:
        fail(f"the lead file '{lead_file}' cannot be read ({exc.strerror or exc})")
    except json.JSONDecodeError as exc:
        hint = ""
        if path.suffix.lower() in (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".txt"):
            hint = (". explain takes one lead written as a JSON object; to score every lead of "
                    f"an export, run `leadrules score {rules} {lead_file}`")
        fail(f"{lead_file}:{exc.lineno}:{exc.colno}: this is not valid JSON ({exc.msg}){hint}")
    if not isinstance(record, dict):
        fail(f"{lead_file}: expected one lead, an object such as "
             '{"email": "anne@acme.fr", "company_size": 200}')
    try:
        moment = parse_as_of(as_of, rs)
    except ValueError as exc:
        fail(f"--as-of: {exc}", USAGE)
    lead, problems = coerce_lead(rs, record, lead_file)
    events, event_problems = coerce_events(rs, record.get("events"), f"{lead_file}: events")
    for problem in problems:
        click.echo(f"warning: {problem} (taken as missing)", err=True)
    for problem in event_problems:
        click.echo(f"warning: {problem}", err=True)
    problems += event_problems
    try:
        engine = from_ruleset(rs)
    except RulesError as exc:
        from leadrules.output import format_text

        click.echo(format_text(exc.diagnostics, colour=sys.stderr.isatty()), err=True)
        raise SystemExit(PROBLEMS) from None
    ev = explain.evaluate(engine, lead, events, moment)
    # JSON is for programs: its texts stay in English, as the rules write conditions.
    say = explain.Say(rs, lang or language_of(rs) if fmt == "text" else "en")
    answer = explain.why_not(ev, why_not, say) if why_not else None
    if answer is not None and answer.kind == "unknown":
        # A name that is no stage or grade row: say only that, not a breakdown nobody asked for.
        fail(f"--why-not {why_not}: {answer.text}", USAGE)
    if fmt == "json":
        data = {"result": ev.result.model_dump(mode="json"),
                "problems": problems}
        if answer is not None:
            data["why_not"] = answer.as_json()
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=plain))
    else:
        click.echo(terminal_text(explain.breakdown(ev, say)))
        if answer is not None:
            click.echo("")
            click.echo(terminal_text(say("why_not.title", target=why_not)))
            click.echo(terminal_text(answer.text))
    if problems:
        # The lead was explained with those values unknown; the exit code says that some of
        # the file could not be read, as `leadrules score` does.
        raise SystemExit(PROBLEMS)
