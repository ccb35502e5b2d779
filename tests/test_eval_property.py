"""Properties on random leads: the standalone module and the in-process engine agree exactly,
regeneration is byte-identical, and explanations agree with the values they explain."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrules import codegen
from leadrules.check import check
from leadrules.engine import from_ruleset
from leadrules.explain import evaluate, truth

HERE = Path(__file__).parent
RULES = HERE / "fixtures" / "property.leadrules"
AS_OF = datetime(2027, 3, 15, 10, 30)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    rs = check(RULES)
    assert rs.ok
    source = codegen.generate(rs)
    path = tmp_path_factory.mktemp("standalone") / "property_scoring.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("property_scoring", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return rs, source, module, from_ruleset(rs)


def maybe(strategy):
    return st.one_of(st.none(), strategy)


TEXTS = st.sampled_from(["Director of sales", "VP Marketing", "CTO", "cto", "Summer intern",
                         "directrice", "Über-Chef", "", "vp", "Chief Officer INTERN", "CTOé",
                         "VP\n", "Directeur GÉNÉRAL", "directeur général\n", "Général \t",
                         "CFO_x"])
EMAILS = st.sampled_from(["anne@acme.fr", "bob@GMAIL.com", "x@yahoo.fr", "nobody", "a@b@c.io"])
DECIMALS = st.decimals(min_value=-10_000, max_value=50_000, places=2, allow_nan=False)

LEADS = st.fixed_dictionaries({}, optional={
    "id": maybe(st.sampled_from(["L1", "L2"])),
    "email": maybe(EMAILS),
    "size": maybe(st.integers(-5, 700)),
    "rate": maybe(st.one_of(st.integers(0, 2), st.decimals(0, 1, places=3))),
    "budget": maybe(DECIMALS),
    "title": maybe(TEXTS),
    "sector": maybe(st.sampled_from(["saas", "finance", "retail"])),
    "level": maybe(st.sampled_from(["junior", "senior", "chief"])),
    "partner": maybe(st.booleans()),
    "since": maybe(st.dates(date(2025, 1, 1), date(2027, 12, 31))),
    "seen_at": maybe(st.datetimes(datetime(2026, 6, 1), datetime(2027, 6, 1))),
})

EVENTS = st.lists(st.builds(
    lambda kind, age, amount: {"type": kind, "at": AS_OF - age,
                               **({"amount": amount} if kind == "buy" else {})},
    st.sampled_from(["visit", "demo", "buy", "call"]),
    st.timedeltas(timedelta(days=-3), timedelta(days=500)),
    maybe(st.decimals(0, 5000, places=2))), max_size=12)

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(lead=LEADS, events=EVENTS)
def test_standalone_module_and_engine_agree(pair, lead, events) -> None:
    _, _, module, engine = pair
    standalone = module.evaluate(lead, events, AS_OF)
    assert standalone == engine.evaluate_raw(lead, events, AS_OF)
    explained = module.evaluate(lead, events, AS_OF, explain=True)
    assert explained == engine.evaluate_explained(lead, events, AS_OF)
    assert {k: v for k, v in explained.items() if k != "explain"} == standalone
    for key, value in standalone.items():
        if engine.outputs[key] == "score" and value is not None:
            assert isinstance(value, (int, Decimal))
            assert isinstance(value, int) or value == value.quantize(Decimal("0.01"))


@SETTINGS
@given(lead=LEADS, events=EVENTS)
def test_explanations_agree_with_the_values(pair, lead, events) -> None:
    rs, _, _, engine = pair
    ev = evaluate(engine, lead, events, AS_OF)
    r = ev.result
    segments = {name: seg for name, seg in rs.segments.items()}
    atoms = ev.atoms(tuple(c for seg in segments.values() for c in seg.conditions))
    for name, seg in segments.items():
        values = [truth(c, atoms) for c in seg.conditions]
        if seg.any:
            want = True if True in values else False if all(v is False for v in values) else None
        else:
            want = False if False in values else True if all(v is True for v in values) else None
        assert r.segments[name].member is want, name
    for q in rs.qualifications.values():
        atoms = ev.atoms(tuple(c.cond for c in q.criteria))
        assert [truth(c.cond, atoms) for c in q.criteria] == \
            [c.met for c in r.qualifications[q.name].criteria]
    for score in r.scores.values():
        if score.derived or score.value is None:
            continue
        groups = {g.name: g for g in score.groups}
        for g in score.groups:
            inside = sum((c.counted for c in score.rules if c.group == g.name), Decimal(0))
            assert inside == g.total
        loose = sum((c.counted for c in score.rules if c.group is None), Decimal(0))
        assert loose + sum((g.counted for g in groups.values()), Decimal(0)) == score.total


def test_regeneration_is_byte_identical(pair) -> None:
    rs, source, _, _ = pair
    assert codegen.generate(check(RULES)) == source
    assert codegen.generate(rs) == source
