"""Tests for leadrules.fmt and `leadrules fmt`: goldens, meaning kept, idempotence, comments kept."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrules import syntax
from leadrules.cli import main
from leadrules.fmt import FormatError, format_source, is_formatted, number, percent, quote

HERE = Path(__file__).parent
GOLDEN = HERE / "fmt"
REFERENCE = HERE / "fixtures" / "reference.leadrules"
RULES = HERE.parent / "rules"
CASES = sorted(GOLDEN.glob("*.leadrules")) + [REFERENCE]
UPDATE = os.environ.get("LEADRULES_UPDATE_GOLDEN") == "1"


def golden_of(case: Path) -> Path:
    return GOLDEN / (case.name + ".formatted")


def items(text: str, path: str = "<test>"):
    module, diagnostics = syntax.parse(text, path)
    assert diagnostics == []
    return module.items


def comment_texts(text: str) -> list[str]:
    return sorted(c.text for c in syntax.comments(text))


# ----------------------------------------------------------------------------- goldens


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden(case: Path) -> None:
    formatted = format_source(case.read_text(encoding="utf-8"), str(case))
    golden = golden_of(case)
    if UPDATE:
        golden.write_text(formatted, encoding="utf-8")
    assert golden.exists(), f"run with LEADRULES_UPDATE_GOLDEN=1 to write {golden.name}"
    assert formatted == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_means_the_same_and_keeps_comments(case: Path) -> None:
    source = case.read_text(encoding="utf-8")
    golden = golden_of(case).read_text(encoding="utf-8")
    assert items(golden) == items(source)
    assert comment_texts(golden) == comment_texts(source)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_is_stable(case: Path) -> None:
    golden = golden_of(case).read_text(encoding="utf-8")
    assert format_source(golden) == golden
    assert is_formatted(golden)


def test_goldens_cover_every_kind_of_node() -> None:
    from leadrules import ast

    seen = set()
    for case in CASES:
        module, _ = syntax.parse(case.read_text(encoding="utf-8"), str(case))
        for item in module.items:
            seen.update(type(node).__name__ for node in ast.walk(item))
    kinds = {name for name, value in vars(ast).items()
             if isinstance(value, type) and hasattr(value, "__dataclass_fields__")}
    assert kinds - seen - {"Span", "Module", "Comment", "Bounds", "EnteredAt"} == set()


def test_reference_keeps_the_look_of_the_language_reference() -> None:
    formatted = golden_of(REFERENCE).read_text(encoding="utf-8")
    for line in [
        '    id            text      from "Record ID"            key',
        '    company_size  int       from "Number of Employees"  "Taille de l\'entreprise"',
        '    time_on_site  int       "Temps passé sur le site (secondes)"',
        'event whitepaper_download "Téléchargement d\'un livre blanc"',
        '        +5  per webinar_attended',
        '    +40 when demo_request within 7 days  "Demande de démo"',
        '    hot  "Chaud" when >= 60',
        '    budget    "Budget"     when budget >= 5_000 EUR',
        '    mql         "Lead qualifié marketing (MQL)"  when (fit >= 40 and engagement >= 25) or '
        'demo_request within 7 days',
        '                entered at mql_at',
        'route smb        "Équipe PME"            otherwise',
        '    revenue target 2_400_000 EUR per year',
        'grade monetary  "Montant"   by sum(purchase.amount within 365 days) quintiles',
    ]:
        assert line in formatted.split("\n"), line


def test_messy_layout_is_cleaned_up() -> None:
    formatted = golden_of(GOLDEN / "messy.leadrules").read_text(encoding="utf-8")
    lines = formatted.split("\n")
    assert all(line == line.rstrip() for line in lines)
    assert all("\t" not in line for line in lines)
    # Continuation lines, `entered at` and prose keep their own alignment.
    statements = [line for before, line in zip([""] + lines, lines, strict=False)
                  if line.strip() and not line.lstrip().startswith("entered at")
                  and not before.endswith((" or", " and")) and "Indented line." not in line]
    assert all((len(line) - len(line.lstrip(" "))) % 4 == 0 for line in statements)
    assert "\n\n\n" not in formatted
    assert formatted.endswith("}\n# end of file\n")


def test_long_lines_wrap_where_the_language_allows() -> None:
    formatted = golden_of(GOLDEN / "long.leadrules").read_text(encoding="utf-8")
    assert max(len(line) for line in formatted.split("\n")) <= 120
    assert "    +40 when demo_request within 7 days or\n" in formatted
    assert ('             (webinar_attended within 14 days and\n'
            '              pricing_page_visit within 14 days and\n') in formatted
    assert '              count(whitepaper_download within 90 days) >= 2)  "Demande' in formatted


# ----------------------------------------------------------------------------- small cases


def test_numbers_strings_and_percentages() -> None:
    from decimal import Decimal as D

    assert number(D("1000")) == "1000"
    assert number(D("10000")) == "10_000"
    assert number(D("1000"), money=True) == "1_000"
    assert number(D("-2400000.50"), money=True) == "-2_400_000.50"
    assert number(D("12.50")) == "12.50"
    assert percent(D("0.4")) == "40%"
    assert percent(D("0.025")) == "2.5%"
    assert quote('a "b" \\ c\nd\te') == '"a \\"b\\" \\ c\\nd\\te"'
    # A backslash is doubled only where it would start an escape: patterns keep their spelling.
    assert quote("\\d+\\.\\w") == '"\\d+\\.\\w"'
    assert quote("ends with \\") == '"ends with \\\\"'
    assert quote('\\"') == '"\\\\\\""'


def test_empty_and_comment_only_files() -> None:
    assert format_source("") == ""
    assert format_source("\n\n  \n") == ""
    assert format_source("\n# only\n\n\n#  a comment   \n\n") == "# only\n\n#  a comment\n"


def test_windows_line_ends_become_unix_ones() -> None:
    text = 'event a "A"\r\nevent bb "B"   # two\r\n'
    assert format_source(text) == 'event a  "A"\nevent bb "B"  # two\n'


def test_blank_lines_inside_blocks_are_kept_once() -> None:
    text = "segment s {\n\n\n  a\n\n\n\n  b\n  c\n\n\n}\n"
    assert format_source(text) == "segment s {\n    a\n\n    b\n    c\n}\n"


def test_top_level_items_get_one_blank_line_between_them() -> None:
    text = 'segment s { a }\nsegment t { b }\nevent a\nevent b\n\n\n\nevent c\nroute r otherwise\n'
    assert format_source(text) == (
        "segment s {\n    a\n}\n\nsegment t {\n    b\n}\n\nevent a\nevent b\n\nevent c\n\n"
        "route r otherwise\n")


def test_minimal_brackets_but_and_inside_or_is_bracketed() -> None:
    text = "segment s {\n  ((a and b)) or (c or d)\n  a and (b and c)\n  not (a) and not (a or b)\n}\n"
    assert format_source(text) == (
        "segment s {\n    (a and b) or (c or d)\n    a and (b and c)\n    not a and not (a or b)\n}\n")
    assert format_source("score t = ((a + b)) - (c - d) * -(e) / (f * g)\n") == \
        "score t = a + b - (c - d) * -e / (f * g)\n"


def test_syntax_errors_stop_formatting_with_diagnostics() -> None:
    with pytest.raises(FormatError) as caught:
        format_source("lead {\n  id text\n\nscore s {\n  +1 wen a\n}\n", "broken.leadrules")
    diagnostics = caught.value.diagnostics
    assert diagnostics and all(d.span.file == "broken.leadrules" for d in diagnostics)
    assert {d.code for d in diagnostics} <= {"LR001", "LR002"}


# ----------------------------------------------------------------------------- properties


def _chunks() -> list[str]:
    found = []
    for case in CASES:
        for _, chunk in syntax.chunks(case.read_text(encoding="utf-8")):
            found.append(chunk.strip("\n"))
    return found


CHUNKS = _chunks()
COMMENT_TEXT = st.text(alphabet=st.sampled_from('ab é#"{}()\\-*'), max_size=12).map(
    lambda t: ("# " + t).rstrip())


@st.composite
def rule_files(draw) -> str:
    """Statements picked from the goldens, re-indented at random, with comments and blank
    lines thrown in at the ends of lines and on lines of their own."""
    picked = draw(st.lists(st.sampled_from(CHUNKS), min_size=1, max_size=5))
    out: list[str] = []
    for chunk in picked:
        lines: list[str] = []
        for line in chunk.split("\n"):
            # Sometimes a block's first statement or closing brace shares a line with it.
            joinable = lines and "#" not in lines[-1] and '"""' not in lines[-1] + line and (
                (lines[-1].endswith("{") and not line.strip().startswith("#"))
                or line.strip() == "}")
            if joinable and draw(st.booleans()):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line)
        in_prose = False
        for line in lines:
            if in_prose or '"""' in line:
                # Inside a triple-quoted text a `#` is text, and a `"""` would end it.
                in_prose = in_prose != (line.count('"""') % 2 == 1)
                out.append(line)
                continue
            if draw(st.integers(0, 9)) == 0:
                out.append("")
            if draw(st.integers(0, 5)) == 0:
                out.append(" " * draw(st.integers(0, 6)) + draw(COMMENT_TEXT))
            # At least one space: a top-level word at the start of a line opens a new item.
            indent = " " * draw(st.integers(1, 6)) if line.startswith(" ") else ""
            trailing = "  " + draw(COMMENT_TEXT) if draw(st.integers(0, 3)) == 0 else ""
            out.append(indent + line.strip() + trailing if line.strip() else line)
    return "\n".join(out) + "\n"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_files())
