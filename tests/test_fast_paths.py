"""The fast paths give what the plain ones give: parsing while building, probes from the
evaluator's generator, results made without validation, the fired check, kept bytecode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import LarkError

from leadrules import ast, build, codegen, engine, syntax, testing
from leadrules.check import check
from leadrules.engine import from_ruleset
from leadrules.explain import evaluate
from leadrules.result import LeadResult

ROOT = Path(__file__).resolve().parent.parent
RULE_FILES = ["rules/acme.leadrules", "rules/acme-en.leadrules", "rules/xeducation.leadrules",
              "tests/fixtures/reference.leadrules", "tests/fixtures/property.leadrules"]


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


# ----------------------------------------------------------------------------- parsing


@pytest.fixture(scope="module")
def tree_parser() -> Lark:
    """A parser that builds lark trees, as before build.embed: the same options and the same
    tables (loaded from the same cache file: two builds may number their states differently,
    and error messages are looked up by state)."""
    syntax.parser()
    text = syntax.grammar_text()
    cache_file = syntax._cache_file(text)
    if cache_file is None or not cache_file.exists():
        pytest.skip("the parser cache is off (LEADRULES_NO_CACHE or no cache folder)")
    return Lark(text, cache=str(cache_file), parser="lalr", lexer="contextual",
                start=["start", "cond"], propagate_positions=True, maybe_placeholders=False)


def outcome(parse, chunk: str, offset: int):
    """The items of a chunk, or the diagnostic its error gives."""
    try:
        return parse()
    except LarkError as exc:
        return syntax._describe(exc, chunk, "f.leadrules", offset)
    except RecursionError:
        return "too deep"


def broken_variants(text: str) -> list[str]:
    """Each line of `text` with a word dropped, and with a stray sign inserted."""
    out = []
    for i, line in enumerate(text.split("\n")):
        words = line.split()
        if len(words) > 1:
            out.append(text.replace(line, " ".join(words[1:]), 1))
        if line.strip():
            out.append("\n".join([*text.split("\n")[:i], line + " = ,", *text.split("\n")[i + 1:]]))
    return out


def test_building_while_parsing_gives_the_trees_items_and_errors(tree_parser) -> None:
    assert syntax._building() is not None, "this lark is laid out as build.embed expects"
    texts = [(ROOT / f).read_text(encoding="utf-8") for f in RULE_FILES]
    texts += broken_variants((ROOT / "tests/fixtures/reference.leadrules").read_text()[:3000])
    texts += ['test "t" {\n    as of 2027-02-30\n    lead { x: 1 }\n}\n',
              "segment s {\n    d == 2027-13-01 and not not (a or\n}\n",
              # Messages that quote the token before the error, inside a built node.
              "segment s {\n    company_size >= 10,000\n}\n",
              "segment s {\n    a == 1 AND b == 2\n}\n",
              "score s {\n    +10 when a == 1 == 2\n}\n",
              "segment s {\n    a == 1 and\n}\n",
              "segment s {\n    " + "not " * 150 + "a\n}\n"]
    compared = 0
    for text in texts:
        for offset, chunk in syntax.chunks(text):
            embedded = outcome(lambda c=chunk, o=offset: syntax._items(c, "f.leadrules", o),
                               chunk, offset)
            tree = outcome(lambda c=chunk, o=offset: build.build(
                tree_parser.parse(c, start="start"), "f.leadrules", o), chunk, offset)
            assert embedded == tree, chunk
            compared += 1
    assert compared > 300


def test_parse_condition_while_parsing(tree_parser) -> None:
    for text in ("fit >= 40 and industry in {saas, finance}", "not (a or b) and c within 3 days",
                 "count(demo within 30 days) >= 2", "x.domain in free_domains"):
        assert syntax.parse_condition(text) == build.build(tree_parser.parse(text, start="cond"),
                                                           "<condition>")


def test_deep_nesting_is_refused_as_before() -> None:
    _, found = syntax.parse("segment s {\n    " + "not " * 480 + "a\n}\n", "f.leadrules")
    assert found == []
    _, found = syntax.parse("segment s {\n    " + " and ".join(["a"] * 600) + "\n}\n",
                            "f.leadrules")
    assert [d.code for d in found] == ["LR003"]


# ----------------------------------------------------------------------------- probes


@pytest.mark.parametrize("path", RULE_FILES)
def test_probes_from_the_evaluators_generator_are_those_written_afresh(path: str) -> None:
    rs = check(path)
    planned = codegen.plan(rs)
    codegen.generate(rs, planned)
    conditions = [c for s in rs.segments.values() for c in s.conditions]
    conditions += [s.cond for s in rs.stages] + [d.cond for d in rs.disqualify]
    conditions += [r.cond for r in rs.routes if r.cond is not None]
    conditions += [info.node.cond for info in planned.rules
                   if isinstance(info.node, ast.WhenRule)][:40]
    assert conditions
    for cond in conditions:
        assert codegen.probe_source(rs, (cond,), planned) == codegen.probe_source(rs, (cond,))


# ----------------------------------------------------------------------------- results


@pytest.mark.parametrize("path", RULE_FILES)
def test_results_made_without_validation_equal_validated_ones(path: str) -> None:
    rs = check(path)
    eng = from_ruleset(rs)
    cases = testing.cases_from_blocks(rs) or [testing.Case("empty", rs.modules[0].items[0].span,
                                                           {}, [], None, [])]
    for case in cases:
        result = eng.evaluate(case.lead, case.events, case.as_of)
        validated = LeadResult.model_validate(result.model_dump())
        assert result == validated
        assert result.model_dump_json() == validated.model_dump_json()
        assert result.model_fields_set == validated.model_fields_set
        for name, score in result.scores.items():
            assert score.model_fields_set == validated.scores[name].model_fields_set
            for rule, checked in zip(score.rules, validated.scores[name].rules, strict=True):
                assert type(rule.points) is type(checked.points)
                assert rule.model_fields_set == checked.model_fields_set


def test_passing_tests_build_no_result_and_fired_is_judged_alike() -> None:
    rs = check("tests/fixtures/reference.leadrules")
    eng = from_ruleset(rs)
    outcomes = testing.run(eng, testing.cases_from_blocks(rs))
    assert outcomes and all(o.ok for o in outcomes)
    assert all(o.evaluated.built is None for o in outcomes)
    ev = evaluate(eng, outcomes[0].case.lead, outcomes[0].case.events, outcomes[0].case.as_of)
    labels = {c.label for c in ev.result.rules()} | {"no such rule"}
    for label in labels:
        fired = any(c.fired is True for c in ev.result.rules() if label in (c.label, c.text))
        found = any(label in (c.label, c.text) for c in ev.result.rules())
        for kind in ("fired", "not fired"):
            check_ = testing.Check(kind, f"{kind} {label}", ev.engine.ruleset.modules[0].items[0]
                                   .span, expected=label)
            assert testing._fired_as_expected(ev, check_) == (
                found and fired == (kind == "fired"))


# ----------------------------------------------------------------------------- bytecode


def big_source(n: int = 8_000) -> str:
    lines = [f"# line {i}: padding that makes the source worth keeping" for i in range(n)]
    return "\n".join(lines) + "\nVALUE = 42\n\ndef evaluate():\n    return VALUE\n"


def test_large_evaluators_bytecode_is_kept_and_reused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LEADRULES_NO_CACHE", raising=False)
    source = big_source()
    assert len(source) >= engine.KEEP_COMPILED
    monkeypatch.setattr(engine, "_NAMESPACES", {})
    assert engine.run_source(source, "evaluator")["evaluate"]() == 42
    kept = list((tmp_path / "leadrules").glob("evaluator-*.marshal"))
    assert len(kept) == 1
    assert not list((tmp_path / "leadrules").glob("*.tmp"))

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(engine, "_NAMESPACES", {})
    monkeypatch.setattr(engine, "compile", no_compiling, raising=False)
    assert engine.run_source(source, "evaluator")["evaluate"]() == 42

    # A damaged file is compiled again and replaced.
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(engine, "_NAMESPACES", {})
    data = kept[0].read_bytes()
    kept[0].write_bytes(data[:len(data) // 2])
    assert engine.run_source(source, "evaluator")["evaluate"]() == 42
    assert kept[0].read_bytes() == data


def test_small_sources_and_no_cache_keep_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(engine, "_NAMESPACES", {})
    engine.run_source("def evaluate():\n    return 1\n", "evaluator")
    monkeypatch.setenv("LEADRULES_NO_CACHE", "1")
    engine.run_source(big_source(), "evaluator")
    assert not list(tmp_path.rglob("evaluator-*"))


def test_only_the_most_recent_evaluators_are_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LEADRULES_NO_CACHE", raising=False)
    monkeypatch.setattr(engine, "_NAMESPACES", {})
    monkeypatch.setattr(engine, "KEPT_EVALUATORS", 3)
    for i in range(5):
        engine.run_source(big_source(2_000 + i), "evaluator")
    assert len(list((tmp_path / "leadrules").glob("evaluator-*.marshal"))) == 3
    assert all(re.fullmatch(r"evaluator-[0-9a-f]{40}-[\w-]+\.marshal", p.name)
               for p in (tmp_path / "leadrules").iterdir())
