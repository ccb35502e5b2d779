"""Time `leadrules render rules/acme.leadrules --format pdf` end to end (a fresh process each
run, as a user runs it): wall clock and the CPU time of the child process, whose sum is what an
idle machine's wall clock shows when other work shares the cores. Target: under 3 seconds."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "acme.leadrules"
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def main() -> None:
    command = [str(ROOT / ".venv" / "bin" / "leadrules"), "render", str(RULES), "--format",
               "pdf", "--date", "2027-01-01"]
    times, cpu = [], []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(RUNS):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command + ["-o", str(Path(folder) / "accord.pdf")], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    print("wall clock (s):", " ".join(f"{t:.2f}" for t in times))
    print("CPU (s):       ", " ".join(f"{t:.2f}" for t in cpu))
    print(f"median wall clock {statistics.median(times):.2f} s, median CPU "
          f"{statistics.median(cpu):.2f} s, load average {os.getloadavg()[0]:.1f} "
          f"({RULES.name})")


if __name__ == "__main__":
    main()
