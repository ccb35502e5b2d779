"""Syntax errors in words: every curated message, the token and character rules, several errors
per file, and the guards against pathological input. Lark's vocabulary never reaches a user."""

from __future__ import annotations

import re

import pytest

from leadrules import syntax

CURATED_EXAMPLES = [
    (message, hint, example)
    for message, hint, examples in syntax.CURATED
    for example in examples
]

# What lark calls things; none of it may reach a message or a hint.
LARK_WORDS = re.compile(
    r"\$END|__ANON|_NL\b|\b(RBRACE|LBRACE|RPAR|LPAR|COMPARE|SIGNED|PERCENT|DATETIME|NAME|STRING|"
    r"NUMBER|MULOP|ADDOP|COLON|COMMA|DOT|Token|Tree)\b")


def errors(text: str):
    _, diagnostics = syntax.parse(text, "f.leadrules")
    return diagnostics


def only(text: str):
    found = errors(text)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


@pytest.mark.parametrize(("message", "hint", "example"), CURATED_EXAMPLES,
                         ids=[e[:30] for _, _, e in CURATED_EXAMPLES])
def test_every_curated_example_gets_its_message(message, hint, example) -> None:
    for text in (example, example + "\n"):
        d = only(text)
        assert (d.code, d.message, d.hint) == ("LR001", message, hint)


@pytest.mark.parametrize(("text", "message", "hint"), [
    ("segment s {\n    a = 1\n}\n", "a single '=' cannot compare two values",
     "to compare, write '=='"),
    ("segment s {\n    a == 1\n", "the file ends before a block is closed",
     "add the missing '}' that closes the block"),
    ("segment s {\n    (a == 1\n}\n", "a '(' is not closed before the end of the block",
     "add the missing ')'"),
    ("segment s {\n    a == 1 AND b == 2\n}\n", "'AND' must be written in lower case",
     "write 'and'"),
    ("segment s {\n    a == 1 and\n}\n", "the condition stops after 'and'",
     "finish the condition after 'and', or remove 'and'"),
    ("segment s {\n    not\n}\n", "the condition stops after 'not'",
     "finish the condition after 'not', or remove 'not'"),
    ("score s {\n    +10 when budget >= 10,000 EUR\n}\n", "numbers are written without a comma",
     "write thousands with '_' or nothing (10_000), and decimals with a point (0.6)"),
    ("score s {\n    +1e40 when t > 1\n}\n", "'+1e40' is not a number the rules can read",
     "write the number with all its digits, thousands separated by '_' (10_000)"),
    ("score s {\n    +10 when budget >= 10 000 EUR\n}\n", "numbers are written without spaces",
     "write thousands with '_' or nothing: 10_000"),
    ('grade g by s {\n    top "Top" when >= 10  low "Low" otherwise\n}\n',
     "a new statement starts at 'low' on the same line",
     "one statement per line: start a new line before 'low'"),
    ("score t = 0,6 * fit\n", "numbers are written without a comma",
     "write thousands with '_' or nothing (10_000), and decimals with a point (0.6)"),
    ("segment s {\n    d >= 01/02/2027\n}\n", "dates are written year first, with dashes",
     "write 2027-01-31"),
    ("segment s {\n    a == == 1\n}\n", "two comparisons follow each other",
     "keep one, followed by the value"),
    ("segment s {\n    demo within 7\n}\n", "a duration needs a unit",
     "write it as `30 days`, `4 hours`, `6 months`…"),
    ("segment s {\n    demo within 7 jours\n}\n", "'jours' is not a unit of time",
     "write minutes, hours, days, weeks, months or years"),
    ("segment s\n    a == 1\n}\n", "the block must open with '{' at the end of this line",
     "add '{' at the end of the line"),
    ("segment s {\n    a == 1\n}\n}\n", "there is one '}' too many",
     "remove it, or check the block above"),
    ('lead {\n    "email" text\n}\n', 'expected a name, but found the text "email"',
     "names are written without quotes, in lower case with underscores"),
    ("hello world\n", "the name 'hello' does not start a definition",
     "each definition starts with a word such as segment, score, grade, stages, route or sla"),
])
def test_token_messages(text: str, message: str, hint: str) -> None:
    d = only(text)
    assert (d.message, d.hint) == (message, hint)


@pytest.mark.parametrize(("text", "message"), [
    ("segment s {\n    country == 'FR'\n}\n",
     "texts are written between straight double quotes, not apostrophes"),
    ("segment s {\n    country == «FR»\n}\n", "the character « cannot start a text"),
    ('segment s {\n    country == "FR\n}\n', "this text has no closing double quote"),
    ("segment s {\n    a == 1 && b == 2\n}\n", "'&' cannot join conditions"),
    ("segment s {\n    a == 1 || b == 2\n}\n", "'|' cannot join conditions"),
    ("segment s {\n    a == 1;\n}\n", "a statement ends at the end of its line, without ';'"),
    ("segment s {\n    budget >= 100€\n}\n",
     "amounts are written with a currency code, not the sign '€'"),
    ("segment s {\n    a == 1 ^ 2\n}\n", "the character '^' cannot be used here"),
    ("segment s {\n    a == \x01\n}\n", "the character 'U+0001' cannot be used here"),
])
def test_character_messages(text: str, message: str) -> None:
    d = only(text)
    assert (d.code, d.message) == ("LR002", message)


