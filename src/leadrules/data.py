"""CRM exports (CSV, JSON Lines, Parquet) -> typed lead records and events, with data problems.

Everything a rule file says about the export is applied here and only here: the `from` column
of each field, the field's type, its `missing` spellings and the export spellings of enum
members. The engine only ever sees typed values: `int`, `Decimal`, `str`, `bool`, `date`,
aware `datetime`, enum member names, or None for "not given". A value that does not fit its
field is never turned into something else: it becomes a `Problem` (row, column, value, what
was expected) and the field is unknown for that lead.

Files are streamed: leads are read one record at a time, whatever the size of the file.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from leadrules import ast
from leadrules.model import Ruleset

FORMATS = ("csv", "jsonl", "parquet")

# Columns of an events file, first match wins (exact, then ignoring case and spaces).
EVENT_TYPE_COLUMNS = ("type", "event", "event_type")
EVENT_AT_COLUMNS = ("at", "timestamp", "occurred_at", "time", "date")
# Inside a JSON lead record.
EVENTS_KEY = "events"


class DataError(Exception):
    """A problem with a whole file (missing, unreadable, no key column, a malformed row) that
    stops the run; the message is written for the person who exported the file."""


# What can be wrong with one value, in English (str() of a ValueProblem). The report words the
# same keys in each of its languages (report/messages/<lang>.yaml, `data.value.<key>`).
VALUE_PROBLEMS = {
    "not_number": "is not a number",
    "not_thousands": "is not a number (the digit groups are not in thousands)",
    "mixed_separators": "is not a number (it mixes separators)",
    "too_large": "is too large a number (more than 28 digits)",
    "not_whole": "is not a whole number",
    "two_currencies": "names two currencies",
    "not_money": "is not an amount of money",
    "not_money_in": "is not an amount of money in {currency}",
    "other_currency": "is in {found}, but this agreement counts money in {currency}",
    "not_bool": "is not yes or no (write true/false, yes/no, 1/0 or oui/non)",
    "not_date": "is not a date",
    "date_dmy": "is not a date: under this agreement's locale, dates with {sep} are read "
                "DD/MM/YYYY",
    "date_mdy": "is not a date: under this agreement's locale, dates with {sep} are read "
                "MM/DD/YYYY",
    "no_month": "is not a date: there is no month {month} (dates are written year-month-day)",
    "no_day": "is not a date: {year}-{month} has no day {day}",
    "not_datetime": "is not a date and time",
    "not_member": "is not one of the values of {field} (expected {listed})",
    "not_member_more": "is not one of the values of {field} (expected {listed} and {more} more)",
    "not_member_close": "is not one of the values of {field}; did you mean '{close}'?",
    "not_text": "is not text",
    "not_single": "is a list or an object, not a single value",
}
_DETAILED_DATE = frozenset({"date_dmy", "date_mdy", "no_month", "no_day"})


class ValueProblem(ValueError):
    """One value that does not fit its field: `key` (of VALUE_PROBLEMS) says what is wrong,
    `params` fill in the details; str() is the English message."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __str__(self) -> str:
        return VALUE_PROBLEMS[self.key].format(**self.params)


@dataclass(frozen=True, slots=True)
class Problem:
    """A value that does not fit: where it is (file, row, column), what it is, what was wrong.

    `row` counts as a spreadsheet does for CSV (the header is row 1, the first lead row 2),
    lines for JSON Lines, records from 1 for Parquet.
    """

    file: str
    row: int
    column: str
    value: str
    message: str
    field: str = ""
    key: str = ""  # when the problem is a ValueProblem: its key and params, for translations
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        if not self.column and not self.value:
            # A whole row that could not be read (a malformed CSV row, a line that is not JSON).
            return f"row {group_digits(self.row)} {self.message}"
        shown = _shorten(self.value)
        return f"row {group_digits(self.row)}, column '{self.column}': {shown} {self.message}"


class Event(NamedTuple):
    """One event of a lead: its type (the event's name in the rules), when it happened (aware),
    and its typed properties."""

    type: str
    at: datetime
    properties: dict[str, Any]


def group_digits(n: int) -> str:
    """1042 -> '1 042', the way the messages write row numbers."""
    return f"{n:,}".replace(",", " ")


def _shorten(value: str, limit: int = 60) -> str:
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text) if not text.startswith("'") else '"' + text + '"'


