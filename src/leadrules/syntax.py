"""Source text -> ast.Module plus syntax diagnostics. Lark and its vocabulary stop here.

A file is cut into top-level chunks (a line starting at column 0 with a top-level keyword opens
one) and each chunk is parsed on its own, so one mistake does not hide the problems of the rest
of the file: every broken chunk gets its own diagnostic.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path

from leadrules import ast
from leadrules.diagnostics import Diagnostic, error

TOP_LEVEL = (
    "agreement", "calendar", "include", "lead", "event", "list", "segment", "score", "grade",
    "qualification", "stages", "disqualify", "route", "sla", "channels", "test",
)
_CHUNK_START = re.compile(r"(?:{})\b".format("|".join(TOP_LEVEL)))

# Deeper nesting than this is certainly a mistake, and would exhaust Python's stack.
MAX_NESTING = 64

# What the user reads instead of a terminal's name.
_WORDS = {
    "NAME": "a name",
    "STRING": 'a text in double quotes ("…")',
    "NUMBER": "a number",
    "SIGNED": "points such as +10 or -5",
    "PERCENT": "a percentage such as 40%",
    "DATE": "a date such as 2027-01-01",
    "DATETIME": "a date and time such as 2027-01-01T09:30",
    "TIME": "a time such as 09:00",
    "COMPARE": "a comparison (==, !=, >=, <=, >, <)",
    "ADDOP": "'+' or '-'",
    "MULOP": "'*' or '/'",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "BUSINESS": "'business'",
    "MAX": "'max'",
    "MIN": "'min'",
}


def grammar_text() -> str:
    """The grammar shipped inside the package (or, from a source checkout, grammar/)."""
    packaged = resources.files("leadrules") / "grammar" / "leadrules.lark"
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "grammar" / "leadrules.lark"
    return source.read_text(encoding="utf-8")


@cache
def parser():
    from lark import Lark

    return Lark(
        grammar_text(), parser="lalr", lexer="contextual", start=["start", "cond"],
        propagate_positions=True, maybe_placeholders=False,
    )


def parse(text: str, path: str) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file's text. Items of the chunks that parse are kept even when others fail."""
    from lark.exceptions import LarkError

    from leadrules.build import build

    items: list[ast.Item] = []
    diagnostics: list[Diagnostic] = []
    for first_line, chunk in chunks(text):
        too_deep = _too_deep(chunk)
        if too_deep:
            line, col = too_deep
            span = ast.Span(path, first_line + line, col, first_line + line, col + 1)
            diagnostics.append(error(
                "LR003", f"brackets are nested more than {MAX_NESTING} levels deep", span,
                "split the condition into segments or qualifications and refer to them by name"))
            continue
        try:
            tree = parser().parse(chunk, start="start")
        except LarkError as exc:
            diagnostics.append(_describe(exc, chunk, path, first_line))
            continue
        items.extend(build(tree, path, first_line))
    return ast.Module(path, tuple(items), tuple(comments(text))), diagnostics


def parse_condition(text: str, path: str = "<condition>") -> ast.Cond:
    """One condition on its own (used by tools and tests); raises ValueError when it is wrong."""
    from lark.exceptions import LarkError

    from leadrules.build import build

    try:
        tree = parser().parse(text, start="cond")
    except LarkError as exc:
        raise ValueError(_describe(exc, text, path, 0).message) from None
    return build(tree, path)


def chunks(text: str) -> list[tuple[int, str]]:
    """(line offset, text) of each top-level chunk; offsets keep line numbers right."""
    lines = text.split("\n")
    starts = [0]
    in_prose = False
    for number, line in enumerate(lines):
        if not in_prose and number and _CHUNK_START.match(line):
            starts.append(number)
        if line.count('"""') % 2:
            in_prose = not in_prose
    starts.append(len(lines))
    return [
        (begin, "\n".join(lines[begin:end]))
        for begin, end in zip(starts, starts[1:], strict=False)
        if any(line.strip() for line in lines[begin:end])
    ]


def comments(text: str) -> list[ast.Comment]:
    """Every `#` comment outside strings, with its place and whether it has its own line."""
    found: list[ast.Comment] = []
    line, line_start, i, n = 1, 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, line_start = line + 1, i + 1
        elif text.startswith('"""', i):
            end = text.find('"""', i + 3)
            end = n if end < 0 else end + 3
            line += text.count("\n", i, end)
            last_newline = text.rfind("\n", i, end)
            if last_newline >= 0:
                line_start = last_newline + 1
            i = end
            continue
        elif ch == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            if i < n and text[i] == "\n":
                continue
        elif ch == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            own_line = not text[line_start:i].strip()
            found.append(ast.Comment(text[i:end].rstrip(), line, i - line_start + 1, own_line))
            i = end
            continue
        i += 1
    return found


