"""Agreement view-model -> a tagged PDF/A-3b through WeasyPrint, sealed and ready to sign.

What the PDF carries besides its pages: the rule files and the canonical JSON of the checked
rules as associated files; the fingerprint in the Subject, the Keywords and the XMP metadata
(with a PDF/A extension schema declaring the leadrules properties); one empty signature field
per party, placed exactly over that party's signature box; the seal (see seal.py). Creation
dates come from the document date and object identifiers from the content, so the same rules,
language and date give the same bytes.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, time
from importlib.resources import as_file, files
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname
from xml.sax.saxutils import escape as xml_escape

import pydyf
from weasyprint import CSS, HTML, Attachment
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from leadrules.canonical import canonical_json
from leadrules.model import Ruleset
from leadrules.render import seal
from leadrules.render.html import to_html
from leadrules.render.viewmodel import Agreement

CANONICAL_NAME = "leadrules-canonical.json"
XMP_NAMESPACE = "urn:leadrules:agreement:1.0#"
SIGNATURE_ID = "signature-"
# CSS pixels (96 per inch) to PDF points (72 per inch).
PT = 0.75



class _LocalFonts(URLFetcher):
    """Fetches the fonts shipped with leadrules and nothing else: no network, no other file."""

    def __init__(self, folder: Path) -> None:
        super().__init__(allowed_protocols={"file"})
        self.folder = folder.resolve()

    def fetch(self, url, headers=None):
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        if path.parent != self.folder:
            raise ValueError(f"the agreement may not load {url}")
        return super().fetch(url, headers)


def to_pdf(rs: Ruleset, doc: Agreement) -> bytes:
    """The sealed PDF of the agreement."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    package = files("leadrules.render")
    print_css = package.joinpath("templates").joinpath("pdf.css").read_text("utf-8")
    with as_file(package.joinpath("fonts")) as folder:
        base = folder.as_uri() + "/"
        fetcher = _LocalFonts(folder)
        fonts = FontConfiguration()
        html = HTML(string=to_html(doc), url_fetcher=fetcher, base_url=base)
        document = html.render(
            stylesheets=[CSS(string=print_css, base_url=base, url_fetcher=fetcher,
                             font_config=fonts)],
            font_config=fonts)
        stamp = datetime.combine(date_of(doc), time(0, 0), UTC)
        # PDF/A's sRGB output intent, given here from memory: WeasyPrint would open the
        # profile file itself and never close it.
        icc = files("weasyprint.pdf").joinpath("sRGB2014.icc").read_bytes()
        document.color_profiles["srgb"] = ColorProfile(
            io.BytesIO(icc), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))
        data = document.write_pdf(
            pdf_variant="pdf/a-3b",
            pdf_tags=True,
            output_intent="leadrules-srgb",
            attachments=attachments(rs, doc, stamp),
            finisher=lambda d, pdf: finish(d, pdf, doc),
        )
    return seal.seal_pdf(data)


def date_of(doc: Agreement):
    return datetime.fromisoformat(doc.date_iso).date()


def attachments(rs: Ruleset, doc: Agreement, stamp: datetime) -> list[Attachment]:
    """The rule files (each file of the ruleset, includes too) and the canonical rules."""
    out = []
    base = Path(rs.path).resolve().parent
    for module in rs.modules:
        path = Path(module.path)
        try:
            content = path.read_bytes()
        except OSError:
            continue
        try:
            name = path.resolve().relative_to(base).as_posix()
        except ValueError:
            name = path.name
        out.append(Attachment(string=content, name=name, description="leadrules rules",
                              created=stamp, modified=stamp, relationship="Source"))
    out.append(Attachment(string=canonical_json(rs).encode("utf-8"), name=CANONICAL_NAME,
                          description=f"leadrules canonical rules {doc.fingerprint}",
                          created=stamp, modified=stamp, relationship="Data"))
    return out


def finish(document, pdf: pydyf.PDF, doc: Agreement) -> None:
    """WeasyPrint's last step before writing: signature fields, leadrules metadata."""
    add_signature_fields(document, pdf)
    add_metadata(pdf, doc)


