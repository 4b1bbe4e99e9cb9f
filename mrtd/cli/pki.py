"""`mrtd pki ...`: the country's PKI in a site folder (CSCA, signers, requests, CRLs, master and deviation
lists, the ICAO PKD's LDIF, status, ceremonies, lint).

Every key has its own secret, never argv: the CSCA's from $MRTD_CSCA_PASSPHRASE (or the custodians' shares
in `mrtd pki ceremony ...`), a Document Signer's from $MRTD_DS_PASSPHRASE, and so on ($MRTD_<ROLE>_PIN for a
key in a token), or `--secret-file ROLE=FILE`, or a prompt.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mrtd.cli._common import (
    F,
    at_option,
    emit_json,
    guarded,
    json_option,
    new_site_option,
    parse_at,
    print_findings,
    prompt_secret,
    require_crl_option,
    role_secret,
    secret_file_option,
    site_option,
    site_secrets,
    utc_today,
)
from mrtd.cli.output import split_findings, table
from mrtd.errors import Finding, InputError, Severity, StateError
from mrtd.limits import read_file
from mrtd.mrz.codes import alpha2_of, normalise_state
from mrtd.pki import lint as lintmod
from mrtd.pki import masterlist as mlmod
from mrtd.pki.keys import ALGORITHMS, DEFAULT_ALGORITHM
from mrtd.pki.pkd import KINDS as PKD_KINDS
from mrtd.pki.profiles import country_codes
from mrtd.pki.site import END_ENTITY_ROLES, Pkcs11Config, PkiSite
from mrtd.private import write_private

if TYPE_CHECKING:
    from mrtd.pki.trust import TrustStore


role_argument = click.argument("role", type=click.Choice(END_ENTITY_ROLES))
CEREMONY = "mrtd.ceremony"  # click meta key: the ceremony gathering the CSCA's shares, when one runs


def _site(site: Path | None, at: datetime | None = None) -> PkiSite:
    path = site or Path(os.environ.get("MRTD_SITE") or os.getcwd())
    return PkiSite(path, clock=(lambda: at) if at else lambda: datetime.now(UTC), actor=getpass.getuser())


def _out(as_json: bool, payload: dict[str, Any], text: str) -> None:
    if as_json:
        emit_json({**payload})
    else:
        click.echo(text)

def signed_list_verify_options(f: F) -> F:
    """The options of `masterlist verify` and `deviationlist verify`: FILE, --trust, --at, --require-crl."""
    for option in reversed((
        click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path)),
        click.option("--trust", "trust", type=click.Path(exists=True, path_type=Path), default=None,
                     help="CSCA certificate(s) to trust (default: the site's trust store)."),
        at_option, require_crl_option, site_option, json_option, guarded,
    )):
        f = option(f)
    return f


def _list_trust(trust: Path | None, site: Path | None, require_crl: bool, at: str | None) -> tuple[TrustStore, datetime]:
    """The CSCAs a signed list is checked against (--trust, else the site's store) and the date it is checked at."""
    from mrtd.pki.trust import TrustStore

    store = TrustStore.load(trust) if trust else _site(site).trust_store()
    store.require_crl = require_crl
    return store, parse_at(at)



def _token(spec: str | None, role: str, files: tuple[str, ...], what: str = "--token") -> Pkcs11Config | None:
    """MODULE:LABEL and that token's PIN (the role's own: $MRTD_<ROLE>_PIN)."""
    if spec is None:
        return None
    module, _, label = spec.rpartition(":")
    if not module or not label:
        raise click.BadParameter("expected MODULE:LABEL", param_hint=what)
    return Pkcs11Config(module, label, role_secret(role, True, files))


def _store(site: PkiSite, store: str | None, token: str | None, role: str,
           files: tuple[str, ...]) -> tuple[bytes | None, Pkcs11Config | None]:
    """Where a new `role` key goes and what opens it: (its passphrase, None) or (None, its token)."""
    default = site.default_token()
    chosen = store or ("pkcs11" if token or default else "file")
    if chosen == "file":
        if token:
            raise click.UsageError("--token goes with --store pkcs11")
        return role_secret(role, False, files), None
    spec = token or (f"{default['module']}:{default['token']}" if default else None)
    if spec is None:
        raise click.UsageError("--store pkcs11 needs --token MODULE:LABEL (the site has no token)")
    return None, _token(spec, role, files)


def csca_secret(site: PkiSite, files: tuple[str, ...]) -> bytes:
    """The CSCA key's secret: from the custodians' shares while a ceremony runs; refused outside one when
    custodians hold it; else the CSCA's own secret ($MRTD_CSCA_PASSPHRASE / _PIN, --secret-file csca=F)."""
    from mrtd.pki.ceremony import custody_of

    held = custody_of(site)
    ceremony = click.get_current_context().meta.get(CEREMONY)
    if held is not None:
        if ceremony is None:
            command = click.get_current_context().command_path.replace("mrtd pki ", "")
            raise StateError(f"csca: its key is held by custodians ({held.describe()}); run it as a ceremony: "
                             f"`mrtd pki ceremony {command} ...`")
        secret: bytes = ceremony.secret(held)
        return secret
    return role_secret("csca", site.key_in_token("csca"), files)


@click.group()
def pki() -> None:
    """Country PKI: CSCA, Document Signers, seal signers, requests, CRLs, master and deviation lists, PKD."""


@pki.command()
@click.option("--country", required=True,
              help="The issuing state: its Doc 9303 code (UTO, D, NLD) or ISO 3166-1 alpha-2 code.")
@click.option("--certificate-country", default=None,
              help="ISO 3166-1 alpha-2 code for certificates, when the issuing state has none (e.g. UT for UTO).")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=DEFAULT_ALGORITHM, show_default=True,
              help="The CSCA key's algorithm (the same default as `mrtd site init`).")
