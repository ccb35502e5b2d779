"""A rule file and a CRM export -> one scored row per lead, an errors file, and a summary.

The batch pipeline behind `leadrules score`: leads are streamed from the export (data.py),
events joined by key (loaded grouped by key) or read from each JSON record, every lead is
evaluated by the engine, and rows are written as they come (writers.py). Quantile grades
without frozen cut points need the whole population: the file is then read twice, the first
pass only to find the cut points.
"""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from leadrules import ast
from leadrules.codegen import QUANTILES as QUANTILE_PARTS
from leadrules.data import (
    EVENTS_KEY,
    DataError,
    EventsByKey,
    LeadReader,
    Problem,
    Typing,
    ValueProblem,
    display_value,
    group_digits,
    open_source,
    read_events,
)
from leadrules.words import cents
from leadrules.writers import BOOL, DECIMAL, INT, LINES, TEXT, AtomicFile, open_writer

REPORT, SKIP, FAIL = "report", "skip", "fail"
ON_ERROR = (REPORT, SKIP, FAIL)
EXPLANATION = "explanation"


class Stop(Exception):
    """`--on-error fail` met a data problem: nothing is written."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Options:
    """How one batch run reads, evaluates and writes."""

    as_of: datetime
    explain: bool = False
    on_error: str = REPORT
    output_format: str = "csv"
    leads_format: str | None = None
    events_format: str | None = None
    encoding: str = "utf-8"
    events: Path | None = None
    errors_path: Path | None = None
    progress: Callable[[int, float | None], None] | None = None


@dataclass
class Summary:
    """What a run did: the figures printed at its end."""

    leads: str
    output: str | None
    rows_read: int = 0
    rows_written: int = 0
    rows_with_errors: int = 0
    rows_skipped: int = 0
    problems: int = 0
    first_problems: list[Problem] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    malformed: int = 0
    repeated_keys: int = 0
    events_read: int = 0
    events_ignored: dict[str, int] = field(default_factory=dict)
    events_orphans: int = 0
    events_problems: int = 0
    cuts: dict[str, tuple[Decimal, ...]] = field(default_factory=dict)
    errors_file: str | None = None
    seconds: float = 0.0
    columns: list[str] = field(default_factory=list)


class RepeatedKeys:
    """The key of every lead written so far and its row, to find a lead that appears twice in
    an export (about 150 bytes a lead: 150 MB for a million)."""

    def __init__(self, reader: LeadReader):
        self.key_name = reader.key_name
        self.column = reader.key_column or reader.key_name
        self.path = reader.source.path
        self.rows: dict[Any, int] = {}

    def problem(self, row: int, lead: dict) -> Problem | None:
        """The problem of a lead whose key an earlier lead already had, else None."""
        key = lead.get(self.key_name) if self.key_name is not None else None
        first = self.rows.get(key) if key is not None else None
        if first is None:
            return None
        return Problem(self.path, row, self.column, display_value(key),
                       f"is also the key of row {group_digits(first)}: the same lead is twice "
                       "in the file", self.key_name)

    def keep(self, row: int, lead: dict) -> None:
        """Remember the key of a lead that is written."""
        key = lead.get(self.key_name) if self.key_name is not None else None
        if key is not None:
            self.rows.setdefault(key, row)


# ============================================================================ columns


def result_columns(rs, explain: bool) -> list[tuple[str, str]]:
    """The output columns after the key: every score, grade and qualification, the stage (or
    whether the lead is disqualified, when the rules have no stages) and the route (when the
    rules have them), then the explanation when asked."""
    columns: list[tuple[str, str]] = [(name, DECIMAL) for name in rs.scores]
    columns += [(name, TEXT) for name in rs.grades]
    columns += [(name, BOOL) for name in rs.qualifications]
    if rs.stages:
        columns.append(("stage", TEXT))  # "disqualified" when a disqualify rule holds
    elif rs.disqualify:
        columns.append(("disqualified", BOOL))
    if rs.routes:
        columns.append(("route", TEXT))
    if explain:
        columns.append((EXPLANATION, LINES))
    return columns


def key_column(rs, reader: LeadReader | None) -> tuple[str, str]:
    key = rs.key
    if key is None:
        return ("row", INT)
    name = reader.key_column if reader and reader.key_column else key.source_column
    return (name, INT if key.type.name == "int" else TEXT)


# ============================================================================ quantiles


def quantile_grades(rs) -> list[ast.Grade]:
    """Grades split into quantiles of the scored population, with no cut points in the file."""
    return [g for g in rs.grades.values() if g.quantiles and not g.cuts]


def cut_points(histogram: Counter, parts: int) -> tuple:
    """The `parts - 1` cut points of the values counted in `histogram` (value -> how many
    leads), as `engine.quantile_cuts` computes them from the values themselves: cut i is the
    smallest value with at least i/parts of the values at or below it (nearest rank). Counting
    values instead of keeping them keeps a million leads in a few kilobytes."""
    total = sum(histogram.values())
    if total == 0:
        return ()
    ordered = sorted(histogram.items())
    cuts = []
    seen = 0
    index = -1
    for i in range(1, parts):
        rank = -(-i * total // parts)  # ceil(i * total / parts), 1-based
        while seen < rank:
            index += 1
            seen += ordered[index][1]
        cuts.append(ordered[index][0])
    return tuple(cuts)


# ============================================================================ the engine


class Scorer:
    """The engine seen from a batch run: one lead in, the values of the output columns out.

    Calls the generated evaluator directly (`Engine.evaluate_raw`), explained only when asked.
    """

    def __init__(self, engine, cuts: dict[str, tuple] | None = None):
        from leadrules.result import rule_label

        self.engine = engine
        self.rs = engine.ruleset
        self.cuts = {name: list(values) for name, values in cuts.items()} if cuts else None
        self.evaluate_raw = engine.evaluate_raw
        self.keys = [name for name, _ in result_columns(self.rs, False)]
        plan = engine.plan
        several = len({info.score for info in plan.rules}) > 1
        # The explanation is read by the agreement's people, in the agreement's language
        # (explaining/messages, `column.*`).
        from leadrules.explain import Say
        from leadrules.plan import language_of

        say = Say(self.rs, language_of(self.rs))
        self.decimal_mark = say.t.number(Decimal("0.5"))[1]
        self.rule_words = []
        for info in plan.rules:
            prefix = say("column.prefix", score=info.score) if several else ""
            self.rule_words.append((prefix, say("column.rule", label=rule_label(self.rs, info.node),
                                                line=str(info.node.span.line))))

    @classmethod
    def from_ruleset(cls, rs) -> Scorer:
        from leadrules.engine import from_ruleset

        return cls(from_ruleset(rs))

    def with_cuts(self, cuts: dict[str, tuple]) -> Scorer:
        return Scorer(self.engine, cuts)

    def evaluate_row(self, lead: dict, events: list, as_of: datetime, explain: bool) -> list:
        raw = self.evaluate_raw(lead, events, as_of, explain, self.cuts)
        row = [raw[key] for key in self.keys]
        if explain:
            row.append(self.explanation(raw["explain"]))
        return row

    def explanation(self, working: dict) -> list[str]:
        """The rules that counted points: `+15 R06 One point per 100 seconds (line 52)`,
        prefixed with the score's name when the rules have several scores."""
        lines = []
        words = self.rule_words
        for index, entry in enumerate(working["rules"]):
            if entry is None:
                continue
            counted = entry[4]
            if counted:
                text = words[index]
                sign = "+" if counted > 0 else ""
                shown = number_text(cents(counted) if isinstance(counted, Decimal) else counted)
                if self.decimal_mark != ".":
                    shown = shown.replace(".", self.decimal_mark)
                lines.append(f"{text[0]}{sign}{shown} {text[1]}")
        return lines

    def graded_values(self, lead: dict, events: list, as_of: datetime) -> dict:
        """The value each quantile grade is `by`, for this lead."""
        raw = self.evaluate_raw(lead, events, as_of, False, None)
        return {name: raw.get(f"{name}.value") for name in self.quantile_names}

    @property
    def quantile_names(self) -> list[str]:
        return [g.name for g in quantile_grades(self.rs)]


