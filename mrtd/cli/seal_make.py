"""`mrtd seal make`: a visible digital seal image for an application. (A module-level click command;
`mrtd.cli.seal` lists it in the group.)

`make` reads the application, builds its MRZ and signs with the site's current seal signer (VDS, IDB)
or VDS-NC signer; that key's own secret comes from $MRTD_SEAL_PASSPHRASE / $MRTD_VDSNC_PASSPHRASE, --secret-file or a prompt,
never from the command line.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization

from mrtd.cli._common import (
    emit_json,
    guarded,
    json_option,
    secret_file_option,
    site_option,
    site_secrets,
)
from mrtd.errors import ConfigurationError, InputError
from mrtd.issuance.application import read_application
from mrtd.model import DocumentFormat
from mrtd.mrz import mrz_lines
from mrtd.pki.site import PkiSite
from mrtd.seals import barcode
from mrtd.seals.issue import (
    DocumentKind,
    SealFormat,
    SealRequest,
    check_format,
    make_idb,
    make_vds,
    make_vdsnc,
    parse_duration,
)
from mrtd.seals.profiles import Duration

_EXTRA = {"passport_number": "seal.passport_number", "duration": "seal.duration_of_stay",
          "entries": "seal.number_of_entries"}


@click.command("make")
@click.argument("application", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice([f.value for f in SealFormat]), required=True,
              help="vds: Doc 9303-13 binary seal; idb: ICAO Datastructure for Barcode; vdsnc: VDS-NC JSON.")
@click.option("--type", "kind", type=click.Choice([k.value for k in DocumentKind]), required=True,
              help="visa (MRV-A/MRV-B application), etd (emergency travel document, TD2) or mrz (the TD1/TD3 "
                   "document's own MRZ, plus its CAN when it has one; IDB only).")
@site_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PNG file to write.")
@click.option("--symbology", type=click.Choice([s.value for s in barcode.Symbology]), default="qr",
              show_default=True)
@click.option("--passport-number", default=None,
              help="Visa: number of the passport the visa goes in (else the application's extra 'seal.passport_number').")
@click.option("--duration-of-stay", default=None,
              help="Visa: DAYS or DAYS/MONTHS/YEARS (else extra 'seal.duration_of_stay').")
@click.option("--entries", type=click.IntRange(0, 255), default=None,
              help="Visa: number of entries, 0 = unlimited (else extra 'seal.number_of_entries'; optional).")
@click.option("--embed-certificate", is_flag=True, help="IDB: embed the signer certificate (tag 0x7E).")
@secret_file_option
@json_option
@guarded
def make(application: Path, fmt: str, kind: str, site: Path, out: Path, symbology: str,
         passport_number: str | None, duration_of_stay: str | None, entries: int | None, embed_certificate: bool,
         secret_files: tuple[str, ...], as_json: bool) -> None:
    """Make a seal for APPLICATION and write it as a 300-dpi PNG."""
    if out.exists():
        raise InputError(f"--out: {out} exists; refusing to overwrite it")
    now = datetime.now(UTC)
    app = read_application(application)
    doc = app.document
    seal_kind = DocumentKind(kind)
    seal_format = SealFormat(fmt)
    check_format(seal_format, seal_kind)  # before any key is unlocked
    if seal_kind is DocumentKind.VISA and not doc.format.is_visa:
        raise InputError(f"document.format: {doc.format.value} is not a visa (MRV-A or MRV-B)")
    if seal_kind is DocumentKind.ETD and doc.format is not DocumentFormat.TD2:
        raise InputError(f"document.format: the emergency travel document seal carries a TD2 MRZ (2 x 36); "
                         f"the application is {doc.format.value} [ICAO TR VDS for Non-Electronic Documents: ETD]")
    if seal_kind is DocumentKind.MRZ and doc.format not in (DocumentFormat.TD1, DocumentFormat.TD3):
        raise InputError(f"document.format: the IDB has ICAO MRZ messages for TD1 (0x07) and TD3 (0x08) only; the "
                         f"application is {doc.format.value} [ICAO TR Datastructure for Barcode]")
    if doc.number is None:
        raise InputError("document.number: allocate the document number before making its seal")
    extra = app.extra
    request = SealRequest(
        kind=seal_kind, issuing_state=doc.issuing_state, mrz=tuple(mrz_lines(doc)),
        issue_date=doc.date_of_issue or now.date(),
        passport_number=(passport_number or extra.get(_EXTRA["passport_number"], "")),
        duration_of_stay=_duration(duration_of_stay or extra.get(_EXTRA["duration"])),
        number_of_entries=entries if entries is not None else _entries(extra.get(_EXTRA["entries"])),
        can=doc.can if seal_kind is DocumentKind.MRZ else "",
    )
    root = site
    pki_site = PkiSite(root, clock=lambda: now, actor=getpass.getuser())
    date_bytes = 4
    if (root / "mrtd.toml").is_file():
        from mrtd.issuance.site import load_site  # the site's settings; `seal verify` needs no records floor

        date_bytes = load_site(root).idb_date_bytes
    role = "vdsnc-signer" if seal_format is SealFormat.VDSNC else "seal-signer"
    signer, certificate = pki_site.signer_for(role, _secret(pki_site, role, secret_files))
    cert_der = certificate.public_bytes(serialization.Encoding.DER)
    payload: bytes
    if seal_format is SealFormat.VDS:
        payload = make_vds(request, signer, certificate, now.date()).raw
    elif seal_format is SealFormat.IDB:
        payload = make_idb(request, signer, cert_der, now.date(), embed_certificate,
                           date_bytes=date_bytes).text.encode("ascii")
    else:
        payload = make_vdsnc(request, signer, cert_der).text.encode("utf-8")
    image = barcode.render(payload, barcode.Symbology(symbology))
    _write_new(out, barcode.to_png(image))
    result = {"out": str(out), "format": fmt, "type": kind, "symbology": symbology,
              "bytes": len(payload), "pixels": list(image.size), "signer_serial": f"{certificate.serial_number:X}"}
    if as_json:
        emit_json(result)
    else:
        click.echo(f"{out}: {fmt} {kind} seal, {len(payload)} bytes, {symbology} {image.size[0]}x{image.size[1]} px "
                   f"at 300 dpi, signer {certificate.subject.rfc4514_string()} serial {certificate.serial_number:X}")


def _duration(text: str | None) -> Duration | None:
    return parse_duration(text) if text else None


def _entries(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or int(text) > 255:
        raise InputError(f"extra.{_EXTRA['entries']}: {text!r} is not 0..255")
    return int(text)


def _secret(site: PkiSite, role: str, files: tuple[str, ...]) -> bytes:
    if not site.exists():
        raise ConfigurationError(f"{site.root}: no PKI here; run `mrtd pki init` first")
    return site_secrets(site, [role], files)[role]


def _write_new(path: Path, data: bytes) -> None:
    """Write a new file completely or not at all (temp file, then an exclusive link)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise InputError(f"--out: {path} exists; refusing to overwrite it") from None
    except OSError as exc:
        raise InputError(f"--out: cannot write {path}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
