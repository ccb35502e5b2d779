"""Tests for `leadrules sign`: a PAdES signature per party in its box, one incremental update
each, read back by `leadrules verify`; clear refusals for wrong fields, keys and passphrases.
Certificates are self-signed ones made here."""

from __future__ import annotations

import datetime as dt
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadrules.check import check
from leadrules.cli import main

pytest.importorskip("pyhanko", reason="signing needs pyHanko (the sign extra)")
pytest.importorskip("weasyprint", reason="signing tests need a rendered PDF (WeasyPrint)")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from leadrules import signing  # noqa: E402
from leadrules.render import render_pdf  # noqa: E402
from leadrules.verify import format_report, verify  # noqa: E402

HERE = Path(__file__).parent
REFERENCE = HERE / "fixtures" / "reference.leadrules"


def make_identity(folder: Path, name: str, passphrase: bytes | None = None) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    protection = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    key_path, cert_path = folder / f"{name}.key.pem", folder / f"{name}.cert.pem"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8, protection))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@pytest.fixture(scope="module")
def rendered() -> bytes:
    return render_pdf(check(REFERENCE), on=date(2027, 1, 1))


@pytest.fixture
def accord(rendered: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "accord.pdf"
    path.write_bytes(rendered)
    return path


def sign_cli(accord: Path, field: str, key: Path, cert: Path, *extra: str, env=None):
    return CliRunner().invoke(main, ["sign", str(accord), "--field", field, "--key", str(key),
                                     "--cert", str(cert), *extra], env=env)


def test_two_parties_sign_and_verify(accord: Path, rendered: bytes, tmp_path: Path) -> None:
    claire = make_identity(tmp_path, "Claire Martin")
    hugo = make_identity(tmp_path, "Hugo Bernard")
    result = sign_cli(accord, "marketing", *claire)
    assert result.exit_code == 0, result.output
    once = accord.read_bytes()
    assert once.startswith(rendered) and len(once) > len(rendered)  # an incremental update
    result = sign_cli(accord, "sales", *hugo)
    assert result.exit_code == 0, result.output
    twice = accord.read_bytes()
    assert twice.startswith(once)
    assert [(f.name, f.signed) for f in signing.fields(twice)] == [("marketing", True),
                                                                  ("sales", True)]
    report = verify(accord, check(REFERENCE))
    assert report.ok, format_report(report)
    by_field = {s.field: s for s in report.signatures}
    assert by_field["marketing"].signer == "Claire Martin" and by_field["marketing"].intact
    assert by_field["sales"].signer == "Hugo Bernard" and not by_field["sales"].trusted
    result = CliRunner().invoke(main, ["verify", str(accord), str(REFERENCE),
                                       "--trust", str(claire[1])])
    assert result.exit_code == 0, result.output
    assert "marketing: signed by Claire Martin" in result.output
    assert "valid, trusted certificate" in result.output


def _stamp(data: bytes, field: str) -> str:
    """The text drawn in a signed field's box (its appearance stream, decoded)."""
    import io

    import pypdf

    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/T") == field:
                raw = annot["/AP"]["/N"].get_object().get_data()
                shown = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", raw)
                return " ".join(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8)]), t)
                                .decode("latin-1") for t in shown)
    raise AssertionError(f"no field {field}")


def test_the_stamp_is_in_the_documents_language(accord: Path, tmp_path: Path) -> None:
    key, cert = make_identity(tmp_path, "Claire Martin")
    assert sign_cli(accord, "marketing", key, cert).exit_code == 0
    stamp = _stamp(accord.read_bytes(), "marketing")
    # The reference agreement is French: the date reads day/month/year, "à" before the time.
    assert re.fullmatch(r"Signé par Claire Martin le \d\d/\d\d/\d{4} à \d\d:\d\d UTC", stamp), stamp


def test_a_signed_document_edited_afterwards_is_caught(accord: Path, tmp_path: Path) -> None:
    key, cert = make_identity(tmp_path, "Claire Martin")
    assert sign_cli(accord, "marketing", key, cert).exit_code == 0
    data = accord.read_bytes()
    accord.write_bytes(data.replace(b"<leadrules:language>fr", b"<leadrules:language>en"))
    report = verify(accord, check(REFERENCE))
    assert not report.ok and not report.untouched
    assert not report.signatures[0].intact
    assert "not valid" in format_report(report)


def test_refusals(accord: Path, tmp_path: Path) -> None:
    key, cert = make_identity(tmp_path, "Claire Martin")
    other_key, _ = make_identity(tmp_path, "Someone Else")
    result = sign_cli(accord, "finance", key, cert)
    assert result.exit_code == 1 and "marketing, sales" in result.output
    result = sign_cli(accord, "marketing", other_key, cert)
    assert result.exit_code == 1 and "does not belong to the certificate" in result.output
    assert sign_cli(accord, "marketing", key, cert).exit_code == 0
    result = sign_cli(accord, "marketing", key, cert)
    assert result.exit_code == 1 and "already signed" in result.output
    not_pdf = tmp_path / "accord.html"
    not_pdf.write_text("<!DOCTYPE html>", encoding="utf-8")
    assert sign_cli(not_pdf, "marketing", key, cert).exit_code == 2
    for result in (sign_cli(accord, "sales", tmp_path / "nokey.pem", cert),):
        assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_key_with_a_passphrase(accord: Path, tmp_path: Path) -> None:
    key, cert = make_identity(tmp_path, "Hugo Bernard", passphrase=b"s3cret phrase")
    result = sign_cli(accord, "sales", key, cert)
    assert result.exit_code == 1 and "--passphrase" in result.output
    result = sign_cli(accord, "sales", key, cert, env={"LEADRULES_KEY_PASSPHRASE": "wrong"})
    assert result.exit_code == 1 and "passphrase is wrong" in result.output
    result = CliRunner().invoke(main, ["sign", str(accord), "--field", "sales", "--key",
                                       str(key), "--cert", str(cert), "--passphrase"],
                                input="s3cret phrase\n")
    assert result.exit_code == 0, result.output


def test_without_pyhanko_the_message_says_what_to_install(monkeypatch, accord: Path,
                                                          tmp_path: Path) -> None:
    key, cert = make_identity(tmp_path, "Claire Martin")
    monkeypatch.setattr(signing, "available", lambda: False)
    result = sign_cli(accord, "marketing", key, cert)
    assert result.exit_code == 1
    assert "pip install 'leadrules[sign]'" in result.output
