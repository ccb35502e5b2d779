"""An activity log (CSV, JSON Lines or Parquet: lead key, type, timestamp) + the known lead keys
-> each lead's activities in time order, and every row that could not be used, by reason.

Nothing is dropped silently: a row for an unknown lead, without a key or a type, with a
timestamp that cannot be read or that lies outside the plausible range, or repeating an earlier
row, is counted and kept in `problems` for the report to list.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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

# Why a row is not used, in a few words (the report prints them in its own language).
EMPTY_KEY = "the lead key cell is empty"
EMPTY_TYPE = "the type cell is empty"
NO_SUCH_LEAD = "no lead with this key in the leads file"
HOW_TO_WRITE = "write it as 2027-03-26T16:00 (a time zone offset such as +02:00 is allowed)"
TOO_EARLY = "before 1990"
TOO_LATE = "after the report's as-of instant"
REPEATED = "same lead, type and instant as an earlier row"
DETAILS = (EMPTY_KEY, EMPTY_TYPE, NO_SUCH_LEAD, HOW_TO_WRITE, TOO_EARLY, TOO_LATE, REPEATED)

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


class InstantReader:
    """`parse_instant` with a fast path for ISO 8601 text: the offset of a naive local time is
    looked up once per local hour (when it is the same all through the hour, as it is except
    where a zone changes its offset at a time that is not a whole hour)."""

    def __init__(self, zone: ZoneInfo, day_first: bool = False):
        self.zone = zone
        self.day_first = day_first
        self.offsets: dict[str, timedelta | None] = {}

    def __call__(self, value) -> datetime | None:
        if type(value) is not str:
            return parse_instant(value, self.zone, self.day_first)
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return parse_instant(value, self.zone, self.day_first)
        if dt.tzinfo is not None:
            return dt.astimezone(UTC)
        # The text up to the hour names the local hour when it is written the ISO way.
        hour = value[:13] if value[10:11] in ("T", " ") else dt.strftime("%Y-%m-%dT%H")
        offset = self.offsets.get(hour, False)
        if offset is False:
            offset = self.offsets[hour] = self._hour_offset(dt)
        if offset is None:
            return dt.replace(tzinfo=self.zone).astimezone(UTC)
        try:
            return (dt - offset).replace(tzinfo=UTC)
        except OverflowError:
            return None

    def _hour_offset(self, dt: datetime) -> timedelta | None:
        start = dt.replace(minute=0, second=0, microsecond=0)
        end = start + timedelta(hours=1) - timedelta(microseconds=1)
        first = start.replace(tzinfo=self.zone).utcoffset()
        return first if first == end.replace(tzinfo=self.zone).utcoffset() else None


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
         encoding: str = "utf-8", aliases: dict[str, str] | None = None) -> ActivityLog:
    """Read an activity log. `known` holds the lead keys of the leads file (as text); `latest`
    is the report's as-of instant (an activity after it has not happened yet, as the report
    sees it). Columns not named default to the lead key's export column, `type` and `at`.
    A type is normalised (normalise_type), then `aliases` turns a label into its name."""
    source = data.open_source(path, fmt, encoding, what="activities", skip_malformed=True)
    try:
        lead_col = _column(source, lead_column, "--activity-lead",
                           (key_column, key_name, "lead", "lead_id"))
        type_col = _column(source, type_column, "--activity-type", data.EVENT_TYPE_COLUMNS)
        at_col = _column(source, at_column, "--activity-at", data.EVENT_AT_COLUMNS)
        if isinstance(source, data.ParquetSource):
            source.wanted = [lead_col, type_col, at_col]
        log = ActivityLog(str(path), (lead_col, type_col, at_col))
        _fill(log, source, known, typing, latest, aliases or {})
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


def _refuse(problems: dict[str, list[Problem]], number: int, lead: str, kind: str,
            at: datetime | None, at_raw, known: set[str]) -> None:
    """File a row that cannot be used under its reason (the first that applies)."""
    at_text = at_raw if type(at_raw) is str else data.display_value(at_raw)
    if not lead:
        problems[MISSING_LEAD].append(Problem(number, MISSING_LEAD, lead, kind, at_text,
                                              EMPTY_KEY))
    elif not kind:
        problems[MISSING_TYPE].append(Problem(number, MISSING_TYPE, lead, kind, at_text,
                                              EMPTY_TYPE))
    elif lead not in known:
        problems[UNKNOWN_LEAD].append(Problem(number, UNKNOWN_LEAD, lead, kind, at_text,
                                              NO_SUCH_LEAD))
    elif at is None:
        problems[BAD_TIMESTAMP].append(Problem(number, BAD_TIMESTAMP, lead, kind, at_text,
                                               HOW_TO_WRITE))
    else:
        when = TOO_EARLY if at < EARLIEST else TOO_LATE
        problems[OUT_OF_RANGE].append(Problem(number, OUT_OF_RANGE, lead, kind, at_text, when))


def _shown(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat()


def _columns(source, columns: tuple[str, str, str]) -> tuple[list, list, list, list]:
    """Row numbers, lead keys, types and timestamps of every record, as the file holds them."""
    numbers: list[int] = []
    leads: list = []
    kinds: list = []
    ats: list = []
    if isinstance(source, data.CsvSource):
        i, j, k = (source.columns.index(c) for c in columns)
        for number, record in source.records():
            numbers.append(number)
            leads.append(record[i])
            kinds.append(record[j])
            ats.append(record[k])
    else:
        get_lead, get_type, get_at = (source.getter(c) for c in columns)
        for number, record in source.records():
            numbers.append(number)
            leads.append(get_lead(record))
            kinds.append(get_type(record))
            ats.append(get_at(record))
    return numbers, leads, kinds, ats


def _fill(log: ActivityLog, source, known: set[str], typing: data.Typing,
          latest: datetime, aliases: dict[str, str]) -> None:
    # Column by column: the same work as row by row, in comprehensions Python runs faster.
    numbers, raw_leads, raw_kinds, raw_ats = _columns(source, log.columns)
    leads = [x.strip() if type(x) is str else _text(x) for x in raw_leads]
    spelled: dict[str, str] = {}

    def kind_of(raw) -> str:
        if type(raw) is not str:
            if raw is None:
                return ""
            kind = normalise_type(data.display_value(raw))
            return aliases.get(kind, kind)
        found = spelled.get(raw)
        if found is None:
            kind = normalise_type(raw)
            found = spelled[raw] = aliases.get(kind, kind)
        return found

    kinds = [kind_of(x) for x in raw_kinds]
    read_instant = InstantReader(typing.zone, typing.day_first)
    instants = [read_instant(x) if x else None for x in raw_ats]
    tally: dict[str, int] = {}
    problems = log.problems
    # One list per known lead up front: finding the list is also the test that the lead exists.
    by_lead: dict[str, list] = {key: [] for key in known}
    types = log.types
    for number, lead, kind, at, at_raw in zip(numbers, leads, kinds, instants, raw_ats,
                                              strict=True):
        entry = by_lead.get(lead)
        if entry is None or not kind or at is None or at < EARLIEST or at > latest:
            _refuse(problems, number, lead, kind, at, at_raw, known)
            continue
        entry.append((at, kind, number))
        tally[kind] = tally.get(kind, 0) + 1
    count = len(numbers)
    # Sorted, a repeated (instant, type) sits right after its first row, which is kept.
    duplicates = problems[DUPLICATE]
    for lead, entries in list(by_lead.items()):
        if not entries:
            del by_lead[lead]
            continue
        entries.sort()
        kept = []
        last_at = last_kind = None
        for at, kind, number in entries:
            if at == last_at and kind == last_kind:
                duplicates.append(Problem(number, DUPLICATE, lead, kind, _shown(at, typing.zone),
                                          REPEATED))
                tally[kind] -= 1
                continue
            kept.append((at, kind))
            last_at, last_kind = at, kind
        by_lead[lead] = kept
    log.by_lead = by_lead
    duplicates.sort(key=lambda p: p.row)
    types.update({k: n for k, n in tally.items() if n})
    log.rows = count
    log.used = sum(types.values())
    problems[MALFORMED].extend(
        Problem(p.row, MALFORMED, "", "", "", p.message) for p in getattr(source, "malformed", []))