# ============================================================================ the run


class Run:
    """One `leadrules score` run over one export."""

    def __init__(self, engine, leads: str | Path, output: str | Path | None, options: Options):
        self.engine = engine
        self.rs = engine.rs
        self.leads = Path(leads)
        self.output = Path(output) if output is not None else None
        self.options = options
        self.typing = Typing(self.rs)
        self.summary = Summary(str(leads), str(output) if output is not None else None)

    # ----------------------------------------------------------------- helpers

    def _open(self, events: EventsByKey | None) -> LeadReader:
        skip = self.options.on_error == SKIP
        source = open_source(self.leads, self.options.leads_format, self.options.encoding,
                             skip_malformed=skip)
        try:
            return LeadReader(self.rs, source, self.typing)
        except BaseException:
            source.close()
            raise

    def _lead_events(self, reader: LeadReader, lead: dict, events: EventsByKey | None) -> list:
        found = lead.pop(EVENTS_KEY, None)
        if events is not None and reader.key_name is not None:
            key = lead.get(reader.key_name)
            if key is not None:
                joined = events.take(key)
                if joined:
                    found = sorted([*(found or ()), *joined], key=lambda e: e.at) if found \
                        else joined
        return found or []

    # ----------------------------------------------------------------- passes

    def find_cuts(self, events: EventsByKey | None) -> dict[str, tuple[Decimal, ...]]:
        """First pass: the graded value of every lead, then the cut points of each quantile
        grade."""
        grades = quantile_grades(self.rs)
        histograms = {g.name: Counter() for g in grades}
        reader = self._open(events)
        as_of = self.options.as_of
        # Only --on-error skip leaves leads out: its cut points must not count them either.
        repeated = RepeatedKeys(reader) if self.options.on_error != REPORT else None
        try:
            for row, lead, problems in reader:
                if repeated is not None:
                    twice = repeated.problem(row, lead)
                    if twice is not None:
                        problems.append(twice)
                if problems and self.options.on_error == FAIL:
                    raise Stop(problems[0])
                if problems and self.options.on_error == SKIP:
                    lead.pop(EVENTS_KEY, None)
                    continue
                if repeated is not None:
                    repeated.keep(row, lead)
                lead_events = self._lead_events(reader, lead, events)
                values = self.engine.graded_values(lead, lead_events, as_of)
                for name, histogram in histograms.items():
                    value = values.get(name)
                    if value is not None:
                        histogram[value] += 1
        finally:
            reader.source.close()
        if events is not None:
            events.used.clear()
        return {g.name: cut_points(histograms[g.name], QUANTILE_PARTS[g.quantiles])
                for g in grades}

    def run(self) -> Summary:
        started = time.perf_counter()
        options = self.options
        summary = self.summary
        events: EventsByKey | None = None
        if options.events is not None:
            events = read_events(self.rs, options.events, options.events_format,
                                 options.encoding, self.typing, options.on_error == SKIP)
            summary.events_read = events.rows
            summary.events_problems = len(events.problems)
            if events.problems and options.on_error == FAIL:
                raise Stop(events.problems[0])
        engine = self.engine
        if quantile_grades(self.rs):
            summary.cuts = self.find_cuts(events)
            engine = engine.with_cuts(summary.cuts)
        reader = self._open(events)
        columns = [key_column(self.rs, reader), *result_columns(self.rs, options.explain)]
        summary.columns = [name for name, _ in columns]
        summary.absent = list(reader.absent)
        errors = ErrorsFile(options.errors_path) if options.on_error != FAIL else None
        writer = None
        ok = False
        try:
            writer = open_writer(self.output, options.output_format, columns)
            if errors is not None and events is not None:
                for problem in events.problems:
                    errors.add(problem)
            self._score(engine, reader, writer, errors, events)
            ok = True
        finally:
            reader.source.close()
            if not ok:
                if writer is not None:
                    writer.abort()
                if errors is not None:
                    errors.abort()
        malformed = getattr(reader.source, "malformed", [])
        summary.malformed = len(malformed)
        try:
            # The scores first: when they cannot be written, no errors file is left either.
            writer.commit()
        except BaseException:
            if errors is not None:
                errors.abort()
            raise
        if errors is not None:
            for problem in malformed:
                errors.add(problem)
            summary.problems = errors.count
            summary.first_problems = errors.first
            summary.errors_file = errors.finish()
        summary.rows_written = writer.rows
        summary.missing = dict(reader.missing)
        summary.unreadable = dict(reader.unreadable)
        if events is not None:
            summary.events_ignored = dict(events.ignored)
            summary.events_orphans = events.orphans
        summary.seconds = time.perf_counter() - started
        return summary

    def _score(self, engine, reader: LeadReader, writer, errors: ErrorsFile | None,
               events: EventsByKey | None) -> None:
        summary = self.summary
        on_error = self.options.on_error
        as_of = self.options.as_of
        explain = self.options.explain
        progress = self.options.progress
        evaluate = engine.evaluate_row
        key_name = reader.key_name
        position = _position(reader.source)
        repeated = RepeatedKeys(reader)
        count = 0
        for row, lead, problems in reader:
            count += 1
            twice = repeated.problem(row, lead)
            if twice is not None:
                problems.append(twice)
                summary.repeated_keys += 1
            if problems:
                summary.rows_with_errors += 1
                if on_error == FAIL:
                    raise Stop(problems[0])
                for problem in problems:
                    errors.add(problem)
                if on_error == SKIP:
                    summary.rows_skipped += 1
                    lead.pop(EVENTS_KEY, None)
                    continue
            repeated.keep(row, lead)
            lead_events = self._lead_events(reader, lead, events)
            key = lead.get(key_name) if key_name is not None else row
            writer.write([key, *evaluate(lead, lead_events, as_of, explain)])
            if progress is not None and count % 1024 == 0:
                progress(count, position())
        summary.rows_read = count
        if progress is not None:
            progress(count, 1.0)


