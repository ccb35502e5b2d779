"""A rendered PDF agreement + a party's key and certificate -> the same PDF with that party's
PAdES signature in its box (one incremental update per party); and a signed PDF -> the state of
each signature field. Needs pyHanko (`pip install 'leadrules[sign]'`).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from leadrules.render.messages import LANGUAGES, Messages

MISSING = ("signing needs pyHanko, which is not installed: install it with "
           "`pip install 'leadrules[sign]'`")


class SignError(Exception):
    """Signing cannot be done; the message says why and what to do."""


def available() -> bool:
    try:
        import pyhanko  # noqa: F401
    except ImportError:
        return False
    return True


def _quiet() -> None:
    # pyHanko logs full tracebacks for conditions we report in words (self-signed, untrusted).
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Field:
    name: str
    signed: bool


def fields(data: bytes) -> list[Field]:
    """The signature fields of a PDF, in document order."""
    if not available():
        raise SignError(MISSING)
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    _quiet()
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return [Field(name, value is not None) for name, value, _ in enumerate_sig_fields(reader)]


def sign(data: bytes, field: str, key: bytes, cert: bytes, passphrase: bytes | None = None
         ) -> bytes:
    """`data` with a PAdES signature (baseline B) added in the field `field`."""
    if not available():
        raise SignError(MISSING)
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields as sig_fields
    from pyhanko.sign import signers
    from pyhanko.stamp import TextStampStyle

    _quiet()
    present = fields(data)
    names = [f.name for f in present]
    if field not in names:
        hint = (f"the document's signature fields are {', '.join(names)}" if names
                else "this PDF has no signature field: render it with `leadrules render "
                     "--format pdf`")
        raise SignError(f"there is no signature field '{field}' ({hint})")
    if next(f for f in present if f.name == field).signed:
        raise SignError(f"the field '{field}' is already signed: each party signs once")
    signer = _load_signer(key, cert, passphrase)
    language = _language(data)
    messages = Messages(language) if language else None
    stamp = messages.text("signatures.stamp") if messages else "%(signer)s\n%(ts)s"
    when = messages.text("signatures.stamp_time") if messages else "%Y-%m-%d %H:%M %Z"
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=sig_fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=TextStampStyle(
        stamp_text=stamp, timestamp_format=when))
    out = io.BytesIO()
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        pdf_signer.sign_pdf(writer, output=out)
    except Exception as exc:  # pyHanko raises many kinds; the user needs the words
        raise SignError(f"the PDF could not be signed: {exc}") from None
    return out.getvalue()


def _load_signer(key: bytes, cert: bytes, passphrase: bytes | None):
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509 import load_der_x509_certificate, load_pem_x509_certificate
    from pyhanko.keys import load_private_key_from_pemder_data
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    try:
        certificate = (load_pem_x509_certificate(cert) if b"-----BEGIN" in cert
                       else load_der_x509_certificate(cert))
    except ValueError:
        raise SignError("the certificate file is not a PEM or DER X.509 certificate") from None
    try:
        private = serialization.load_pem_private_key(key, passphrase) if b"-----BEGIN" in key \
            else serialization.load_der_private_key(key, passphrase)
    except TypeError:
        raise SignError("the key is protected by a passphrase: give it with --passphrase"
                        ) from None
    except ValueError:
        raise SignError("the key file cannot be read: it is not a PEM or DER private key, or "
                        "the passphrase is wrong") from None
    public = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != public:
        raise SignError("the key does not belong to the certificate: give the key that was "
                        "used to request this certificate")
    der = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    signing_cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    return signers.SimpleSigner(
        signing_cert=signing_cert,
        signing_key=load_private_key_from_pemder_data(der, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs([signing_cert]))


def _language(data: bytes) -> str | None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        lang = str(PdfFileReader(io.BytesIO(data), strict=False).root.get("/Lang", ""))
    except Exception:  # no readable catalog: sign with the neutral stamp
        return None
    lang = lang[:2].lower()
    return lang if lang in LANGUAGES else None


def inspect(data: bytes, trust: tuple[bytes, ...] = (), checked_from_revision: bool = True):
    """(the signature fields with their state, a sentence about changes made after rendering
    that are not signatures or form filling, or None)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from leadrules.verify import Signature

    _quiet()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
    except Exception as exc:  # a damaged file is a finding, not a crash
        return [], f"the PDF cannot be read ({exc})"
    roots = [_asn1_cert(c) for c in trust]
    context = ValidationContext(trust_roots=[r for r in roots if r is not None],
                                allow_fetching=False)
    signed = {}
    for embedded in reader.embedded_signatures:
        try:
            status = validate_pdf_signature(embedded, context)
            signer = status.signing_cert.subject.native.get("common_name") \
                or status.signing_cert.subject.human_friendly
            when = status.signer_reported_dt.strftime("%Y-%m-%d %H:%M") \
                if status.signer_reported_dt else None
            problem = None if status.intact and status.valid else (
                "the signed content was altered" if not status.intact
                else "the signature does not verify")
            signed[embedded.field_name] = Signature(
                embedded.field_name, True, signer, when, status.intact and status.valid,
                bool(status.trusted), problem)
        except Exception as exc:  # a broken signature is reported, not raised
            signed[embedded.field_name] = Signature(embedded.field_name, True, None, None,
                                                    False, False, str(exc))
    from pyhanko.sign.fields import enumerate_sig_fields

    out = [signed.get(name, Signature(name, False))
           for name, _, _ in enumerate_sig_fields(reader)]
    later = None
    if checked_from_revision and reader.xrefs.total_revisions > 1:
        result = DEFAULT_DIFF_POLICY.review_file(reader, 0)
        level = getattr(result, "modification_level", None)
        if level is None or level > ModificationLevel.FORM_FILLING:
            later = ("the document was modified after rendering by more than signatures: "
                     "render it again from the rules and sign the new document")
    return out, later


def _asn1_cert(data: bytes):
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    try:
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        return asn1_x509.Certificate.load(data)
    except ValueError:
        return None
