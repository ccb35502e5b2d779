"""Result rows -> CSV, JSON Lines or Parquet files, written atomically (temp file, then rename).

A run that stops half-way leaves no output behind: rows go to a temporary file in the target's
folder, renamed over the target only by `commit()`. Output to standard output is spooled the
same way and copied out at the end.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from abc import ABC, abstractmethod
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from leadrules.data import DataError, group_digits, require_pyarrow
from leadrules.files import file_mode
from leadrules.words import cents

# Column kinds, for formats that carry types (Parquet).
TEXT = "text"
DECIMAL = "decimal"
INT = "int"
BOOL = "bool"
JSON = "json"
LINES = "lines"  # a list of short texts: a JSON list in JSON Lines, joined by "; " elsewhere


def output_format(path: str | Path | None, given: str | None) -> str:
    """csv, jsonl or parquet: `given`, else from the suffix of `path`, else csv."""
    if given:
        given = given.lower()
        if given in ("json", "ndjson"):
            return "jsonl"
        if given not in ("csv", "jsonl", "parquet"):
            raise DataError(f"unknown output format '{given}': use csv, jsonl or parquet")
        return given
    if path is None:
        return "csv"
    name = str(path).lower()
    for suffix, fmt in ((".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "jsonl"),
                        (".parquet", "parquet"), (".pq", "parquet"), (".csv", "csv"),
                        (".tsv", "csv"), (".txt", "csv")):
        if name.endswith(suffix):
            return fmt
    raise DataError(f"cannot tell the output format from the name '{path}': name it .csv, "
                    ".jsonl or .parquet, or say --format")


class AtomicFile:
    """A binary file that appears at `path` only when committed."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path is not None else None
        if self.path is None:
            self.file: BinaryIO = tempfile.TemporaryFile()
            self.temp = None
        else:
            folder = self.path.parent
            if not folder.is_dir():
                raise DataError(f"cannot write '{self.path}': the folder '{folder}' does not exist")
            try:
                fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                            dir=folder)
            except OSError as exc:
                raise DataError(f"cannot write in the folder '{folder}' ({exc.strerror})"
                                ) from None
            self.temp = Path(temp)
            self.file = os.fdopen(fd, "wb")

    def commit(self) -> None:
        if self.path is None:
            self.file.flush()
            self.file.seek(0)
            out = sys.stdout.buffer
            shutil.copyfileobj(self.file, out)
            out.flush()
            self.file.close()
            return
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.chmod(self.temp, file_mode(self.path))
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        self.file.close()
        if self.temp is not None and self.temp.exists():
            self.temp.unlink()


def plain(value: Any) -> Any:
    """A value as JSON carries it: Decimals as numbers, instants in ISO 8601."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 \
            else float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def cell(value: Any) -> str:
    """A value as a CSV cell: empty for unknown, true/false, Decimals as written."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(plain(value), ensure_ascii=False)
    return str(value)


def score_cell(value: Any) -> str:
    """A score as a CSV cell: with its cents, also when rules with whole points made it an int."""
    return f"{value}.00" if value.__class__ is int else cell(value)


class Writer(ABC):
    """Rows (lists of values in the order of `columns`) to one output."""

    def __init__(self, path: str | Path | None, columns: list[tuple[str, str]]):
        self.columns = columns
        self.target = AtomicFile(path)
        self.rows = 0

    @abstractmethod
    def write(self, row: list[Any]) -> None:
        """Add one row."""

    def commit(self) -> None:
        self.target.commit()

    def abort(self) -> None:
        self.target.abort()


