"""Benchmark: per-lead evaluation of the 20-rule X Education model, every engine side by side.

    .venv/bin/python bench/eval_speed.py [--rounds 7] [--seconds 0.5]

The model of ../shared/benchmarks/xeducation-20-rules.md, evaluated on its 9,237 leads by:
a hand-written Python function (the reference); the module `leadrules compile` generates from
rules/xeducation.leadrules (explanations off and on) and from bench/xeducation-20.leadrules
(text fields, the canonical lead verbatim); the in-process engine (`Engine.evaluate_raw`, and
`Engine.evaluate` with its pydantic result); zen-engine (`compile_expression`, and
`ZenEngine.evaluate` with a decision graph); rule-engine. Every engine must first give the same
score and grade as the reference for every lead; then each is timed, rounds interleaved, best
round kept, and reported in leads per second and as a ratio to the hand-written function.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCE = ROOT.parent / "shared" / "data" / "xeducation-leads.csv"
RULES = ROOT / "rules" / "xeducation.leadrules"
BENCH_RULES = HERE / "xeducation-20.leadrules"
DATA = HERE / "data"

sys.path.insert(0, str(HERE))
import peers  # noqa: E402


def typed_leads(rules: Path) -> list[dict]:
    """The leads as `leadrules score` reads them (typed under the rules), outside any timing."""
    from leadrules.check import check
    from leadrules.data import read_leads

    rs = check(rules)
    leads = []
    for _, lead, problems in read_leads(rs, SOURCE):
        if problems:
            sys.exit(f"data errors reading {SOURCE} with {rules}: {problems[0]}")
        leads.append(lead)
    return leads


def generated_module(rules: Path, name: str):
    """The module `leadrules compile RULES --target python` writes, imported from its file."""
    from leadrules import codegen
    from leadrules.check import check

    rs = check(rules)
    DATA.mkdir(exist_ok=True)
    path = DATA / f"{name}.py"
    path.write_text(codegen.generate(rs), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Contender:
    def __init__(self, name: str, evaluate, leads: list, note: str = ""):
        self.name = name
        self.evaluate = evaluate  # lead -> (score, grade)
        self.leads = leads
        self.note = note
        self.best = float("inf")
        self.loop = None

    def check(self, reference: list[tuple[int, str]]) -> None:
        for i, (lead, expected) in enumerate(zip(self.leads, reference, strict=True)):
            got = self.evaluate(lead)
            if (got[0], got[1]) != expected:
                sys.exit(f"{self.name} disagrees on lead {i + 1}: {got} instead of {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.4,
                        help="least time of one round of one engine (it loops over the leads "
                             "as often as needed)")
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"{SOURCE} is absent: this benchmark needs the X Education export")

    from leadrules.engine import load

    canonical = peers.canonical_leads(SOURCE)
    reference = [peers.hand_written(lead) for lead in canonical]
    typed = typed_leads(RULES)
    typed_text = typed_leads(BENCH_RULES)
    as_of = datetime(2027, 1, 15, 10, tzinfo=ZoneInfo("Asia/Kolkata"))

    module = generated_module(RULES, "xeducation_scoring")
    bench_module = generated_module(BENCH_RULES, "xeducation20_scoring")
    engine = load(RULES)

    def generated(lead, evaluate=module.evaluate):
        result = evaluate(lead, (), as_of)
        return result["lead_score"], result["temperature"]

    def generated_explained(lead, evaluate=module.evaluate):
        result = evaluate(lead, (), as_of, True)
        return result["lead_score"], result["temperature"]

    def generated_text(lead, evaluate=bench_module.evaluate):
        result = evaluate(lead, (), as_of)
        return result["model"], result["temperature"]

    def in_process(lead, evaluate=engine.evaluate_raw):
        result = evaluate(lead, (), as_of)
        return result["lead_score"], result["temperature"]

    def in_process_result(lead, evaluate=engine.evaluate):
        result = evaluate(lead, (), as_of)
        return int(result.scores["lead_score"].value), result.grades["temperature"].value

    contenders = [
        Contender("hand-written Python", peers.hand_written, canonical, "reference"),
        Contender("leadrules generated module", generated, typed,
                  "rules/xeducation.leadrules, explain off"),
        Contender("leadrules generated, explain on", generated_explained, typed,
                  "every rule's working kept"),
        Contender("leadrules generated (text fields)", generated_text, typed_text,
                  "bench/xeducation-20.leadrules"),
        Contender("leadrules Engine.evaluate_raw", in_process, typed, "in-process, same code"),
        Contender("leadrules Engine.evaluate", in_process_result, typed,
                  "pydantic LeadResult with the working"),
        Contender("zen-engine compile_expression", peers.zen_expression(), canonical,
                  "grade in Python"),
        Contender("zen-engine ZenEngine.evaluate", peers.zen_decision(), canonical,
                  "decision graph (JDM)"),
        Contender("rule-engine", peers.rule_engine_rule(), canonical, "grade in Python"),
    ]
    for c in contenders:
        c.check(reference)
    print(f"all {len(contenders)} engines agree on score and grade for all "
          f"{len(canonical):,} leads")

    for c in contenders:
        # How many passes over the leads make one round last about --seconds.
        started = time.perf_counter()
        run_once(c)
        one = time.perf_counter() - started
        c.loop = max(1, round(args.seconds / one)) if one < args.seconds else 1
    for _ in range(args.rounds):
        for c in contenders:
            if c.name == "rule-engine" and c.best < float("inf") and args.rounds > 3:
                continue  # rule-engine's one pass takes seconds; a couple of rounds suffice
            started = time.perf_counter()
            for _ in range(c.loop):
                run_once(c)
            per_lead = (time.perf_counter() - started) / (c.loop * len(c.leads))
            c.best = min(c.best, per_lead)
    base = contenders[0].best
    print(f"\n{'engine':36} {'leads/s':>12} {'× hand':>8}  note")
    for c in contenders:
        print(f"{c.name:36} {1 / c.best:12,.0f} {base / c.best:8.3f}  {c.note}")
    print(f"\nPython {sys.version.split()[0]}, {len(canonical):,} leads, best of "
          f"{args.rounds} rounds")


def run_once(c: Contender) -> None:
    evaluate = c.evaluate
    for lead in c.leads:
        evaluate(lead)


if __name__ == "__main__":
    main()