def test_fmt_is_idempotent_keeps_meaning_and_every_comment(text: str) -> None:
    module, diagnostics = syntax.parse(text, "<generated>")
    assert diagnostics == []
    formatted = format_source(text)
    assert items(formatted) == module.items
    assert comment_texts(formatted) == comment_texts(text)
    assert format_source(formatted) == formatted


NAMES = st.sampled_from(["a", "fit", "industry", "company_size", "demo_request"])
ATOMS = st.one_of(
    NAMES,
    st.builds("{} >= {}".format, NAMES, st.integers(-20_000, 20_000)),
    st.builds("{} in {{saas, finance}}".format, NAMES),
    st.builds("{} within {} days".format, NAMES, st.integers(1, 90)),
    st.builds('{} contains "{}"'.format, NAMES, st.sampled_from(["x", "dir", "é"])),
    st.builds("{} is missing".format, NAMES),
)
CONDITIONS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.builds("({} and {})".format, inner, inner),
        st.builds("({} or {})".format, inner, inner),
        st.builds("not {}".format, inner),
        st.builds("(({}))".format, inner),
    ),
    max_leaves=14,
)


@settings(max_examples=150, deadline=None)
@given(CONDITIONS, st.booleans())
def test_conditions_keep_their_meaning_with_fewer_brackets(condition: str, in_rule: bool) -> None:
    text = (f'score s {{\n    +1 when {condition}  "label"\n}}\n' if in_rule
            else f"segment s {{\n    {condition}\n}}\n")
    formatted = format_source(text)
    assert items(formatted) == items(text)
    assert format_source(formatted) == formatted


