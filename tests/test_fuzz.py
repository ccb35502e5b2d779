"""Fuzzing the checker: thousands of mutations of the reference file (truncated, shuffled, random
bytes, deep nesting, huge numbers, a 10 MB line) must all end in diagnostics from `check()`,
never in an exception or a hang; `fmt` gets the same mutants."""

from __future__ import annotations

import random
import re
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadrules.check import check
from leadrules.codes import CODES
from leadrules.diagnostics import Diagnostic
from leadrules.fmt import FormatError, format_source
from leadrules.syntax import chunks

REFERENCE = (Path(__file__).parent / "fixtures" / "reference.leadrules").read_text("utf-8")
CHUNKS = [chunk for _, chunk in chunks(REFERENCE)]
TOKENS = re.findall(r'"[^"\n]*"|\S+', REFERENCE)
WORDS = sorted(set(re.findall(r"[a-z_][a-z0-9_]*", REFERENCE)))
NUMBERS = ["0", "-1", "+0", "0.0001", "100%", "0%", "1_000_000_000_000_000_000_000_000_000_000",
           "9" * 2000, "1" + "0" * 40 + " EUR", "-" + "9" * 500, "2027-02-30", "99:99"]
SECONDS_PER_CHECK = 10
MUTANTS_PER_KIND = 300


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: int):
    """Fail, rather than wait for ever, when one check takes too long."""
    def alarm(signum, frame):
        raise Hang(f"check() took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_diagnoses(text: str, name: str = "fuzz.leadrules") -> list[Diagnostic]:
    with deadline(SECONDS_PER_CHECK):
        rs = check(name, text)
    for d in rs.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.code in CODES, d
        assert d.message and d.span.line >= 0
    return rs.diagnostics


# ----------------------------------------------------------------------------- mutations


def base(rng: random.Random) -> str:
    """The whole reference a third of the time, else a run of a few of its definitions (cheaper
    to check, and it loses context on purpose: names defined elsewhere go missing)."""
    if rng.random() < 1 / 3:
        return REFERENCE
    start = rng.randrange(len(CHUNKS))
    return "\n".join(CHUNKS[start:start + rng.randint(3, 8)])


def truncate(rng: random.Random) -> str:
    text = base(rng)
    return text[:rng.randrange(len(text))]


def shuffle_tokens(rng: random.Random) -> str:
    lines = base(rng).split("\n")
    tokens = [t for line in lines for t in re.findall(r'"[^"\n]*"|\S+', line)]
    for _ in range(rng.randint(1, 6)):
        i, j = rng.randrange(len(tokens)), rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    # The line structure is kept: tokens are re-joined line by line.
    out, k = [], 0
    for line in lines:
        n = len(re.findall(r'"[^"\n]*"|\S+', line))
        indent = line[:len(line) - len(line.lstrip())]
        out.append(indent + " ".join(tokens[k:k + n]))
        k += n
    return "\n".join(out)


def shuffle_line(rng: random.Random) -> str:
    lines = base(rng).split("\n")
    i = rng.randrange(len(lines))
    words = lines[i].split()
    rng.shuffle(words)
    lines[i] = "    " + " ".join(words)
    return "\n".join(lines)


def random_characters(rng: random.Random) -> str:
    chars = list(base(rng))
    alphabet = "{}()[]\"'#=<>!&|;:,.-+*/%\\\t\r\x00\x01\x1b\u00a0\u2028€«»é中🙂"
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(chars))
        roll = rng.random()
        if roll < 0.4:
            chars[i] = rng.choice(alphabet)
        elif roll < 0.7:
            chars.insert(i, chr(rng.randrange(0x20, 0x3000)))
        else:
            del chars[i]
    return "".join(chars)