@click.option("--pkcs11-module", type=click.Path(dir_okay=False), default=None, help="Make the CSCA key in a token.")
@click.option("--token", default=None, help="PKCS#11 token label (its PIN from $MRTD_CSCA_PIN).")
@click.option("--common-name", default=None, help="The CSCA's subject CN (default: CSCA <country>).")
@click.option("--organization", default=None, help="Subject O of the site's certificates.")
@new_site_option
@secret_file_option
@json_option
@guarded
def init(country: str, certificate_country: str | None, algorithm: str, pkcs11_module: str | None, token: str | None,
         common_name: str | None, organization: str | None, site: Path | None, secret_files: tuple[str, ...],
         as_json: bool) -> None:
    """Create the PKI and its first CSCA (the key's secret: $MRTD_CSCA_PASSPHRASE or a prompt)."""
    s = _site(site)
    alpha2, mrz = country_codes(country, certificate_country)
    if bool(pkcs11_module) != bool(token):
        raise click.UsageError("--pkcs11-module and --token go together")
    p11 = _token(f"{pkcs11_module}:{token}", "csca", secret_files) if pkcs11_module and token else None
    secret = b"" if p11 else role_secret("csca", False, secret_files)
    rec = s.init(alpha2, algorithm, secret, pkcs11=p11, mrz_code=mrz, common_name=common_name,
                 organization=organization)
    _out(as_json, {"certificate": rec.as_dict()}, f"CSCA {rec.serial} created: {rec.file}")


store_option = click.option("--store", type=click.Choice(["file", "pkcs11"]), default=None,
                            help="Where the new key lives (default: the site's token if it has one, else a file).")
token_option = click.option("--token", default=None, metavar="MODULE:LABEL",
                            help="The token of a --store pkcs11 key (default: the site's); PIN from $MRTD_<ROLE>_PIN.")


@pki.command()
@role_argument
@click.option("--common-name", default=None, help="Subject CN (2 characters for seal/VDS-NC signers).")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=None,
              help="Default: the site's curve where the role's format allows it.")
@click.option("--document-type", "document_types", multiple=True, default=("P",), show_default=True,
              help="Document types a Document Signer may sign (repeat; 9303-12 DocumentTypeList).")
@click.option("--usage-months", type=int, default=None, help="DS private key usage period (default 3).")
@click.option("--document-validity-years", type=int, default=None,
              help="The longest validity of the documents it signs (default the site's, 10): the certificate "
                   "outlives its usage period by this much.")