class CsvWriter(Writer):
    def __init__(self, path, columns):
        super().__init__(path, columns)
        import io

        self.text = io.TextIOWrapper(self.target.file, encoding="utf-8", newline="",
                                     write_through=False)
        self.csv = csv.writer(self.text)
        self.csv.writerow([name for name, _ in columns])
        self.kinds = [kind for _, kind in columns]
        # Scores are Decimals quantized to cents, or ints from rules with whole points; grades
        # and stages str or None: the csv module writes those as they are. Whole scores get
        # their cents so that a column reads alike on every row; booleans and lists need our
        # spelling.
        self.scores = [i for i, kind in enumerate(self.kinds) if kind == DECIMAL]
        self.special = [i for i, kind in enumerate(self.kinds) if kind in (BOOL, LINES, JSON)]

    def write(self, row):
        # The csv module writes None as an empty cell and str() of the rest: only booleans,
        # lists and values of other types need our spelling.
        out = list(row)
        for i in self.scores:
            if out[i].__class__ is int:  # a Decimal score is written as it is, cents and all
                out[i] = score_cell(out[i])
        for i in self.special:
            value = out[i]
            out[i] = "; ".join(value) if self.kinds[i] == LINES and value is not None \
                else cell(value)
        self.csv.writerow(out)
        self.rows += 1

    def commit(self):
        self.text.flush()
        self.text.detach()
        super().commit()

    def abort(self):
        self.text.detach()
        super().abort()


class JsonLinesWriter(Writer):
    def __init__(self, path, columns):
        super().__init__(path, columns)
        self.names = [name for name, _ in columns]

    def write(self, row):
        record = {name: plain(value) for name, value in zip(self.names, row, strict=True)}
        self.target.file.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        self.rows += 1


class ParquetWriter(Writer):
    """Parquet with typed columns: scores as exact decimals (2 places), qualifications as
    booleans, everything else as text."""

    BATCH = 16384

    def __init__(self, path, columns):
        pa, pq = require_pyarrow()
        super().__init__(path, columns)
        self.pa = pa
        types = {TEXT: pa.string(), DECIMAL: pa.decimal128(24, 2), INT: pa.int64(),
                 BOOL: pa.bool_(), JSON: pa.string(), LINES: pa.string()}
        self.kinds = [kind for _, kind in columns]
        self.schema = pa.schema([(name, types[kind]) for name, kind in columns])
        self.writer = pq.ParquetWriter(self.target.file, self.schema)
        self.pending: list[list[Any]] = [[] for _ in columns]

    def write(self, row):
        for values, kind, value in zip(self.pending, self.kinds, row, strict=True):
            if value is not None:
                if kind == DECIMAL:
                    value = cents(value)
                elif kind == JSON:
                    value = json.dumps(plain(value), ensure_ascii=False)
                elif kind == LINES:
                    value = "; ".join(value)
                elif kind == TEXT and not isinstance(value, str):
                    value = cell(value)
            values.append(value)
        self.rows += 1
        if len(self.pending[0]) >= self.BATCH:
            self._flush()

    def _flush(self):
        if self.pending and self.pending[0]:
            arrays = []
            for values, field in zip(self.pending, self.schema, strict=True):
                try:
                    arrays.append(self.pa.array(values, type=field.type))
                except (OverflowError, self.pa.ArrowInvalid):
                    raise DataError(self._too_large(field, values)) from None
            self.writer.write_batch(self.pa.record_batch(arrays, schema=self.schema))
            self.pending = [[] for _ in self.columns]

    def _too_large(self, field, values) -> str:
        """The message for a column with a value Parquet's column type cannot hold."""
        # int64 or 22 digits before the point, as the schema above declares them.
        limit = 2 ** 63 if field.type == self.pa.int64() else Decimal("1e22")
        first = self.rows - len(values)
        row, value = next(((first + i + 1, v) for i, v in enumerate(values)
                           if v is not None and not -limit < v < limit), (first + 1, None))
        return (f"the value of '{field.name}' for lead {group_digits(row)} of the output "
                f"({cell(value)}) is too large for a Parquet file: look at the data of that "
                f"lead, or write CSV or JSON Lines (-o scores.csv)")
    def commit(self):
        try:
            self._flush()
        except BaseException:
            self.abort()
            raise
        self.writer.close()
        super().commit()

    def abort(self):
        try:
            self.writer.close()
        finally:
            super().abort()


def open_writer(path: str | Path | None, fmt: str, columns: list[tuple[str, str]]) -> Writer:
    """A writer for `columns` ((name, kind) pairs) to `path` (standard output when None)."""
    if fmt == "parquet":
        return ParquetWriter(path, columns)
    if fmt == "jsonl":
        return JsonLinesWriter(path, columns)
    return CsvWriter(path, columns)
