"""Tests for the PDF agreement: text read back with pypdf (pages, footer, fingerprint), the
attachments, PDF/A metadata, signature fields in the boxes, same bytes twice; and pictures of
the HTML (Debian's chromium) and of the PDF pages (pdftoppm) that must not be blank."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from leadrules.canonical import canonical_json
from leadrules.check import check
from leadrules.render import render_html, seal

pypdf = pytest.importorskip("pypdf", reason="PDF tests need pypdf (the pdf extra)")
pytest.importorskip("weasyprint", reason="PDF tests need WeasyPrint (the pdf extra)")

from leadrules.render import render_pdf  # noqa: E402

HERE = Path(__file__).parent
REFERENCE = HERE / "fixtures" / "reference.leadrules"
ON = date(2027, 1, 1)


@pytest.fixture(scope="module")
def rules():
    rs = check(REFERENCE)
    assert rs.ok
    return rs


@pytest.fixture(scope="module")
def pdf(rules) -> bytes:
    return render_pdf(rules, on=ON)


@pytest.fixture(scope="module")
def reader(pdf):
    return pypdf.PdfReader(io.BytesIO(pdf))


def test_same_inputs_same_bytes(pdf) -> None:
    again = render_pdf(check(REFERENCE), on=ON)
    assert again == pdf
    assert render_pdf(check(REFERENCE), on=date(2027, 1, 2)) != pdf


def test_every_page_has_the_footer(reader, rules) -> None:
    pages = reader.pages
    assert 6 <= len(pages) <= 14
    for number, page in enumerate(pages, start=1):
        text = " ".join(page.extract_text().split())
        assert f"page {number} / {len(pages)}" in text
        assert "version 2027.1" in text
        assert rules.fingerprint in text


def test_text_reads_back(reader) -> None:
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for expected in ("Accord Smarketing Acme 2027", "Sommaire", "Engagements du marketing",
                     "Pour le marketing", "Claire Martin", "Hugo Bernard",
                     "80 ÷ (50 % × 60 % × 25 %) = 1 066,7"):
        assert expected.replace(" ", "") in text.replace(" ", "").replace("\u202f", "") \
            .replace("\u00a0", "")


def test_metadata_carries_the_fingerprint(reader, pdf, rules) -> None:
    info = reader.metadata
    assert info.title == "Accord Smarketing Acme 2027"
    assert rules.fingerprint in info.subject
    assert rules.fingerprint in info["/Keywords"]
    assert info["/CreationDate"] == "D:20270101000000Z"
    assert f"<leadrules:fingerprint>{rules.fingerprint}</leadrules:fingerprint>".encode() in pdf
    assert b"<pdfaid:part>3</pdfaid:part>" in pdf or b'pdfaid:part="3"' in pdf
    assert b'pdfaid:conformance="B"' in pdf or b"<pdfaid:conformance>B" in pdf
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]  # tagged
    assert root["/Lang"] == "fr"
    assert "/OutputIntents" in root


def test_rule_file_and_canonical_rules_are_attached(reader, rules) -> None:
    files = reader.attachments
    assert files["reference.leadrules"][0] == REFERENCE.read_bytes()
    canonical = files["leadrules-canonical.json"][0].decode("utf-8")
    assert canonical == canonical_json(rules)
    assert json.loads(canonical)["format"] == "leadrules-canonical/1"
    relationships = {str(f["/F"]): str(f["/AFRelationship"])
                     for f in reader.trailer["/Root"]["/AF"]}
    assert relationships == {"reference.leadrules": "/Source",
                             "leadrules-canonical.json": "/Data"}


def test_one_signature_field_per_party_inside_its_box(reader) -> None:
    fields = reader.get_fields()
    assert sorted(fields) == ["marketing", "sales"]
    assert all(f["/FT"] == "/Sig" for f in fields.values())
    widgets = [a.get_object() for p in reader.pages for a in p.get("/Annots", [])
               if a.get_object().get("/FT") == "/Sig"]
    assert len(widgets) == 2
    for widget in widgets:
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        # 75 mm × 32 mm boxes, in points
        assert abs((x2 - x1) - 75 / 25.4 * 72) < 1.5
        assert abs((y2 - y1) - 32 / 25.4 * 72) < 1.5
        assert widget["/F"] == 4 and "/AP" in widget
    assert reader.trailer["/Root"]["/AcroForm"]["/SigFlags"] == 3


def test_the_seal_covers_the_rendered_file(pdf) -> None:
    digest, length, ok = seal.check_pdf(pdf)
    assert ok and length == len(pdf) and digest != seal.ZEROS


# ----------------------------------------------------------------------------- pictures


def _not_blank(png: Path, width: int | None = None) -> None:
    from PIL import Image

    with Image.open(png) as image:
        grey = image.convert("L")
        if width is not None:
            assert grey.width == width
        low, high = grey.getextrema()
        assert low < 80 and high > 230, f"{png} looks blank"
        dark = sum(grey.histogram()[:128])
        assert dark > grey.width * grey.height * 0.0003, f"{png} has almost no ink"


def test_pdf_pages_as_pictures(pdf, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian package poppler-utils) is not installed")
    source = tmp_path / "accord.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(source), str(tmp_path / "page")],
                   check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for page in pages:
        _not_blank(page)


def test_html_in_a_real_browser(rules, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium (Debian package chromium) is not installed")
    page = tmp_path / "accord.html"
    page.write_text(render_html(rules, on=ON), encoding="utf-8")
    shot = tmp_path / "accord.png"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1000,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120)
    if not shot.exists():
        pytest.skip(f"chromium could not take a screenshot here: {result.stderr[-300:]!r}")
    _not_blank(shot, width=1000)


def test_print_stylesheet_reaches_weasyprint(reader) -> None:
    # The table of contents gets its page numbers from target-counter() in the print CSS.
    first = " ".join(reader.pages[0].extract_text().split())
    assert re.search(r"Préambule\s*\.+\s*\d", first) or re.search(r"Préambule \.* ?\d", first)


# ----------------------------------------------------------------------------- the examples

ROOT = HERE.parent


@pytest.mark.skipif(not (ROOT / "rules" / "acme-en.leadrules").exists(),
                    reason="rules/acme-en.leadrules is not there")
def test_the_readme_command_gives_the_same_english_pdf_twice(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from leadrules.cli import main

    rules = ROOT / "rules" / "acme-en.leadrules"
    made = []
    for name in ("a.pdf", "b.pdf"):
        out = tmp_path / name
        result = CliRunner().invoke(main, ["render", str(rules), "--format", "pdf", "-o",
                                           str(out), "--date", "2027-01-04"])
        assert result.exit_code == 0, result.output
        made.append(out.read_bytes())
    assert made[0] == made[1]
    reader = pypdf.PdfReader(io.BytesIO(made[0]))
    fingerprint = check(rules).fingerprint
    pages = reader.pages
    for number, page in enumerate(pages, start=1):
        text = " ".join(page.extract_text().split())
        assert f"page {number} / {len(pages)}" in text and f"Fingerprint {fingerprint}" in text
    text = " ".join(" ".join(p.extract_text() for p in pages).split())
    for expected in ("Document issued on January 4, 2027", "$2,100,000", "Marketing commits to "
                     "delivering at least 300 leads", "For Marketing", "Marcus Reyes"):
        assert expected in text
    assert reader.trailer["/Root"]["/Lang"] == "en"


@pytest.mark.skipif(not (ROOT / "rules" / "acme.leadrules").exists(),
                    reason="rules/acme.leadrules is not there")
def test_an_agreement_with_includes_attaches_every_rule_file() -> None:
    rs = check(ROOT / "rules" / "acme.leadrules")
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(rs, on=ON)))
    files = reader.attachments
    assert files["acme.leadrules"][0] == (ROOT / "rules" / "acme.leadrules").read_bytes()
    included = ROOT / "rules" / "commun" / "messageries.leadrules"
    assert included.read_bytes() in [data for name, (data, *_) in files.items()
                                     if name.endswith("messageries.leadrules")]
    assert json.loads(files["leadrules-canonical.json"][0])["format"] == "leadrules-canonical/1"
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "960 000 €".replace(" ", "") in text.replace(" ", "").replace("\u202f", "") \
        .replace("\u00a0", "")


# ----------------------------------------------------------------------------- page layout

ACME = ROOT / "rules" / "acme.leadrules"
ACME_EN = ROOT / "rules" / "acme-en.leadrules"


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


# Both used to end a page with a grade's heading and its introduction, the table on the next.
@pytest.mark.parametrize(("path", "lang"), [(ACME, "fr"), (ACME_EN, "en")],
                         ids=["acme-fr", "acme-en-en"])
def test_no_page_ends_with_a_heading_or_an_introduction(path: Path, lang: str) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not there")
    rs = check(path)
    html = render_html(rs, lang=lang, on=ON)
    headings = {_plain(h) for h in re.findall(r"<h[23]\b[^>]*>(.*?)</h[23]>", html, re.S)}
    intros = [_plain(p) for p in re.findall(r"</h[23]>\s*<p[^>]*>(.*?)</p>", html, re.S)]
    doc = pypdf.PdfReader(io.BytesIO(render_pdf(rs, lang=lang, on=ON)))
    footer = re.compile(r"page \d+ / \d+|sha256:|version 2027")
    totals = 0
    for number, page in enumerate(doc.pages[:-1], start=1):
        lines = [" ".join(line.split()) for line in page.extract_text().splitlines()]
        lines = [line for line in lines if line and not footer.search(line)]
        last = lines[-1]
        assert last not in headings, f"page {number} ends with the heading {last!r}"
        assert not any(intro.endswith(last) for intro in intros), \
            f"page {number} ends with the line under a heading: {last!r}"
        # "Volumes nécessaires à chaque étape :", "… les conditions suivantes sont remplies :"
        assert not last.endswith(":"), f"page {number} ends with an introduction: {last!r}"
        totals += sum(line.startswith(("Total annuel", "Yearly total")) for line in lines)
    assert totals <= 1  # the channels' total closes the table once, not every page of it