def display_value(raw: Any) -> str:
    """A raw value as the errors file shows it (the cell's text, or JSON for other values)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float, Decimal, date, datetime)):
        return str(raw)
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(raw)


# ============================================================================ value parsers

_GROUP_SEPARATORS = " \u00a0\u202f\u2009_'"
_NUMBER_SHAPE = re.compile(r"[+\-\u2212]?\d[\d.,'_ \u00a0\u202f\u2009]*")
_CURRENCY_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF"}
_CURRENCY_PREFIX = re.compile(r"^([A-Za-z]{3}|[€$£¥₹])\s*")
_CURRENCY_SUFFIX = re.compile(r"\s*([A-Za-z]{3}|[€$£¥₹])$")


def parse_decimal(text: str, decimal_comma: bool = False) -> Decimal:
    """A number as people and spreadsheets write it: `1234.5`, `-12`, `1e3`, `12 000`,
    `12,000.50`, `12.000,50`, `12 000,5`. A lone comma followed by exactly three digits
    (`12,500`) is ambiguous: it is a decimal comma when `decimal_comma` (a French agreement),
    a thousands separator otherwise. Raises ValueProblem."""
    s = text.strip()
    try:
        value = Decimal(s)
    except InvalidOperation:
        pass
    else:
        if value.is_finite():
            # 1e3 is the number 1000, written as such.
            return (_bounded(value).quantize(Decimal(1)) if value.as_tuple().exponent > 0
                    else _bounded(value))
        raise ValueProblem("not_number")
    if not _NUMBER_SHAPE.fullmatch(s):
        raise ValueProblem("not_number")
    sign = ""
    if s[0] in "+-\u2212":
        sign = "-" if s[0] != "+" else ""
        s = s[1:]
    marks = [c for c in s if c in ".,"]
    decimal_mark = None
    if "." in marks and "," in marks:
        decimal_mark = marks[-1]
    elif marks:
        mark = marks[0]
        if len(marks) == 1:
            after = s.rsplit(mark, 1)[1]
            if len(after) != 3 or not after.isdigit():
                decimal_mark = mark
            elif mark == "." or decimal_comma:
                decimal_mark = mark
    if decimal_mark is not None:
        whole, _, fraction = s.rpartition(decimal_mark)
        if not fraction.isdigit():
            raise ValueProblem("not_number")
    else:
        whole, fraction = s, ""
    groups = re.split(r"[.,'_ \u00a0\u202f\u2009]", whole)
    if len(groups) > 1:
        if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
            raise ValueProblem("not_thousands")
        separators = {c for c in whole if not c.isdigit()}
        if len(separators) > 1:
            raise ValueProblem("mixed_separators")
    digits = "".join(groups)
    if not digits.isdigit():
        raise ValueProblem("not_number")
    return _bounded(Decimal(f"{sign}{digits}.{fraction}" if fraction else f"{sign}{digits}"))


# Exact decimal arithmetic keeps 28 digits: a larger value (10^28 employees, 1e400 euros) is
# certainly a mistake in the export, and scores computed from it could not be exact.
_LARGEST = 10 ** 28
def _bounded(value: Any) -> Any:
    """`value` (int, Decimal or float), unless it is too large to be counted exactly."""
    if -_LARGEST < value < _LARGEST:
        return value
    raise ValueProblem("too_large")


def _integral(value: Decimal) -> int | Decimal:
    return int(value) if value == value.to_integral_value() else value


def parse_int(raw: Any, decimal_comma: bool = False) -> int:
    """A whole number; `12.0` is 12, `12.5` is a problem."""
    if isinstance(raw, bool):
        raise ValueProblem("not_whole")
    if isinstance(raw, int):
        return _bounded(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValueProblem("not_whole")
        if raw.is_integer():
            return int(_bounded(raw))
        raise ValueProblem("not_whole")
    if isinstance(raw, Decimal):
        value = _bounded(raw) if raw.is_finite() else raw
    elif isinstance(raw, str):
        try:
            return _bounded(int(raw))
        except ValueError:
            pass
        try:
            value = parse_decimal(raw, decimal_comma)
        except ValueProblem as exc:
            if exc.key == "too_large":
                raise
            raise ValueProblem("not_whole") from None
    else:
        raise ValueProblem("not_whole")
    if value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise ValueProblem("not_whole")


def parse_number(raw: Any, decimal_comma: bool = False) -> int | Decimal:
    """A number: an int when it is whole, else an exact Decimal."""
    if isinstance(raw, bool):
        raise ValueProblem("not_number")
    if isinstance(raw, int):
        return _bounded(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ValueProblem("not_number")
        # repr gives the shortest text that reads back as the same float: 0.1, not 0.1000…
        return _integral(Decimal(repr(_bounded(raw))))
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueProblem("not_number")
        return _integral(_bounded(raw))
    if isinstance(raw, str):
        try:
            return _bounded(int(raw))
        except ValueError:
            return _integral(parse_decimal(raw, decimal_comma))
    raise ValueProblem("not_number")


def parse_money(raw: Any, currency: str | None = None, decimal_comma: bool = False) -> Decimal:
    """An amount as an exact Decimal. Text may carry the currency before or after the number
    (`12 000 EUR`, `EUR 12000`, `€12,000.50`); a currency other than the agreement's is a
    problem, never converted."""
    if isinstance(raw, str):
        s = raw.strip()
        found = None
        for pattern in (_CURRENCY_PREFIX, _CURRENCY_SUFFIX):
            m = pattern.search(s)
            if m:
                token = m.group(1)
                code = _CURRENCY_SYMBOLS.get(token, token.upper())
                if found is not None and code != found:
                    raise ValueProblem("two_currencies")
                found = code
                s = s[: m.start()] + s[m.end():]
        try:
            value = parse_decimal(s, decimal_comma)
        except ValueProblem as exc:
            if exc.key == "too_large":
                raise
            if currency:
                raise ValueProblem("not_money_in", currency=currency) from None
            raise ValueProblem("not_money") from None
        if found is not None and currency is not None and found != currency:
            raise ValueProblem("other_currency", found=found, currency=currency)
        return value
    try:
        value = parse_number(raw, decimal_comma)
    except ValueProblem as exc:
        if exc.key == "too_large":
            raise
        raise ValueProblem("not_money") from None
    return Decimal(value)


_TRUE = frozenset({"true", "yes", "y", "1", "oui", "vrai", "t", "o"})
_FALSE = frozenset({"false", "no", "n", "0", "non", "faux", "f"})


def parse_bool(raw: Any) -> bool:
    """true/false, yes/no, 1/0, oui/non, vrai/faux (any case)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float, Decimal)) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        s = raw.strip().casefold()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise ValueProblem("not_bool")


_MONTHS = {
    # English and French month names and their usual abbreviations.
    **{m: i for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)},
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"], 1)},
    **{m: i for i, m in enumerate(
        ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
         "septembre", "octobre", "novembre", "décembre"], 1)},
    "sept": 9, "janv": 1, "févr": 2, "fevr": 2, "fev": 2, "fév": 2, "avr": 4, "juil": 7,
    "aout": 8, "déc": 12, "fevrier": 2, "decembre": 12,
}
_NUMERIC_DATE = re.compile(r"(\d{1,4})([/.\-])(\d{1,2})\2(\d{1,4})")
_NAMED_DATE = re.compile(
    r"(?:(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4}))|(?:([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4}))")
_CLOCK = re.compile(
    r"(\d{1,2})(?::|h)(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?\s*([AaPp][Mm])?"
    r"\s*(Z|UTC|GMT|[+\-]\d{2}:?\d{2})?")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if len(text) <= 2 else year


