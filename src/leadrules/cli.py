"""The `leadrules` command: a thin layer that loads each subcommand only when it is used."""

from __future__ import annotations

import importlib

import click

# Exit codes, the same for every command.
OK = 0
PROBLEMS = 1
USAGE = 2

# name -> (module under leadrules.commands, one-line help). Modules are imported on use only,
# so that `leadrules --help` starts fast.
COMMANDS = {
    "check": ("check", "Check rule files: syntax, names, types, reachability, SLA, tests."),
    "fmt": ("fmt", "Give rule files their canonical layout."),
    "compile": ("compile", "Compile a rule file to a standalone evaluator."),
    "score": ("score", "Score a CRM export (CSV, JSON Lines or Parquet)."),
    "explain": ("explain", "Explain, point by point, how one lead was scored."),
    "test": ("test", "Run the tests written in the rules and in fixture files."),
    "render": ("render", "Render the agreement to sign, as HTML, PDF or Markdown."),
    "verify": ("verify", "Tell whether a rendered agreement still matches the rules."),
    "sign": ("sign", "Sign a rendered PDF agreement for one party."),
    "plan": ("plan", "Show the funnel the revenue target demands, period by period."),
    "report": ("report", "Measure the agreement on real leads and sales activities."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"leadrules.commands.{COMMANDS[name][0]}")
        return module.command

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if name and name not in COMMANDS and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            if close:
                ctx.fail(f"No such command '{name}'. Did you mean '{close[0]}'?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx, formatter):
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="leadrules", prog_name="leadrules")
def main() -> None:
    """leadrules: the marketing–sales agreement, executable.

    Write the agreement as a .leadrules file, then check it, score leads with it,
    render it for signature and measure it on real data.
    """
    import signal

    # Stopped by `kill` (a CI timeout, a scheduler): leave as on an error, so that no half-written
    # output and no temporary file is left behind.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)
