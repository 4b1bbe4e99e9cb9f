"""`mrtd pki ...`: the country's PKI in a site folder (CSCA, signers, CRLs, master lists, lint).

Secrets never come from argv: the key passphrase from $MRTD_KEY_PASSPHRASE, --passphrase-file or a
prompt; the PKCS#11 PIN from $MRTD_PKCS11_PIN, --pin-file or a prompt.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives import serialization

from mrtd.cli._common import (
    at_option,
    emit_json,
    guarded,
    json_option,
    key_secret,
    parse_at,
    passphrase_file_option,
    pin_file_option,
    print_findings,
    prompt_secret,
    require_crl_option,
    site_secret,
)
from mrtd.errors import Finding, InputError, Severity
from mrtd.limits import read_file
from mrtd.mrz.codes import alpha2_of, normalise_state
from mrtd.pki import lint as lintmod
from mrtd.pki import masterlist as mlmod
from mrtd.pki.keys import ALGORITHMS
from mrtd.pki.site import Pkcs11Config, PkiSite

site_option = click.option("--site", "site", type=click.Path(file_okay=False, path_type=Path), default=None,
                           help="Site folder (default $MRTD_SITE or the current folder).")


def _site(site: Path | None) -> PkiSite:
    path = site or Path(os.environ.get("MRTD_SITE") or os.getcwd())
    return PkiSite(path, clock=lambda: datetime.now(UTC), actor=getpass.getuser())


def _out(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        emit_json({"ok": True, **payload})
    else:
        click.echo(text)


@click.group()
def pki() -> None:
    """Country PKI: CSCA, Document Signers, seal signers, CRLs, master lists."""


@pki.command()
@click.option("--country", required=True,
              help="The issuing state: its ICAO code (UTO, D, NLD) or ISO 3166-1 alpha-2 code (certificate C).")
@click.option("--mrz-code", default=None, help="ICAO issuing-state code if not derivable (e.g. D for DE).")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="ecdsa-brainpoolp384r1", show_default=True)
@click.option("--pkcs11-module", type=click.Path(dir_okay=False), default=None)
@click.option("--token", default=None, help="PKCS#11 token label.")
@click.option("--common-name", default=None)
@click.option("--organization", default=None)
@site_option
@passphrase_file_option
@pin_file_option
@json_option
@guarded
def init(country: str, mrz_code: str | None, algorithm: str, pkcs11_module: str | None, token: str | None,
         common_name: str | None, organization: str | None, site: Path | None, passphrase_file: Path | None,
         pin_file: Path | None, as_json: bool) -> None:
    """Create the PKI and its first CSCA."""
    s = _site(site)
    if len(country.strip().rstrip("<")) != 2:  # an ICAO code: the certificates carry its alpha-2 code
        icao = normalise_state(country)
        alpha2 = alpha2_of(icao)
        if alpha2 is None:
            raise click.BadParameter(f"{country!r} has no ISO 3166-1 alpha-2 code; give --country XX --mrz-code "
                                     f"{icao.rstrip('<')}", param_hint="--country")
        country, mrz_code = alpha2, mrz_code or icao.rstrip("<")
    p11 = None
    passphrase = b""
    if pkcs11_module or token:
        if not (pkcs11_module and token):
            raise click.UsageError("--pkcs11-module and --token go together")
        p11 = Pkcs11Config(pkcs11_module, token, key_secret(True, passphrase_file, pin_file))
    else:
        passphrase = key_secret(False, passphrase_file, pin_file)
    rec = s.init(country, algorithm, passphrase, pkcs11=p11, mrz_code=mrz_code, common_name=common_name,
                 organization=organization)
    _out(as_json, {"certificate": rec.as_dict()}, f"CSCA {rec.serial} created: {rec.file}")


@pki.command()
@click.argument("role", type=click.Choice(["ds", "seal-signer", "vdsnc-signer", "masterlist-signer",
                                           "deviationlist-signer"]))
@click.option("--common-name", default=None, help="Subject CN (2 characters for seal/VDS-NC signers).")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=None)
@click.option("--document-type", "document_types", multiple=True, default=("P",), show_default=True)
@click.option("--usage-months", type=int, default=None, help="DS private key usage period (default 3).")
@click.option("--document-validity-years", type=int, default=None)
@site_option
@passphrase_file_option
@pin_file_option
@json_option
@guarded
def issue(role: str, common_name: str | None, algorithm: str | None, document_types: tuple[str, ...],
          usage_months: int | None, document_validity_years: int | None, site: Path | None,
          passphrase_file: Path | None, pin_file: Path | None, as_json: bool) -> None:
    """Issue a Document Signer, seal signer, VDS-NC signer or master/deviation list signer."""
    s = _site(site)
    rec = s.issue(role, site_secret(s, passphrase_file, pin_file), common_name=common_name, algorithm=algorithm,
                  document_types=document_types, usage_months=usage_months,
                  document_validity_years=document_validity_years)
    _out(as_json, {"certificate": rec.as_dict()}, f"{role} {rec.serial} issued: {rec.file}")


@pki.command()
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=None)
@site_option
@passphrase_file_option
@pin_file_option
@json_option
@guarded
def rollover(algorithm: str | None, site: Path | None, passphrase_file: Path | None, pin_file: Path | None,
             as_json: bool) -> None:
    """New CSCA key and certificate, plus a link certificate signed by the old key."""
    s = _site(site)
    new, link = s.rollover(site_secret(s, passphrase_file, pin_file), algorithm=algorithm)
    _out(as_json, {"csca": new.as_dict(), "link": link.as_dict()},
         f"new CSCA {new.serial} ({new.file}); link {link.serial} ({link.file}); usable from {new.usage_start}")


@pki.command()
@click.argument("serial")
@click.option("--reason", required=True, help="Kept in the site records and log (not in the CRL: Part 12).")
@site_option
@json_option
@guarded
def revoke(serial: str, reason: str, site: Path | None, as_json: bool) -> None:
    """Revoke a certificate; publish with `mrtd pki crl` within 48 hours."""
    rec = _site(site).revoke(serial, reason)
    _out(as_json, {"certificate": rec.as_dict()}, f"{rec.role} {rec.serial} revoked ({reason}); publish a CRL")


@pki.command()
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--next-update-days", type=int, default=90, show_default=True)
@site_option
@passphrase_file_option
@pin_file_option
@json_option
@guarded
def crl(out: Path, next_update_days: int, site: Path | None, passphrase_file: Path | None, pin_file: Path | None,
        as_json: bool) -> None:
    """Issue a new full CRL and write it (DER, or PEM when FILE ends in .pem)."""
    s = _site(site)
    c = s.crl(site_secret(s, passphrase_file, pin_file), next_update_days=next_update_days)
    enc = serialization.Encoding.PEM if out.suffix == ".pem" else serialization.Encoding.DER
    out.write_bytes(c.public_bytes(enc))
    number = c.extensions.get_extension_for_class(__import__("cryptography").x509.CRLNumber).value.crl_number
    _out(as_json, {"crl_number": number, "file": str(out)}, f"CRL {number} written to {out}")


@pki.group()
def masterlist() -> None:
    """Build, verify and import CSCA master lists."""


@masterlist.command("build")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@site_option
@passphrase_file_option
@pin_file_option
@json_option
@guarded
def ml_build(out: Path, site: Path | None, passphrase_file: Path | None, pin_file: Path | None, as_json: bool) -> None:
    s = _site(site)
    der = s.masterlist(site_secret(s, passphrase_file, pin_file))
    out.write_bytes(der)
    _out(as_json, {"file": str(out), "bytes": len(der)}, f"master list written to {out} ({len(der)} bytes)")


@masterlist.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--trust", "trust", type=click.Path(exists=True, path_type=Path), default=None,
              help="CSCA certificate(s) to trust (default: the site's trust store).")
@at_option
@require_crl_option
@site_option
@json_option
@guarded
def ml_verify(file: Path, trust: Path | None, at: str | None, require_crl: bool, site: Path | None,
              as_json: bool) -> None:
    """Verify a master list's signature and its signer's path to a CSCA already trusted."""
    from mrtd.pki.trust import TrustStore

    store = TrustStore.load(trust) if trust else _site(site).trust_store()
    store.require_crl = require_crl
    when = parse_at(at)
    ml = mlmod.parse(read_file(file, "FILE"))
    signer = mlmod.verify(ml, store, when)
    _out(as_json, {"signer": signer.subject_text, "entries": len(ml.csca_der), "signing_time": ml.signing_time,
                   "at": when.isoformat()},
         f"master list OK as of {when:%Y-%m-%d}: {len(ml.csca_der)} entries, signed by {signer.subject_text}")


@masterlist.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--trust", "trust", type=click.Path(exists=True, path_type=Path), default=None,
              help="Verify against these CSCA certificate(s) (default: the site's trust store).")
@click.option("--unverified", is_flag=True,
              help="Import without checking the list's signature (logged as unverified in the key log).")
@at_option
@site_option
@json_option
@guarded
def ml_import(file: Path, trust: Path | None, unverified: bool, at: str | None, site: Path | None,
              as_json: bool) -> None:
    """Import a master list's CSCA certificates into the site's trust store, after verifying it."""
    from mrtd.pki.trust import TrustStore

    s = _site(site)
    if unverified and trust is not None:
        raise click.UsageError("--unverified and --trust contradict each other")
    n = s.import_masterlist(read_file(file, "FILE"), verify_with=TrustStore.load(trust) if trust else None,
                            at=parse_at(at) if at else None, unverified=unverified)
    note = "NOT verified (--unverified; logged)" if unverified else "signature and signer verified"
    if unverified:
        click.echo("warning: importing a master list whose signature was not checked", err=True)
    _out(as_json, {"entries": n, "verified": not unverified},
         f"imported {n} CSCA certificates (bytes kept as received); {note}")


@pki.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--role", default=None, type=click.Choice(sorted(lintmod.ROLES)),
              help="Certificate profile to check against (default: from the certificate's own extensions).")
@at_option
@json_option
@guarded
def lint_cmd(files: tuple[Path, ...], role: str | None, at: str | None, as_json: bool) -> None:
    """Lint certificates, CRLs and master lists against Doc 9303 Part 12 and the ICAO PKD checks."""
    when = parse_at(at)
    results: dict[str, list[Finding]] = {}
    for f in files:
        results[str(f)] = lintmod.lint_file(read_file(f, "FILE"), role, at=when)
    bad = any(x.severity is not Severity.INFO for found in results.values() for x in found)
    if as_json:
        emit_json({"ok": not bad, "files": {k: [x.as_dict() for x in v] for k, v in results.items()}})
    else:
        for name, findings in results.items():
            serious = sum(1 for x in findings if x.severity is not Severity.INFO)
            click.echo(f"{name}: {'OK' if not serious else f'{serious} finding(s)'}"
                       + (f", {len(findings) - serious} note(s)" if len(findings) > serious else ""))
            print_findings(findings)
    if bad:
        raise SystemExit(1)


@pki.command("list")
@site_option
@json_option
@guarded
def list_cmd(site: Path | None, as_json: bool) -> None:
    """Every certificate: role, serial, validity, usage period, status, file."""
    s = _site(site)
    recs = s.list()
    if as_json:
        emit_json({"ok": True, "certificates": [{**r.as_dict(), "file": str(s.root / r.file)} for r in recs]})
        return
    for r in recs:
        click.echo(f"{r.role:21} {r.serial:40} {r.not_before[:10]}..{r.not_after[:10]} "
                   f"usage {(r.usage_start or '-')[:10]}..{(r.usage_end or '-')[:10]} {r.status:10} {s.root / r.file}")


# -- EAC: the CV certificate PKI (CVCA -> DV -> inspection systems) ----------------------------------------


def _cv(site: Path | None, country: str | None) -> Any:
    from mrtd.pki.cvc.store import CvPki

    pki_site = _site(site)
    code = country or (str(pki_site._load().get("country", "")) if pki_site.exists() else "")
    if not code:
        raise InputError("--country: no site PKI to take the country from; give the two-letter code")
    alpha2 = alpha2_of(normalise_state(code)) if len(code) == 3 else code.upper()
    if alpha2 is None:
        raise InputError(f"--country: {code!r} has no two-letter code")
    return CvPki(pki_site.root, alpha2)


def _today() -> Any:
    return datetime.now(UTC).date()


def _rights(values: tuple[str, ...]) -> int:
    from mrtd.pki.cvc.store import rights_of

    return rights_of(v for value in values for v in value.split(","))


def _cv_out(as_json: bool, cert: Any, path: str, extra: dict[str, Any] | None = None) -> None:
    payload = {"chr": cert.chr, "car": cert.car, "role": cert.chat.role.name, "rights": cert.chat.rights,
               "effective": cert.effective.isoformat(), "expiration": cert.expiration.isoformat(), "file": path,
               **(extra or {})}
    _out(as_json, payload, f"{cert.chat.role.name} {cert.chr} (by {cert.car}), {cert.effective} .. "
                           f"{cert.expiration}, rights {cert.chat.rights:#04x}: {path}")


country_option = click.option("--country", default=None, help="Two-letter code (default: the site PKI's country).")
rights_option = click.option("--rights", multiple=True, default=("dg3,dg4",), show_default=True,
                             help="Read access granted: dg3 (fingerprints), dg4 (irises), comma separated.")


@pki.group("cvca")
def cvca() -> None:
    """The Country Verifying CA of Extended Access Control (BSI TR-03110): CV certificates."""


@cvca.command("init")
@click.option("--mnemonic", default="CVCA", show_default=True, help="Holder mnemonic (up to 9 characters).")
@click.option("--curve", type=click.Choice(["brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", "secp256r1",
                                            "secp384r1", "secp521r1"]), default="brainpoolP256r1", show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=3 * 365, show_default=True)
@rights_option
@country_option
@site_option
@passphrase_file_option
@json_option
@guarded
def cvca_init(mnemonic: str, curve: str, days: int, rights: tuple[str, ...], country: str | None, site: Path | None,
              passphrase_file: Path | None, as_json: bool) -> None:
    """Make the CVCA key and its self-signed CV certificate (with the domain parameters)."""
    cv = _cv(site, country)
    cert = cv.init_cvca(mnemonic, curve, days, _rights(rights), key_secret(False, passphrase_file, None), _today())
    _cv_out(as_json, cert, str(cv.root / "cvca" / f"{cert.chr}.cvcert"))


@cvca.command("link")
@click.option("--days", type=click.IntRange(1, 3650), default=3 * 365, show_default=True)
@country_option
@site_option
@passphrase_file_option
@json_option
@guarded
def cvca_link(days: int, country: str | None, site: Path | None, passphrase_file: Path | None, as_json: bool) -> None:
    """Roll the CVCA over: a new key, its certificate, and the link certificate the old key signs."""
    cv = _cv(site, country)
    new, link = cv.link(days, key_secret(False, passphrase_file, None), _today())
    _cv_out(as_json, link, str(cv.root / "links" / f"{link.chr}.cvcert"), {"new_cvca": new.chr})


@pki.group("dv")
def dv() -> None:
    """Document Verifiers: certified by the CVCA, they certify inspection systems."""


@dv.command("issue")
@click.option("--mnemonic", required=True, help="Holder mnemonic the CVCA assigns (up to 9 characters).")
@click.option("--foreign", is_flag=True, help="A foreign DV (its terminal certificates do not set the chip's date).")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True)
@rights_option
@country_option
@site_option
@passphrase_file_option
@json_option
@guarded
def dv_issue(mnemonic: str, foreign: bool, days: int, rights: tuple[str, ...], country: str | None, site: Path | None,
             passphrase_file: Path | None, as_json: bool) -> None:
    """Issue a DV key pair and certificate under the current CVCA."""
    cv = _cv(site, country)
    cert = cv.issue_dv(mnemonic, not foreign, _rights(rights), days, key_secret(False, passphrase_file, None), _today())
    _cv_out(as_json, cert, str(cv.root / "dv" / f"{cert.chr}.cvcert"))


@pki.group("is")
def is_group() -> None:
    """Inspection systems: the terminals that read fingerprints and irises."""


@is_group.command("issue")
@click.option("--dv", "dv_chr", required=True, help="The issuing DV's CHR.")
@click.option("--mnemonic", required=True, help="Holder mnemonic the DV assigns (up to 9 characters).")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the terminal's chain (<CHR>.cvcert) and encrypted key (<CHR>.key).")
@click.option("--is-passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Passphrase for the terminal's key (else $MRTD_IS_KEY_PASSPHRASE or a prompt).")
@rights_option
@country_option
@site_option
@passphrase_file_option
@json_option
@guarded
def is_issue(dv_chr: str, mnemonic: str, days: int, out: Path, is_passphrase_file: Path | None, rights: tuple[str, ...],
             country: str | None, site: Path | None, passphrase_file: Path | None, as_json: bool) -> None:
    """Issue an inspection system's key pair and CV certificate under a DV."""
    from mrtd.pki.keys import terminal_passphrase_from

    cv = _cv(site, country)
    is_secret = terminal_passphrase_from(os.environ, is_passphrase_file, prompt_secret)
    cert, chain, key = cv.issue_is(dv_chr, mnemonic, _rights(rights), days, key_secret(False, passphrase_file, None),
                                   is_secret, _today(), out)
    _cv_out(as_json, cert, str(chain), {"key": str(key)})