def _position(source) -> Callable[[], float | None]:
    """How far into the file reading is (0 to 1), when the file can tell."""
    raw = getattr(getattr(source, "_file", None), "buffer", None)
    path = Path(source.path)
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if raw is None or not size or path.suffix.lower() == ".gz":
        return lambda: None

    def position() -> float | None:
        try:
            return min(1.0, raw.tell() / size)
        except (OSError, ValueError):
            return None

    return position


class ErrorsFile:
    """The data problems of a run, written beside the output as CSV (file, row, column,
    value, problem). Streams to a temporary file: there may be a great many."""

    HEADER = ["file", "row", "column", "value", "problem"]
    SHOWN = 10

    def __init__(self, path: Path | None):
        self.path = path
        self.count = 0
        self.first: list[Problem] = []
        self.target: AtomicFile | None = None
        self.text = None
        self.csv = None

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.first) < self.SHOWN:
            self.first.append(problem)
        if self.path is None:
            return
        if self.target is None:
            import io

            self.target = AtomicFile(self.path)
            self.text = io.TextIOWrapper(self.target.file, encoding="utf-8", newline="")
            self.csv = csv.writer(self.text)
            self.csv.writerow(self.HEADER)
        self.csv.writerow([problem.file, problem.row, problem.column, problem.value,
                           problem.message])

    def finish(self) -> str | None:
        """Commit the file; with no problem, remove an errors file left by an earlier run."""
        if self.target is None:
            if self.path is not None and self.path.exists():
                self.path.unlink()
            return None
        self.text.flush()
        self.text.detach()
        self.target.commit()
        return str(self.path)

    def abort(self) -> None:
        if self.target is not None:
            self.text.detach()
            self.target.abort()


