"""`leadrules score RULES LEADS`: a CRM export in, one scored row per lead out, and a summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE


class Progress:
    """A one-line progress display on standard error, only on a terminal."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.last = 0.0
        self.shown = False

    def __call__(self, count: int, fraction: float | None) -> None:
        now = time.perf_counter()
        if now - self.last < 0.2 and fraction != 1.0:
            return
        self.last = now
        elapsed = now - self.started
        rate = count / elapsed if elapsed else 0.0
        done = f"{fraction * 100:3.0f} % " if fraction is not None else ""
        width = 24
        bar = ""
        if fraction is not None:
            filled = int(fraction * width)
            bar = "[" + "#" * filled + "-" * (width - filled) + "] "
        text = f"\rscoring {bar}{done}{count:,} leads ({rate:,.0f}/s)".replace(",", " ")
        sys.stderr.write(text)
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 79 + "\r")
            sys.stderr.flush()


@click.command("score")
@click.argument("rules", metavar="RULES")
@click.argument("leads", type=click.Path())
@click.option("--events", "-e", "events", type=click.Path(),
              help="Events file (CSV, JSON Lines or Parquet) with the lead key, type and at.")
@click.option("--as-of", "as_of", metavar="T",
              help="The instant to evaluate at (default: now), e.g. 2027-03-01T10:00.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Where to write the scores (default: CSV on standard output).")
@click.option("--explain", is_flag=True,
              help="Add a column with the rules that gave points, and how many.")
