"""Tests for the fingerprint (properties: layout and comments keep it, any change of a figure
changes it) and for `leadrules verify`: matching documents, changed rules named, edited
documents caught, in HTML, Markdown and PDF."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadrules.check import check
from leadrules.cli import main
from leadrules.fmt import format_source
from leadrules.render import render_html, render_markdown
from leadrules.verify import format_report, verify

HERE = Path(__file__).parent
REFERENCE = HERE / "fixtures" / "reference.leadrules"
TEXT = REFERENCE.read_text(encoding="utf-8")
ON = date(2027, 1, 1)
FINGERPRINT = check(REFERENCE).fingerprint


def fingerprint_of(text: str, tmp_path: Path, name: str = "rules.leadrules") -> str | None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    rs = check(path)
    return rs.fingerprint if rs.ok else None


# ----------------------------------------------------------------------------- the fingerprint

# Figures that carry meaning: points, caps, thresholds, SLA numbers, durations, percentages.
# Dates, times and numbers inside strings or comments are left out.
_FIGURE = re.compile(r"(?<![\w.:\-\"])(\d[\d_]*)(?=%|\b(?![-:T]\d))")


def figures(text: str) -> list[tuple[int, int]]:
    spans = []
    for line_start, line in _lines(text):
        code = re.sub(r'"[^"]*"', lambda m: " " * len(m.group(0)), line.split("#", 1)[0])
        if '"""' in line or code.strip().startswith(("as of", "event ", "lead {")):
            continue
        for m in _FIGURE.finditer(code):
            spans.append((line_start + m.start(1), line_start + m.end(1)))
    return spans


def _lines(text: str):
    offset = 0
    in_test = False
    for line in text.splitlines(keepends=True):
        if line.startswith("test "):
            in_test = True
        elif in_test and line.startswith("}"):
            in_test = False
        if not in_test:
            yield offset, line
        offset += len(line)


FIGURES = figures(TEXT)


def test_there_are_figures_to_change() -> None:
    assert len(FIGURES) >= 50


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spot=st.sampled_from(FIGURES), delta=st.integers(min_value=1, max_value=9))
def test_changing_any_figure_changes_the_fingerprint(tmp_path: Path, spot, delta: int) -> None:
    start, end = spot
    old = int(TEXT[start:end].replace("_", ""))
    changed = TEXT[:start] + str(old + delta) + TEXT[end:]
    new = fingerprint_of(changed, tmp_path)
    assume(new is not None)  # a change that breaks the rules is check's business
    assert new != FINGERPRINT


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_comments_and_layout_keep_the_fingerprint(tmp_path: Path, data) -> None:
    lines = TEXT.split("\n")
    out = []
    for line in lines:
        # Inside the preamble's triple-quoted prose a "#" is text, not a comment.
        inside_prose = line.strip().startswith(("Le marketing", "sur la manière")) \
            or '"""' in line
        if line.strip() and not inside_prose:
            if data.draw(st.booleans()):
                line = line + "   # " + data.draw(st.text(
                    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20))
            if data.draw(st.booleans()):
                line = line.replace("    ", "        ", 1)
        out.append(line)
        if data.draw(st.integers(0, 5)) == 0 and not inside_prose:
            out.append("# " + data.draw(st.sampled_from(["note", "à revoir", "TBD?", ""])))
    assert fingerprint_of("\n".join(out), tmp_path) == FINGERPRINT


def test_formatting_keeps_the_fingerprint(tmp_path: Path) -> None:
    assert fingerprint_of(format_source(TEXT, str(REFERENCE)), tmp_path) == FINGERPRINT


def test_an_sla_change_changes_the_fingerprint(tmp_path: Path) -> None:
    for old, new in (("average deal 12_000 EUR", "average deal 12_500 EUR"),
                     ("first touch within 4 business hours", "first touch within 4 hours"),
                     ("marketing share 40%", "marketing share 45%"),
                     ("A when >= 70", "A when > 70")):
        assert fingerprint_of(TEXT.replace(old, new), tmp_path) not in (None, FINGERPRINT)


# ----------------------------------------------------------------------------- text documents


@pytest.fixture
def html_doc(tmp_path: Path) -> Path:
    path = tmp_path / "accord.html"
    path.write_text(render_html(check(REFERENCE), on=ON), encoding="utf-8")
    return path


def test_a_fresh_document_matches(html_doc: Path, tmp_path: Path) -> None:
    report = verify(html_doc, check(REFERENCE))
    assert report.ok, format_report(report)
    assert (report.language, report.date) == ("fr", "2027-01-01")
    assert report.same_content is True
    md = tmp_path / "accord.md"
    md.write_text(render_markdown(check(REFERENCE), on=ON), encoding="utf-8")
    assert verify(md, check(REFERENCE)).ok


def test_changed_rules_are_named(html_doc: Path, tmp_path: Path) -> None:
    changed = TEXT.replace("+10 when budget >= 10_000 EUR", "+15 when budget >= 10_000 EUR") \
        .replace("average deal 12_000 EUR", "average deal 15_000 EUR") \
        .replace('route smb        "Équipe PME"            otherwise',
                 'route smb        "Équipe PME"            otherwise\n'
                 'segment vip "VIP" {\n    company_size >= 5000\n}')
    rules = tmp_path / "rules.leadrules"
    rules.write_text(changed, encoding="utf-8")
    rs = check(rules)
    assert rs.ok, rs.diagnostics
    report = verify(html_doc, rs)
    assert not report.ok and not report.matches and report.untouched
    text = format_report(report)
    assert "score 'fit': changed" in text
    assert "rule 'Budget confirmé' > points: 10 -> 15" in text
    assert "SLA 'marketing': changed" in text and "12000 EUR -> 15000 EUR" in text
    assert "segment 'vip': added" in text


