"""The one problem type every stage reports: a stable code, a severity, a place, words, a fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from leadrules.ast import NOWHERE, Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


ERROR = Severity.ERROR
WARNING = Severity.WARNING


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """`code` is stable (documented in docs/diagnostics.md); `hint` is the suggested fix."""

    code: str
    severity: Severity
    message: str
    span: Span = NOWHERE
    hint: str | None = None

    @property
    def sort_key(self) -> tuple:
        s = self.span
        return (s.file, s.line, s.col, self.code, self.message)


def error(code: str, message: str, span: Span = NOWHERE, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, ERROR, message, span, hint)


def warning(code: str, message: str, span: Span = NOWHERE, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, WARNING, message, span, hint)


def finish(diagnostics) -> list[Diagnostic]:
    """De-duplicated and sorted by place, as every command reports them."""
    return sorted(set(diagnostics), key=lambda d: d.sort_key)


def did_you_mean(name: str, candidates) -> str | None:
    """`did you mean 'company_size'?` when a known name is close enough, else None."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