def errors_path_for(output: Path | None) -> Path | None:
    """`scores.csv` -> `scores.errors.csv`, beside it."""
    if output is None:
        return None
    return output.with_name(output.stem + ".errors.csv")


# ============================================================================ summary text


def format_summary(summary: Summary, rs) -> str:
    """The end-of-run summary, for people (printed on standard error)."""
    lines: list[str] = []
    rate = summary.rows_read / summary.seconds if summary.seconds else 0.0
    where = summary.output or "standard output"
    lines.append(f"Scored {group_digits(summary.rows_written)} of "
                 f"{group_digits(summary.rows_read)} leads from {summary.leads} in "
                 f"{summary.seconds:.1f} s ({group_digits(int(rate))} leads/s), written to "
                 f"{where}.")
    if summary.rows_skipped:
        lines.append(f"Skipped {plural(summary.rows_skipped, 'lead')} with data errors "
                     "(--on-error skip).")
    if summary.malformed:
        lines.append(f"Skipped {plural(summary.malformed, 'malformed row')} that could not "
                     "be read at all.")
    if summary.rows_with_errors and not summary.rows_skipped:
        lines.append(f"{plural(summary.rows_with_errors, 'lead')} had data errors "
                     f"({plural(summary.problems, 'problem')} in all); a lead with an "
                     "unreadable value is scored with that value unknown.")
    elif summary.problems:
        lines.append(f"{plural(summary.problems, 'data problem')} in all.")
    else:
        lines.append("No data errors.")
    if summary.repeated_keys:
        n = summary.repeated_keys
        lines.append(f"{plural(n, 'lead')} {'has' if n == 1 else 'have'} the key of an earlier "
                     "row (the same lead twice in the file): "
                     + ("left out, the first row is kept." if summary.rows_skipped
                        else "scored again, one output row for each input row."))
    for problem in summary.first_problems:
        lines.append(f"  {Path(problem.file).name}: {problem}")
    if summary.problems > len(summary.first_problems):
        more = summary.problems - len(summary.first_problems)
        lines.append(f"  … and {group_digits(more)} more" + (
            f": every problem is listed in {summary.errors_file}" if summary.errors_file
            else " (write the scores to a file with -o to get them all in an errors file)"))
    elif summary.errors_file:
        lines.append(f"  (listed in {summary.errors_file})")
    if summary.events_read:
        lines.append(f"Events: {group_digits(summary.events_read)} read"
                     + (f", {group_digits(summary.events_orphans)} for leads not in the file"
                        if summary.events_orphans else "")
                     + (f", {group_digits(summary.events_problems)} with problems"
                        if summary.events_problems else "") + ".")
    if summary.events_ignored:
        kinds = sorted(summary.events_ignored.items(), key=lambda kv: (-kv[1], kv[0]))
        listed = ", ".join(f"{name} ({group_digits(n)}{_close_event(name, rs)})"
                           for name, n in kinds[:6])
        more = f" and {len(kinds) - 6} more kinds" if len(kinds) > 6 else ""
        lines.append(f"Events of kinds the rules do not declare were ignored: {listed}{more}.")
    if summary.absent:
        listed = ", ".join(f"'{rs.fields[name].source_column}' ({name})"
                           for name in summary.absent)
        lines.append("Not in the file, so unknown for every lead: " + listed + ".")
    rows = summary.rows_read or 1
    counted = [(name, summary.missing.get(name, 0), summary.unreadable.get(name, 0))
               for name in rs.fields if name not in summary.absent]
    counted = [c for c in counted if c[1] or c[2]]
    if counted:
        lines.append("Fields not given or unreadable:")
        width = max(len(name) for name, _, _ in counted)
        for name, missing, unreadable in counted:
            parts = []
            if missing:
                parts.append(f"{group_digits(missing)} not given ({100 * missing / rows:.1f} %)")
            if unreadable:
                parts.append(f"{group_digits(unreadable)} unreadable "
                             f"({100 * unreadable / rows:.1f} %)")
            lines.append(f"  {name.ljust(width)}  " + ", ".join(parts))
    for name, cuts in summary.cuts.items():
        grade = rs.grades[name]
        if not cuts:
            lines.append(f"Cut points of {name}: none, no lead had a value to grade.")
            continue
        shown = ", ".join(number_text(c) for c in cuts)
        if rising(cuts):
            lines.append(f"Cut points of {name} ({grade.quantiles} of these leads): {shown}. "
                         "To grade single leads the same way, write them in the rules "
                         f"(`{grade.quantiles} at {shown}`, or score again with --freeze-cuts).")
        else:
            # Rules only take cut points that go up (LR308): these cannot be copied as they are.
            lines.append(f"Cut points of {name} ({grade.quantiles} of these leads): {shown}. "
                         "Some are equal (many leads share the same value), so some groups are "
                         "empty and these cut points cannot be written in the rules as they "
                         "are: to grade single leads, choose cut points that go up, or fewer "
                         "groups.")
    return "\n".join(lines)


