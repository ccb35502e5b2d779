"""Helpers the subcommands share: load a rule file or stop with its diagnostics."""

from __future__ import annotations

import sys

import click

from leadrules.cli import PROBLEMS
from leadrules.model import Ruleset


def load_checked(path: str, allow_warnings: bool = True) -> Ruleset:
    """The checked ruleset; when it has errors, print them and exit with code 1."""
    from leadrules.check import check
    from leadrules.output import format_text

    rs = check(path)
    if not rs.ok:
        errors = [d for d in rs.diagnostics if d.severity.value == "error"]
        click.echo(format_text(errors, colour=sys.stderr.isatty()), err=True)
        click.echo(f"{path}: fix the {len(errors)} error(s) above first "
                   f"(`leadrules check {path}` lists them all).", err=True)
        raise SystemExit(PROBLEMS)
    return rs
