"""A rendered document -> the same document carrying a digest of itself, and the check of it.

The digest is a SHA-256 of every byte of the rendered document, computed with the digest field
itself set to zeros (the field has a fixed width, so writing it in changes no other byte).
In HTML and Markdown the field sits in the text; in a PDF it sits in the uncompressed XMP
metadata, beside the length of the rendered file, so that signatures appended later (PDF
incremental updates) leave the sealed part intact.
"""

from __future__ import annotations

import hashlib
import re

ZEROS = "0" * 64
PLACEHOLDER = f"sha256:{ZEROS}"
_FIELD = re.compile(r"leadrules-digest(?:\" content=\"|: )sha256:([0-9a-f]{64})")
_PDF_DIGEST = re.compile(rb"<leadrules:digest>sha256:([0-9a-f]{64})</leadrules:digest>")
_PDF_LENGTH = re.compile(rb"<leadrules:length>(\d{12})</leadrules:length>")
LENGTH_PLACEHOLDER = "0" * 12


def seal_text(text: str) -> str:
    """The HTML or Markdown text with its digest written in."""
    match = _FIELD.search(text)
    if match is None or match.group(1) != ZEROS:
        raise ValueError("the template has no digest placeholder")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text[: match.start(1)] + digest + text[match.end(1):]


def check_text(text: str) -> tuple[str | None, bool]:
    """(the digest found, whether the text still matches it)."""
    match = _FIELD.search(text)
    if match is None:
        return None, False
    zeroed = text[: match.start(1)] + ZEROS + text[match.end(1):]
    return match.group(1), hashlib.sha256(zeroed.encode("utf-8")).hexdigest() == match.group(1)


def seal_pdf(data: bytes) -> bytes:
    """The PDF with its length and digest written in (the metadata holds both placeholders)."""
    length = _PDF_LENGTH.search(data)
    digest = _PDF_DIGEST.search(data)
    if length is None or digest is None or digest.group(1) != ZEROS.encode():
        raise ValueError("the PDF metadata has no digest placeholder")
    data = data[: length.start(1)] + b"%012d" % len(data) + data[length.end(1):]
    value = hashlib.sha256(data).hexdigest().encode()
    return data[: digest.start(1)] + value + data[digest.end(1):]


def check_pdf(data: bytes) -> tuple[str | None, int | None, bool]:
    """(the digest found, the length of the rendered part, whether that part is untouched).

    The first digest in the file is the one written at rendering: later revisions are
    appended after it and cannot move it."""
    digest = _PDF_DIGEST.search(data)
    length = _PDF_LENGTH.search(data)
    if digest is None or length is None:
        return None, None, False
    size = int(length.group(1))
    if size > len(data) or digest.end() > size:
        return digest.group(1).decode(), size, False
    part = data[:size]
    zeroed = part[: digest.start(1)] + ZEROS.encode() + part[digest.end(1):]
    ok = hashlib.sha256(zeroed).hexdigest() == digest.group(1).decode()
    return digest.group(1).decode(), size, ok