def test_an_edited_html_document_is_caught(html_doc: Path) -> None:
    text = html_doc.read_text(encoding="utf-8")
    html_doc.write_text(text.replace("au moins 70", "au moins 7", 1), encoding="utf-8")
    report = verify(html_doc, check(REFERENCE))
    assert report.matches and not report.untouched and not report.ok
    assert "changed after rendering" in format_report(report)


def test_an_edited_document_whose_seal_was_computed_again_is_caught(html_doc: Path) -> None:
    """The seal has no key: someone can edit the text and compute the seal again. The rules
    rendered again in the document's language and date do not give that text."""
    from leadrules.render import seal

    text = html_doc.read_text(encoding="utf-8")
    forged = re.sub(r'(leadrules-digest" content="sha256:)[0-9a-f]{64}',
                    lambda m: m.group(1) + "0" * 64, text.replace("au moins 70", "au moins 7", 1))
    html_doc.write_text(seal.seal_text(forged), encoding="utf-8")
    report = verify(html_doc, check(REFERENCE))
    assert report.matches and report.untouched  # the fingerprint and the new seal agree
    assert report.same_content is False and not report.ok
    words = format_report(report)
    assert "edited after rendering (and its seal computed again)" in words
    assert "has not been changed" not in words


def test_a_document_of_another_version_is_not_compared_word_for_word(html_doc: Path) -> None:
    text = html_doc.read_text(encoding="utf-8")
    older = re.sub(r'(leadrules-renderer" content=")[^"]*', r"\g<1>0.0.1", text)
    older = re.sub(r'(leadrules-digest" content="sha256:)[0-9a-f]{64}',
                   lambda m: m.group(1) + "0" * 64, older)
    from leadrules.render import seal

    html_doc.write_text(seal.seal_text(older), encoding="utf-8")
    report = verify(html_doc, check(REFERENCE))
    assert report.ok and report.same_content is None
    assert "rendered by leadrules 0.0.1" in format_report(report)


def test_a_document_without_fingerprint(tmp_path: Path) -> None:
    page = tmp_path / "other.html"
    page.write_text("<!DOCTYPE html><html><body>hello</body></html>", encoding="utf-8")
    report = verify(page, check(REFERENCE))
    assert not report.ok
    assert "no leadrules fingerprint" in format_report(report)


def test_cli_exit_codes(html_doc: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["verify", str(html_doc), str(REFERENCE)])
    assert result.exit_code == 0, result.output
    assert "matches the rules" in result.output
    html_doc.write_text(html_doc.read_text(encoding="utf-8") + " ", encoding="utf-8")
    result = runner.invoke(main, ["verify", str(html_doc), str(REFERENCE)])
    assert result.exit_code == 1
    result = runner.invoke(main, ["verify", str(tmp_path / "missing.pdf"), str(REFERENCE)])
    assert result.exit_code == 2 and "no such file" in result.output
    binary = tmp_path / "junk.bin"
    binary.write_bytes(b"\xff\xfe\x00junk")
    result = runner.invoke(main, ["verify", str(binary), str(REFERENCE)])
    assert result.exit_code == 1 and "Traceback" not in result.output


# ----------------------------------------------------------------------------- PDF documents

@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    pytest.importorskip("weasyprint", reason="PDF output needs WeasyPrint")
    from leadrules.render import render_pdf

    return render_pdf(check(REFERENCE), on=ON)


def test_a_fresh_pdf_matches(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "accord.pdf"
    path.write_bytes(pdf_bytes)
    report = verify(path, check(REFERENCE))
    assert report.ok, format_report(report)
    assert [(s.field, s.signed) for s in report.signatures] == [("marketing", False),
                                                                ("sales", False)]


def test_a_byte_changed_in_a_pdf_is_caught(pdf_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "accord.pdf"
    path.write_bytes(pdf_bytes.replace(b"<leadrules:language>fr", b"<leadrules:language>en"))
    report = verify(path, check(REFERENCE))
    assert report.matches and not report.untouched and not report.ok


def test_a_page_rewritten_in_a_later_revision_is_caught(pdf_bytes: bytes,
                                                         tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("pyhanko", reason="checking later revisions needs pyHanko")
    from pypdf.generic import NameObject, StreamObject

    writer = pypdf.PdfWriter(io.BytesIO(pdf_bytes), incremental=True)
    page = writer.pages[5]
    stream = StreamObject()
    stream.set_data(b"BT /F1 24 Tf 100 700 Td (Engagement annule) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    edited = out.getvalue()
    assert edited.startswith(pdf_bytes)  # the rendered bytes are still there, untouched
    path = tmp_path / "accord.pdf"
    path.write_bytes(edited)
    report = verify(path, check(REFERENCE))
    assert report.untouched and not report.ok
    assert "modified after rendering" in format_report(report)


def test_a_pdf_still_matches_rules_whose_comments_changed(pdf_bytes: bytes,
                                                         tmp_path: Path) -> None:
    """The rule file attached to the PDF carries its comments; the agreement does not, so a
    comment edit keeps the document valid: the pages read the same."""
    document = tmp_path / "accord.pdf"
    document.write_bytes(pdf_bytes)
    rules = tmp_path / "rules.leadrules"
    rules.write_text("# a comment added after signing\n" + TEXT, encoding="utf-8")
    report = verify(document, check(rules))
    assert report.ok and report.same_content is True, format_report(report)
