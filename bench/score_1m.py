"""Benchmark: `leadrules score` on a 1,000,000-row CSV made by repeating the X Education rows.

    .venv/bin/python bench/score_1m.py [--rows 1000000] [--explain]

Writes bench/data/xeducation-1m.csv once (git-ignored; each copy of a row gets its own
Prospect ID), runs the installed `leadrules score` on it under /usr/bin/time -v, then checks
the output: one row per lead, and the same hot / warm / cold counts as the 9,237 original rows
repeated. Prints rows, seconds, leads per second and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT.parent / "shared" / "data" / "xeducation-leads.csv"
RULES = ROOT / "rules" / "xeducation.leadrules"
DATA = HERE / "data"


def make_big_csv(rows: int) -> Path:
    path = DATA / f"xeducation-{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(exist_ok=True)
    with open(SOURCE, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        originals = list(reader)
    key = header.index("Prospect ID")
    temp = path.with_suffix(".tmp")
    with open(temp, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(rows):
            row = list(originals[i % len(originals)])
            row[key] = f"{row[key]}-{i // len(originals)}"
            writer.writerow(row)
    temp.replace(path)
    return path


def leadrules_command() -> list[str]:
    found = shutil.which("leadrules", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "leadrules.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--format", default="csv", choices=["csv", "jsonl", "parquet"])
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"{SOURCE} is absent: this benchmark needs the X Education export")
    started = time.perf_counter()
    big = make_big_csv(args.rows)
    print(f"input: {big} ({big.stat().st_size / 1e6:.0f} MB, made in "
          f"{time.perf_counter() - started:.1f} s)")
    out = DATA / f"scores-{args.rows}.{args.format}"
    command = [*leadrules_command(), "score", str(RULES), str(big), "-o", str(out),
               "--as-of", "2027-01-15T10:00", "--no-progress"]
    if args.explain:
        command.append("--explain")
    timed = ["/usr/bin/time", "-v", *command] if os.path.exists("/usr/bin/time") else command
    print("command:", " ".join(command))
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(timed, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"leadrules score failed ({done.returncode}):\n{done.stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    peak_kb = int(m.group(1)) if m else usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    summary = "\n".join(line for line in done.stderr.splitlines()
                        if not line.startswith("\t") and "Command being timed" not in line)
    print(summary)
    check(out, args.rows, args.format)
    print(f"rows: {args.rows:,}  wall time: {seconds:.1f} s ({args.rows / seconds:,.0f} leads/s)"
          f"  CPU time: {cpu:.1f} s ({args.rows / cpu:,.0f} leads/s per core)"
          f"  peak memory: {peak_kb / 1024:.0f} MB  load average before: {load:.1f}")


def check(out: Path, rows: int, fmt: str) -> None:
    """One output row per lead, and the grades of the repeated original rows."""
    sys.path.insert(0, str(HERE))
    import peers

    originals = peers.canonical_leads(SOURCE)
    expected: Counter = Counter()
    for i in range(rows):
        expected[peers.hand_written(originals[i % len(originals)])[1]] += 1
    if fmt == "csv":
        with open(out, encoding="utf-8", newline="") as f:
            got = Counter(row["temperature"] for row in csv.DictReader(f))
    elif fmt == "jsonl":
        import json

        with open(out, encoding="utf-8") as f:
            got = Counter(json.loads(line)["temperature"] for line in f)
    else:
        import pyarrow.parquet as pq

        got = Counter(pq.read_table(out, columns=["temperature"]).column(0).to_pylist())
    if sum(got.values()) != rows or got != expected:
        sys.exit(f"output does not match: {dict(got)} expected {dict(expected)}")
    print(f"checked: {rows:,} rows out, grades as expected {dict(sorted(got.items()))}")


if __name__ == "__main__":
    main()