def _too_deep(chunk: str) -> tuple[int, int] | None:
    if chunk.count("(") + chunk.count("{") < MAX_NESTING:
        return None
    depth, line, col = 0, 0, 0
    for ch in chunk:
        col += 1
        if ch in "({":
            depth += 1
            if depth > MAX_NESTING:
                return line, col
        elif ch in ")}":
            depth -= 1
        elif ch == "\n":
            line, col = line + 1, 0
    return None


def _describe(exc, chunk: str, path: str, offset: int) -> Diagnostic:
    """A Lark error in the words of a marketing-ops reader."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    line = getattr(exc, "line", 1) or 1
    col = getattr(exc, "column", 1) or 1
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        # Lark places the end of input at line 1; point at the last character instead.
        stripped = chunk.rstrip()
        line = stripped.count("\n") + 1
        col = len(stripped) - stripped.rfind("\n")
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    width = 1
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        width = max(1, len(str(token).split("\n")[0]))
        found = _describe_token(token)
        message, hint = _explain_token(token, expected, found)
    elif isinstance(exc, UnexpectedCharacters):
        char = chunk[exc.pos_in_stream] if exc.pos_in_stream < len(chunk) else ""
        message, hint = _explain_char(char, chunk, exc.pos_in_stream, expected)
    elif isinstance(exc, UnexpectedEOF):
        message, hint = "the file ends in the middle of a statement", _expected_hint(expected)
    else:
        message, hint = "this line cannot be read", None
    span = ast.Span(path, line + offset, col, line + offset, col + width)
    code = "LR002" if isinstance(exc, UnexpectedCharacters) else "LR001"
    return error(code, message, span, hint)


def _describe_token(token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "_NL":
        return "the end of the line"
    text = str(token).split("\n")[0]
    if len(text) > 40:
        text = text[:37] + "…"
    if token.type == "NAME":
        return f"the name '{text}'"
    if token.type == "STRING":
        return f"the text {text}"
    if token.type in ("NUMBER", "SIGNED", "PERCENT", "DATE", "DATETIME", "TIME"):
        return f"'{text}'"
    return f"'{text}'"


def _explain_token(token, expected: list[str], found: str) -> tuple[str, str | None]:
    if token.type == "$END" and "RBRACE" in expected:
        return ("the file ends before a block is closed",
                "add the missing '}' that closes the block")
    if token.type == "$END" and "RPAR" in expected:
        return ("the file ends before a bracket is closed", "add the missing ')'")
    if str(token) == "=" and "COMPARE" in expected:
        return ("a single '=' cannot compare two values", "to compare, write '=='")
    if token.type != "NAME" and "NAME" in expected and re.fullmatch(r"[a-z_]+", str(token)):
        return (f"'{token}' is a word of the language and cannot be used as a name here",
                f"choose another name, for example '{token}_1'")
    if token.type == "NAME" and re.fullmatch(r"[A-Z]{3}", str(token)) is None and (
            "SIGNED" in expected or "NUMBER" in expected) and len(expected) <= 3:
        return (f"expected {_alternatives(expected)} but found {found}", None)
    if token.type == "_NL" and "STRING" in expected and "COMMA" in expected:
        return ("this line stops too early", _expected_hint(expected))
    return f"unexpected {found}", _expected_hint(expected)


def _explain_char(char: str, chunk: str, pos: int, expected: list[str]) -> tuple[str, str | None]:
    if char == '"':
        return ("this text has no closing double quote",
                'close it on the same line, or use """…""" for text over several lines')
    if char in "'’‘":
        return ("texts are written between straight double quotes, not apostrophes",
                'write "…" around the text')
    if char in "«»“”":
        return (f"the character {char} cannot start a text",
                'write straight double quotes "…" around the text')
    if char == "\t" or not char.strip():
        return "unexpected blank character", None
    if char in "=!" and chunk[pos:pos + 2] not in ("==", "!="):
        return (f"'{char}' cannot be used here", "to compare, write '==' or '!='")
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    return f"the character '{shown}' cannot be used here", _expected_hint(expected)


def _expected_hint(expected: list[str]) -> str | None:
    if not expected:
        return None
    return f"expected {_alternatives(expected)}"


def _alternatives(expected: list[str]) -> str:
    words = sorted({_word(name) for name in expected})
    if len(words) > 8:
        words = words[:8] + ["…"]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _word(terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    pattern = _terminal_pattern(terminal)
    return f"'{pattern}'" if pattern else terminal.lower()


@cache
def _terminal_pattern(name: str) -> str | None:
    from lark.lexer import PatternStr

    for terminal in parser().terminals:
        if terminal.name == name and isinstance(terminal.pattern, PatternStr):
            return terminal.pattern.value
    return None
