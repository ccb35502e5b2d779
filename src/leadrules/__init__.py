"""leadrules: the marketing–sales agreement as an executable, checked rule file."""

from __future__ import annotations

__all__ = ["check", "load"]


def version() -> str:
    """The version of leadrules installed (documents record the one that rendered them)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("leadrules")
    except PackageNotFoundError:
        return "unknown"


def check(path, text=None):
    """The checked Ruleset of a rule file, diagnostics included; never raises on bad input."""
    from leadrules.check import check as _check

    return _check(path, text)


def load(path):
    """The checked ruleset ready to evaluate leads; raises RulesError when the file has errors."""
    from leadrules.engine import load as _load

    return _load(path)
