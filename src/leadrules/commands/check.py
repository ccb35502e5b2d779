"""`leadrules check PATH...`: every problem of every rule file, compiler-style, and the exit code
CI needs (0 clean, 1 problems, 2 usage error)."""

from __future__ import annotations

import os
import sys

import click

from leadrules.cli import OK, PROBLEMS, USAGE

FORMATS = ("text", "json", "github", "sarif", "junit")


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True,
              help="Fail on warnings too (exit code 1 when there is any warning).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people; json, github (annotations), sarif or junit for machines.")
@click.option("--no-tests", is_flag=True, help="Do not run the test blocks of the files.")
def command(paths: tuple[str, ...], strict: bool, fmt: str, no_tests: bool) -> None:
    """Check rule files: syntax, names, types, grades, reachability, lifecycle, SLA, tests.

    PATH is a .leadrules file or a folder (searched for .leadrules files, recursively).
    Every problem of every file is reported at once, sorted by place. A file that another
    file includes is checked as part of it. The test blocks of every file without errors
    are run too.
    """
    from leadrules.check import check_files
    from leadrules.diagnostics import ERROR
    from leadrules.loader import rule_files
    from leadrules.output import format_text, summary

    if not paths:
        raise click.UsageError(
            "name the rule files or folders to check, for example: leadrules check rules/")
    from leadrules.commands.common import not_rules

    for path in paths:
        wrong = not_rules(path)
        if wrong:
            click.echo(f"error: {wrong}.", err=True)
            raise SystemExit(USAGE)
    files, problems = rule_files(paths)
    missing = [d for d in problems if d.code == "LR004"]
    if missing:
        click.echo(format_text(missing, colour=_colour(sys.stderr)), err=True)
        raise SystemExit(USAGE)
    _, diagnostics, read = check_files(files, run_tests=not no_tests)
    diagnostics = problems + diagnostics  # the folder's names that are not read come first
    errors = sum(d.severity == ERROR for d in diagnostics)
    failed = errors > 0 or (strict and len(diagnostics) > errors)

    if fmt == "text":
        if diagnostics:
            click.echo(format_text(diagnostics, colour=_colour(sys.stdout)))
            click.echo()
        click.echo(summary(diagnostics, len(read))
                   + (" (--strict: warnings fail)" if strict and failed and not errors else ""))
    else:
        click.echo(_machine(fmt, diagnostics, read, strict))
        click.echo(summary(diagnostics, len(read)), err=True)
    raise SystemExit(PROBLEMS if failed else OK)


def _machine(fmt: str, diagnostics, read: list[str], strict: bool) -> str:
    from leadrules import output

    if fmt == "json":
        return output.format_json(diagnostics, files=len(read))
    if fmt == "github":
        return output.format_github(diagnostics)
    if fmt == "sarif":
        return output.format_sarif(diagnostics, version=_version())
    return output.format_junit(diagnostics, read, strict=strict)


def _colour(stream) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("leadrules")
    except PackageNotFoundError:
        return "0"
