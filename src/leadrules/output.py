"""Diagnostics -> text for people (source line, caret, hint; colour only on a terminal)."""

from __future__ import annotations

from pathlib import Path

from leadrules.diagnostics import ERROR, Diagnostic

_COLOURS = {"error": "red", "warning": "yellow"}


def source_line(file: str, line: int, cache: dict[str, list[str]]) -> str | None:
    if file not in cache:
        try:
            cache[file] = Path(file).read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError:
            cache[file] = []
    lines = cache[file]
    return lines[line - 1] if 0 < line <= len(lines) else None


def format_text(diagnostics: list[Diagnostic], colour: bool = False,
                sources: dict[str, list[str]] | None = None) -> str:
    """Compiler-style: `file:line:col: error[LR201]: message`, the line, a caret, `help:`."""
    import click

    cache = dict(sources or {})
    out: list[str] = []
    for d in diagnostics:
        severity = d.severity.value
        head = f"{severity}[{d.code}]"
        if colour:
            head = click.style(head, fg=_COLOURS[severity], bold=True)
        where = f"{d.span.file}:{d.span.line}:{d.span.col}: " if d.span.line else ""
        out.append(f"{where}{head}: {d.message}")
        text = source_line(d.span.file, d.span.line, cache) if d.span.line else None
        if text is not None and len(text) <= 400:
            gutter = f"{d.span.line:>4} | "
            out.append(gutter + text.replace("\t", " "))
            width = (d.span.end_col - d.span.col) if d.span.end_line == d.span.line else 1
            width = max(1, min(width, len(text) - d.span.col + 2))
            caret = "^" * width
            if colour:
                caret = click.style(caret, fg=_COLOURS[severity], bold=True)
            out.append(" " * (len(gutter) - 2) + "| " + " " * (d.span.col - 1) + caret)
        if d.hint:
            out.append(("     = " if text is not None else "  ") + f"help: {d.hint}")
    return "\n".join(out)


def summary(diagnostics: list[Diagnostic], files: int) -> str:
    errors = sum(d.severity == ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if not diagnostics:
        return f"{checked}: no problem found."
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"{checked}: " + " and ".join(parts) + "."
