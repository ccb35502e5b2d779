"""Source text -> ast.Module plus syntax diagnostics. Lark and its vocabulary stop here.

A file is cut into top-level chunks (a line starting at column 0 with a top-level keyword opens
one) and each chunk is parsed on its own, so one mistake does not hide the problems of the rest
of the file: every broken chunk gets its own diagnostic.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from functools import cache
from importlib import resources
from pathlib import Path

from leadrules import ast
from leadrules import cache as user_cache
from leadrules.diagnostics import Diagnostic, error

TOP_LEVEL = (
    "agreement", "calendar", "include", "lead", "event", "list", "segment", "score", "grade",
    "qualification", "stages", "disqualify", "route", "sla", "channels", "test",
)
_CHUNK_START = re.compile(r"(?:{})\b".format("|".join(TOP_LEVEL)))

# Deeper nesting than this is certainly a mistake, and would exhaust Python's stack.
MAX_NESTING = 64
# Longer lines are not rules but pasted data (a whole export, a binary file); reading one would
# take seconds for nothing.
MAX_LINE = 50_000
# After this many syntax errors in one block, the rest of it is likely noise.
MAX_ERRORS_PER_BLOCK = 10

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
    """The LALR parser, built once per process and kept in a cache file between processes
    (building it from the grammar costs more than checking a large rule file)."""
    from lark import Lark

    options = dict(parser="lalr", lexer="contextual", start=["start", "cond"],
                   propagate_positions=True, maybe_placeholders=False)
    text = grammar_text()
    cache_file = _cache_file(text)
    if cache_file is None:
        return Lark(text, **options)
    if cache_file.exists():
        return Lark(text, cache=str(cache_file), **options)
    # Written beside its final name, then renamed: a process starting at the same moment never
    # reads half a cache file.
    temporary = user_cache.temporary_name(cache_file)
    built = Lark(text, cache=str(temporary), **options)
    try:
        os.replace(temporary, cache_file)
    except OSError:
        temporary.unlink(missing_ok=True)
    return built


_EMBEDDING = threading.Lock()


@cache
def _building():
    """The parser, made to build ast nodes while it parses (build.embed), or None."""
    from leadrules.build import embed

    # Once per parser, even when two threads start parsing at the same moment.
    with _EMBEDDING:
        return embed(parser())


def _items(text: str, path: str, offset: int = 0, start: str = "start"):
    """The ast of `text` (items for `start`, a condition for `cond`); raises LarkError."""
    building = _building()
    if building is not None:
        return building.parse(text, path, offset, start)
    from leadrules.build import build

    return build(parser().parse(text, start=start), path, offset)


def _cache_file(grammar: str) -> Path | None:
    """Where the built parser is kept: the user's cache folder, never a shared temp folder
    (the cache is a pickle, and a pickle from someone else is code from someone else)."""
    import hashlib
    import sys

    from lark import __version__ as lark_version

    folder = user_cache.folder()
    if folder is None:
        return None
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return folder / f"parser-{digest}-lark{lark_version}-py{sys.version_info[0]}{sys.version_info[1]}"


def parse(text: str, path: str) -> tuple[ast.Module, list[Diagnostic]]:
    """Parse one file's text. Items of the chunks that parse are kept even when others fail."""
    from lark.exceptions import LarkError

    items: list[ast.Item] = []
    diagnostics: list[Diagnostic] = []
    for first_line, chunk in chunks(text):
        too_long = _too_long(chunk)
        if too_long:
            line, length = too_long
            span = ast.Span(path, first_line + line, 1, first_line + line, 2)
            diagnostics.append(error(
                "LR008", f"this line is {length:,} characters long; a line holds at most "
                f"{MAX_LINE:,}".replace(",", " "), span,
                "break it over several lines (lists and sets can go on after each comma)"))
            continue
        too_deep = _too_deep(chunk)
        if too_deep:
            line, col = too_deep
            span = ast.Span(path, first_line + line, col, first_line + line, col + 1)
            diagnostics.append(error(
                "LR003", f"brackets are nested more than {MAX_NESTING} levels deep", span,
                "split the condition into segments or qualifications and refer to them by name"))
            continue
        try:
            built = _items(chunk, path, first_line)
        except LarkError as exc:
            found, built = _recover(_describe(exc, chunk, path, first_line), chunk, path,
                                    first_line)
            diagnostics.extend(found)
            items.extend(built)
            continue
        except RecursionError:
            # Only a statement of thousands of `and`/`not` in a row gets here.
            span = ast.Span(path, first_line + 1, 1, first_line + 1, 2)
            diagnostics.append(error(
                "LR003", "this statement is too long or too deeply nested to be read", span,
                "split the condition into segments or qualifications and refer to them by name"))
            continue
        items.extend(built)
    return ast.Module(path, tuple(items), tuple(comments(text))), diagnostics


