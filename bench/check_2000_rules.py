"""Benchmark: `leadrules check` on a generated ruleset of 2,000 point rules, and the start-up time
of `leadrules --help`.

    .venv/bin/python bench/check_2000_rules.py [--runs 7] [--rules 2000]

Writes bench/data/check_2000_rules.leadrules (a complete agreement: lead schema, events, lists,
segments, 40 scores of 50 rules each, grades, qualification, stages, routes, both SLA sides,
channels, 10 tests), checks that it is clean, then times the real installed command in a fresh
process each run (wall clock, so interpreter start-up, imports and reading the grammar count,
and the CPU time of the process). The check is timed with `--no-tests` (checking only) and
without (checking, then running the test blocks through the evaluator). Reports the best and the
median run. The first runs of all, in an empty cache folder (building the parser, and compiling
the evaluator of the 2,000 rules for the tests), are reported on their own.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
EXE = Path(sys.executable).parent / "leadrules"

INDUSTRIES = ("saas", "finance", "retail", "industry", "public", "health", "education")
ROLES = ("decision_maker", "influencer", "user", "student")
SOURCES = ("seo", "sea", "social", "referral", "event", "outbound", "partner")


def ruleset(rules: int) -> str:
    """A realistic agreement with `rules` point rules spread over 50-rule scores."""
    events = [f"event_{i:02d}" for i in range(20)]
    out = [
        'agreement "Generated agreement" {',
        '    version "bench"', "    locale en", "    currency EUR",
        '    timezone "Europe/Paris"', "    effective 2027-01-01 to 2027-12-31",
        "    review every quarter",
        '    party marketing "Claire Martin", "Head of marketing"',
        '    party sales "Hugo Bernard", "Head of sales"', "}", "",
        "calendar business {", "    hours mon-fri 09:00-18:00",
        "    holidays 2027-01-01, 2027-05-01, 2027-12-25", "}", "",
        "lead {",
        '    id            text  from "Record ID"  key',
        '    email         text  from "Email"',
        "    company_size  int",
        "    industry      enum(" + ", ".join(INDUSTRIES) + ")",
        "    role          enum(" + ", ".join(ROLES) + ")",
        "    source        enum(" + ", ".join(SOURCES) + ")",
        "    status        enum(new, attempted, connected, qualified, unqualified)",
        "    country       text", "    job_title     text", "    budget        money",
        "    created_at    datetime", "    mql_at        datetime", "    visits        int",
    ]
    out += [f"    metric_{i:02d}     number" for i in range(20)]
    out += ["}", ""]
    out += [f'event {e} "Event {i}"' for i, e in enumerate(events)]
    out += ["", 'list free_email_domains = {"gmail.com", "yahoo.fr", "hotmail.com"}', ""]
    segments = []
    for i in range(30):
        name = f"segment_{i:02d}"
        segments.append(name)
        out += [f'segment {name} "Segment {i}" {{',
                f"    company_size between {10 + i} and {1000 + 50 * i}",
                f"    industry in {{{INDUSTRIES[i % 7]}, {INDUSTRIES[(i + 3) % 7]}}}",
                '    country in {"FR", "BE", "CH"}', "}", ""]
    out += ['segment excluded "Excluded" any {', "    email.domain in free_email_domains",
            '    job_title contains "student"', "}", ""]
    per_score = 50
    scores = []
    for s in range(-(-rules // per_score)):
        name = f"score_{s:02d}"
        scores.append(name)
        decay = " decay 50% every 30 days" if s % 2 else ""
        out.append(f'score {name} "Score {s}" max 500{decay} {{')
        count = min(per_score, rules - s * per_score)
        for r in range(count):
            kind = r % 10
            points = 1 + (r * 7 + s) % 30
            event = events[(r // 10 + s) % 20]
            label = f'"Rule {s}.{r}"'
            if kind == 0:
                line = f"+{points} when {segments[(r + s) % 30]}"
            elif kind == 1:
                line = f"+{points} when role == {ROLES[r % 4]} and industry in {{saas, finance}}"
            elif kind == 2:
                line = f"+{points} when budget >= {1000 * (r + 1)} EUR"
            elif kind == 3:
                line = f"+{points} per {event} within 90 days max {points * 3}"
            elif kind == 4:
                line = f"+{points} when {event} within 7 days"
            elif kind == 5:
                line = f"+1 per 60 of metric_{r % 20:02d} max 20"
            elif kind == 6:
                line = f'+{points} when job_title contains "director" or job_title starts with "vp"'
            elif kind == 7:
                line = f"-{points} when excluded"
            elif kind == 8:
                line = f"+{points} when count({event} within 30 days) >= 3"
            else:
                line = (f"+{points} when metric_{r % 20:02d} between {r} and {r + 100} and "
                        f"status in {{connected, qualified}}")
            out.append(f"    {line}  {label}")
        out += ["}", ""]
    out += ["score total = " + " + ".join(f"0.025 * {s}" for s in scores[:40]), ""]
    for s in scores[:10]:
        out += [f"grade {s}_grade by {s} {{", "    a when >= 300", "    b when >= 150",
                "    c when >= 50", "    d otherwise", "}", ""]
    out += ['qualification bant "BANT" require 3 of 4 {',
            "    budget    when budget >= 5_000 EUR",
            "    authority when role == decision_maker",
            f"    need      when {events[0]} within 90 days",
            "    timing    when status in {connected, qualified}", "}", "",
            "stages {", "    lead when email is present",
            "    mql  when score_00 >= 100 or score_01 >= 100", "        entered at mql_at",
            "    sql  when bant", "    opportunity when status == qualified", "}", "",
            "disqualify when excluded", "",
            "route enterprise when company_size >= 500", "route smb otherwise", "",
            "sla marketing {", "    revenue target 2_400_000 EUR per year",
            "    marketing share 40%", "    average deal 12_000 EUR",
            "    conversion lead -> mql 20%", "    conversion mql -> sql 50%",
            "    conversion sql -> opportunity 60%", "    conversion opportunity -> customer 25%",
            "    deliver at least 90 mql per month", "}", "",
            "sla sales {", "    calendar business", f"    touches {events[1]}, {events[2]}",
            "    first touch within 4 business hours of mql",
            "    attempts at least 6 within 10 business days of mql",
            "    accept or reject within 2 business days of sql",
            "    recycle to nurturing after 90 days without opportunity", "}", "",
            "channels by source {"]
    out += [f'    {src} "Channel {src}" cost {1000 * (i + 1)} EUR per month'
            for i, src in enumerate(SOURCES)]
    out += ["}", ""]
    for t in range(10):
        out += [f'test "Generated test {t}" {{', "    as of 2027-03-01T10:00",
                f'    lead {{ email: "a{t}@acme.fr", company_size: {100 + t}, industry: saas }}',
                f"    event {events[t]} at 2027-02-28T09:00",
                "    expect score_00 >= 0", "}", ""]
    return "\n".join(out)


def timed(args: list[str], env: dict) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one run of the command in a fresh process. The CPU
    time does not grow when other work shares the machine; the wall-clock time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def report(what: str, runs: list[tuple[float, float]]) -> None:
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    print(f"{what}: wall best {min(wall) * 1000:.0f} ms, median "
          f"{statistics.median(wall) * 1000:.0f} ms; CPU best {min(cpu) * 1000:.0f} ms, median "
          f"{statistics.median(cpu) * 1000:.0f} ms ({len(runs)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rules", type=int, default=2000)
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    path = DATA / f"check_{args.rules}_rules.leadrules"
    path.write_text(ruleset(args.rules), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").count("\n")
    rules = sum(1 for line in path.read_text(encoding="utf-8").splitlines()
                if line.lstrip().startswith(("+", "-")) and (" when " in line or " per " in line))
    check = subprocess.run([str(EXE), "check", str(path)], capture_output=True, text=True)
    print(f"ruleset: {path.relative_to(HERE.parent)}: {rules} point rules, {lines} lines, "
          f"{path.stat().st_size / 1024:.0f} KiB")
    print(f"leadrules check says: {check.stdout.strip().splitlines()[-1]} "
          f"(exit {check.returncode})")

    env = dict(os.environ)
    # A cache folder of our own (mkdtemp makes it private), empty: what a first run meets.
    with tempfile.TemporaryDirectory() as cold_cache:
        cold = timed([str(EXE), "check", "--no-tests", str(path)],
                     {**env, "XDG_CACHE_HOME": cold_cache})
    with tempfile.TemporaryDirectory() as cold_cache:
        cold_tested = timed([str(EXE), "check", str(path)], {**env, "XDG_CACHE_HOME": cold_cache})
    check_runs = [timed([str(EXE), "check", "--no-tests", str(path)], env)
                  for _ in range(args.runs)]
    tested_runs = [timed([str(EXE), "check", str(path)], env) for _ in range(args.runs)]
    help_runs = [timed([str(EXE), "--help"], env) for _ in range(args.runs)]
    load = os.getloadavg()[0]
    report("leadrules check --no-tests, first run (builds the parser cache)", [cold])
    report("leadrules check, first run (builds the parser, compiles the evaluator)",
           [cold_tested])
    report("leadrules check --no-tests", check_runs)
    report("leadrules check (and its 10 test blocks)", tested_runs)
    report("leadrules --help", help_runs)
    print(f"load average after the runs: {load:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
