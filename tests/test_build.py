"""The builder turns source text into the values a reader expects."""

from leadrules import ast
from leadrules.build import unquote
from leadrules.syntax import parse_condition


def test_escapes_are_only_quote_backslash_newline_and_tab() -> None:
    assert unquote(r'"a \"b\" \\ c"') == 'a "b" \\ c'
    assert unquote(r'"line\nnext\tcell"') == "line\nnext\tcell"


def test_other_backslashes_stay_as_written_so_patterns_keep_their_meaning() -> None:
    cond = parse_condition(r'job_title matches "^\d+\s*(ans|years)$"')
    assert isinstance(cond, ast.TextTest)
    assert cond.operand.value == r"^\d+\s*(ans|years)$"


def test_prose_is_dedented_and_keeps_paragraphs() -> None:
    text = '"""\n        First line,\n        second line.\n\n        New paragraph.\n    """'
    assert unquote(text) == "First line,\nsecond line.\n\nNew paragraph."
