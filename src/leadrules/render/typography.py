"""Values and words -> typeset text for one locale: Babel numbers, money, percentages and dates,
French spacing and apostrophes, and `Rich`, the marked-up text that sentences are made of."""

from __future__ import annotations

import re
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.dates import (
    format_date,
    format_skeleton,
    format_time,
    get_day_names,
    get_timezone,
    get_timezone_location,
)
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_name

NNBSP = "\u202f"  # narrow no-break space: French ; : ! ? and inside « »
NBSP = "\u00a0"
MINUS = "\u2212"

# Piece kinds of a Rich text: plain words, the name of something the agreement defines (set in
# italics), a figure, a value quoted from the rules (shown verbatim between quotes), and a
# technical spelling (a regular expression, a field name) shown as code.
TEXT, TERM, FIGURE, QUOTE, CODE = "text", "term", "figure", "quote", "code"


class Rich(tuple):
    """Marked-up text: a tuple of (kind, text) pieces. Renderers escape each piece for HTML or
    Markdown, so nothing read from a rule file is ever spliced in unescaped."""

    __slots__ = ()

    def __new__(cls, pieces=()):
        merged: list[tuple[str, str]] = []
        for kind, text in pieces:
            if not text:
                continue
            if merged and merged[-1][0] == kind == TEXT:
                merged[-1] = (TEXT, merged[-1][1] + text)
            else:
                merged.append((kind, text))
        return super().__new__(cls, merged)

    @classmethod
    def of(cls, value: Rich | str, kind: str = TEXT) -> Rich:
        return value if isinstance(value, Rich) else cls([(kind, value)])

    def __add__(self, other):
        return Rich([*self, *Rich.of(other)])

    def __radd__(self, other):
        return Rich([*Rich.of(other), *self])

    @property
    def plain(self) -> str:
        return "".join(text for _, text in self)

    def capitalized(self) -> Rich:
        """The first letter upper-cased (a sentence start), whatever piece it is in."""
        pieces = list(self)
        for i, (kind, text) in enumerate(pieces):
            if kind == QUOTE or kind == CODE:
                return self
            stripped = text.lstrip()
            if stripped:
                lead = len(text) - len(stripped)
                pieces[i] = (kind, text[:lead] + stripped[0].upper() + stripped[1:])
                return Rich(pieces)
        return self

    def ending(self, mark: str) -> Rich:
        """The text with closing punctuation `mark` (a French `;` gets its narrow space)."""
        return self + mark


def join_rich(parts, separator: Rich | str) -> Rich:
    out: list = []
    for i, part in enumerate(parts):
        if i:
            out.extend(Rich.of(separator))
        out.extend(Rich.of(part))
    return Rich(out)


# After a letter an apostrophe is an elision or a possessive (l'entreprise, l'{noun}, Acme's).
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'")
# A space (or none) before ; : ! ? followed by a space or the end; a space (or none) before ».
_BEFORE_MARK = re.compile(r"(?<=\S)[ \u00a0\u202f]*([;:!?])(?=\s|$)|[ \u00a0\u202f]+([;:!?])")
_BEFORE_CLOSE = re.compile(r"[ \u00a0\u202f]*»")
_AFTER_OPEN = re.compile(r"«[ \u00a0\u202f]*")


def smart_apostrophes(text: str) -> str:
    """l'entreprise -> l’entreprise (only after a letter, so quoted code is left alone)."""
    return _APOSTROPHE.sub("\u2019", text)


def french_spacing(text: str) -> str:
    """A narrow no-break space before ; : ! ? » and after «. A mark glued to what follows
    (09:00, http://, a?b) is not punctuation and keeps no space."""
    text = _BEFORE_MARK.sub(lambda m: NNBSP + (m.group(1) or m.group(2)), text)
    text = _BEFORE_CLOSE.sub(NNBSP + "»", text)
    return _AFTER_OPEN.sub("«" + NNBSP, text)


