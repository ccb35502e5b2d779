"""Helpers the subcommands share: load a rule file or stop with its diagnostics."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE
from leadrules.model import Ruleset

# Files people have at hand beside their rules, and that are never rules themselves.
NOT_RULES = frozenset({".csv", ".tsv", ".json", ".jsonl", ".ndjson", ".parquet", ".pq", ".gz",
                       ".xlsx", ".xls", ".pdf", ".html", ".htm", ".md", ".py", ".sql", ".yaml",
                       ".yml", ".docx"})


# How each command is written, for the message about arguments in the wrong order.
_USAGE = {"score": "leadrules score rules.leadrules leads.csv",
          "explain": "leadrules explain rules.leadrules lead.json",
          "verify": "leadrules verify accord.pdf rules.leadrules",
          "check": "leadrules check rules/",
          "fmt": "leadrules fmt rules/"}


def not_rules(path: str) -> str | None:
    """Why `path` cannot be a rule file (an export, a rendered document…), or None."""
    suffix = Path(path).suffix.lower()
    if suffix not in NOT_RULES or Path(path).is_dir():
        return None
    context = click.get_current_context(silent=True)
    name = context.info_name if context is not None else "render"
    usage = _USAGE.get(name, f"leadrules {name} rules.leadrules")
    return (f"'{path}' is not a rule file (rule files end in .leadrules, not {suffix}): the "
            f"command is written `{usage}`")


def load_checked(path: str) -> Ruleset:
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
    wrong = not_rules(path)
    if wrong:
        click.echo(f"error: {wrong}.", err=True)
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


def refuse_overwriting(inputs: dict[str, str | Path | None],
                       outputs: dict[str, str | Path | None]) -> None:
    """Exit with code 2 when a file to write is one of the files read, or when two options
    name the same file to write: nothing a command reads is ever replaced by what it writes."""
    import os

    def same(a: Path, b: Path) -> bool:
        try:
            if a.exists() and b.exists():
                return os.path.samefile(a, b)  # also through links and other spellings
            return os.path.realpath(a) == os.path.realpath(b)
        except OSError:
            return False

    seen: list[tuple[str, Path]] = []
    for option, out in outputs.items():
        if out is None or str(out) == "-":
            continue
        target = Path(out)
        for what, given in inputs.items():
            if given is not None and same(target, Path(given)):
                click.echo(f"error: {option} {out} is {what}: writing there would replace it. "
                           "Name another file to write.", err=True)
                raise SystemExit(USAGE)
        for other, path in seen:
            if same(target, path):
                click.echo(f"error: {option} and {other} name the same file ({out}): give each "
                           "its own file.", err=True)
                raise SystemExit(USAGE)
        seen.append((option, target))