def _recover(first: Diagnostic, chunk: str, path: str, offset: int
             ) -> tuple[list[Diagnostic], list[ast.Item]]:
    """The first error of a chunk, then the next ones: the faulty line is blanked out and the
    rest parsed again, as long as each new error lies further down (an error that does not is
    most likely an echo of the first). When the chunk parses once its faulty lines are blanked
    out, its items come back too, so that the checker reads the lines that were right (names,
    types) in the same run."""
    from lark.exceptions import LarkError

    found = [first]
    lines = chunk.split("\n")
    line = first.span.line - offset
    for _ in range(MAX_ERRORS_PER_BLOCK - 1):
        index = line - 1
        # The first line opens the block and the last closes it: without them nothing is left.
        if index <= 0 or index >= len(lines) - 1 or not _balanced(lines[index]):
            break
        lines[index] = ""
        retry = "\n".join(lines)
        try:
            built = _items(retry, path, offset)
        except LarkError as exc:
            nxt = _describe(exc, retry, path, offset)
            if nxt.span.line - offset <= line:
                break
            found.append(nxt)
            line = nxt.span.line - offset
            continue
        except RecursionError:
            break
        return found, built
    return found, []


def parse_condition(text: str, path: str = "<condition>") -> ast.Cond:
    """One condition on its own (used by tools and tests); raises ValueError when it is wrong."""
    from lark.exceptions import LarkError

    try:
        return _items(text, path, 0, "cond")
    except LarkError as exc:
        raise ValueError(_describe(exc, text, path, 0).message) from None


def chunks(text: str) -> list[tuple[int, str]]:
    """(line offset, text) of each top-level chunk; offsets keep line numbers right.

    A chunk starts at a line that begins at column 0 with a top-level keyword, or with any word
    once the braces opened before it are closed (so that a misspelt keyword, `scor fit {`, does
    not swallow the block before it)."""
    lines = text.split("\n")
    starts = [0]
    in_prose = False
    depth = 0
    for number, line in enumerate(lines):
        if not in_prose and number and (
                _CHUNK_START.match(line) or (depth <= 0 and line[:1].isalpha())):
            starts.append(number)
            depth = 0
        if line.count('"""') % 2:
            in_prose = not in_prose
        elif not in_prose and ("{" in line or "}" in line):
            code = _BRACES_NOISE.sub("", line)
            depth += code.count("{") - code.count("}")
    starts.append(len(lines))
    return [
        (begin, "\n".join(lines[begin:end]))
        for begin, end in zip(starts, starts[1:], strict=False)
        if any(line.strip() for line in lines[begin:end])
    ]


# Strings and comments, whose braces do not open or close blocks.
_BRACES_NOISE = re.compile(r'"(?:\\.|[^"\\])*"|#.*')


def comments(text: str) -> list[ast.Comment]:
    """Every `#` comment outside strings, with its place and whether it has its own line."""
    found: list[ast.Comment] = []
    line, line_start, i, n = 1, 0, 0, len(text)
    # The regular expressions jump over everything that cannot start a string, a comment or a
    # line: a file of megabytes is scanned in C, not character by character.
    while i < n:
        match = _SCAN.search(text, i)
        if match is None:
            break
        i = match.start()
        ch = text[i]
        if ch == "\n":
            line, line_start = line + 1, i + 1
            i += 1
        elif text.startswith('"""', i):
            end = text.find('"""', i + 3)
            end = n if end < 0 else end + 3
            line += text.count("\n", i, end)
            last_newline = text.rfind("\n", i, end)
            if last_newline >= 0:
                line_start = last_newline + 1
            i = end
        elif ch == '"':
            body_end = _STRING_BODY.match(text, i + 1).end()
            # A string cut by the end of its line ends there; the newline is counted next.
            i = body_end if body_end < n and text[body_end] == "\n" else body_end + 1
        else:
            end = text.find("\n", i)
            end = n if end < 0 else end
            own_line = not text[line_start:i].strip()
            found.append(ast.Comment(text[i:end].rstrip(), line, i - line_start + 1, own_line))
            i = end
    return found