def test_positions_are_those_of_the_file() -> None:
    text = "lead {\n    n int\n}\n\nsegment s {\n    n = 1\n}\n"
    d = only(text)
    assert (d.span.line, d.span.col, d.span.end_col) == (6, 7, 8)


def test_several_errors_in_one_block_and_in_several_blocks() -> None:
    text = ("segment s {\n    a = 1\n    b == 2\n    c == == 3\n    d == 4\n}\n"
            "segment t {\n    x y\n}\n")
    found = [(d.span.line, d.message) for d in errors(text)]
    assert [line for line, _ in found] == [2, 4, 8]


def test_recovery_does_not_invent_errors_from_unbalanced_lines() -> None:
    # The faulty line opens a group: blanking it would unbalance the braces, so only the
    # first error is reported for this block.
    text = "score s {\n    group g max 30 { +5 per web x\n    }\n}\n"
    assert len(errors(text)) == 1


def test_good_chunks_are_kept_beside_broken_ones() -> None:
    module, found = syntax.parse("segment a {\n    x = 1\n}\nsegment b {\n    x == 1\n}\n", "f")
    # `a` comes back without its faulty line, so that the checker reads the rest of it.
    assert [item.name for item in module.items] == ["a", "b"]
    assert module.items[0].conditions == ()
    assert len(found) == 1


def test_the_right_lines_of_a_broken_block_are_checked_in_the_same_run(tmp_path) -> None:
    """A first draft with a syntax error in a block gets the names and types of the block's
    other lines checked at once, without echoes of the faulty line (no range, no `otherwise`
    or empty-score complaints about what the faulty line may have held)."""
    from leadrules.check import check

    path = tmp_path / "draft.leadrules"
    path.write_text(
        'lead {\n    id text key\n    size int\n    sector enum(auto, aero)\n}\n\n'
        'segment target "Target" {\n    size ≥ 50\n    sector in {auto, agro}\n'
        '    country == "FR"\n}\n\n'
        'score fit "Fit" max 100 {\n    +30 when target "Target"\n'
        '    +12,5 when size > 10 "Size"\n    +10 when size > "100" "Text"\n}\n\n'
        'grade band "Band" by fit {\n    A when >= 40\n    B otherwise\n}\n'
        'score other "Other" {\n    +5 when size > 1 0 "Broken"\n}\n', encoding="utf-8")
    found = [(d.span.line, d.code) for d in check(path).diagnostics]
    assert found == [(8, "LR002"), (9, "LR203"), (10, "LR101"), (15, "LR001"), (16, "LR201"),
                     (24, "LR001")]


@pytest.mark.parametrize("text", [
    "segment s {\n    a == 1 b == 2\n}\n", "score s {\n    +10 icp\n}\n", "lead {\n  email\n}\n",
    "grade g by fit {\n    A when >= 5\n    B\n}\n", "segment s {\n    a between 1 to 5\n}\n",
    "sla marketing {\n    marketing share 40\n}\n", "stages {\n    mql \"MQL\"\n}\n",
    "test \"t\" {\n    as of 2027-13-45\n}\n", "agreement {\n}\n", "calendar c {\n    hours\n}\n",
    "event e {\n    amount\n}\n", "segment s {\n    count(x within) >= 1\n}\n",
    "score s = (fit +\n", "route r when\n", "channels by {\n}\n", "include\n", "{\n",
    "segment s {\n    \"\"\"unclosed\n}\n",
])
def test_no_lark_word_reaches_the_user(text: str) -> None:
    found = errors(text)
    assert found
    for d in found:
        assert not LARK_WORDS.search(d.message), d.message
        assert not LARK_WORDS.search(d.hint or ""), d.hint


def test_line_too_long() -> None:
    text = "segment s {\n    x == \"" + "a" * (syntax.MAX_LINE + 10) + "\"\n}\n"
    d = only(text)
    assert (d.code, d.span.line) == ("LR008", 2)
    assert "50 000" in d.message


def test_brackets_nested_too_deep() -> None:
    depth = syntax.MAX_NESTING + 1
    d = only("segment s {\n    " + "(" * depth + "a" + ")" * depth + "\n}\n")
    assert (d.code, d.span.line) == ("LR003", 2)


def test_thousands_of_nots_end_in_a_diagnostic() -> None:
    d = only("segment s {\n    " + "not " * 5000 + "a\n}\n")
    assert d.code == "LR003"


def test_parse_condition() -> None:
    cond = syntax.parse_condition("fit >= 40 and industry in {saas, finance}")
    assert type(cond).__name__ == "And"
    with pytest.raises(ValueError, match="a single '=' cannot compare two values"):
        syntax.parse_condition("fit = 40")


def test_parser_cache_lives_in_the_user_cache_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LEADRULES_NO_CACHE", raising=False)
    path = syntax._cache_file("grammar text")
    assert path is not None and path.parent == tmp_path / "leadrules"
    assert path != syntax._cache_file("another grammar")
    monkeypatch.setenv("LEADRULES_NO_CACHE", "1")
    assert syntax._cache_file("grammar text") is None


def test_a_comparison_without_its_value_is_not_mistaken_for_a_missing_brace(tmp_path) -> None:
    from leadrules.check import check

    rules = tmp_path / "r.leadrules"
    rules.write_text("lead {\n    n int\n}\nscore s {\n    +1 per 1 of n\n}\n"
                     "grade g by s {\n    A when >=\n    B otherwise\n}\n", encoding="utf-8")
    (d,) = check(rules).diagnostics
    assert (d.code, d.span.line, d.message) == ("LR001", 8, "this line stops before its value")