def rising(cuts) -> bool:
    """Cut points that go up, as the rules require them (LR308)."""
    return all(a < b for a, b in zip(cuts, cuts[1:], strict=False))


_QUANTILE_WORD = re.compile(r"\b(?:terciles|quartiles|quintiles|deciles)\b")


def freeze_cuts(rs, cuts: dict[str, tuple]) -> tuple[dict[str, str], dict[str, str]]:
    """The rule files with the cut points of a batch run written into their quantile grades
    (`quintiles` -> `quintiles at 1, 2, 4, 8`), and the grades left as they were, with why.

    Returns ({file: new text}, {grade: reason}). Nothing is written here."""
    from leadrules.loader import read_text

    texts: dict[str, list[str]] = {}
    edits: dict[str, list[tuple[int, int, str]]] = {}
    skipped: dict[str, str] = {}
    for name, values in cuts.items():
        if not values:
            skipped[name] = "no lead had a value to grade"
            continue
        if not rising(values):
            skipped[name] = "some cut points are equal"
            continue
        span = rs.grades[name].span
        if span.file not in texts:
            text, problem = read_text(Path(span.file), span.file)
            if text is None:
                skipped[name] = problem.message if problem else "the file cannot be read"
                continue
            texts[span.file] = text.split("\n")
        lines = texts[span.file]
        # The grade's text ends with its quantile word (the cut points follow it): the last
        # one on its last line is the keyword, whatever the label says.
        found = list(_QUANTILE_WORD.finditer(lines[span.end_line - 1][:span.end_col - 1]))
        if not found:
            skipped[name] = "its quantile word could not be found on its last line"
            continue
        at = " at " + ", ".join(number_text(v) for v in values)
        edits.setdefault(span.file, []).append((span.end_line - 1, found[-1].end(), at))
    new_texts: dict[str, str] = {}
    for file, changes in edits.items():
        lines = list(texts[file])
        # From the end of each line backwards, so that earlier columns stay right.
        for line, col, insert in sorted(changes, reverse=True):
            lines[line] = lines[line][:col] + insert + lines[line][col:]
        new_texts[file] = "\n".join(lines)
    return new_texts, skipped