def drop_or_duplicate_lines(rng: random.Random) -> str:
    lines = base(rng).split("\n")
    for _ in range(rng.randint(1, 5)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines.insert(rng.randrange(len(lines)), lines[i])
    return "\n".join(lines)


def rename(rng: random.Random) -> str:
    """Same syntax, different meaning: names swapped, so names and types break."""
    text = base(rng)
    for _ in range(rng.randint(1, 4)):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        text = re.sub(rf"\b{a}\b", b, text, count=rng.randint(1, 3))
    return text


def renumber(rng: random.Random) -> str:
    """Numbers, percentages and dates replaced by extreme ones."""
    text = base(rng)
    matches = list(re.finditer(r"(?<![\w.])[+-]?\d[\d_]*(\.\d+)?%?", text))
    for m in sorted(rng.sample(matches, min(len(matches), rng.randint(1, 6))),
                    key=lambda m: -m.start()):
        text = text[:m.start()] + rng.choice(NUMBERS) + text[m.end():]
    return text


MUTATIONS = (truncate, shuffle_tokens, shuffle_line, random_characters, drop_or_duplicate_lines,
             rename, renumber)


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_seeded_mutations_of_the_reference(mutation) -> None:
    rng = random.Random(f"leadrules-{mutation.__name__}")
    for _ in range(MUTANTS_PER_KIND):
        assert_diagnoses(mutation(rng))


# ----------------------------------------------------------------------------- pathological input


@pytest.mark.parametrize("text", [
    "segment s {\n    " + "(" * 10_000 + "a" + ")" * 10_000 + "\n}\n",
    "segment s {\n    " + "{" * 10_000 + "\n}\n",
    "segment s {\n    " + "not " * 20_000 + "a\n}\n",
    "score s = " + "- " * 20_000 + "1\n",
    "score s = " + "(" * 5_000 + "1" + ")" * 5_000 + "\n",
    "segment s {\n    " + " and ".join(f"a{i} == {i}" for i in range(3_000)) + "\n}\n",
    "list l = {" + ", ".join(f'"{i}"' for i in range(4_000)) + "}\n",
    "}" * 50_000,
    "\n" * 200_000,
    '"""' + "x" * 100_000,
    "segment s {\n" + "    a == 1\n" * 5_000 + "}\n",
    "\x00" * 10_000,
])
def test_pathological_input(text: str) -> None:
    assert_diagnoses(text)


def test_a_10_mb_line() -> None:
    line = "x == " + "1 and x == " * 920_000 + "1"
    assert len(line) > 10_000_000
    found = assert_diagnoses("segment s {\n    " + line + "\n}\n" + REFERENCE)
    assert [d.code for d in found if d.span.line == 2] == ["LR008"]


def test_a_10_mb_string() -> None:
    found = assert_diagnoses('list l = {"' + "a" * 10_000_000 + '"}\n')
    assert [d.code for d in found] == ["LR008"]


def test_random_bytes_in_a_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    rng = random.Random("leadrules-bytes")
    for i in range(60):
        data = bytearray(REFERENCE.encode("utf-8"))
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"bytes{i}.leadrules"
        path.write_bytes(bytes(data))
        with deadline(SECONDS_PER_CHECK):
            rs = check(path.name)
        assert all(d.code in CODES for d in rs.diagnostics)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(sorted(set(REFERENCE) | set("\x00\r\t{}()\"'"))),
               max_size=400))
def test_random_text_from_the_reference_alphabet(text: str) -> None:
    assert_diagnoses(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS + ["\n", "\n", "{", "}", "(", ")"]), max_size=80))
def test_random_token_sequences(tokens: list[str]) -> None:
    assert_diagnoses(" ".join(tokens))


# ----------------------------------------------------------------------------- fmt on mutants

FORMATTED_MUTANTS_PER_KIND = 100


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.__name__)
def test_fmt_on_mutants_formats_idempotently_or_names_the_syntax_errors(mutation) -> None:
    """The same mutants through `leadrules fmt`: a file that parses gets a layout that is its
    own layout (fmt verifies that it means the same); one that does not gets its syntax errors,
    never an exception, and never fmt's own 'would not mean the same' refusal."""
    rng = random.Random(f"leadrules-fmt-{mutation.__name__}")
    formatted = 0
    for _ in range(FORMATTED_MUTANTS_PER_KIND):
        text = mutation(rng)
        try:
            with deadline(SECONDS_PER_CHECK):
                out = format_source(text, "fuzz.leadrules")
        except FormatError as exc:
            assert exc.diagnostics, str(exc)
            assert all(d.code in CODES for d in exc.diagnostics)
            continue
        formatted += 1
        assert format_source(out, "fuzz.leadrules") == out
    assert formatted  # every kind of mutation leaves some files that still parse


# ----------------------------------------------------------------------------- the command line


def test_every_output_format_of_check_survives_mutants(tmp_path) -> None:
    """Mutants with odd characters and bytes, as files, through `leadrules check` in each
    format: exit code 1, output that its format's readers accept, never a traceback."""
    import json
    import xml.etree.ElementTree as ElementTree

    from click.testing import CliRunner

    from leadrules.cli import main

    rng = random.Random("leadrules-cli")
    for i in range(40):
        (tmp_path / f"chars{i}.leadrules").write_text(random_characters(rng), encoding="utf-8")
        data = bytearray(REFERENCE.encode("utf-8"))
        for _ in range(rng.randint(1, 10)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        (tmp_path / f"bytes{i}.leadrules").write_bytes(bytes(data))
    for fmt in ("text", "json", "github", "sarif", "junit"):
        result = CliRunner().invoke(main, ["check", str(tmp_path), "--format", fmt, "--no-tests"])
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        assert result.exit_code == 1, result.output[-2000:]
        out = result.stdout
        assert "Traceback" not in result.output
        if fmt in ("json", "sarif"):
            json.loads(out)
        elif fmt == "junit":
            ElementTree.fromstring(out.encode("utf-8"))
        elif fmt == "github":
            assert all(line.startswith(("::error ", "::warning ", "::notice "))
                       for line in out.splitlines())
        else:
            assert "error[LR" in out
