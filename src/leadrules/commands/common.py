"""Helpers the subcommands share: load a rule file or stop with its diagnostics."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE
from leadrules.model import Ruleset


def load_checked(path: str, allow_warnings: bool = True) -> Ruleset:
    """The checked ruleset; when the file is not there, exit with code 2; when it has errors
    or defines nothing at all, print why and exit with code 1."""
    from leadrules.check import check
    from leadrules.output import format_text

    given = Path(path)
    if given.is_dir():
        click.echo(f"error: '{path}' is a folder: name one rule file (.leadrules) in it "
                   "(only `leadrules check` and `leadrules fmt` take folders).", err=True)
        raise SystemExit(USAGE)
    if not given.exists():
        click.echo(f"error: the rule file '{path}' does not exist: check the path and the "
                   "spelling of the file name.", err=True)
        raise SystemExit(USAGE)
    rs = check(path)
    if not rs.ok:
        errors = [d for d in rs.diagnostics if d.severity.value == "error"]
        click.echo(format_text(errors, colour=sys.stderr.isatty()), err=True)
        what = "the error above" if len(errors) == 1 else f"the {len(errors)} errors above"
        click.echo(f"{path}: fix {what} first (`leadrules check {path}` lists every "
                   "problem).", err=True)
        raise SystemExit(PROBLEMS)
    if not any(module.items for module in rs.modules):
        click.echo(f"error: {path} defines nothing (no lead, score, stage or agreement): is it "
                   "the right file, and was it saved?", err=True)
        raise SystemExit(PROBLEMS)
    return rs
