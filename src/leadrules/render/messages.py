"""Per-locale message files (messages/<lang>.yaml) -> typeset phrases, chosen by plural and gender.

A message is a string with `{name}` placeholders, or a mapping that chooses a string: by plural
category (`one`, `many`, `other`, as Babel's plural rules say) or by grammatical gender (`m`, `f`)
of the noun phrase it agrees with. Every word the agreement prints comes from these files.
"""

from __future__ import annotations

import string
from functools import cache
from importlib.resources import files

import yaml

from leadrules.render.typography import TEXT, Rich, Typography

LANGUAGES = ("fr", "en")
_PLURAL = {"zero", "one", "two", "few", "many", "other"}
_GENDER = {"m", "f"}


class MessageError(LookupError):
    """A message key the code asks for is missing from a locale file (a bug, caught by tests)."""


@cache
def load(lang: str, package: str = "leadrules.render") -> dict[str, object]:
    """The flattened messages of one language: "section.key" -> str or choice mapping. The
    agreement's words are in leadrules.render, the report's in leadrules.report."""
    text = files(package).joinpath("messages").joinpath(f"{lang}.yaml").read_text("utf-8")
    return flatten(yaml.safe_load(text))


def is_choice(value) -> bool:
    return isinstance(value, dict) and bool(value) and (
        set(value) <= _PLURAL or set(value) <= _GENDER)


def flatten(tree: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not is_choice(value):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


class Messages:
    """The phrases of one language, typeset (apostrophes, French spacing) as they are read."""

    def __init__(self, lang: str, package: str = "leadrules.render") -> None:
        if lang not in LANGUAGES:
            raise MessageError(f"no messages for language '{lang}'")
        self.lang = lang
        self.typo = Typography(lang)
        self._raw = load(lang, package)

    def has(self, key: str) -> bool:
        return key in self._raw

    def text(self, key: str, count=None, gender: str | None = None, **args) -> str:
        """The message as plain text, placeholders filled with plain strings."""
        return self.rich(key, count, gender, **args).plain

    def rich(self, key: str, count=None, gender: str | None = None, **args) -> Rich:
        """The message with its placeholders filled by Rich pieces (or strings)."""
        template = self._choose(key, count, gender)
        pieces: list = []
        for literal, name, _spec, _conv in string.Formatter().parse(template):
            if literal:
                pieces.append((TEXT, literal))
            if name is not None:
                if name not in args:
                    raise MessageError(f"message '{key}' ({self.lang}) uses {{{name}}}, "
                                       f"which the code does not give")
                pieces.extend(Rich.of(args[name]))
        return Rich(pieces)

    def _choose(self, key: str, count, gender: str | None) -> str:
        try:
            value = self._raw[key]
        except KeyError:
            raise MessageError(f"message '{key}' is missing from {self.lang}.yaml") from None
        if isinstance(value, dict):
            if set(value) <= _GENDER:
                value = value.get(gender or "m", value.get("m"))
            else:
                form = self.typo.plural_form(count if count is not None else 0)
                value = value.get(form, value.get("other"))
        if not isinstance(value, str):
            raise MessageError(f"message '{key}' in {self.lang}.yaml is not text")
        return self.typo.words(value)