_SCAN = re.compile(r'["#\n]')
_STRING_BODY = re.compile(r'[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*')


def _balanced(line: str) -> bool:
    """A line that opens or closes no block: blanking it out leaves the blocks around intact."""
    text = re.sub(r'"(\\.|[^"\\])*"', "", line).split("#", 1)[0]
    return bool(text.strip()) and text.count("{") == text.count("}") \
        and text.count("(") == text.count(")") and '"""' not in line


def _too_long(chunk: str) -> tuple[int, int] | None:
    """(line in the chunk, 1-based, length) of the first line longer than MAX_LINE."""
    if len(chunk) <= MAX_LINE:
        return None
    for number, line in enumerate(chunk.split("\n"), start=1):
        if len(line) > MAX_LINE:
            return number, len(line)
    return None


def _too_deep(chunk: str) -> tuple[int, int] | None:
    """(line in the chunk, 1-based, column) where brackets go deeper than MAX_NESTING."""
    if chunk.count("(") + chunk.count("{") < MAX_NESTING:
        return None
    depth, line, col = 0, 1, 0
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


# ----------------------------------------------------------------------------- error messages

_EOF_BLOCK = "the file ends before a block is closed"

_UNITS = frozenset({"MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS", "WEEK", "WEEKS",
                    "MONTH", "MONTHS", "YEAR", "YEARS"})
_TOP_LEVEL = frozenset(word.upper() for word in TOP_LEVEL)

# Common mistakes, each with examples that make the parser fail in the same place. An error is
# matched by the parser state and the kind of token found (as lark's `match_examples` does, but
# the examples are parsed once per process, not once per error).
CURATED: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("a point rule needs `when` before its condition",
     "write the points, then `when`, then the condition: `+10 when icp`",
     ("score s {\n    +10 icp\n}", "score s {\n    -5 role == user\n}")),
    ("a point rule starts with its points",
     "write the points first: `+10 when …`",
     ("score s {\n    when icp\n}",)),
    ("an amount of money needs its currency",
     "write the currency code after the amount: `2_400_000 EUR`",
     ("sla marketing {\n    revenue target 2400000 per year\n}",
      "sla marketing {\n    average deal 12000\n}",
      "channels by source {\n    seo cost 2000 per month\n}")),
    ("a field needs a type",
     "write the type after the name: int, number, money, text, bool, date, datetime or "
     "enum(…)",
     ("lead {\n    email\n}", "lead {\n    id text key\n    email\n}")),
    ("a grade row needs `when …` or `otherwise`",
     "write `B when >= 40`, or `D otherwise` for the last row",
     ("grade g by fit {\n    B\n}", "grade g by fit {\n    B \"Label\"\n}")),
    ("`between` takes two values joined by `and`",
     "write `between 50 and 1000`",
     ("segment s {\n    n between 1 to 5\n}", "segment s {\n    n between 1 - 5\n}")),
    ("`is` only tests whether a value is present or missing",
     "to compare, write `==`; to test absence, write `is missing`",
     ("segment s {\n    a is 1\n}", "segment s {\n    a is \"x\"\n}",
      "segment s {\n    a is b\n}")),
    ("a route needs `when …` or `otherwise`",
     'write `route name "Label" when …`, or `otherwise` for the last route',
     ("route r \"Label\"", "route r")),
    ("a stage needs `when` and the condition to reach it",
     'write `mql "Label" when …`',
     ("stages {\n    mql \"MQL\"\n}", "stages {\n    mql fit >= 40\n}")),
    ("a percentage is written with %",
     "write `40%`",
     ("sla marketing {\n    marketing share 40\n}",
      "sla marketing {\n    conversion lead -> mql 20\n}",
      "score s decay 50 every 30 days {\n}")),
)


@cache
def _curated_states() -> dict[tuple[int, str], tuple[str, str | None]]:
    from lark.exceptions import UnexpectedToken

    table: dict[tuple[int, str], tuple[str, str | None]] = {}
    building = _building()
    # The parser's callbacks build into one place: no other parse at the same time.
    with building.lock if building is not None else contextlib.nullcontext():
        for message, hint, examples in CURATED:
            # A block ends a file, or is followed by a blank line: both ways are learnt.
            for example in (*examples, *(e + "\n" for e in examples)):
                try:
                    parser().parse(example, start="start")
                except UnexpectedToken as exc:
                    table.setdefault((exc.state.position, exc.token.type), (message, hint))
    return table


