"""A rendered agreement (PDF, HTML or Markdown) + the checked rules -> a report: does the
document still match the rules, was it changed after rendering, who signed it.

Four checks:
1. the fingerprint the document carries against the fingerprint of the rules; when they
   differ, the canonical rules embedded in the document say which definitions changed;
2. the seal: a SHA-256 of the document as rendered (see render/seal.py), so that any byte
   changed afterwards is found; in a PDF, revisions appended after rendering must be
   signatures and form filling only (pyHanko's difference analysis);
3. the content: the rules rendered again, in the document's language and date, give the same
   text (the seal has no key: someone who edits the document and computes its seal again is
   caught here), when the document was rendered by this version of leadrules;
4. for a PDF, each signature field: unsigned, or signed by whom, intact or not, trusted or not.
"""

from __future__ import annotations

import copy
import html
import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from leadrules.canonical import canonical
from leadrules.model import Ruleset
from leadrules.render import seal

CANONICAL_NAME = "leadrules-canonical.json"
_HTML_FINGERPRINT = re.compile(r'<meta name="leadrules-fingerprint" content="(sha256:[0-9a-f]{64})"')
_MD_FINGERPRINT = re.compile(r"<!-- leadrules-fingerprint: (sha256:[0-9a-f]{64}) -->")
_HTML_CANONICAL = re.compile(
    r'<script type="application/json" id="leadrules-canonical">(.*?)</script>', re.S)
_MD_CANONICAL = re.compile(r"<!-- leadrules-canonical: (.*?) -->", re.S)
_HTML_META = re.compile(
    r'<meta name="leadrules-(language|date|renderer|rules)" content="([^"]*)"')
_MD_META = re.compile(r"<!-- leadrules-(language|date|renderer|rules): (.*?) -->")
_PDF_FINGERPRINT = re.compile(rb"<leadrules:fingerprint>(sha256:[0-9a-f]{64})</leadrules:fingerprint>")
_PDF_META = re.compile(rb"<leadrules:(language|date|renderer|rules)>([^<]*)</leadrules:")


_META_FIELDS = {"language": "language", "date": "date", "renderer": "renderer",
                "rules": "rules_name"}


class VerifyError(Exception):
    """The document cannot be read at all (missing, not a PDF/HTML/Markdown file)."""


@dataclass
class Signature:
    """One signature field of a PDF agreement."""

    field: str
    signed: bool
    signer: str | None = None
    when: str | None = None
    intact: bool = False
    trusted: bool = False
    problem: str | None = None


@dataclass
class Report:
    document: str
    rules: str
    kind: str
    rules_fingerprint: str
    fingerprint: str | None = None
    language: str | None = None
    date: str | None = None
    renderer: str | None = None
    rules_name: str | None = None  # the name of the rule file it was rendered from
    # None: not compared (the document does not match the rules, or another version of
    # leadrules rendered it); else whether the rules rendered again give the same content.
    same_content: bool | None = None
    sealed: bool = False
    untouched: bool = False
    later_changes: str | None = None
    changes: list[str] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.fingerprint == self.rules_fingerprint

    @property
    def ok(self) -> bool:
        """The document matches the rules, is as rendered (or only signed since), and every
        signature in it is intact."""
        return (self.matches and self.sealed and self.untouched and self.later_changes is None
                and self.same_content is not False
                and all(s.intact for s in self.signatures if s.signed))


def verify(document: str | Path, rs: Ruleset, trust: tuple[bytes, ...] = ()) -> Report:
    """Checks `document` against the checked rules `rs`; `trust` holds PEM or DER certificates
    whose signatures count as trusted."""
    path = Path(document)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VerifyError(f"{document}: cannot be read ({exc.strerror or exc})") from None
    if data.startswith(b"%PDF-"):
        return _verify_pdf(str(document), data, rs, trust)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise VerifyError(f"{document}: this is neither a PDF nor a text (HTML or Markdown) "
                          "file") from None
    kind = "html" if text.lstrip().lower().startswith("<!doctype html") else "md"
    return _verify_text(str(document), text, kind, rs)


