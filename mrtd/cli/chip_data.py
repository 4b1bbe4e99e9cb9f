"""`mrtd chip build` and `mrtd chip verify`: encode and sign a document's LDS, and passive authentication.
(Module-level click commands; `mrtd.cli.chip` lists them in the group.)

`build` writes a document folder (`EF.COM`, `DG1.bin` ... `DG16.bin`, `EF.SOD`, `EF.CardAccess`, and
`keys/chip-keys.json` for the chip writer, mode 0600). The Document Signer key's own secret comes from
`--secret-file ds=FILE`, $MRTD_DS_PASSPHRASE ($MRTD_DS_PIN for a key in a token) or a prompt, never the
command line; the site's `mrtd.toml`, when present, gives the name
transliteration options and the key store. The per-document keys are written encrypted with the
passphrase from `--keys-passphrase-file`, $MRTD_CHIP_KEYS_PASSPHRASE or a prompt; only
`--unencrypted-keys` (a test bench) writes them in the clear. As in the issuing pipeline, the document
is issued on the day its EF.SOD is signed: DG12 carries that date of issue, inside the Document
Signer's private key usage period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import click

from mrtd.chip.document import AA_ALGORITHMS, CA_ALGORITHMS, build_document_image, read_files, write_folder
from mrtd.chip.passive import passive_authentication
from mrtd.chip.portrait import Format, prepare_portrait, prepare_signature
from mrtd.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    at_option,
    chip_keys_passphrase,
    emit_json,
    guarded,
    json_option,
    parse_at,
    prompt_secret,
    require_crl_option,
    secret_file_option,
    site_option,
    site_secrets,
)
from mrtd.cli.output import verdict as split_verdict
from mrtd.errors import InputError, ValidationError
from mrtd.mrz import mrz_lines
from mrtd.pki.trust import TrustStore


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@click.command("build")
@click.argument("application", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@site_option
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="New or empty folder to write.")
@click.option("--aa", "aa", type=click.Choice([*AA_ALGORITHMS, "none"]), default="ecdsa-p256", show_default=True, help="Active Authentication key.")
@click.option("--ca", "ca", type=click.Choice([*CA_ALGORITHMS, "none"]), default="ecdh-p256", show_default=True, help="Chip Authentication key.")
@click.option("--pace/--no-pace", default=True, show_default=True, help="Write PACEInfo (EF.CardAccess, DG14).")
@click.option("--card-security/--no-card-security", default=False, show_default=True, help="Also write EF.CardSecurity.")
@click.option("--portrait-format", type=click.Choice(["jpeg", "jp2"]), default="jpeg", show_default=True)
@click.option("--portrait-budget", type=click.IntRange(2_000, 200_000), default=20_000, show_default=True, help="Bytes.")
@secret_file_option
@click.option("--keys-passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="Passphrase to encrypt keys/chip-keys.json.")
@click.option("--unencrypted-keys", is_flag=True, help="Write the per-document private keys in the clear (test benches only).")
@json_option
@guarded
def build(
    application: Path, site: Path, out: Path, aa: str, ca: str, pace: bool, card_security: bool,
    portrait_format: str, portrait_budget: int, secret_files: tuple[str, ...],
    keys_passphrase_file: Path | None, unencrypted_keys: bool, as_json: bool,
) -> None:  # fmt: skip
    """Encode and sign the chip files of APPLICATION into --out."""
    from mrtd.issuance.application import read_application  # the records floor loads only for `build`
    from mrtd.issuance.photo import check_photo
    from mrtd.issuance.site import load_site
    from mrtd.pki.site import PkiSite

    app = read_application(application)
    today = _now().date()
    if app.document.date_of_issue not in (None, today):
        # Honoured or refused, never replaced: DG12 carries the day the EF.SOD is signed.
        raise InputError(f"{application}: document.date_of_issue: {app.document.date_of_issue} is not today "
                         f"({today.isoformat()}), the day this chip is signed; give today's date or leave it out")
    document = dataclasses.replace(app.document, date_of_issue=today)
    if not document.number:
        raise InputError(f"{application}: document.number: no number allocated yet; the chip needs one")
    if app.portrait is None:
        raise InputError(f"{application}: portrait: the chip's DG2 needs a portrait image")
    fmt: Format = "jp2" if portrait_format == "jp2" else "jpeg"
    raw = app.portrait.read_bytes()
    photo = check_photo(raw)
    if not photo.ok:
        raise ValidationError(photo.findings("portrait"), source=str(application))
    portrait = prepare_portrait(raw, budget=portrait_budget, fmt=fmt, eyes=photo.eyes)
    signature = prepare_signature(app.signature.read_bytes()) if app.signature is not None else None
    # the site's mrtd.toml, when there is one: name transliteration choices and where the DS key lives
    config = load_site(site) if (site / "mrtd.toml").is_file() else None
    lines = mrz_lines(document, config.names) if config is not None else mrz_lines(document)
    keys_secret = chip_keys_passphrase(keys_passphrase_file)
    if keys_secret is None and not unencrypted_keys:
        if not sys.stdin.isatty():
            raise InputError("keys: the per-document Active/Chip Authentication private keys are written encrypted: "
                             "give --keys-passphrase-file or $MRTD_CHIP_KEYS_PASSPHRASE (or --unencrypted-keys on a test bench)")
        keys_secret = click.prompt("Passphrase for the chip keys", hide_input=True, confirmation_prompt=True,
                                   err=True).encode("utf-8")
    pki = PkiSite(site, clock=_now, actor="mrtd chip build")
    secret = site_secrets(pki, ["ds"], secret_files, prompt_secret if sys.stdin.isatty() else None)["ds"]
    signer, certificate = pki.signer_for("ds", secret)
    image = build_document_image(
        document, lines, portrait, signature, signer, certificate,
        clock=_now, aa=None if aa == "none" else aa,
        ca=None if ca == "none" else ca, pace=pace, card_security=card_security, eyes_located=True,
    )  # fmt: skip
    written = write_folder(image, out, passphrase=keys_secret)
    if as_json:
        emit_json({"out": str(out), "files": {n: len(b) for n, b in image.files.items()},
                   "written": [str(p) for p in written], "keys_encrypted": keys_secret is not None,
                   "date_of_issue": today.isoformat()})  # fmt: skip
        return
    for name, data in image.files.items():
        click.echo(f"{name:16} {len(data):6d} bytes")
    click.echo(f"written to {out} (keys: {'encrypted' if keys_secret else 'NOT encrypted'}, mode 0600)")


@click.command("verify")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--trust", "trust", required=True, type=click.Path(exists=True, path_type=Path), help="CSCA certificate, folder or master list.")
@at_option
@require_crl_option
@json_option
@guarded
def verify(folder: Path, trust: Path, at: str | None, require_crl: bool, as_json: bool) -> None:
    """Passive authentication of the document folder FOLDER; exit 0 only if every check passes."""
    when = parse_at(at)
    files = read_files(folder)
    report = passive_authentication(files, TrustStore.load(trust, require_crl=require_crl), when)
    if as_json:
        failed = [{"rule": c.name, "message": c.why} for c in report.failed()]
        emit_json(report.as_dict(), **split_verdict(report.ok, report.findings, failed))
    else:
        for c in report.checks:
            mark = "warn" if c.warning else {"passed": "ok  ", "failed": "FAIL", "not-applicable": "n/a "}[c.status.value]
            click.echo(f"{mark} {c.name}: {c.why}")
        for f in report.findings:
            click.echo(f"[{f.severity.value}] {f}")
        verdict = "PASSED" if report.ok else "FAILED: " + ", ".join(c.name for c in report.failed())
        warned = [f for f in report.findings if f.severity.value == "warning"]
        click.echo(f"passive authentication {verdict} as of {when:%Y-%m-%d %H:%M} UTC"
                   + (f" with {len(warned)} warning(s)" if warned and report.ok else ""))
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)
