"""An activity log (CSV, JSON Lines or Parquet: lead key, type, timestamp) + the known lead keys
-> each lead's activities in time order, and every row that could not be used, by reason.

Nothing is dropped silently: a row for an unknown lead, without a key or a type, with a
timestamp that cannot be read or that lies outside the plausible range, or repeating an earlier
row, is counted and kept in `problems` for the report to list.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from leadrules import data

# Reasons a row is not used, in the order the report lists them.
MISSING_LEAD = "missing lead key"
MISSING_TYPE = "missing type"
UNKNOWN_LEAD = "unknown lead"
BAD_TIMESTAMP = "unreadable timestamp"
OUT_OF_RANGE = "timestamp out of range"
DUPLICATE = "duplicate"
MALFORMED = "malformed row"
REASONS = (MISSING_LEAD, MISSING_TYPE, UNKNOWN_LEAD, BAD_TIMESTAMP, OUT_OF_RANGE, DUPLICATE,
           MALFORMED)

# Nothing a CRM logs today happened before this; earlier dates are placeholders (1900-01-01).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Problem:
    """One unused row: where it is, what it said, and why it is not used."""

    row: int
    reason: str
    lead: str
    type: str
    at: str
    detail: str = ""


@dataclass
class ActivityLog:
    path: str
    columns: tuple[str, str, str]  # lead key, type, timestamp column names
    rows: int = 0
    used: int = 0
    # lead key -> [(instant in UTC, normalised type)], in time order
    by_lead: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=lambda: {r: [] for r in REASONS})
    types: Counter = field(default_factory=Counter)

    @property
    def problem_count(self) -> int:
        return sum(len(v) for v in self.problems.values())


def normalise_type(text: str) -> str:
    """`Email sent`, `email-sent` and `EMAIL_SENT` all name the event `email_sent`."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def parse_instant(value, zone: ZoneInfo, day_first: bool = False) -> datetime | None:
    """An instant in UTC, read as the leads' date-times are (`leadrules.data.parse_datetime`:
    ISO 8601 with or without an offset, `15/01/2027 09:30`, a bare date meaning its midnight);
    a time without an offset is in `zone`. None when the value cannot be read."""
    try:
        return data.parse_datetime(value, zone, day_first).astimezone(UTC)
    except (data.ValueProblem, ValueError, OverflowError):
        return None


def read(path: str, known: set[str], typing: data.Typing, latest: datetime, *,
         lead_column: str | None = None, type_column: str | None = None,
         at_column: str | None = None, key_column: str | None = None,
         key_name: str | None = None, fmt: str | None = None,
         encoding: str = "utf-8") -> ActivityLog:
    """Read an activity log. `known` holds the lead keys of the leads file (as text); `latest`
    is the report's as-of instant (an activity after it has not happened yet, as the report
    sees it). Columns not named default to the lead key's export column, `type` and `at`."""
    source = data.open_source(path, fmt, encoding, what="activities", skip_malformed=True)
    try:
        lead_col = _column(source, lead_column, "--activity-lead",
                           (key_column, key_name, "lead", "lead_id"))
        type_col = _column(source, type_column, "--activity-type", data.EVENT_TYPE_COLUMNS)
        at_col = _column(source, at_column, "--activity-at", data.EVENT_AT_COLUMNS)
        if isinstance(source, data.ParquetSource):
            source.wanted = [lead_col, type_col, at_col]
        log = ActivityLog(str(path), (lead_col, type_col, at_col))
        _fill(log, source, known, typing, latest)
    finally:
        source.close()
    return log


def _column(source, given: str | None, option: str, candidates) -> str:
    if given:
        if given in source.columns:
            return given
        found = source.find_column(given)
        if found is not None:
            return found
        raise data.DataError(_no_column(source, f"no column '{given}' (named by {option})"))
    found = source.find_column(*(c for c in candidates if c))
    if found is None:
        wanted = " or ".join(f"'{c}'" for c in candidates if c)
        raise data.DataError(_no_column(source, f"no column {wanted}: name the right one with "
                                                f"{option}"))
    return found


def _no_column(source, what: str) -> str:
    listed = ", ".join(f"'{c}'" for c in source.columns[:15])
    more = f" and {len(source.columns) - 15} more" if len(source.columns) > 15 else ""
    return f"the activities file '{source.path}' has {what}. Its columns are {listed}{more}."


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _fill(log: ActivityLog, source, known: set[str], typing: data.Typing,
          latest: datetime) -> None:
    lead_col, type_col, at_col = log.columns
    get_lead, get_type, get_at = (source.getter(c) for c in log.columns)
    zone, day_first = typing.zone, typing.day_first
    seen: set[tuple[str, str, datetime]] = set()
    problems = log.problems
    by_lead = log.by_lead
    types = log.types
    count = 0
    for number, record in source.records():
        count += 1
        lead = _text(get_lead(record))
        raw_type = get_type(record)
        kind = "" if raw_type is None else normalise_type(str(raw_type))
        at_raw = get_at(record)
        at_text = data.display_value(at_raw)
        if not lead:
            problems[MISSING_LEAD].append(Problem(number, MISSING_LEAD, lead, kind, at_text,
                                                  "the lead key cell is empty"))
            continue
        if not kind:
            problems[MISSING_TYPE].append(Problem(number, MISSING_TYPE, lead, kind, at_text,
                                                  "the type cell is empty"))
            continue
        if lead not in known:
            problems[UNKNOWN_LEAD].append(Problem(number, UNKNOWN_LEAD, lead, kind, at_text,
                                                  "no lead with this key in the leads file"))
            continue
        at = parse_instant(at_raw, zone, day_first) if at_text else None
        if at is None:
            problems[BAD_TIMESTAMP].append(Problem(
                number, BAD_TIMESTAMP, lead, kind, at_text,
                "write it as 2027-03-26T16:00 (a time zone offset such as +02:00 is allowed)"))
            continue
        if at < EARLIEST or at > latest:
            when = "before 1990" if at < EARLIEST else "after the report's as-of instant"
            problems[OUT_OF_RANGE].append(Problem(number, OUT_OF_RANGE, lead, kind, at_text, when))
            continue
        ident = (lead, kind, at)
        if ident in seen:
            problems[DUPLICATE].append(Problem(number, DUPLICATE, lead, kind, at_text,
                                               "same lead, type and instant as an earlier row"))
            continue
        seen.add(ident)
        entry = by_lead.get(lead)
        if entry is None:
            by_lead[lead] = [(at, kind)]
        else:
            entry.append((at, kind))
        types[kind] += 1
    for entries in by_lead.values():
        entries.sort()
    log.rows = count
    log.used = sum(types.values())
    problems[MALFORMED].extend(
        Problem(p.row, MALFORMED, "", "", "", p.message) for p in getattr(source, "malformed", []))