def _describe(exc, chunk: str, path: str, offset: int) -> Diagnostic:
    """A Lark error in the words of a marketing-ops reader."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError

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
        if token.type != "$END":
            width = max(1, len(str(token).split("\n")[0]))
        glued = _glued(exc, token, chunk)
        if glued:
            # The caret goes under the whole word the writer typed, not under its tail.
            col -= len(glued)
            width += len(glued)
        message, hint = _explain_token(exc, token, expected, chunk)
    elif isinstance(exc, UnexpectedCharacters):
        char = chunk[exc.pos_in_stream] if exc.pos_in_stream < len(chunk) else ""
        message, hint = _explain_char(char, chunk, exc.pos_in_stream, expected)
    elif isinstance(exc, UnexpectedEOF):
        message, hint = "the file ends in the middle of a statement", _expected_hint(expected)
    elif isinstance(exc, VisitError):
        line, col, width, message, hint = _explain_value(exc, chunk)
    else:
        message, hint = "this line cannot be read", None
    span = ast.Span(path, line + offset, col, line + offset, col + width)
    code = "LR002" if isinstance(exc, UnexpectedCharacters) else "LR001"
    return error(code, message, span, hint)


def _explain_value(exc, chunk: str) -> tuple[int, int, int, str, str | None]:
    """A literal the grammar accepts but that means nothing: a date such as 2027-02-30."""
    from lark import Token

    obj = exc.obj
    tokens = [obj] if isinstance(obj, Token) else [
        c for c in getattr(obj, "children", ()) if isinstance(c, Token)]
    token = next((t for t in tokens if not _is_instant(str(t))), tokens[0] if tokens else None)
    meta = getattr(obj, "meta", None)
    line = getattr(token, "line", None) or getattr(meta, "line", 1)
    col = getattr(token, "column", None) or getattr(meta, "column", 1)
    text = str(token) if token is not None else ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", text):
        what = "date and time" if "T" in text else "date"
        return (line, col, len(text), f"'{text}' is not a {what} of the calendar",
                "write an existing date, year-month-day: 2027-02-28" if what == "date" else
                "write an existing date and time: 2027-02-28T09:30")
    return line, col, max(1, len(text)), "this value cannot be read", None


def _is_instant(text: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


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
    return f"'{text}'"


def _previous(exc) -> str | None:
    """The text of the token just before the error, when the parser still holds it."""
    from lark import Token, Tree

    from leadrules.build import Held

    try:
        stack = exc.interactive_parser.parser_state.value_stack
    except AttributeError:
        return None
    for last in reversed(stack):
        # Down the last child (a node built while parsing keeps the last child it had).
        while True:
            if isinstance(last, Tree) and last.children:
                last = last.children[-1]
            elif type(last) is Held and last.last is not None:
                last = last.last
            else:
                break
        if isinstance(last, Token) and last.type != "_NL":
            return str(last)
        if not isinstance(last, Token):
            return None
    return None


def _explain_token(exc, token, expected: list[str], chunk: str) -> tuple[str, str | None]:
    found = _describe_token(token)
    value = str(token)
    previous = _previous(exc)
    if token.type == "$END" and "RBRACE" in expected:
        return _EOF_BLOCK, "add the missing '}' that closes the block"
    if token.type == "$END" and "RPAR" in expected:
        return "the file ends before a bracket is closed", "add the missing ')'"
    if token.type == "RBRACE" and "RPAR" in expected:
        return "a '(' is not closed before the end of the block", "add the missing ')'"
    if value == "=" and "COMPARE" in expected:
        after = chunk[token.end_pos:token.end_pos + 1] if token.end_pos is not None else ""
        if after in ("<", ">"):
            return (f"'={after}' is not a comparison", f"write '{after}=' (the '=' comes second)")
        return "a single '=' cannot compare two values", "to compare, write '=='"
    if value == "entered" and token.type != "NAME":
        return ("`entered at` belongs to a stage, inside the stages block",
                "write it after the stage's condition, on the same line or the next one")
    if value == "/" and token.end_pos is not None and chunk[token.end_pos:token.end_pos + 1] == "/":
        return "comments start with '#'", "write `# …` instead of `// …`"
    keywords = _keywords(expected)
    glued = _glued(exc, token, chunk)
    if glued:
        return f"'{glued}{value}' is not a word of the language", f"write '{glued}'"
    if token.type == "NAME" and value.lower() in _PERIODS:
        return (f"'{value}' is not a word of the language",
                f"write `per {_PERIODS[value.lower()]}`")
    if token.type == "NAME" and value.lower() in _OTHERWISE and "otherwise" in keywords:
        return f"'{value}' is not a word of the language", "the last row is written `otherwise`"
    if token.type == "STRING" and "STRING" not in expected:
        if {"when", "per"} & set(keywords):
            return ("the label of a rule goes at the end of its line",
                    'write the points, the condition, then the label: `+10 when icp "Label"`')
        if {"max", "min", "any", "by"} & set(keywords) or "LBRACE" in expected:
            return (f"{found} cannot come here",
                    'a label comes right after the name it labels: `score fit "Fit" max 100 {`')
    if value == ":" and "NAME" in expected:
        return "':' is not needed here", "remove it: a field is written `email text`"
    for word in (value, previous or ""):
        if word.lower() in ("and", "or", "not") and word != word.lower():
            return f"'{word}' must be written in lower case", f"write '{word.lower()}'"
    if token.type in ("_NL", "RBRACE", "RPAR", "$END") and previous in ("and", "or", "not"):
        return (f"the condition stops after '{previous}'",
                f"finish the condition after '{previous}', or remove '{previous}'")
    if value == "/" and re.match(r"\d{1,2}/\d{1,2}/\d{2,4}",
                                 chunk[max(0, token.start_pos - 2):token.start_pos + 8]):
        return "dates are written year first, with dashes", "write 2027-01-31"
    if token.type == "COMPARE" and previous in ("==", "!=", ">=", "<=", ">", "<"):
        return "two comparisons follow each other", "keep one, followed by the value"
    if value == "," and previous is not None and re.fullmatch(r"[+-]?\d[\d_]*(\.\d+)?", previous):
        return ("numbers are written without a comma",
                "write thousands with '_' or nothing (10_000), and decimals with a point (0.6)")
    if token.type == "NAME" and re.fullmatch(r"[eE][+-]?\d+", value) and previous is not None \
            and re.fullmatch(r"[+-]?\d[\d_]*(\.\d+)?", previous):
        return (f"'{previous}{value}' is not a number the rules can read",
                "write the number with all its digits, thousands separated by '_' (10_000)")
    if token.type == "NUMBER" and previous is not None and \
            re.fullmatch(r"[+-]?\d[\d_]*", previous) and re.fullmatch(r"\d{3}(\.\d+)?", value):
        return ("numbers are written without spaces",
                f"write thousands with '_' or nothing: {previous}_{value}")
    curated = _curated_states().get((exc.state.position, token.type)) \
        if getattr(exc, "state", None) is not None else None
    if curated is not None:
        return curated
    after = chunk[token.end_pos:token.end_pos + 40] if token.end_pos is not None else ""
    if token.type == "NAME" and previous is not None and \
            re.fullmatch(r'[+-]?[\d_.]+%?|".*"|\)|}', previous) and \
            re.match(r'[ \t]+("|when\b|otherwise\b|=)', after):
        return (f"a new statement starts at '{value}' on the same line",
                f"one statement per line: start a new line before '{value}'")
    if "CURRENCY" in expected and token.type == "NAME" and re.fullmatch(r"[A-Za-z]{3}", value):
        return (f"'{value}' is not a currency code",
                f"write the ISO 4217 code in capitals, such as {value.upper()}")
    if _UNITS & set(expected):
        if token.type == "NAME":
            return (f"'{value}' is not a unit of time",
                    "write minutes, hours, days, weeks, months or years")
        return "a duration needs a unit", "write it as `30 days`, `4 hours`, `6 months`…"
    if expected == ["PERCENT"]:
        return f"expected a percentage such as 40%, but found {found}", "write `40%`"
    if token.type == "_NL" and "LBRACE" in expected:
        if "NUMBER" in expected:
            # A value is missing (a `{` could only start a set of values here).
            return ("this line stops before its value",
                    "finish it with a value: a number, a name, a text or a set {…}")
        return ("the block must open with '{' at the end of this line",
                "add '{' at the end of the line")
    if token.type == "RBRACE" and _TOP_LEVEL & set(expected):
        return "there is one '}' too many", "remove it, or check the block above"
    if token.type == "STRING" and "NAME" in expected:
        return (f"expected a name, but found {found}",
                "names are written without quotes, in lower case with underscores")
    if token.type != "NAME" and "NAME" in expected and re.fullmatch(r"[a-z_]+", value):
        return (f"'{value}' is a word of the language and cannot be used as a name here",
                f"choose another name, for example '{value}_1'")
    if token.type == "NAME" and _TOP_LEVEL & set(expected) and "RBRACE" not in expected:
        return (f"{found} does not start a definition",
                _did_you_mean(value, TOP_LEVEL) or
                "each definition starts with a word such as segment, score, grade, stages, "
                "route or sla")
    if token.type == "NAME":
        keyword = _did_you_mean(value, _keywords(expected))
        if keyword:
            return f"{found} is not a word the language knows here", keyword
    if token.type == "_NL" and "STRING" in expected and "COMMA" in expected:
        return "this line stops too early", _expected_hint(expected)
    words = _words(expected)
    if 0 < len(words) <= 4:
        return f"expected {_join(words)}, but found {found}", None
    return f"{found} cannot come here", _expected_hint(expected)


def _glued(exc, token, chunk: str) -> str | None:
    """The word of the language a name was read after when nothing separates them
    (`targets` read as `target` then `s`, `maximum` as `max` then `imum`), else None."""
    previous = _previous(exc)
    start = getattr(token, "start_pos", None)
    if token.type != "NAME" or not previous or not start or not previous.isalpha():
        return None
    if chunk[start - 1:start].isalpha() and chunk[start - len(previous):start] == previous:
        return previous
    return None


# How people write a period in one word, and the period the language names after `per`.
_PERIODS = {"monthly": "month", "yearly": "year", "annually": "year", "annual": "year",
            "quarterly": "quarter", "weekly": "week", "daily": "day", "mensuel": "month",
            "annuel": "year", "trimestriel": "quarter"}

# What other languages call the last, catch-all row.
_OTHERWISE = frozenset({"else", "default", "sinon", "autrement", "elsewise"})


def _did_you_mean(word: str, candidates) -> str | None:
    from leadrules.diagnostics import did_you_mean

    return did_you_mean(word.lower(), candidates)


def _keywords(expected: list[str]) -> list[str]:
    """The words of the language among what the parser expected (`any`, `when`, `per`…)."""
    words = (_terminal_pattern(name) for name in expected)
    return [w for w in words if w and re.fullmatch(r"[a-z]{2,}", w)]


# Comparison signs from a word processor or a maths keyboard, and what the language writes.
_SIGNS = {"≥": ">=", "⩾": ">=", "≤": "<=", "⩽": "<=", "≠": "!="}


def _explain_char(char: str, chunk: str, pos: int, expected: list[str]) -> tuple[str, str | None]:
    if char in _SIGNS:
        return (f"the sign '{char}' is not a comparison of the language",
                f"write '{_SIGNS[char]}'")
    if char == '"':
        return ("this text has no closing double quote",
                'close it on the same line, or use """…""" for text over several lines')
    if char in "'’‘":
        return ("texts are written between straight double quotes, not apostrophes",
                'write "…" around the text')
    if char in "«»“”":
        return (f"the character {char} cannot start a text",
                'write straight double quotes "…" around the text')
    pair = chunk[pos:pos + 2]
    if pair == "&&" or char == "&":
        return "'&' cannot join conditions", "write 'and'"
    if pair == "||" or char == "|":
        return "'|' cannot join conditions", "write 'or'"
    if char == ";":
        return "a statement ends at the end of its line, without ';'", "remove the ';'"
    if char == "€" or char == "$" or char == "£":
        return (f"amounts are written with a currency code, not the sign '{char}'",
                "write `10_000 EUR`, `500 USD` or `300 GBP`")
    if char == "/" and re.match(r"\d{1,2}/\d{1,2}/\d{2,4}", chunk[max(0, pos - 2):pos + 8]):
        return "dates are written year first, with dashes", "write 2027-01-31"
    if char == "\t" or not char.strip():
        return "unexpected blank character", None
    if char in "=!" and pair not in ("==", "!="):
        return (f"'{char}' cannot be used here", "to compare, write '==' or '!='")
    shown = char if char.isprintable() else f"U+{ord(char):04X}"
    return f"the character '{shown}' cannot be used here", _expected_hint(expected)


def _expected_hint(expected: list[str]) -> str | None:
    words = _words(expected)
    if not words:
        return None
    if len(words) > 8:
        words = words[:8] + ["…"]
    return f"expected {_join(words)}"


def _words(expected: list[str]) -> list[str]:
    return sorted({_word(name) for name in expected if name != "COMMENT"})


def _join(words: list[str]) -> str:
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