def _verify_text(name: str, text: str, kind: str, rs: Ruleset) -> Report:
    report = Report(name, rs.path, kind, rs.fingerprint)
    found = (_HTML_FINGERPRINT if kind == "html" else _MD_FINGERPRINT).search(text)
    report.fingerprint = found.group(1) if found else None
    for key, value in (_HTML_META if kind == "html" else _MD_META).findall(text):
        setattr(report, _META_FIELDS[key], html.unescape(value) if kind == "html" else value)
    digest, ok = seal.check_text(text)
    report.sealed, report.untouched = digest is not None, ok
    if report.fingerprint is not None and not report.matches:
        embedded = (_HTML_CANONICAL if kind == "html" else _MD_CANONICAL).search(text)
        report.changes = _changes(embedded.group(1) if embedded else None, rs)
    again = _render_again(report, rs)
    if again is not None:
        report.same_content = again.decode("utf-8") == text
    return report


def _render_again(report: Report, rs: Ruleset) -> bytes | None:
    """The rules rendered as the document says it was (format, language, date), or None when
    that cannot tell anything: the document is for other rules, or another version of
    leadrules rendered it (its words may differ without anyone touching it)."""
    from datetime import date

    from leadrules import version
    from leadrules.render import RenderError, render

    if not report.matches or report.language is None or report.date is None:
        return None
    if report.renderer != version():
        report.notes.append(
            f"rendered by leadrules {report.renderer or '(an older version)'}, this is "
            f"leadrules {version()}: its content was not compared with the rules rendered again")
        return None
    if report.rules_name:
        # The document names the rule file it came from; the same rules under another name
        # are the same agreement.
        rs = copy.copy(rs)
        rs.path = str(Path(rs.path).with_name(report.rules_name))
    try:
        return render(rs, report.kind, report.language, date.fromisoformat(report.date))
    except (RenderError, ValueError):
        return None


def _verify_pdf(name: str, data: bytes, rs: Ruleset, trust: tuple[bytes, ...]) -> Report:
    report = Report(name, rs.path, "pdf", rs.fingerprint)
    found = _PDF_FINGERPRINT.search(data)
    report.fingerprint = found.group(1).decode() if found else None
    for key, value in _PDF_META.findall(data):
        if getattr(report, _META_FIELDS[key.decode()]) is None:
            setattr(report, _META_FIELDS[key.decode()],
                    html.unescape(value.decode("utf-8", "replace")))
    digest, length, ok = seal.check_pdf(data)
    report.sealed, report.untouched = digest is not None, ok
    if report.fingerprint is not None and not report.matches:
        report.changes = _changes(_pdf_attachment(data, CANONICAL_NAME), rs)
    again = _render_again(report, rs)
    if again is not None:
        # The text of the pages, not the bytes: the rule file attached to the PDF carries its
        # comments, which the fingerprint (and so the agreement) ignores.
        report.same_content = _pages_text(again) == _pages_text(data[:length or len(data)])
    if digest is None:
        return report
    try:
        from leadrules import signing
    except ImportError:
        signing = None
    appended = length is not None and len(data) > length
    if signing is None or not signing.available():
        if appended:
            report.later_changes = (
                f"{len(data) - length} bytes were added after rendering (signatures, or other "
                "changes): install the signing extra (pip install 'leadrules[sign]') to tell")
        return report
    report.signatures, later = signing.inspect(data, trust, checked_from_revision=appended)
    report.later_changes = later
    return report