class Typography:
    """Formatting for one language: every number, amount, date and word the document prints
    passes through here."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        # English is US English: €960,000 and January 1, 2027, as the agreement's examples show.
        self.locale = Locale.parse({"fr": "fr_FR", "en": "en_US"}.get(lang, lang))

    # -- words

    def words(self, text: str) -> str:
        """Prose written by people (messages, labels): apostrophes, French spacing."""
        text = smart_apostrophes(text)
        return french_spacing(text) if self.lang == "fr" else text

    def quote(self, text: str) -> str:
        """A value quoted verbatim: « FR » or “FR”."""
        if self.lang == "fr":
            return f"«{NNBSP}{text}{NNBSP}»"
        return f"\u201c{text}\u201d"

    def plural_form(self, count) -> str:
        return self.locale.plural_form(abs(Decimal(count)))

    def list_and(self, items: list[str]) -> str:
        return self._list(items, "standard", any("," in i for i in items))

    def list_or(self, items: list[str]) -> str:
        return self._list(items, "or", any("," in i for i in items))

    def _list(self, items: list[str], style: str, commas: bool) -> str:
        if self.lang == "en" and commas and len(items) > 2:
            # "€2,400; €6,000; and €30,000": commas inside the items would blur the list.
            word = "or" if style == "or" else "and"
            return "; ".join(items[:-1]) + f"; {word} " + items[-1]
        return format_list(items, style=style, locale=self.locale)

    def rich_list(self, items: list[Rich], style: str = "and") -> Rich:
        """`A, B et C` / `A, B ou C` with each item kept as it is marked up."""
        if not items:
            return Rich()
        marks = [f"\x00{i}\x00" for i in range(len(items))]
        joined = self._list(marks, "or" if style == "or" else "standard",
                            any("," in Rich.of(i).plain for i in items))
        out: list = []
        for i, chunk in enumerate(joined.split("\x00")):
            if i % 2:
                out.extend(items[int(chunk)])
            else:
                out.append((TEXT, chunk))
        return Rich(out)

    # -- numbers

    def number(self, value, places: int | None = None) -> str:
        """1 000 / 1,000; `places` fixes the decimals (1 066,7), else as many as needed."""
        value = Decimal(value)
        if places is not None:
            pattern = "#,##0" + ("." + "0" * places if places else "")
            text = format_decimal(value, format=pattern, locale=self.locale)
        else:
            text = format_decimal(value.normalize() if value == value.to_integral_value()
                                  else value, locale=self.locale, decimal_quantization=False)
        return text.replace("-", MINUS)

    def signed(self, value) -> str:
        """+30 / −50: points are always shown with their sign."""
        value = Decimal(value)
        text = self.number(abs(value))
        return ("+" if value >= 0 else MINUS) + text

    def rounded(self, value, places: int = 1) -> str:
        quantum = Decimal(1).scaleb(-places)
        return self.number(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP), places)

    def money(self, amount, currency: str) -> str:
        """960 000 € / €960,000; cents only when the amount has some."""
        amount = Decimal(amount)
        pattern = self.locale.currency_formats["standard"].pattern
        if amount == amount.to_integral_value():
            pattern = re.sub(r"\.0+", "", pattern)
            amount = amount.to_integral_value()
        text = format_currency(amount, currency, format=pattern, locale=self.locale,
                               currency_digits=False)
        return text.replace("-", MINUS)

    def currency_name(self, code: str) -> str:
        """EUR -> euros, USD -> US dollars: what an amount is counted in, in words."""
        return get_currency_name(code, count=2, locale=self.locale)

    def zone_city(self, zone: str) -> str | None:
        """Europe/Paris -> Paris: the city people name a time zone by; None for a zone that
        names no city (UTC, Etc/GMT+2), which is then shown by its identifier."""
        if "/" not in zone or zone.startswith("Etc/"):
            return None
        try:
            return get_timezone_location(get_timezone(zone), locale=self.locale, return_city=True)
        except LookupError:
            return None

    def percent(self, fraction) -> str:
        """40 % / 40%; 2,5 % keeps its decimal."""
        return format_percent(Decimal(fraction), locale=self.locale, decimal_quantization=False)

    # -- dates and times

    def date(self, value: date) -> str:
        """1ᵉʳ janvier 2027 / January 1, 2027 (French writes the first of the month as an
        ordinal, with the ending raised: 1ᵉʳ)."""
        text = format_date(value, "long", locale=self.locale)
        if self.lang == "fr" and value.day == 1:
            text = "1\u1d49\u02b3" + text[1:]
        # A date is never split across two lines.
        return text.replace(" ", NBSP)

    def day_month(self, value: date) -> str:
        """1ᵉʳ janvier / January 1: a date whose year the sentence gives once, elsewhere."""
        text = format_skeleton("MMMMd", value, locale=self.locale)
        if self.lang == "fr" and value.day == 1:
            text = "1\u1d49\u02b3" + text[1:]
        return text.replace(" ", NBSP)

    def time(self, value: time) -> str:
        """9 h, 12 h 30 (French usage) / 9:00 AM."""
        if self.lang == "fr":
            if value.minute:
                return f"{value.hour}{NBSP}h{NBSP}{value.minute:02d}"
            return f"{value.hour}{NBSP}h"
        return format_time(value, "short", locale=self.locale)

    def day_name(self, index: int) -> str:
        """0 = Monday."""
        return get_day_names("wide", locale=self.locale)[index]