def _date_part(s: str, day_first: bool) -> date:
    m = _NUMERIC_DATE.fullmatch(s)
    if m:
        a, sep, b, c = m.groups()
        if len(a) == 4:
            return _calendar_date(int(a), int(b), int(c))
        try:
            if len(c) not in (2, 4):
                raise ValueProblem("not_date")
            if sep == "." or day_first:
                return date(_year(c), int(b), int(a))
            return date(_year(c), int(a), int(b))
        except ValueError:
            order = "date_dmy" if (sep == "." or day_first) else "date_mdy"
            raise ValueProblem(order, sep=sep) from None
    m = _NAMED_DATE.fullmatch(s)
    if m:
        if m.group(1):
            day, month_name, year = m.group(1), m.group(2), m.group(3)
        else:
            month_name, day, year = m.group(4), m.group(5), m.group(6)
        month = _MONTHS.get(month_name.casefold())
        if month is not None:
            try:
                return date(int(year), month, int(day))
            except ValueError:
                pass
    raise ValueProblem("not_date")


def _calendar_date(year: int, month: int, day: int) -> date:
    """A year-first date, or a problem that says which part does not exist."""
    try:
        return date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            raise ValueProblem("no_month", month=str(month)) from None
        raise ValueProblem("no_day", year=str(year), month=f"{month:02d}", day=str(day)) from None


def parse_date(raw: Any, zone: tzinfo, day_first: bool = False) -> date:
    """A calendar date: ISO `2027-01-15`, `15/01/2027` (day first in a French agreement, month
    first in an English one), `15.01.2027`, `15 Jan 2027`, `Jan 15, 2027`; a date-time keeps
    its date (in the agreement's time zone when it has an offset)."""
    if isinstance(raw, datetime):
        return (raw.astimezone(zone) if raw.tzinfo else raw).date()
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        raise ValueProblem("not_date")
    s = raw.strip()
    try:
        return date.fromisoformat(s)
    except ValueError:
        pass
    try:
        return _date_part(s, day_first)
    except ValueProblem as first:
        try:
            moment = parse_datetime(s, zone, day_first)
        except ValueProblem as second:
            detailed = second.key in _DETAILED_DATE
            raise (second if detailed and first.key == "not_date" else first) from None
        return moment.date()


def parse_datetime(raw: Any, zone: tzinfo, day_first: bool = False) -> datetime:
    """An instant, always returned with its time zone: ISO 8601 (`2027-01-15T09:30`,
    `2027-01-15 09:30:00`, `…Z`, `…+01:00`), the date forms of `parse_date` followed by a time
    (`15/01/2027 09:30`, `01/15/2027 9:30 PM`, `15/01/2027 9h30`), or a date alone (midnight).
    A time without an offset is in `zone`, the agreement's time zone."""
    if isinstance(raw, datetime):
        return raw.astimezone(zone) if raw.tzinfo else raw.replace(tzinfo=zone)
    if isinstance(raw, date):
        return datetime.combine(raw, time(), zone)
    if not isinstance(raw, str):
        raise ValueProblem("not_datetime")
    s = raw.strip()
    try:
        moment = datetime.fromisoformat(s)
    except ValueError:
        moment = _parse_loose_datetime(s, day_first)
    return moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)


_DATE_AND_CLOCK = re.compile(r"(.*?)[\sT,]+(\d{1,2}(?::|h)\d{2}.*)")


def _parse_loose_datetime(s: str, day_first: bool) -> datetime:
    problem = ValueProblem("not_datetime")
    m = _DATE_AND_CLOCK.fullmatch(s)
    head, clock = (m.group(1), m.group(2)) if m else (s, "")
    try:
        day = _date_part(head.strip().rstrip(","), day_first)
    except ValueProblem as exc:
        # Keep a message that says more (in which order dates are read, which part of the
        # date does not exist).
        raise (exc if exc.key != "not_date" else problem) from None
    if not clock:
        return datetime.combine(day, time())
    m = _CLOCK.fullmatch(clock.strip())
    if not m:
        raise problem
    hour, minute, second, fraction, half, offset = m.groups()
    hour, minute = int(hour), int(minute)
    if half:
        if not 1 <= hour <= 12:
            raise problem
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    micro = int((fraction or "0").ljust(6, "0"))
    try:
        moment = datetime.combine(day, time(hour, minute, int(second or 0), micro))
    except ValueError:
        raise problem from None
    if offset:
        if offset in ("Z", "UTC", "GMT"):
            return moment.replace(tzinfo=UTC)
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if delta >= timedelta(hours=24):
            raise problem
        return moment.replace(tzinfo=timezone(sign * delta))
    return moment


def normalise(text: str) -> str:
    """How names and spellings are compared when the exact match fails: case and runs of
    spaces do not count."""
    return " ".join(text.split()).casefold()


class EnumReader:
    """Export spellings -> member names: exact first, then ignoring case and spaces."""

    def __init__(self, field_name: str, members: tuple[ast.EnumMember, ...]):
        self.field_name = field_name
        self.exact: dict[str, str] = {}
        self.shown: list[str] = []
        for member in members:
            for spelling in member.spellings or (member.name,):
                self.exact.setdefault(spelling, member.name)
                self.shown.append(spelling)
        # A member's own name is understood too (JSON written by programs), unless an export
        # spelling of another member already means it.
        for member in members:
            self.exact.setdefault(member.name, member.name)
        loose: dict[str, str | None] = {}
        for spelling, name in self.exact.items():
            key = normalise(spelling)
            loose[key] = name if loose.get(key, name) == name else None
        self.loose = {k: v for k, v in loose.items() if v is not None}

    def __call__(self, raw: Any) -> str:
        text = raw if isinstance(raw, str) else display_value(raw)
        name = self.exact.get(text)
        if name is not None:
            return name
        name = self.loose.get(normalise(text))
        if name is not None:
            return name
        close = difflib.get_close_matches(text, self.shown, n=1, cutoff=0.6) or \
            difflib.get_close_matches(normalise(text), [normalise(s) for s in self.shown], n=1,
                                      cutoff=0.6)
        if close:
            original = next(s for s in self.shown if s == close[0] or normalise(s) == close[0])
            raise ValueProblem("not_member_close", field=self.field_name, close=original)
        listed = ", ".join(f"'{s}'" for s in self.shown[:8])
        if len(self.shown) > 8:
            raise ValueProblem("not_member_more", field=self.field_name, listed=listed,
                               more=str(len(self.shown) - 8))
        raise ValueProblem("not_member", field=self.field_name, listed=listed)