def _close_event(kind: str, rs) -> str:
    """`; did you mean quote_request?` when an ignored kind looks like a declared event."""
    import difflib

    close = difflib.get_close_matches(kind.casefold(), list(rs.events), n=1, cutoff=0.8)
    return f"; did you mean {close[0]}?" if close else ""


def plural(n: int, noun: str) -> str:
    """`1 lead`, `2 leads`, `1 042 leads`."""
    return f"{group_digits(n)} {noun}{'' if n == 1 else 's'}"


def number_text(value) -> str:
    """A number as the rules write it: 100, 0.5 (no exponent, no trailing zeros)."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    return str(value)


def parse_as_of(text: str | None, rs) -> datetime:
    """The evaluation instant: the text (ISO 8601 or the forms data accepts; naive means the
    agreement's time zone), or now."""
    typing = Typing(rs)
    if text is None:
        return datetime.now(typing.zone)
    try:
        moment = typing.converter("as of", ast.TypeSpec("datetime"))(text)
    except ValueProblem as exc:
        raise DataError(f"--as-of '{text}' {exc} (write for example 2027-03-01 or "
                        "2027-03-01T10:00)") from None
    if moment is None:  # an empty text: leave the option out to mean now
        raise DataError("--as-of is empty: give the evaluation instant (for example "
                        "2027-03-01 or 2027-03-01T10:00), or leave the option out to mean now")
    return moment