EXPRESSIONS = st.recursive(
    st.one_of(NAMES, st.sampled_from(["0.6", "2", "10000"])),
    lambda inner: st.one_of(
        st.builds("({} {} {})".format, inner, st.sampled_from("+-*/"), inner),
        st.builds("-{}".format, inner),
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(EXPRESSIONS)
def test_derived_scores_keep_their_meaning(expression: str) -> None:
    text = f"score total = {expression}\n"
    formatted = format_source(text)
    assert items(formatted) == items(text)
    assert format_source(formatted) == formatted


@settings(max_examples=150, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=30))
def test_any_text_in_a_label_survives(label: str) -> None:
    text = f"event visit {quote(label)}\nroute r {quote(label)} otherwise\n"
    formatted = format_source(text)
    assert items(formatted) == items(text)
    assert format_source(formatted) == formatted


# ----------------------------------------------------------------------------- the command


MESSY = "segment s{\n  a\n}\n"
CLEAN = "segment s {\n    a\n}\n"


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["fmt", *args], input=stdin)


def test_cli_rewrites_only_files_that_change(tmp_path: Path) -> None:
    messy = tmp_path / "messy.leadrules"
    clean = tmp_path / "sub" / "clean.leadrules"
    clean.parent.mkdir()
    messy.write_text(MESSY, encoding="utf-8")
    clean.write_text(CLEAN, encoding="utf-8")
    messy.chmod(0o640)
    os.utime(clean, (1_000_000, 1_000_000))
    result = run(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert messy.read_text(encoding="utf-8") == CLEAN
    assert stat.S_IMODE(messy.stat().st_mode) == 0o640
    assert clean.stat().st_mtime == 1_000_000
    assert "1 file reformatted, 1 file already formatted." in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["clean.leadrules", "messy.leadrules",
                                                          "sub"]


def test_cli_check_exits_1_and_names_the_files(tmp_path: Path) -> None:
    messy = tmp_path / "messy.leadrules"
    messy.write_text(MESSY, encoding="utf-8")
    (tmp_path / "clean.leadrules").write_text(CLEAN, encoding="utf-8")
    result = run("--check", str(tmp_path))
    assert result.exit_code == 1
    assert f"{messy}: not formatted (run `leadrules fmt {messy}`)." in result.output
    assert "clean.leadrules" not in result.output.replace("1 file already formatted", "")
    assert messy.read_text(encoding="utf-8") == MESSY
    assert run("--check", str(tmp_path / "clean.leadrules")).exit_code == 0


def test_cli_diff_prints_a_unified_diff_and_changes_nothing(tmp_path: Path) -> None:
    messy = tmp_path / "messy.leadrules"
    messy.write_text(MESSY, encoding="utf-8")
    result = run("--diff", str(messy))
    assert result.exit_code == 0
    assert f"--- {messy} (as written)\n+++ {messy} (formatted)\n" in result.output
    assert "-segment s{\n-  a\n+segment s {\n+    a\n" in result.output
    assert messy.read_text(encoding="utf-8") == MESSY
    assert run("--diff", "--check", str(messy)).exit_code == 1


def test_cli_reads_stdin_and_writes_stdout() -> None:
    result = run("-", stdin=MESSY)
    assert result.exit_code == 0
    assert result.stdout == CLEAN
    assert run("--check", "-", stdin=MESSY).exit_code == 1
    assert run("--check", "-", stdin=CLEAN).exit_code == 0
    diff = run("--diff", "-", stdin=MESSY)
    assert diff.exit_code == 0 and "+++ <stdin> (formatted)" in diff.stdout


def test_cli_reports_syntax_errors_and_goes_on(tmp_path: Path) -> None:
    broken = tmp_path / "a.leadrules"
    broken.write_text("lead {\n  id text\n", encoding="utf-8")
    messy = tmp_path / "b.leadrules"
    messy.write_text(MESSY, encoding="utf-8")
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert f"{broken}:2:" in result.output and "error[LR001]" in result.output
    assert "Traceback" not in result.output
    assert broken.read_text(encoding="utf-8") == "lead {\n  id text\n"
    assert messy.read_text(encoding="utf-8") == CLEAN
    stdin = run("-", stdin="score s {\n")
    assert stdin.exit_code == 1 and "<stdin>:1:" in stdin.output


def test_cli_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "latin.leadrules"
    latin.write_bytes('event visite "Visite coûteuse"\n'.encode("latin-1"))
    result = run(str(latin))
    assert result.exit_code == 1
    assert "is not UTF-8 text" in result.output


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run().exit_code == 2
    missing = run(str(tmp_path / "nowhere.leadrules"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    assert run(str(tmp_path)).exit_code == 2           # a folder without rule files
    (tmp_path / "a.leadrules").write_text(CLEAN, encoding="utf-8")
    assert run("-", str(tmp_path / "a.leadrules")).exit_code == 2


@pytest.mark.skipif(not any(RULES.rglob("*.leadrules")), reason="no rules/*.leadrules yet")
def test_example_rules_are_formatted() -> None:
    result = run("--check", str(RULES))
    assert result.exit_code == 0, result.output


def test_a_layout_that_would_change_the_meaning_is_never_written(tmp_path: Path,
                                                                 monkeypatch) -> None:
    from leadrules import fmt

    monkeypatch.setattr(fmt.Printer, "module", lambda self: "segment s {\n    b\n}\n")
    path = tmp_path / "a.leadrules"
    path.write_text(MESSY, encoding="utf-8")
    with pytest.raises(FormatError):
        format_source(MESSY)
    result = run(str(path))
    assert result.exit_code == 1
    assert "would not have meant exactly the same" in result.output
    assert path.read_text(encoding="utf-8") == MESSY