def _parse_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, Decimal)):
        return str(raw)
    if isinstance(raw, float):
        return repr(raw) if not raw.is_integer() else str(int(raw))
    if isinstance(raw, (date, datetime)):
        return raw.isoformat()
    raise ValueProblem("not_text")


def _blank(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw or raw.isspace()
    if isinstance(raw, float):
        return raw != raw  # NaN, as pandas writes a missing cell
    return False


class Typing:
    """How values are read under one agreement: its time zone, currency and locale."""

    def __init__(self, rs: Ruleset | None = None, *, timezone: str | None = None,
                 currency: str | None = None, locale: str | None = None):
        self.zone: tzinfo = ZoneInfo(timezone or (rs.timezone if rs else "UTC"))
        self.currency = currency if currency is not None else (rs.currency if rs else None)
        lang = (locale or (rs.locale if rs else "en")).split("_")[0].split("-")[0]
        # French writing: decimal comma, day before month.
        self.decimal_comma = lang == "fr"
        self.day_first = lang != "en"

    def converter(self, name: str, spec: ast.TypeSpec, missing: tuple[str, ...] = ()
                  ) -> Callable[[Any], Any]:
        """A function raw value -> typed value, None when not given; raises ValueProblem."""
        kind = spec.name
        zone, comma, day_first = self.zone, self.decimal_comma, self.day_first
        parse: Callable[[Any], Any]
        if kind == "text":
            parse = _parse_text
        elif kind == "int":
            def parse(raw):
                return parse_int(raw, comma)
        elif kind == "number":
            def parse(raw):
                return parse_number(raw, comma)
        elif kind == "money":
            currency = self.currency

            def parse(raw):
                return parse_money(raw, currency, comma)
        elif kind == "bool":
            parse = parse_bool
        elif kind == "date":
            def parse(raw):
                return parse_date(raw, zone, day_first)
        elif kind == "datetime":
            def parse(raw):
                return parse_datetime(raw, zone, day_first)
        elif kind == "enum":
            parse = EnumReader(name, spec.members)
        else:
            raise ValueError(f"unknown type {kind}")
        missing_exact = frozenset(missing)
        missing_loose = frozenset(normalise(m) for m in missing)

        def read(raw: Any) -> Any:
            if raw is None or raw == "":
                return None
            if isinstance(raw, str):
                if raw in missing_exact:
                    return None
                if missing_loose and normalise(raw) in missing_loose:
                    return None
            if _blank(raw):
                return None
            if isinstance(raw, (list, dict)):
                raise ValueProblem("not_single")
            return parse(raw)

        # Export columns repeat their values (enums, flags, small numbers): the text of a cell
        # is read once and remembered, up to MEMO_SIZE different texts per field. Typed values
        # are immutable, so sharing them between leads is safe.
        memo: dict[str, Any] = {}
        limit = MEMO_SIZE

        def convert(raw: Any) -> Any:
            if raw.__class__ is not str:
                return read(raw)
            value = memo.get(raw, _UNSEEN)
            if value is _UNSEEN:
                try:
                    value = read(raw)
                except ValueProblem as exc:
                    value = _Unreadable(exc.key, exc.params)
                if len(memo) < limit:
                    memo[raw] = value
            if value.__class__ is _Unreadable:
                raise ValueProblem(value.key, **value.params)
            return value

        return convert


MEMO_SIZE = 4096
_UNSEEN = object()


class _Unreadable(NamedTuple):
    """The remembered problem of a cell text that does not fit its field."""

    key: str
    params: dict[str, str]


# ============================================================================ files


def detect_format(path: str | Path, given: str | None = None) -> str:
    """csv, jsonl or parquet, from `given` or from the file's suffix."""
    if given:
        given = given.lower()
        if given in ("json", "ndjson"):
            return "jsonl"
        if given not in FORMATS:
            raise DataError(f"unknown format '{given}': use csv, jsonl or parquet")
        return given
    name = str(path).lower().removesuffix(".gz")
    for suffix, fmt in ((".csv", "csv"), (".tsv", "csv"), (".txt", "csv"), (".jsonl", "jsonl"),
                        (".ndjson", "jsonl"), (".json", "jsonl"), (".parquet", "parquet"),
                        (".pq", "parquet")):
        if name.endswith(suffix):
            return fmt
    raise DataError(f"cannot tell the format of '{path}' from its name: name it .csv, .jsonl "
                    "or .parquet (with `leadrules score`, --input-format also says it)")


def require_pyarrow():
    """pyarrow and pyarrow.parquet, or a DataError saying how to install them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise DataError("reading or writing Parquet needs the pyarrow package: install it with "
                        "`pip install 'leadrules[parquet]'`, or use CSV or JSON Lines") from None
    return pyarrow, pyarrow.parquet


class Source(ABC):
    """An open export: its column names, and its records one at a time.

    `records()` yields `(row, record)`; `getter(column)` returns a function reading that column
    from a record (CSV records are lists, the others dicts).
    """

    path: str
    columns: list[str]

    @abstractmethod
    def records(self) -> Iterator[tuple[int, Any]]:
        """Each record with its row number."""

    def getter(self, column: str) -> Callable[[Any], Any]:
        return lambda record: record.get(column)

    @abstractmethod
    def close(self) -> None:
        """Release the file."""

    def find_column(self, *names: str, exact: tuple[str, ...] = ()) -> str | None:
        """The first of `names` among the columns: exactly, then ignoring case and spaces;
        then the first of `exact`, matched exactly only."""
        for name in names:
            if name in self.columns:
                return name
        loose: dict[str, list[str]] = {}
        for column in self.columns:
            loose.setdefault(normalise(column), []).append(column)
        for name in names:
            found = loose.get(normalise(name), [])
            if len(found) == 1:
                return found[0]
        return next((name for name in exact if name in self.columns), None)


def _open_text(path: Path, encoding: str):
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def check_encoding(encoding: str, option: str = "--encoding") -> None:
    """Raises DataError unless `encoding` names a text encoding Python knows."""
    import codecs

    try:
        known = codecs.lookup(encoding)
    except LookupError:
        known = None
    if known is None or not getattr(known, "_is_text_encoding", True):
        raise DataError(f"{option} {encoding}: not a text encoding; exports are usually utf-8, "
                        "latin-1 or cp1252")


def _python_encoding(encoding: str) -> str:
    # utf-8-sig reads plain UTF-8 too, and drops the byte-order mark Excel puts first.
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise DataError(f"the {what} file '{path}' does not exist")
    if path.is_dir():
        article = "an" if what[:1] in "aeiou" else "a"
        raise DataError(f"'{path}' is a folder, not {article} {what} file")


def _decode_error(path: Path, exc: UnicodeError, encoding: str) -> DataError:
    # The position a streaming decoder gives counts from its last buffer, not from the start
    # of the file: the line is found again by reading the file line by line.
    found = _first_undecodable_line(path, encoding)
    where = f" (line {group_digits(found[0])}, character {found[1]}, cannot be read)" \
        if found else ""
    return DataError(
        f"'{path}' is not {encoding} text{where}: export it again as UTF-8, or say which "
        "encoding it uses with --encoding (for example --encoding latin-1 or --encoding "
        "cp1252)")


def _first_undecodable_line(path: Path, encoding: str) -> tuple[int, int] | None:
    """(line, character) of the first line of the file that is not text in `encoding`."""
    import codecs

    try:
        decoder = codecs.getincrementaldecoder(_python_encoding(encoding))()
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, 1):
                try:
                    decoder.decode(line)
                except UnicodeDecodeError as exc:
                    return number, len(line[:exc.start].decode(encoding, "replace")) + 1
                except UnicodeError:  # a UTF-16 file without its byte-order mark
                    return number, 1
    except (OSError, LookupError, EOFError):
        return None
    return None


class CsvSource(Source):
    """A CSV file (comma, semicolon, tab or pipe separated, detected from the header line)."""

    def __init__(self, file, path: str, what: str = "leads", skip_malformed: bool = False,
                 encoding: str = "utf-8"):
        self.path = path
        self.what = what
        self.encoding = encoding
        self.skip_malformed = skip_malformed
        self.malformed: list[Problem] = []
        self._file = file
        self.header_row = 0
        first = self._header_line()
        # Excel writes `sep=;` above the header when asked to say which separator it used.
        announced = _SEPARATOR_LINE.fullmatch(first.strip())
        if announced:
            first = self._header_line()
        if not first.strip():
            file.close()
            raise DataError(f"the {what} file '{path}' is empty: the first line must name the "
                            "columns")
        self.delimiter = announced.group(1) if announced else _sniff_delimiter(first)
        header = next(csv.reader([first], delimiter=self.delimiter))
        self.columns = [c.strip() for c in header]
        self.width = len(header)
        csv.field_size_limit(1 << 24)

    def _header_line(self) -> str:
        """The next line that is not blank (blank lines above the header are skipped and
        counted, so that row numbers stay those of a spreadsheet)."""
        while True:
            line = self._read_line()
            self.header_row += 1
            if line.strip() or not line:
                return line

    def _read_line(self) -> str:
        try:
            return self._file.readline()
        except UnicodeError as exc:
            self._file.close()
            raise _decode_error(Path(self.path), exc, self.encoding) from None
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            self._file.close()
            raise DataError(f"the {self.what} file '{self.path}' cannot be read ({exc})"
                            ) from None

    @classmethod
    def open(cls, path: Path, encoding: str = "utf-8", what: str = "leads",
             skip_malformed: bool = False) -> CsvSource:
        try:
            file = _open_text(path, _python_encoding(encoding))
        except (OSError, LookupError) as exc:
            raise DataError(f"the {what} file '{path}' cannot be read ({exc})") from None
        return cls(file, str(path), what, skip_malformed, encoding)

    def getter(self, column: str) -> Callable[[Any], Any]:
        index = self.columns.index(column)
        return lambda record: record[index]

    def records(self) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(self._file, delimiter=self.delimiter)
        row = self.header_row
        width = self.width
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeError as exc:
                raise _decode_error(Path(self.path), exc, self.encoding) from None
            except csv.Error as exc:
                raise DataError(f"{self.path}: row {group_digits(row + 1)} cannot be read as CSV "
                                f"({exc})") from None
            row += 1
            if len(cells) != width:
                if not cells:
                    continue  # a blank line is not a lead
                count = f"{len(cells)} cell{'' if len(cells) == 1 else 's'}"
                problem = Problem(self.path, row, "", "",
                                  f"has {count} but the header has {width} columns")
                if self.skip_malformed:
                    self.malformed.append(problem)
                    continue
                other = self._other_separator(cells, width)
                why = (f"the header is separated by {_SEPARATOR_NAMES[self.delimiter]} but this "
                       f"row by {_SEPARATOR_NAMES[other]}: export the file again with one "
                       "separator" if other else
                       "a quote is probably missing or a separator is out of place. Fix that "
                       "row in the file, or leave such rows out with --on-error skip")
                raise DataError(f"{self.path}: row {group_digits(row)} has {count} but the "
                                f"header has {width} columns; {why}.")
            yield row, cells

    def _other_separator(self, cells: list[str], width: int) -> str | None:
        """The separator a row read as one cell uses, when it splits the row into as many
        cells as the header has columns."""
        if len(cells) != 1:
            return None
        for other in _SEPARATOR_NAMES:
            if other != self.delimiter and \
                    len(next(csv.reader([cells[0]], delimiter=other))) == width:
                return other
        return None

    def close(self) -> None:
        self._file.close()


_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "'|'"}
_SEPARATOR_LINE = re.compile(r'"?sep=([,;\t|])"?[,;\t|]*', re.IGNORECASE)


def _sniff_delimiter(header: str) -> str:
    counts = {d: 0 for d in ",;\t|"}
    quoted = False
    for c in header:
        if c == '"':
            quoted = not quoted
        elif not quoted and c in counts:
            counts[c] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class JsonLinesSource(Source):
    """JSON Lines (one object per line), or a file holding one JSON array of objects."""

    def __init__(self, path: Path, encoding: str = "utf-8", what: str = "leads",
                 skip_malformed: bool = False):
        self.path = str(path)
        self.what = what
        self.skip_malformed = skip_malformed
        self.malformed: list[Problem] = []
        try:
            self._file = _open_text(path, _python_encoding(encoding))
        except (OSError, LookupError) as exc:
            raise DataError(f"the {what} file '{path}' cannot be read ({exc})") from None
        try:
            self._iter = self._lines()
            self._first = next(self._iter, None)
        except UnicodeError as exc:
            self._file.close()
            raise _decode_error(path, exc, encoding) from None
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            self._file.close()
            raise DataError(f"the {what} file '{path}' cannot be read ({exc})") from None
        except DataError:
            self._file.close()
            raise
        self.columns = list(self._first[1]) if self._first else []

    def _lines(self) -> Iterator[tuple[int, dict]]:
        head = self._file.read(1)
        while head and head.isspace():
            head = self._file.read(1)
        if head == "[":
            # A JSON array cannot be read piece by piece with the standard library: it is
            # loaded whole (JSON Lines is the format for large files).
            try:
                items = json.loads(head + self._file.read())
            except json.JSONDecodeError as exc:
                raise DataError(f"{self.path} is not valid JSON ({exc.msg}, line {exc.lineno})"
                                ) from None
            for number, item in enumerate(items, 1):
                if not isinstance(item, dict):
                    raise DataError(f"{self.path}: item {number} of the array is not an object "
                                    "({\"column\": value, …})")
                yield number, item
            return
        line_number = 0
        pending = head
        for line in self._file:
            line_number += 1
            text = pending + line
            pending = ""
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                record = exc
            if not isinstance(record, dict):
                message = ("is not valid JSON" if isinstance(record, json.JSONDecodeError)
                           else "is not a JSON object ({\"column\": value, …})")
                if self.skip_malformed:
                    self.malformed.append(Problem(self.path, line_number, "", "", message))
                    continue
                raise DataError(f"{self.path}: line {group_digits(line_number)} {message}. Fix "
                                "that line, or leave such lines out with --on-error skip.")
            yield line_number, record
        if pending.strip():
            raise DataError(f"{self.path}: line 1 is not valid JSON")

    def records(self) -> Iterator[tuple[int, dict]]:
        try:
            if self._first is not None:
                yield self._first
                self._first = None
            yield from self._iter
        except UnicodeError as exc:
            raise _decode_error(Path(self.path), exc, "utf-8") from None

    def close(self) -> None:
        self._file.close()


class ParquetSource(Source):
    """A Parquet file, read batch by batch."""

    BATCH = 8192

    def __init__(self, path: Path, what: str = "leads"):
        _, pq = require_pyarrow()
        self.path = str(path)
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own error types for bad files
            raise DataError(f"the {what} file '{path}' is not a readable Parquet file ({exc})"
                            ) from None
        self.columns = list(self._file.schema_arrow.names)
        self.wanted: list[str] | None = None

    def records(self) -> Iterator[tuple[int, dict]]:
        row = 0
        for batch in self._file.iter_batches(batch_size=self.BATCH, columns=self.wanted):
            for record in batch.to_pylist():
                row += 1
                yield row, record

    def close(self) -> None:
        self._file.close()


def open_source(path: str | Path, fmt: str | None = None, encoding: str = "utf-8",
                what: str = "leads", skip_malformed: bool = False) -> Source:
    """Open an export for reading; raises DataError with a message for people."""
    p = Path(path)
    _check_file(p, what)
    kind = detect_format(p, fmt)
    if kind == "csv":
        return CsvSource.open(p, encoding, what, skip_malformed)
    if kind == "jsonl":
        return JsonLinesSource(p, encoding, what, skip_malformed)
    return ParquetSource(p, what)


# ============================================================================ leads


@dataclass(slots=True)
class FieldPlan:
    name: str
    column: str | None
    read: Callable[[Any], Any] | None
    convert: Callable[[Any], Any]


class LeadReader:
    """Typed leads from a source, under a ruleset.

    Iterating yields `(row, lead, problems)`: the lead is a dict field name -> typed value
    (None when missing or unreadable), with `events` (typed) when the record carries a JSON
    array of them. `missing` and `unreadable` count, per field, the leads where it was not
    given or did not fit. `absent` lists the fields whose column is not in the file at all.
    """

    def __init__(self, rs: Ruleset, source: Source, typing: Typing | None = None):
        self.rs = rs
        self.source = source
        self.typing = typing or Typing(rs)
        self.plan: list[FieldPlan] = []
        self.absent: list[str] = []
        self.missing: dict[str, int] = {name: 0 for name in rs.fields}
        self.unreadable: dict[str, int] = {name: 0 for name in rs.fields}
        self.events_reader: EventReader | None = None
        self.embedded_events = False
        key = rs.key
        self.key_name = key.name if key else None
        self.key_column: str | None = None
        dict_records = not isinstance(source, CsvSource)
        for f in rs.fields.values():
            # A field's own name is matched exactly only: programs write it, people do not.
            column = source.find_column(f.source_column, exact=(f.name,))
            convert = self.typing.converter(f.name, f.type, f.missing)
            if dict_records:
                # Records of JSON Lines need not all have the same keys, and programs may write
                # field names instead of export columns: look each record up.
                column = column or f.source_column
                read = _dict_getter(column, f.name)
                if f.source_column not in source.columns and f.name not in source.columns:
                    self.absent.append(f.name)
            elif column is None:
                self.absent.append(f.name)
                read = None
            else:
                _single_column(source, column, f)
                read = source.getter(column)
            if f.key:
                # A JSON file without a single record has no columns to check: it is simply
                # an empty export.
                if f.name in self.absent and (source.columns or not dict_records):
                    raise DataError(self._no_key_message(f))
                self.key_column = column
            self.plan.append(FieldPlan(f.name, column, read, convert))
        if isinstance(source, ParquetSource):
            wanted = [p.column for p in self.plan if p.column in source.columns]
            if EVENTS_KEY in source.columns:
                wanted.append(EVENTS_KEY)
            source.wanted = wanted
        if dict_records and (EVENTS_KEY in source.columns or isinstance(source, JsonLinesSource)):
            self.embedded_events = True
            self.events_reader = EventReader(rs, self.typing, source.path)

    def _no_key_message(self, f: ast.Field) -> str:
        from leadrules.diagnostics import did_you_mean

        columns = self.source.columns
        hint = did_you_mean(f.source_column, columns)
        listed = ", ".join(f"'{c}'" for c in columns[:12])
        more = f" and {len(columns) - 12} more" if len(columns) > 12 else ""
        text = (f"the {getattr(self.source, 'what', 'leads')} file '{self.source.path}' has no "
                f"column '{f.source_column}', the key of the leads (field {f.name}, "
                f"line {f.span.line} of the rules)")
        if hint:
            text += f" ({hint})"
        text += f". Its columns are {listed}{more}." if columns else \
            ". It has no columns at all."
        return text + " Change the `from` of the key field, or export that column."

    def __iter__(self) -> Iterator[tuple[int, dict, list[Problem]]]:
        present = [p for p in self.plan if p.read is not None]
        absent = [p.name for p in self.plan if p.read is None]
        names = [p.name for p in present]
        converters = [p.convert for p in present]
        columns = [p.column or p.name for p in present]
        fetch = self._fetcher(present)
        counts = [0] * len(present)
        path = self.source.path
        events_reader = self.events_reader if self.embedded_events else None
        key_name = self.key_name
        rows = 0
        blank = dict.fromkeys(absent)
        try:
            for row, record in self.source.records():
                rows += 1
                lead: dict[str, Any] = dict(blank)
                problems: list[Problem] = []
                i = 0
                for raw in fetch(record):
                    try:
                        value = converters[i](raw)
                    except ValueProblem as exc:
                        problems.append(Problem(path, row, columns[i], display_value(raw),
                                                str(exc), names[i], exc.key,
                                                tuple(exc.params.items())))
                        self.unreadable[names[i]] += 1
                        value = None
                    else:
                        if value is None:
                            counts[i] += 1
                    lead[names[i]] = value
                    i += 1
                if key_name is not None and lead[key_name] is None and not any(
                        q.field == key_name for q in problems):
                    problems.append(Problem(path, row, self.key_column or key_name, "",
                                            "is empty: every lead needs its key", key_name))
                if events_reader is not None:
                    raw_events = record.get(EVENTS_KEY)
                    if raw_events is not None:
                        events, event_problems = events_reader.from_json(raw_events, row)
                        lead[EVENTS_KEY] = events
                        problems.extend(event_problems)
                yield row, lead, problems
        finally:
            for name, count in zip(names, counts, strict=True):
                self.missing[name] += count
            for name in absent:
                self.missing[name] += rows

    def _fetcher(self, present: list[FieldPlan]) -> Callable[[Any], Any]:
        """A function record -> the raw values of the present fields, in order."""
        if isinstance(self.source, CsvSource):
            indices = [self.source.columns.index(p.column) for p in present]
            if not indices:
                return lambda record: ()
            if len(indices) == 1:
                only = indices[0]
                return lambda record: (record[only],)
            return itemgetter(*indices)
        readers = [p.read for p in present]
        return lambda record: [read(record) for read in readers]


def _single_column(source: Source, column: str, f: ast.Field) -> None:
    """A column the rules read must be there once: with two of the same name, which one the
    export meant is anybody's guess."""
    places = [i + 1 for i, c in enumerate(source.columns) if c == column]
    if len(places) > 1:
        where = " and ".join(str(p) for p in places)
        raise DataError(f"the {getattr(source, 'what', 'leads')} file '{source.path}' has "
                        f"{len(places)} columns named '{column}' (columns {where}), and the "
                        f"field {f.name} reads it: rename the one that is not meant, or export "
                        "it once")


def _dict_getter(column: str, name: str) -> Callable[[dict], Any]:
    if column == name:
        return lambda record: record.get(column)

    def read(record: dict) -> Any:
        value = record.get(column)
        return record.get(name) if value is None and column not in record else value

    return read


# ============================================================================ events


class EventReader:
    """Typed events: type names checked against the rules, `at` as an aware instant,
    properties typed by the event's declaration. Types the rules do not declare are counted
    in `ignored` and dropped (an activity log holds much the rules do not score)."""

    def __init__(self, rs: Ruleset, typing: Typing, path: str):
        self.rs = rs
        self.path = path
        self.typing = typing
        self.names = {name: name for name in rs.events}
        self.loose: dict[str, str] = {}
        for name, event in rs.events.items():
            for spelling in (name, name.replace("_", " "), event.label or ""):
                if spelling:
                    self.loose.setdefault(normalise(spelling.replace("-", " ").replace("_", " ")),
                                          name)
        self.properties = {
            name: {p.name: typing.converter(f"{name}.{p.name}", p.type) for p in event.properties}
            for name, event in rs.events.items()}
        self.read_at = typing.converter("at", ast.TypeSpec("datetime"))
        self.ignored: dict[str, int] = {}

    def event_name(self, raw: Any) -> str | None:
        if not isinstance(raw, str):
            raw = display_value(raw)
        name = self.names.get(raw)
        if name is None:
            name = self.loose.get(normalise(raw.replace("-", " ").replace("_", " ")))
        if name is None:
            self.ignored[raw] = self.ignored.get(raw, 0) + 1
        return name

    def make(self, row: int, raw_type: Any, raw_at: Any, props: dict[str, Any],
             columns: tuple[str, str, str] = ("type", "at", "")
             ) -> tuple[Event | None, list[Problem]]:
        """One event from its raw parts; None when it cannot be placed (no type, no time)."""
        problems: list[Problem] = []
        if _blank(raw_type):
            problems.append(Problem(self.path, row, columns[0], "", "is empty: the event has no "
                                    "type, it was left out", "type"))
            return None, problems
        name = self.event_name(raw_type)
        if name is None:
            return None, problems
        try:
            at = self.read_at(raw_at)
        except ValueProblem as exc:
            problems.append(Problem(self.path, row, columns[1], display_value(raw_at),
                                    f"{exc}; the event was left out", "at"))
            return None, problems
        if at is None:
            problems.append(Problem(self.path, row, columns[1], "", "is empty: the event has no "
                                    "date, it was left out", "at"))
            return None, problems
        typed: dict[str, Any] = {}
        for prop, convert in self.properties[name].items():
            raw = props.get(prop)
            try:
                typed[prop] = convert(raw)
            except ValueProblem as exc:
                typed[prop] = None
                problems.append(Problem(self.path, row, f"{columns[2]}{prop}", display_value(raw),
                                        str(exc), f"{name}.{prop}"))
        return Event(name, at, typed), problems

    def from_json(self, raw_events: Any, row: int) -> tuple[list[Event], list[Problem]]:
        """The `events` array of a JSON lead record."""
        if not isinstance(raw_events, list):
            return [], [Problem(self.path, row, EVENTS_KEY, display_value(raw_events),
                                "is not a list of events", EVENTS_KEY)]
        events: list[Event] = []
        problems: list[Problem] = []
        for i, item in enumerate(raw_events):
            where = f"{EVENTS_KEY}[{i}]."
            if not isinstance(item, dict):
                problems.append(Problem(self.path, row, f"{EVENTS_KEY}[{i}]", display_value(item),
                                        "is not an event ({\"type\": …, \"at\": …})", EVENTS_KEY))
                continue
            type_key = next((k for k in EVENT_TYPE_COLUMNS if k in item), "type")
            at_key = next((k for k in EVENT_AT_COLUMNS if k in item), "at")
            props = item.get("properties")
            if not isinstance(props, dict):
                props = item
            event, found = self.make(row, item.get(type_key), item.get(at_key), props,
                                     (where + type_key, where + at_key, where))
            problems.extend(found)
            if event is not None:
                events.append(event)
        return events, problems


@dataclass
class EventsByKey:
    """The events of an events file, grouped by lead key, with what was wrong or left out."""

    by_key: dict[Any, list[Event]]
    problems: list[Problem]
    rows: int
    ignored: dict[str, int]
    used: set

    def take(self, key: Any) -> list[Event]:
        """The events of the lead with this key (in time order)."""
        found = self.by_key.get(key)
        if found is None:
            return []
        self.used.add(key)
        return found

    @property
    def orphans(self) -> int:
        """Events whose key matched no lead that was read."""
        return sum(len(v) for k, v in self.by_key.items() if k not in self.used)


def read_events(rs: Ruleset, path: str | Path, fmt: str | None = None, encoding: str = "utf-8",
                typing: Typing | None = None, skip_malformed: bool = False) -> EventsByKey:
    """Load an events file grouped by lead key.

    The events are held in memory (a lead file is streamed past them): an activity log is
    usually far smaller than the leads it concerns, and each event costs about 200 bytes here.
    """
    typing = typing or Typing(rs)
    key = rs.key
    if key is None:
        raise DataError("the rules declare no key field (`key` after a field of the lead), so "
                        "events cannot be joined to leads")
    source = open_source(path, fmt, encoding, what="events", skip_malformed=skip_malformed)
    try:
        key_column = source.find_column(key.source_column, key.name, "key", "lead")
        if key_column is None:
            listed = ", ".join(f"'{c}'" for c in source.columns[:12])
            raise DataError(f"the events file '{path}' has no column '{key.source_column}' to "
                            f"join events to leads on (the key field {key.name}); its columns are "
                            f"{listed}")
        type_column = source.find_column(*EVENT_TYPE_COLUMNS)
        at_column = source.find_column(*EVENT_AT_COLUMNS)
        if type_column is None or at_column is None:
            lacking = " and ".join(f"'{c}'" for c, found in
                                   (("type", type_column), ("at", at_column)) if found is None)
            raise DataError(f"the events file '{path}' has no {lacking} column: it needs the "
                            f"lead key ('{key.source_column}'), 'type' (the event's name in the "
                            "rules) and 'at' (when it happened)")
        if isinstance(source, ParquetSource):
            source.wanted = None
        reader = EventReader(rs, typing, source.path)
        read_key = typing.converter(key.name, key.type, key.missing)
        get_key = source.getter(key_column)
        get_type = source.getter(type_column)
        get_at = source.getter(at_column)
        prop_getters: dict[str, Callable] = {}
        for column in source.columns:
            if column not in (key_column, type_column, at_column):
                prop_getters[column] = source.getter(column)
        by_key: dict[Any, list[Event]] = {}
        problems: list[Problem] = []
        rows = 0
        for row, record in source.records():
            rows += 1
            raw_key = get_key(record)
            try:
                lead_key = read_key(raw_key)
            except ValueProblem as exc:
                problems.append(Problem(source.path, row, key_column, display_value(raw_key),
                                        f"{exc}; the event was left out", key.name))
                continue
            if lead_key is None:
                problems.append(Problem(source.path, row, key_column, "",
                                        "is empty: the event belongs to no lead, it was left out",
                                        key.name))
                continue
            props = {normalise(c).replace(" ", "_"): g(record) for c, g in prop_getters.items()}
            props.update({c: g(record) for c, g in prop_getters.items()})
            event, found = reader.make(row, get_type(record), get_at(record), props,
                                       (type_column, at_column, ""))
            problems.extend(found)
            if event is not None:
                by_key.setdefault(lead_key, []).append(event)
        problems.extend(getattr(source, "malformed", []))
    finally:
        source.close()
    for events in by_key.values():
        events.sort(key=lambda e: e.at)
    return EventsByKey(by_key, problems, rows, reader.ignored, set())


# ============================================================================ helpers for others


def read_leads(rs: Ruleset, path: str | Path, fmt: str | None = None, encoding: str = "utf-8",
               typing: Typing | None = None) -> Iterator[tuple[int, dict, list[Problem]]]:
    """Typed leads from an export, one at a time: `(row, lead, problems)`."""
    source = open_source(path, fmt, encoding)
    try:
        yield from LeadReader(rs, source, typing)
    finally:
        source.close()


def csv_text_source(text: str, path: str = "<text>") -> CsvSource:
    """A CSV source over text in memory (small fixtures, tests)."""
    return CsvSource(io.StringIO(text, newline=""), path)
