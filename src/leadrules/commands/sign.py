"""`leadrules sign DOCUMENT --field PARTY`: a rendered PDF -> the same PDF signed by that party."""

from __future__ import annotations

import os
from pathlib import Path

import click

from leadrules.cli import PROBLEMS, USAGE


def _read(path: str, what: str) -> bytes:
    if Path(path).is_dir():
        click.echo(f"error: {what} {path} is a folder: name the file itself.", err=True)
        raise SystemExit(USAGE)
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        click.echo(f"error: {what} {path}: cannot be read ({exc.strerror or exc}).", err=True)
        raise SystemExit(USAGE) from None


@click.command("sign")
@click.argument("document", metavar="DOCUMENT")
@click.option("--field", required=True, metavar="PARTY",
              help="The party signing: the name of its signature field (marketing, sales...).")
@click.option("--key", required=True, metavar="KEY.pem", help="The signer's private key.")
@click.option("--cert", required=True, metavar="CERT.pem", help="The signer's certificate.")
@click.option("--passphrase", is_flag=True,
              help="Ask for the key's passphrase (or set LEADRULES_KEY_PASSPHRASE).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the signed PDF here (default: sign DOCUMENT in place).")
def command(document: str, field: str, key: str, cert: str, passphrase: bool,
            output: str | None) -> None:
    """Sign a rendered PDF agreement for one party (PAdES, in that party's signature box).

    Each signature is an incremental update: what was signed before stays byte for byte, and
    `leadrules verify` checks every signature. Needs the `sign` extra (pyHanko).
    """
    from leadrules.files import write_atomically
    from leadrules.signing import SignError, sign

    if output is not None and not Path(output).parent.is_dir():
        click.echo(f"error: -o {output}: the folder '{Path(output).parent}' does not exist; "
                   "create it first or write the signed copy elsewhere.", err=True)
        raise SystemExit(USAGE)
    data = _read(document, "the document")
    if not data.startswith(b"%PDF-"):
        click.echo(f"error: {document} is not a PDF: render the agreement with "
                   "`leadrules render RULES --format pdf` first.", err=True)
        raise SystemExit(USAGE)
    secret = os.environ.get("LEADRULES_KEY_PASSPHRASE")
    if passphrase:
        secret = click.prompt("Passphrase of the key", hide_input=True, err=True)
    try:
        signed = sign(data, field, _read(key, "the key"), _read(cert, "the certificate"),
                      secret.encode("utf-8") if secret else None)
    except SignError as exc:
        click.echo(f"{document}: {exc}.", err=True)
        raise SystemExit(PROBLEMS) from None
    target = Path(output or document)
    try:
        write_atomically(target, signed)
    except OSError as exc:
        click.echo(f"{target}: cannot be written ({exc.strerror or exc}).", err=True)
        raise SystemExit(PROBLEMS) from None
    click.echo(f"{target}: signed for {field}.", err=True)