@store_option
@token_option
@site_option
@secret_file_option
@json_option
@guarded
def issue(role: str, common_name: str | None, algorithm: str | None, document_types: tuple[str, ...],
          usage_months: int | None, document_validity_years: int | None, store: str | None, token: str | None,
          site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Issue a Document Signer, seal signer, VDS-NC signer or master/deviation list signer: a new key with
    its own secret (or in a token), certified by the CSCA."""
    s = _site(site)
    s.default_algorithm(role, algorithm)  # a format's forbidden algorithm is refused before any secret is asked
    csca = csca_secret(s, secret_files)
    own, p11 = _store(s, store, token, role, secret_files)
    rec = s.issue(role, csca, key_secret=own, token=p11, common_name=common_name, algorithm=algorithm,
                  document_types=document_types, usage_months=usage_months,
                  document_validity_years=document_validity_years)
    _out(as_json, {"certificate": rec.as_dict()}, f"{role} {rec.serial} issued: {rec.file}")


@pki.command()
@role_argument
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the request (PEM).")
@click.option("--common-name", default=None, help="Subject CN (2 characters for seal/VDS-NC signers).")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=None,
              help="Default: the site's curve where the role's format allows it.")
@store_option
@token_option
@site_option
@secret_file_option
@json_option
@guarded
def csr(role: str, out: Path, common_name: str | None, algorithm: str | None, store: str | None, token: str | None,
        site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Make a new ROLE key here and a certificate request for it, to be signed at the CSCA's site."""
    from mrtd.pki.requests import make_request, request_pem

    s = _site(site)
    s.default_algorithm(role, algorithm)
    own, p11 = _store(s, store, token, role, secret_files)
    der = make_request(s, role, own, token=p11, common_name=common_name, algorithm=algorithm)
    _write_new(out, request_pem(der))
    _out(as_json, {"role": role, "file": str(out)}, f"{role} request written to {out}; have it signed with "
                                                     "`mrtd pki sign-csr` at the CSCA's site, then `mrtd pki import-cert`")


@pki.command("sign-csr")
@click.argument("request", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--role", "role", type=click.Choice(END_ENTITY_ROLES), required=True,
              help="What the key is certified as; the request is checked against this role's Part 12 profile.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the certificate (PEM).")
@click.option("--document-type", "document_types", multiple=True, default=("P",), show_default=True,
              help="Document types a Document Signer may sign (repeat; 9303-12 DocumentTypeList).")
@click.option("--usage-months", type=int, default=None, help="DS private key usage period (default 3).")
@site_option
@secret_file_option
@json_option
@guarded
def sign_csr(request: Path, role: str, out: Path, document_types: tuple[str, ...], usage_months: int | None,
             site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Check a certificate request against the Part 12 profile of ROLE and certify its key with the CSCA."""
    from mrtd.pki.requests import sign_request

    s = _site(site)
    rec = sign_request(s, read_file(request, "REQUEST"), role, csca_secret(s, secret_files),
                       document_types=document_types, usage_months=usage_months)
    _write_new(out, (s.root / rec.file).read_bytes())
    _out(as_json, {"certificate": rec.as_dict(), "file": str(out)},
         f"{role} {rec.serial} certified ({rec.subject}): {out}")


@pki.command("import-cert")
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@site_option
@json_option
@guarded
def import_cert(certificate: Path, site: Path | None, as_json: bool) -> None:
    """Install the certificate the CSCA's site made for a key this site requested (`mrtd pki csr`)."""
    from mrtd.pki.requests import install_certificate

    rec = install_certificate(_site(site), read_file(certificate, "CERTIFICATE"))
    _out(as_json, {"certificate": rec.as_dict()}, f"{rec.role} {rec.serial} installed ({rec.subject})")


def _write_new(path: Path, data: bytes) -> None:
    try:
        write_private(path, data, exclusive=True)
    except FileExistsError:
        raise InputError(f"--out: {path} exists; refusing to overwrite it") from None


@pki.command()
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=None,
              help="The new CSCA key's algorithm (default: the site's).")
@click.option("--to-token", "to_token", default=None, metavar="MODULE:LABEL",
              help="Make the new CSCA key in this token (an HSM; its PIN from $MRTD_CSCA_PIN).")
@site_option
@secret_file_option
@json_option
@guarded
def rollover(algorithm: str | None, to_token: str | None, site: Path | None, secret_files: tuple[str, ...],
             as_json: bool) -> None:
    """New CSCA key and certificate, plus a link certificate signed by the old key (9303-12 §5.5)."""
    s = _site(site)
    old = csca_secret(s, secret_files)
    new, link = s.rollover(old, algorithm=algorithm, to_token=_token(to_token, "csca", secret_files, "--to-token"))
    _out(as_json, {"csca": new.as_dict(), "link": link.as_dict()},
         f"new CSCA {new.serial} ({new.file}{', in token ' + new.key['token'] if to_token else ''}); "
         f"link {link.serial} ({link.file}); usable from {new.usage_start}")


@pki.command()
@click.argument("serial")
@click.option("--reason", required=True, help="Kept in the site records and log (not in the CRL: Part 12).")
@click.option("--list-documents", is_flag=True, help="List the numbers of the documents the key signed.")
@site_option
@json_option
@guarded
def revoke(serial: str, reason: str, list_documents: bool, site: Path | None, as_json: bool) -> None:
    """Revoke a certificate and say how many documents its key signed; publish with `mrtd pki crl`
    within 48 hours."""
    s = _site(site)
    rec = s.revoke(serial, reason)
    numbers = _signed_by(s, rec)
    payload: dict[str, Any] = {"certificate": rec.as_dict(), "documents_signed": len(numbers)}
    if list_documents:
        payload["documents"] = numbers
    text = (f"{rec.role} {rec.serial} revoked ({reason}); its key signed {len(numbers)} document(s); publish a CRL "
            "within 48 hours: `mrtd pki crl --out FILE`")
    if list_documents and numbers:
        text += "\n" + "\n".join(f"  {n}" for n in numbers)
    _out(as_json, payload, text)


def _signed_by(site: PkiSite, rec: Any) -> list[str]:
    """Numbers of the documents the key signed, from the site's records (none when the site has none)."""
    if not (site.root.parent / "mrtd.toml").is_file():
        return []
    from mrtd.cli.issue import load_site_config

    with load_site_config(site.root.parent).open_records() as store:
        return store.signed_by(site.key_id_of(rec))


@pki.command()
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the CRL (DER, or PEM when FILE ends in .pem).")
@click.option("--next-update-days", type=int, default=90, show_default=True,
              help="Days until nextUpdate (9303-12 §4: at most 90).")
@site_option
@secret_file_option
@json_option
@guarded
def crl(out: Path, next_update_days: int, site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Issue a new full CRL and write it (DER, or PEM when FILE ends in .pem)."""
    s = _site(site)
    c = s.crl(csca_secret(s, secret_files), next_update_days=next_update_days)
    enc = serialization.Encoding.PEM if out.suffix == ".pem" else serialization.Encoding.DER
    write_private(out, c.public_bytes(enc))
    number = c.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    _out(as_json, {"crl_number": number, "file": str(out)}, f"CRL {number} written to {out}")


@pki.command()
@click.option("--days", type=click.IntRange(0, 3650), default=30, show_default=True,
              help="Report what needs action within this many days.")
@click.option("--as-of", "as_of", default=None, metavar="DATE",
              help="Report as of this date (YYYY-MM-DD or an ISO date-time; default now), e.g. to plan ahead.")
@site_option
@json_option
@guarded
def status(days: int, as_of: str | None, site: Path | None, as_json: bool) -> None:
    """What needs action within N days: usage periods, certificates, the CRL, unpublished revocations.
    Exits 1 when something is due (for cron)."""
    from mrtd.pki import lifecycle
    from mrtd.pki.ceremony import stale_custody

    s = _site(site, parse_at(as_of) if as_of else None)
    due = lifecycle.status(s, days, stale_custody=stale_custody(s))
    if as_json:
        emit_json({"days": days, "due": [d.as_dict() for d in due]}, ok=not due,
                  errors=[{"rule": "due", "field": d.subject, "message": f"{d.what}: {d.action}"} for d in due])
    elif not due:
        click.echo(f"nothing needs action within {days} days")
    else:
        table(("what", "subject", "when", "action"),
              [(d.what, d.subject, "" if d.days_left is None else (f"overdue by {-d.days_left:g} days" if d.overdue
                                                                  else f"in {d.days_left:g} days"), d.action)
               for d in due], f"{len(due)} due within {days} days of {s.now():%Y-%m-%d %H:%M}Z")
    if due:
        raise SystemExit(1)


@pki.command("destroy-key")
@click.argument("serial")
@site_option
@secret_file_option
@json_option
@guarded
def destroy_key(serial: str, site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Zeroise the private key of a retired certificate (a key file, or the objects in its token); its
    certificate stays, so what it signed still verifies. Logged."""
    from mrtd.pki import lifecycle

    s = _site(site)
    rec = s.record(serial)
    pin = role_secret(rec.role, True, secret_files) if rec.key.get("store") == "pkcs11" else None
    done = lifecycle.destroy_key(s, serial, token_pin=pin)
    _out(as_json, {"certificate": done.as_dict()}, f"{done.role} {done.serial}: private key destroyed")


# -- ceremonies: CSCA operations with a quorum of custodians ----------------------------------------------

CSCA_OPERATIONS = ("issue", "sign-csr", "rollover", "crl")


def _ask(question: str, hidden: bool) -> str:
    # An empty custodian name ends the gathering (fewer than the quorum then fails, saying so).
    answer: str = click.prompt(question, hide_input=hidden, err=True, default=None if hidden else "", show_default=False)
    return answer


class _CeremonyGroup(click.Group):
    """`mrtd pki ceremony OPERATION ...`: the CSCA operations of `mrtd pki`, each run with the custodians'
    shares and recorded in a transcript."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *CSCA_OPERATIONS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        own = super().get_command(ctx, name)
        if own is not None or name not in CSCA_OPERATIONS:
            return own
        original = pki.commands[name]
        assert original.callback is not None
        inner = original.callback

        def run(**kwargs: Any) -> Any:
            from mrtd.pki.ceremony import Ceremony

            context = click.get_current_context()
            cer = Ceremony(_site(kwargs.get("site")), " ".join([name, *([kwargs["role"]] if kwargs.get("role") else [])]), _ask)
            context.meta[CEREMONY] = cer
            result = inner(**kwargs)
            if cer.shares:
                out = kwargs.get("out")
                path = cer.finish([out] if isinstance(out, Path) else [])
                click.echo(f"ceremony transcript: {path} (custodians {', '.join(sorted(cer.shares))}); each can check "
                           "it with `mrtd pki ceremony check TRANSCRIPT --custodian NAME`", err=True)
            return result

        return click.Command(name, params=original.params, callback=run,
                             help=f"{original.help} (As a ceremony: the custodians give their shares.)")


@pki.group(cls=_CeremonyGroup)
def ceremony() -> None:
    """CSCA operations (issue, sign-csr, rollover, crl) with M of N custodians' shares, a transcript each
    custodian can check; `setup` splits the CSCA key's secret among them."""


@ceremony.command("setup")
@click.option("--custodian", "custodians", multiple=True, required=True, help="A custodian's name (repeat).")
@click.option("--quorum", type=int, required=True, help="How many custodians a CSCA operation needs.")
@click.option("--shares-out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each custodian's share to DIR/NAME.share (mode 0600) instead of showing it.")
@site_option
@secret_file_option
@json_option
@guarded
def ceremony_setup(custodians: tuple[str, ...], quorum: int, shares_out: Path | None, site: Path | None,
                   secret_files: tuple[str, ...], as_json: bool) -> None:
    """Split the CSCA key's secret among the custodians: from now on no one opens it alone."""
    from mrtd.pki.ceremony import custody_of, setup

    s = _site(site)
    if custody_of(s) is not None:
        raise StateError("ceremony setup: the CSCA is already under custody")
    shares = setup(s, role_secret("csca", s.key_in_token("csca"), secret_files), custodians, quorum)
    if shares_out is not None:
        for name, words in shares.items():
            write_private(shares_out / f"{name}.share", words + "\n", exclusive=True)
    else:
        for name, words in shares.items():
            click.echo(f"{name}, your share (write it down; it is shown once):\n  {words}\n", err=True)
    _out(as_json, {"quorum": quorum, "custodians": list(custodians)},
         f"CSCA key under custody: {quorum} of {len(custodians)} ({', '.join(custodians)})")


@ceremony.command("check")
@click.argument("transcript", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--custodian", required=True, help="Your name; your share is asked for (hidden).")
@site_option
@json_option
@guarded
def ceremony_check(transcript: Path, custodian: str, site: Path | None, as_json: bool) -> None:
    """A custodian checks a ceremony transcript with their share: they took part, nothing changed since, and
    the key log holds it."""
    from mrtd.pki.ceremony import check

    body = check(_site(site), transcript, custodian, _ask(f"share of {custodian}", True))
    _out(as_json, {"transcript": body},
         f"{custodian}: transcript verified: {body['operation']} at {body['finished']} by "
         f"{', '.join(body['custodians_present'])}")


@pki.group()
def masterlist() -> None:
    """Build, verify and import CSCA master lists."""


@masterlist.command("build")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the signed master list (DER).")
@click.option("--include", "include", multiple=True, metavar="COUNTRY|all",
              help="Also list other countries' CSCAs (alpha-2 codes, or all), from verified imports only.")
@site_option
@secret_file_option
@json_option
@guarded
def ml_build(out: Path, include: tuple[str, ...], site: Path | None, secret_files: tuple[str, ...],
             as_json: bool) -> None:
    """Sign a master list of this site's CSCA and link certificates (and --include's), with the ML signer."""
    from mrtd.pki.exchange import build_masterlist

    s = _site(site)
    der, entries = build_masterlist(s, site_secrets(s, ["masterlist-signer"], secret_files)["masterlist-signer"],
                                    include)
    write_private(out, der)
    _out(as_json, {"file": str(out), "bytes": len(der), "entries": entries},
         f"master list written to {out} ({entries} CSCA certificates, {len(der)} bytes)")


@masterlist.command("verify")
@signed_list_verify_options
def ml_verify(file: Path, trust: Path | None, at: str | None, require_crl: bool, site: Path | None,
              as_json: bool) -> None:
    """Verify a master list's signature and its signer's path to a CSCA already trusted."""
    store, when = _list_trust(trust, site, require_crl, at)
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


@pki.group()
def deviationlist() -> None:
    """Build and verify deviation lists (Doc 9303-12 §10): documents that deviate from Doc 9303 and how."""


@deviationlist.command("build")
@click.argument("deviations", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the signed deviation list (DER).")
@site_option
@secret_file_option
@json_option
@guarded
def dl_build(deviations: Path, out: Path, site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Sign a deviation list of DEVIATIONS (a JSON list of {documents, descriptions}) with the Deviation List
    Signer; documents name a document_type, a signer (a Document Signer's serial here), signer_ski, issued
    [first, last] and/or numbers; descriptions a type (see `mrtd pki deviationlist types`), text, parameter."""
    from mrtd.pki.exchange import build_deviationlist, deviations_from

    s = _site(site)
    spec = _json_file(deviations, "DEVIATIONS")
    wanted = deviations_from(s, spec)
    secret = site_secrets(s, ["deviationlist-signer"], secret_files)["deviationlist-signer"]
    der = build_deviationlist(s, secret, wanted)
    _write_new(out, der)
    _out(as_json, {"file": str(out), "bytes": len(der), "deviations": len(wanted)},
         f"deviation list written to {out} ({len(wanted)} deviation(s), {len(der)} bytes)")


@deviationlist.command("verify")
@signed_list_verify_options
def dl_verify(file: Path, trust: Path | None, at: str | None, require_crl: bool, site: Path | None,
              as_json: bool) -> None:
    """Verify a deviation list's signature and its signer's path to a CSCA already trusted; list its entries."""
    from mrtd.pki import deviationlist as dlmod

    store, when = _list_trust(trust, site, require_crl, at)
    dl = dlmod.parse(read_file(file, "FILE"))
    signer = dlmod.verify(dl, store, when)
    entries = [dlmod.describe(d) for d in dl.deviations]
    lines = [f"deviation list OK as of {when:%Y-%m-%d}: {len(entries)} deviation(s), signed by {signer.subject_text}"]
    for e in entries:
        docs = ", ".join(f"{k} {v}" for k, v in e["documents"].items())
        lines += [f"  {docs}: " + "; ".join(d["type"] + (f" ({d['text']})" if d["text"] else "")
                                            for d in e["descriptions"])]
    _out(as_json, {"signer": signer.subject_text, "signing_time": dl.signing_time, "at": when.isoformat(),
                   "deviations": entries}, "\n".join(lines))


@deviationlist.command("types")
@json_option
@guarded
def dl_types(as_json: bool) -> None:
    """The deviation types of Doc 9303-12 §10.2: name, OID, the parameter each takes."""
    from mrtd.pki.deviationlist import deviation_types

    types = deviation_types()
    _out(as_json, {"types": types}, "\n".join(f"{name:22} {t['oid']:20} {t['parameter'] or '-':10} {t['meaning']}"
                                              for name, t in types.items()))


def _json_file(path: Path, what: str) -> Any:
    import json

    try:
        return json.loads(read_file(path, what))
    except ValueError as exc:
        raise InputError(f"{what} {path}: not JSON: {exc}") from None


@pki.group()
def pkd() -> None:
    """Exchange with the ICAO PKD: LDIF in its layout (CSCAs, Document Signer certificates, CRLs, master and
    deviation lists)."""


@pkd.command("export")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the LDIF.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(PKD_KINDS),
              help="Only these kinds (repeat; default all): CSCA and link certificates, Document Signer "
                   "certificates, the latest CRL, the latest master and deviation lists this site signed.")
@site_option
@json_option
@guarded
def pkd_export(out: Path, kinds: tuple[str, ...], site: Path | None, as_json: bool) -> None:
    """Write what this site publishes as an LDIF file in the ICAO PKD's layout."""
    from mrtd.pki import pkd as pkdmod
    from mrtd.pki.exchange import pkd_objects

    objects = pkd_objects(_site(site), kinds or PKD_KINDS)
    if not objects:
        raise StateError("pkd export: nothing to publish yet (issue Document Signers with `mrtd pki issue ds`, a CRL "
                         "with `mrtd pki crl`, a master list with `mrtd pki masterlist build`)")
    data = pkdmod.export(objects)
    _write_new(out, data)
    counts = {k: sum(1 for o in objects if o.kind == k) for k in PKD_KINDS if any(o.kind == k for o in objects)}
    _out(as_json, {"file": str(out), "entries": counts, "bytes": len(data)},
         f"LDIF written to {out}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@pkd.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--trust", "trust", type=click.Path(exists=True, path_type=Path), default=None,
              help="Also verify against these CSCA certificate(s) (obtained out of band), besides the site's.")
@click.option("--unverified", is_flag=True,
              help="Keep every entry without verifying it (logged; never goes into a master list we sign).")
@at_option
@site_option
@json_option
@guarded
def pkd_import(file: Path, trust: Path | None, unverified: bool, at: str | None, site: Path | None,
               as_json: bool) -> None:
    """Import an ICAO PKD LDIF: each entry verified against CSCAs already trusted (master lists first, whose
    CSCAs then verify the rest). Exits 1 when an entry was refused; the others are kept."""
    from mrtd.pki.exchange import import_ldif
    from mrtd.pki.trust import TrustStore

    if unverified and trust is not None:
        raise click.UsageError("--unverified and --trust contradict each other")
    s = _site(site)
    report = import_ldif(s, read_file(file, "FILE"), verify_with=TrustStore.load(trust) if trust else None,
                         at=parse_at(at) if at else None, unverified=unverified, source=file.name)
    if unverified:
        click.echo("warning: importing LDIF entries whose signatures were not checked", err=True)
    if as_json:
        emit_json(report.as_dict(), ok=not report.refused,
                  errors=[{"rule": "refused", "field": dn, "message": why} for dn, why in report.refused])
    else:
        done = ", ".join(f"{n} {k}" for k, n in report.imported.items()) or "nothing new"
        click.echo(f"imported {done}; {report.already} already present; {len(report.refused)} refused")
        for dn, why in report.refused:
            click.echo(f"  refused {dn}: {why}")
    if report.refused:
        raise SystemExit(1)


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
        errors, notes = split_findings({**x.as_dict(), "field": f"{k}: {x.field}"}
                                       for k, v in results.items() for x in v if x.severity is not Severity.INFO)
        emit_json({"files": {k: [x.as_dict() for x in v] for k, v in results.items()}}, ok=not bad,
                  errors=[*errors, *notes], warnings=[])
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
        emit_json({"certificates": [{**r.as_dict(), "file": str(s.root / r.file)} for r in recs]})
        return
    table(("role", "serial", "valid", "usage", "status", "file"),
          [(r.role, r.serial, f"{r.not_before[:10]}..{r.not_after[:10]}",
            f"{(r.usage_start or '-')[:10]}..{(r.usage_end or '-')[:10]}", r.status, s.root / r.file) for r in recs],
          f"{len(recs)} certificate{'s' if len(recs) != 1 else ''}")


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
                                            "secp384r1", "secp521r1"]), default="brainpoolP256r1", show_default=True,
              help="The CVCA key's curve (its domain parameters go into the certificate).")
@click.option("--days", type=click.IntRange(1, 3650), default=3 * 365, show_default=True,
              help="Validity of the CV certificate.")
@rights_option
@country_option
@site_option
@secret_file_option
@json_option
@guarded
def cvca_init(mnemonic: str, curve: str, days: int, rights: tuple[str, ...], country: str | None, site: Path | None,
              secret_files: tuple[str, ...], as_json: bool) -> None:
    """Make the CVCA key and its self-signed CV certificate (with the domain parameters)."""
    cv = _cv(site, country)
    cert = cv.init_cvca(mnemonic, curve, days, _rights(rights), role_secret("cvca", False, secret_files), utc_today())
    _cv_out(as_json, cert, str(cv.root / "cvca" / f"{cert.chr}.cvcert"))


@cvca.command("link")
@click.option("--days", type=click.IntRange(1, 3650), default=3 * 365, show_default=True,
              help="Validity of the new CVCA certificate.")
@country_option
@site_option
@secret_file_option
@json_option
@guarded
def cvca_link(days: int, country: str | None, site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Roll the CVCA over: a new key, its certificate, and the link certificate the old key signs."""
    cv = _cv(site, country)
    new, link = cv.link(days, role_secret("cvca", False, secret_files), utc_today())
    _cv_out(as_json, link, str(cv.root / "links" / f"{link.chr}.cvcert"), {"new_cvca": new.chr})


@pki.group("dv")
def dv() -> None:
    """Document Verifiers: certified by the CVCA, they certify inspection systems."""


@dv.command("issue")
@click.option("--mnemonic", required=True, help="Holder mnemonic the CVCA assigns (up to 9 characters).")
@click.option("--foreign", is_flag=True, help="A foreign DV (its terminal certificates do not set the chip's date).")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="Validity of the DV certificate.")
@rights_option
@country_option
@site_option
@secret_file_option
@json_option
@guarded
def dv_issue(mnemonic: str, foreign: bool, days: int, rights: tuple[str, ...], country: str | None, site: Path | None,
             secret_files: tuple[str, ...], as_json: bool) -> None:
    """Issue a DV key pair and certificate under the current CVCA."""
    cv = _cv(site, country)
    cert = cv.issue_dv(mnemonic, not foreign, _rights(rights), days, role_secret("cvca", False, secret_files), utc_today())
    _cv_out(as_json, cert, str(cv.root / "dv" / f"{cert.chr}.cvcert"))


@pki.group("is")
def is_group() -> None:
    """Inspection systems: the terminals that read fingerprints and irises."""


@is_group.command("issue")
@click.option("--dv", "dv_chr", required=True, help="The issuing DV's CHR.")
@click.option("--mnemonic", required=True, help="Holder mnemonic the DV assigns (up to 9 characters).")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True,
              help="Validity of the terminal's certificate.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the terminal's chain (<CHR>.cvcert) and encrypted key (<CHR>.key).")
@click.option("--is-passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Passphrase for the terminal's key (else $MRTD_IS_KEY_PASSPHRASE or a prompt).")
@rights_option
@country_option
@site_option
@secret_file_option
@json_option
@guarded
def is_issue(dv_chr: str, mnemonic: str, days: int, out: Path, is_passphrase_file: Path | None, rights: tuple[str, ...],
             country: str | None, site: Path | None, secret_files: tuple[str, ...], as_json: bool) -> None:
    """Issue an inspection system's key pair and CV certificate under a DV."""
    from mrtd.pki.keys import terminal_passphrase_from

    cv = _cv(site, country)
    is_secret = terminal_passphrase_from(os.environ, is_passphrase_file, prompt_secret)
    cert, chain, key = cv.issue_is(dv_chr, mnemonic, _rights(rights), days, role_secret("cvca", False, secret_files),
                                   is_secret, utc_today(), out)
    _cv_out(as_json, cert, str(chain), {"key": str(key)})