@click.option("--on-error", "on_error", type=click.Choice(["report", "skip", "fail"]),
              default="report", show_default=True,
              help="A value that does not fit: score the lead with it unknown and list it "
                   "(report), leave the lead out (skip), or stop and write nothing (fail).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="Output format (default: from the suffix of -o, else CSV).")
@click.option("--errors", "errors", type=click.Path(dir_okay=False),
              help="Where to list the data errors (default: OUT.errors.csv beside the output).")
@click.option("--input-format", "input_format", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="Format of LEADS and of the events file (default: from their suffixes).")
@click.option("--encoding", default="utf-8", show_default=True,
              help="Text encoding of CSV and JSON Lines inputs (e.g. latin-1, cp1252).")
@click.option("--freeze-cuts", "freeze", is_flag=True,
              help="Write the cut points this run found for quantile grades (quintiles…) into "
                   "the rule file, so that single leads are graded the same way.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: only on a terminal).")
@click.option("-q", "--quiet", is_flag=True, help="Print no summary.")
def command(rules: str, leads: str, events: str | None, as_of: str | None, output: str | None,
            explain: bool, on_error: str, fmt: str | None, errors: str | None,
            input_format: str | None, encoding: str, freeze: bool, progress: bool | None,
            quiet: bool) -> None:
    """Score a CRM export with the rules: one row per lead in LEADS (CSV, JSON Lines or
    Parquet), with its key, every score, grade and qualification, its stage and its route.

    Exit code 0 when every value was read, 1 when the rules have errors or some values did not
    fit (the output is still written, except with --on-error fail), 2 for a wrong command line.

    A summary is printed at the end: rows read and written, data errors, how often each field
    was not given or unreadable. Data errors are listed in OUT.errors.csv.
    """
    from leadrules import scoring
    from leadrules.commands.common import refuse_overwriting
    from leadrules.data import DataError, check_encoding
    from leadrules.writers import output_format

    def fail(message: str, code: int = PROBLEMS) -> None:
        click.echo(f"error: {message}", err=True)
        raise SystemExit(code)

    out_path = Path(output) if output else None
    try:
        out_format = output_format(out_path, fmt)
    except DataError as exc:
        fail(str(exc), USAGE)
    if out_path is None and out_format == "parquet" and sys.stdout.isatty():
        fail("Parquet is a binary format: name the file to write with -o (or send standard "
             "output to a file)", USAGE)
    try:
        check_encoding(encoding)
    except DataError as exc:
        fail(str(exc), USAGE)
    for option, path in (("-o", out_path), ("--errors", Path(errors) if errors else None)):
        if path is not None and not path.parent.is_dir():
            fail(f"{option} {path}: the folder '{path.parent}' does not exist; create it first "
                 "or write the file elsewhere", USAGE)
    for what, path in (("leads", leads), ("events", events)):
        if path is None:
            continue
        if not Path(path).exists():
            fail(f"the {what} file '{path}' does not exist", USAGE)
        if Path(path).is_dir():
            fail(f"'{path}' is a folder: name the {what} file itself (CSV, JSON Lines or "
                 "Parquet)", USAGE)
    refuse_overwriting(
        {"the rule file": rules, "the leads file": leads, "the events file": events},
        {"-o": out_path, "--errors": Path(errors) if errors else scoring.errors_path_for(out_path)})
    engine = _load(rules)
    try:
        moment = scoring.parse_as_of(as_of, engine.rs)
    except DataError as exc:
        fail(str(exc), USAGE)
    show_progress = sys.stderr.isatty() if progress is None else progress
    bar = Progress() if show_progress else None
    options = scoring.Options(
        as_of=moment, explain=explain, on_error=on_error, output_format=out_format,
        leads_format=input_format, events_format=input_format, encoding=encoding,
        events=Path(events) if events else None,
        errors_path=Path(errors) if errors else scoring.errors_path_for(out_path),
        progress=bar)
    try:
        summary = scoring.Run(engine, leads, out_path, options).run()
    except scoring.Stop as stop:
        if bar:
            bar.clear()
        problem = stop.problem
        fail(f"{problem.file}: {problem}\nStopped at the first data error (--on-error fail); "
             "nothing was written.")
    except DataError as exc:
        if bar:
            bar.clear()
        fail(str(exc))
    if bar:
        bar.clear()
    if not quiet:
        click.echo(scoring.format_summary(summary, engine.rs), err=True)
    if freeze:
        _freeze(rules, engine.rs, summary.cuts)
    # The output is complete, but the export had values that do not fit: say so with the exit
    # code too, so that a pipeline notices (the errors file tells which rows and cells).
    if summary.problems or summary.malformed or summary.events_problems:
        raise SystemExit(PROBLEMS)


def _freeze(rules: str, rs, cuts: dict) -> None:
    """--freeze-cuts: the cut points written into the rule files, which must still check."""
    from leadrules import scoring
    from leadrules.check import check
    from leadrules.files import write_atomically

    if not cuts:
        click.echo("--freeze-cuts: every quantile grade already has its cut points; nothing "
                   "was written.", err=True)
        return
    texts, skipped = scoring.freeze_cuts(rs, cuts)
    for name, why in skipped.items():
        click.echo(f"--freeze-cuts: the cut points of {name} were not written: {why}.",
                   err=True)
    main = rs.modules[0].path  # how the checker names the main file
    if main in texts and not check(rules, text=texts[main]).ok:
        # Never write a rule file that would no longer check.
        click.echo(f"error: with the cut points, {rules} would not check; nothing was written.",
                   err=True)
        raise SystemExit(PROBLEMS)
    for file, text in texts.items():
        try:
            write_atomically(Path(file), text)
        except OSError as exc:
            click.echo(f"error: {file}: cannot be written ({exc.strerror or exc}).", err=True)
            raise SystemExit(PROBLEMS) from None
        frozen = [name for name in cuts if name not in skipped and rs.grades[name].span.file
                  == file]
        click.echo(f"{file}: cut points of {', '.join(frozen)} written into the rules.", err=True)
    if texts and not check(rules).ok:
        click.echo(f"error: {rules} has errors since the cut points were written: run "
                   f"`leadrules check {rules}`.", err=True)
        raise SystemExit(PROBLEMS)


def _load(rules: str):
    """The engine for the rule file, or its diagnostics and exit code 1."""
    from leadrules.commands.common import load_checked
    from leadrules.scoring import Scorer

    rs = load_checked(rules)
    return Scorer.from_ruleset(rs)