def _pages_text(data: bytes) -> str | None:
    """The words of the pages, without the spaces, line breaks and hyphens that only the
    layout decides (another WeasyPrint may break lines elsewhere; it may not change a word)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    except Exception:  # a damaged PDF: the seal check reports it
        return "(unreadable)"
    return re.sub(r"\s+", "", re.sub(r"-\s*\n\s*", "", text))


def _pdf_attachment(data: bytes, name: str) -> str | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        files = PdfReader(io.BytesIO(data)).attachments
        content = files.get(name)
    except Exception:  # a damaged PDF: the seal check reports it
        return None
    return content[-1].decode("utf-8", "replace") if content else None


# ----------------------------------------------------------------------------- what changed

_KINDS = {
    "Agreement": "agreement header", "Calendar": "calendar", "Lead": "lead fields",
    "Event": "event", "ListDef": "list", "Segment": "segment", "Score": "score",
    "DerivedScore": "score", "Grade": "grade", "Qualification": "qualification",
    "Stages": "lifecycle stages", "Disqualify": "disqualification", "Route": "route",
    "Sla": "SLA", "Channels": "channels", "Test": "test",
}
_PARTS = {
    "WhenRule": "rule", "PerEventRule": "rule", "PerUnitRule": "rule", "Group": "group",
    "BandRow": "row", "CondRow": "row", "OtherwiseRow": "row", "Criterion": "criterion",
    "Stage": "stage", "Field": "field", "Party": "party", "Channel": "channel",
    "Conversion": "conversion", "Deliver": "commitment", "FirstTouch": "first touch",
    "Attempts": "attempts", "AcceptReject": "accept or reject", "Recycle": "recycling",
    "RevenueTarget": "revenue target", "MarketingShare": "marketing share",
    "AverageDeal": "average deal", "Touches": "touches", "SlaCalendar": "calendar",
    "Hours": "hours", "EnumMember": "member", "Property": "property",
}
_LITERALS = {"Number", "Percent", "Money", "Duration", "DateLit", "DateTimeLit", "String",
             "Bool", "Ref", "SetLit", "TypeSpec", "Decay", "Bounds"}
_MAX_DETAILS = 6


def _changes(embedded: str | None, rs: Ruleset) -> list[str]:
    """Which definitions differ between the rules the document was rendered from and `rs`."""
    if embedded is None:
        return ["the document does not carry the rules it was rendered from, so the "
                "differences cannot be listed"]
    try:
        old = json.loads(embedded)
    except ValueError:
        return ["the rules embedded in the document cannot be read"]
    new = json.loads(json.dumps(canonical(rs), ensure_ascii=False))
    before = _by_key(old.get("items", []))
    after = _by_key(new.get("items", []))
    out = []
    for key in list(before) + [k for k in after if k not in before]:
        if key not in after:
            out.append(f"{key}: removed")
        elif key not in before:
            out.append(f"{key}: added")
        elif before[key] != after[key]:
            details = _diff(before[key], after[key], [])
            shown = [f"    {' > '.join(p) or 'value'}: {a} -> {b}"
                     for p, a, b in details[:_MAX_DETAILS]]
            if len(details) > _MAX_DETAILS:
                shown.append(f"    ... and {len(details) - _MAX_DETAILS} more differences")
            out.append(f"{key}: changed\n" + "\n".join(shown))
    return out or ["the definitions are the same but written in a different order"]


def _by_key(items: list) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for i, item in enumerate(items):
        kind = _KINDS.get(item.get("node"), item.get("node", "item"))
        ident = item.get("name") or item.get("side") or item.get("label") or ""
        key = f"{kind} '{ident}'" if ident else kind
        if key in out:
            key = f"{key} #{i + 1}"
        out[key] = item
    return out


def _show(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict):
        node = value.get("node")
        if node == "Number":
            return value["value"]
        if node == "Percent":
            return f"{float(value['value']) * 100:g}%"
        if node == "Money":
            return f"{value['amount']} {value['currency']}"
        if node == "Duration":
            business = "business " if value.get("business") else ""
            return f"{value['amount']} {business}{value['unit']}"
        if node in ("String", "DateLit", "DateTimeLit", "Bool"):
            return json.dumps(value.get("value"), ensure_ascii=False)
        if node == "Ref":
            return ".".join(value.get("parts", []))
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _part_name(item, index: int) -> str:
    if isinstance(item, dict):
        kind = _PARTS.get(item.get("node"), "item")
        label = item.get("label") or item.get("name") or item.get("source")
        if isinstance(label, str):
            return f"{kind} '{label}'"
        return f"{kind} {index + 1}"
    return f"item {index + 1}"


def _diff(a, b, path: list[str]) -> list[tuple[list[str], str, str]]:
    if a == b:
        return []
    if isinstance(a, dict) and isinstance(b, dict) and a.get("node") == b.get("node") \
            and a.get("node") not in _LITERALS:
        out = []
        for key in sorted(set(a) | set(b)):
            if key != "node":
                out.extend(_diff(a.get(key), b.get(key), path + [key]))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) == len(b):
            out = []
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                out.extend(_diff(x, y, path + [_part_name(y, i)]))
            return out
        names_a = [_part_name(x, i) for i, x in enumerate(a)]
        names_b = [_part_name(y, i) for i, y in enumerate(b)]
        out = [(path + [n], "(present)", "(removed)") for n in names_a if n not in names_b]
        out += [(path + [n], "(absent)", "(added)") for n in names_b if n not in names_a]
        for n in names_a:
            if n in names_b:
                out.extend(_diff(a[names_a.index(n)], b[names_b.index(n)], path + [n]))
        return out
    return [(path, _show(a), _show(b))]


# ----------------------------------------------------------------------------- the report


def format_report(report: Report) -> str:
    """The report for people: what was checked, what matches, what does not and why."""
    if report.fingerprint is None:
        return (f"{report.document}\n  FAIL  the document carries no leadrules fingerprint: it "
                "was not rendered by `leadrules render`, or its metadata was removed.")
    lines = [f"{report.document}: agreement rendered"
             + (f" in {report.language}" if report.language else "")
             + (f", dated {report.date}" if report.date else "")]
    if report.matches:
        lines.append(f"  ok    it matches {report.rules} (fingerprint {report.fingerprint}).")
    else:
        lines.append(f"  FAIL  it does not match {report.rules}:")
        lines.append(f"          document fingerprint {report.fingerprint}")
        lines.append(f"          rules fingerprint    {report.rules_fingerprint}")
        lines.append("        What changed in the rules since the document was rendered:")
        for change in report.changes:
            lines.extend("          " + line.strip() if i else "        - " + line
                         for i, line in enumerate(change.split("\n")))
    if not report.sealed:
        lines.append("  FAIL  the document has no seal: it cannot be shown unchanged since "
                     "rendering.")
    elif report.untouched and report.same_content is not False:
        lines.append("  ok    it has not been changed since it was rendered.")
    elif not report.untouched:
        lines.append("  FAIL  it was changed after rendering (its content no longer matches "
                     "its seal): render it again from the rules.")
    if report.same_content is True:
        lines.append("  ok    its text is exactly what the rules give when rendered again.")
    elif report.same_content is False:
        lines.append("  FAIL  its text is not what the rules give when rendered again: it was "
                     "edited after rendering (and its seal computed again).")
    if report.later_changes:
        lines.append(f"  FAIL  {report.later_changes}")
    if report.kind == "pdf" and report.signatures:
        lines.append("  Signatures:")
        for s in report.signatures:
            if not s.signed:
                lines.append(f"    -     {s.field}: not signed yet")
                continue
            who = f"signed by {s.signer}" + (f" on {s.when}" if s.when else "")
            if not s.intact:
                lines.append(f"    FAIL  {s.field}: {who}, but the signature is not valid"
                             + (f" ({s.problem})" if s.problem else ""))
            elif s.trusted:
                lines.append(f"    ok    {s.field}: {who}, valid, trusted certificate")
            else:
                lines.append(f"    ok    {s.field}: {who}, valid (the certificate is not "
                             "from an authority you trust: pass it with --trust to accept it)")
    lines.extend(f"  note  {n}" for n in report.notes)
    lines.append("Verdict: " + ("the document matches the rules." if report.ok
                                else "the document does NOT match the rules as they are."))
    return "\n".join(lines)

