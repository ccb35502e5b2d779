"""`leadrules fmt PATH...`: rule files -> the same files in canonical layout (or a check, a diff)."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from leadrules.cli import OK, PROBLEMS, USAGE
from leadrules.files import write_atomically

BOM = "\ufeff"


def rule_files(paths: tuple[str, ...]) -> list[Path]:
    """The files named, and every `*.leadrules` file under the folders named, each once."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.leadrules") if p.is_file()))
        else:
            found.append(path)
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.normpath(path), path)
    return list(unique.values())


def _diff(before: str, after: str, name: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"{name} (as written)", tofile=f"{name} (formatted)")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


@click.command("fmt")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--check", is_flag=True,
              help="Change nothing; exit with code 1 when a file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Change nothing; print what formatting would change, as a unified diff.")
def command(paths: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Give rule files their one canonical layout (comments are kept).

    PATH is a .leadrules file, a folder (searched for *.leadrules files) or - to read the rules
    from standard input and write them formatted to standard output.
    """
    from leadrules.commands.common import not_rules
    from leadrules.fmt import FormatError, format_source

    for path in paths:
        wrong = not_rules(path)
        if wrong:
            # fmt rewrites files in place: never touch an export or a document by mistake.
            click.echo(f"error: {wrong}.", err=True)
            raise SystemExit(USAGE)
    if "-" in paths and len(paths) > 1:
        click.echo("error: '-' (standard input) cannot be combined with other paths.", err=True)
        raise SystemExit(USAGE)
    if "-" in paths:
        stdin = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
        data = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
        try:
            text = data.decode("utf-8").removeprefix(BOM)
        except UnicodeDecodeError as exc:
            click.echo(f"<stdin>: not formatted: {_where(data, exc)} is not UTF-8 text.",
                       err=True)
            raise SystemExit(PROBLEMS) from None
        try:
            formatted = format_source(text, "<stdin>")
        except FormatError as exc:
            _report(exc, "<stdin>", text)
            raise SystemExit(PROBLEMS) from None
        if show_diff:
            click.echo(_diff(text, formatted, "<stdin>"), nl=False)
        elif not check:
            click.echo(formatted, nl=False)
        raise SystemExit(PROBLEMS if check and formatted != text else OK)

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        for name in missing:
            click.echo(f"error: {name}: no such file or folder.", err=True)
        raise SystemExit(USAGE)
    files = rule_files(paths)
    if not files:
        click.echo(f"error: no .leadrules file in {', '.join(paths)}.", err=True)
        raise SystemExit(USAGE)

    changed: list[Path] = []
    failed: list[Path] = []
    for path in files:
        name = str(path)
        try:
            data = path.read_bytes()
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            click.echo(f"{name}: not formatted: {_where(data, exc)} is not UTF-8 text; save "
                       "the file as UTF-8 and try again.", err=True)
            failed.append(path)
            continue
        except OSError as exc:
            click.echo(f"{name}: cannot be read ({exc.strerror or exc}).", err=True)
            failed.append(path)
            continue
        # A byte-order mark (Notepad and Excel write one) is read as `leadrules check` reads
        # it, and left out of the formatted file.
        text = raw.removeprefix(BOM)
        try:
            formatted = format_source(text, name)
        except FormatError as exc:
            _report(exc, name, text)
            failed.append(path)
            continue
        if formatted == raw:
            continue
        if show_diff:
            click.echo(_diff(raw, formatted, name), nl=False)
        if check:
            click.echo(f"{name}: not formatted (run `leadrules fmt {name}`).", err=True)
        elif not show_diff:
            try:
                write_atomically(path, formatted)
            except OSError as exc:
                click.echo(f"{name}: cannot be written ({exc.strerror or exc}).", err=True)
                failed.append(path)
                continue
            click.echo(f"{name}: formatted.", err=True)
        changed.append(path)

    click.echo(_summary(len(files), len(changed), len(failed), check or show_diff), err=True)
    if failed or (check and changed):
        raise SystemExit(PROBLEMS)
    raise SystemExit(OK)


def _where(data: bytes, exc: UnicodeDecodeError) -> str:
    """`line 3, character 12` of the first byte that is not UTF-8, as an editor counts."""
    line = data.count(b"\n", 0, exc.start) + 1
    start = data.rfind(b"\n", 0, exc.start) + 1
    return f"line {line}, character {len(data[start:exc.start].decode('utf-8', 'replace')) + 1}"


def _report(exc, name: str, text: str) -> None:
    from leadrules.output import format_text

    if not exc.diagnostics:
        click.echo(str(exc), err=True)
        return
    click.echo(format_text(exc.diagnostics, colour=sys.stderr.isatty(),
                           sources={name: text.split("\n")}), err=True)
    click.echo(f"{name}: not formatted: fix the error(s) above first.", err=True)


def _summary(total: int, changed: int, failed: int, dry: bool) -> str:
    def files(n: int) -> str:
        return f"{n} file{'s' if n != 1 else ''}"

    done = "would be reformatted" if dry else "reformatted"
    parts = [f"{files(changed)} {done}", f"{files(total - changed - failed)} already formatted"]
    if failed:
        parts.append(f"{files(failed)} not formatted because of errors")
    return ", ".join(parts) + "."