def add_signature_fields(document, pdf: pydyf.PDF) -> None:
    """One signature field per party box (`<div id="signature-ROLE">`), named ROLE."""
    fields = pydyf.Array()
    for index, page in enumerate(document.pages):
        page_dict = pdf.objects[pdf.pages["Kids"][3 * index]]
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            ident = element.get("id", "") if element is not None else ""
            if not ident.startswith(SIGNATURE_ID) or getattr(box, "element_tag", "") != "div":
                continue
            x, y = box.border_box_x(), box.border_box_y()
            w, h = box.border_width(), box.border_height()
            rect = [x * PT, (page.height - y - h) * PT, (x + w) * PT, (page.height - y) * PT]
            # PDF/A wants an appearance for every widget: an empty one until it is signed.
            appearance = pydyf.Stream([], pydyf.Dictionary({
                "Type": "/XObject", "Subtype": "/Form",
                "BBox": pydyf.Array([0, 0, w * PT, h * PT])}))
            pdf.add_object(appearance)
            widget = pydyf.Dictionary({
                "Type": "/Annot", "Subtype": "/Widget", "FT": "/Sig",
                "T": pydyf.String(ident[len(SIGNATURE_ID):]),
                "TU": pydyf.String(element.get("aria-label") or ident[len(SIGNATURE_ID):]),
                "Rect": pydyf.Array(rect), "F": 4, "P": page_dict.reference,
                "AP": pydyf.Dictionary({"N": appearance.reference}),
            })
            pdf.add_object(widget)
            if "Annots" not in page_dict:
                page_dict["Annots"] = pydyf.Array()
            page_dict["Annots"].append(widget.reference)
            fields.append(widget.reference)
    if fields:
        # 3 = signatures exist, append only: editors must save incrementally, and signing
        # (which sets these flags) changes nothing else in the form dictionary.
        form = pydyf.Dictionary({"Fields": fields, "SigFlags": 3})
        pdf.add_object(form)
        pdf.catalog["AcroForm"] = form.reference


def add_metadata(pdf: pydyf.PDF, doc: Agreement) -> None:
    """The leadrules properties in the XMP packet, left uncompressed so that the seal can be
    written into the file and read back without a PDF library."""
    number = int(pdf.catalog["Metadata"].split()[0])
    stream = pdf.objects[number]
    stream.compress = False
    packet = b"".join(stream.stream)
    extra = xmp_properties(doc).encode("utf-8")
    stream.stream = [packet.replace(b"</rdf:RDF>", extra + b"</rdf:RDF>", 1)]


def xmp_properties(doc: Agreement) -> str:
    fields = (
        ("fingerprint", "SHA-256 of the canonical rules the document was rendered from",
         doc.fingerprint),
        ("language", "Language of the document", doc.lang),
        ("date", "Date of the document", doc.date_iso),
        ("renderer", "Version of leadrules that rendered the document", doc.renderer),
        ("rules", "Name of the rule file the document was rendered from",
         xml_escape(doc.rules_name)),
        ("length", "Length in bytes of the document as rendered", seal.LENGTH_PLACEHOLDER),
        ("digest", "SHA-256 of the document as rendered, this value read as zeros",
         seal.PLACEHOLDER),
    )
    schema = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>internal</pdfaProperty:category>"
        f"<pdfaProperty:description>{description}</pdfaProperty:description>"
        "</rdf:li>" for name, description, _ in fields)
    values = "".join(f"<leadrules:{name}>{value}</leadrules:{name}>"
                     for name, _, value in fields)
    return (
        '<rdf:Description rdf:about="" '
        'xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" '
        'xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" '
        'xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">'
        "<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">"
        "<pdfaSchema:schema>leadrules agreement</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{XMP_NAMESPACE}</pdfaSchema:namespaceURI>"
        "<pdfaSchema:prefix>leadrules</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{schema}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
        f'<rdf:Description rdf:about="" xmlns:leadrules="{XMP_NAMESPACE}">{values}'
        "</rdf:Description>"
    )
