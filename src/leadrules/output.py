"""Diagnostics -> text for people (source line, caret, hint; colour only on a terminal)."""

from __future__ import annotations

import re
from pathlib import Path

from leadrules.diagnostics import ERROR, Diagnostic

_COLOURS = {"error": "red", "warning": "yellow"}


def source_line(file: str, line: int, cache: dict[str, list[str]]) -> str | None:
    if file not in cache:
        path = Path(file)
        try:
            # Only an ordinary file: a device or a pipe named by mistake would be read for ever.
            cache[file] = path.read_text(encoding="utf-8", errors="replace").split("\n") \
                if path.is_file() else []
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
        where = f"{d.span.file}:{d.span.line}:{d.span.col}: " if d.span.line else \
            (f"{d.span.file}: " if d.span.file and d.span.file != "<builtin>" else "")
        out.append(printable(where) + f"{head}: " + printable(d.message))
        text = source_line(d.span.file, d.span.line, cache) if d.span.line else None
        if text is not None and len(text) <= 400:
            gutter = f"{d.span.line:>4} | "
            out.append(gutter + printable(text.rstrip("\r").replace("\t", " ")))
            width = (d.span.end_col - d.span.col) if d.span.end_line == d.span.line else 1
            width = max(1, min(width, len(text) - d.span.col + 2))
            caret = "^" * width
            if colour:
                caret = click.style(caret, fg=_COLOURS[severity], bold=True)
            out.append(" " * (len(gutter) - 2) + "| " + " " * (d.span.col - 1) + caret)
        if d.hint:
            out.append(("     = " if text is not None else "  ") + "help: " + printable(d.hint))
    return "\n".join(out)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Control characters from a rule file (an escape sequence could recolour or rewrite the
    terminal; a new line could forge a line of a CI log) are shown as U+FFFD."""
    return _CONTROL.sub("\ufffd", text)


def terminal_text(text: str) -> str:
    """A text of several lines for a terminal: every control character but the new line shown
    as U+FFFD (no escape sequence from a rule file reaches the terminal)."""
    return _CONTROL_BUT_NEWLINE.sub("\ufffd", text)


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


# ----------------------------------------------------------------------------- machine formats

FORMATS = ("text", "json", "github", "sarif", "junit")


def _location(d: Diagnostic) -> dict:
    s = d.span
    if not s.line:
        return {"file": s.file}
    return {"file": s.file, "line": s.line, "column": s.col, "end_line": s.end_line,
            "end_column": s.end_col}


def format_json(diagnostics: list[Diagnostic], files: int | None = None) -> str:
    """`{"diagnostics": [...], "summary": {...}}`: one object per problem, positions 1-based."""
    import json

    errors = sum(d.severity == ERROR for d in diagnostics)
    data = {
        "diagnostics": [
            {"code": d.code, "severity": d.severity.value, "message": d.message,
             "hint": d.hint, **_location(d)}
            for d in diagnostics
        ],
        "summary": {"errors": errors, "warnings": len(diagnostics) - errors},
    }
    if files is not None:
        data["summary"]["files"] = files
    return json.dumps(data, ensure_ascii=False, indent=2)


def _gh_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def format_github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: each problem becomes an annotation on its line."""
    out = []
    for d in diagnostics:
        props = [f"file={_gh_escape(d.span.file, True)}"]
        if d.span.line:
            props += [f"line={d.span.line}", f"col={d.span.col}"]
            if d.span.end_line:
                props += [f"endLine={d.span.end_line}", f"endColumn={d.span.end_col}"]
        props.append(f"title={_gh_escape(f'leadrules {d.code}', True)}")
        message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
        out.append(f"::{d.severity.value} {','.join(props)}::{_gh_escape(message)}")
    return "\n".join(out)


def format_sarif(diagnostics: list[Diagnostic], version: str = "0") -> str:
    """SARIF 2.1.0, the format code-scanning tools read."""
    import json

    from leadrules.codes import title

    codes = sorted({d.code for d in diagnostics})
    results = []
    for d in diagnostics:
        location: dict = {"artifactLocation": {"uri": Path(d.span.file).as_posix()}}
        if d.span.line:
            location["region"] = {
                "startLine": d.span.line, "startColumn": d.span.col,
                "endLine": d.span.end_line or d.span.line,
                "endColumn": d.span.end_col or d.span.col + 1,
            }
        text = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
        results.append({
            "ruleId": d.code, "ruleIndex": codes.index(d.code),
            "level": "error" if d.severity == ERROR else "warning",
            "message": {"text": text},
            "locations": [{"physicalLocation": location}],
        })
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leadrules", "version": version,
                "rules": [{"id": c, "shortDescription": {"text": title(c)},
                           "help": {"text": f"docs/diagnostics.md, {c}"}} for c in codes],
            }},
            "results": results,
        }],
    }
    return json.dumps(log, ensure_ascii=False, indent=2)


def format_junit(diagnostics: list[Diagnostic], files: list[str], strict: bool = False) -> str:
    """JUnit XML: one test case per checked file, failing on its errors (and on its warnings
    with `strict`); other warnings go to the case's output."""
    from xml.etree import ElementTree as ET

    by_file: dict[str, list[Diagnostic]] = {f: [] for f in files}
    for d in diagnostics:
        by_file.setdefault(d.span.file, []).append(d)
    suite = ET.Element("testsuite", name="leadrules check")
    failures = 0
    for file, found in by_file.items():
        case = ET.SubElement(suite, "testcase", classname="leadrules.check",
                             name=_xml_safe(file))
        failing = [d for d in found if strict or d.severity == ERROR]
        others = [d for d in found if d not in failing]
        if failing:
            failures += 1
            first = failing[0]
            failure = ET.SubElement(case, "failure", type=first.code, message=_xml_safe(
                f"{len(failing)} problem{'s' if len(failing) != 1 else ''}: {first.message}"))
            failure.text = _xml_safe(format_text(failing))
        if others:
            ET.SubElement(case, "system-out").text = _xml_safe(format_text(others))
    suite.set("tests", str(len(by_file)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot hold most control characters, even escaped; a rule file can."""
    return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]", "\ufffd", text)
