"""`mrtd site init DIR --country CODE [--database URL] [--pkcs11-module PATH --token LABEL]`.

Creates the site folder: `mrtd.toml`, the records database, the PKI (CSCA, Document Signer, seal
signer, the audit key that signs the audit log's checkpoints) and the document number policy. Every key has its own secret ($MRTD_<ROLE>_PASSPHRASE, or
$MRTD_<ROLE>_PIN for a token; --secret-file ROLE=FILE; a prompt). Never argv.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from mrtd.cli._common import emit_json, guarded, json_option, role_secret, secret_file_option, site_option
from mrtd.issuance.site import SiteConfig, default_policy, init_site
from mrtd.limits import read_file
from mrtd.pki.keys import ALGORITHMS, DEFAULT_ALGORITHM
from mrtd.pki.site import Pkcs11Config


def _prompt(what: str) -> str:
    value: str = click.prompt(what, hide_input=True, err=True, confirmation_prompt=True)
    return value


def actor_name() -> str:
    """Who runs the command: the local OS user."""
    from mrtd.issuance.office import os_user

    return os_user()


def _page_templates(values: tuple[str, ...]) -> dict[str, Path]:
    """`FORMAT=FILE` pairs (the library checks each template before the site is made)."""
    pairs = [value.partition("=") for value in values]
    if any(not key or not file for key, _, file in pairs):
        raise click.BadParameter("expected FORMAT=FILE, e.g. TD2=td2-card.toml", param_hint="--page-template")
    return {key: Path(file) for key, _, file in pairs}


@click.group("site")
def site() -> None:
    """Issuing sites: a folder with mrtd.toml, the PKI and the records."""


@site.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--country", required=True, help="Issuing state: the Doc 9303 code (UTO, D, NLD) or ISO alpha-2.")
@click.option("--certificate-country", default=None,
              help="ISO 3166-1 alpha-2 code for certificates, when the issuing state has none (e.g. UT for UTO).")
@click.option("--database", "database", envvar="MRTD_RECORDS_URL", default=None,
              help="Records database URL (default: SQLite in the site folder; postgresql://host/db for many "
                   "stations). No password in it: use PGPASSWORD or ~/.pgpass.")
@click.option("--csca", "csca", type=click.Choice(["here", "external"]), default="here", show_default=True,
              help="external: the CSCA lives at another site (give --csca-cert); the signing keys are then made "
                   "with `mrtd pki csr` and certified there.")
@click.option("--csca-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The other site's CSCA certificate (PEM or DER), with --csca external.")
@click.option("--csca-token", default=None, metavar="MODULE:LABEL",
              help="Make the CSCA key in this PKCS#11 token (its PIN from $MRTD_CSCA_PIN); else an encrypted file.")
@click.option("--pkcs11-module", type=click.Path(dir_okay=False), default=None,
              help="PKCS#11 module (HSM) for the signing keys.")
@click.option("--token", default=None, help="PKCS#11 token label for the signing keys (PIN from $MRTD_DS_PIN).")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default=DEFAULT_ALGORITHM, show_default=True)
@click.option("--number-prefix", default=None, help="Document number prefix (default: the country's first letter).")
@click.option("--page-template", "page_templates", multiple=True, metavar="FORMAT=FILE",
              help="The site's own page template for a format (e.g. TD2=td2-card.toml); copied into the site.")
@secret_file_option
@json_option
@guarded
def init(directory: Path, country: str, certificate_country: str | None, database: str | None, csca: str,
         csca_cert: Path | None, csca_token: str | None, pkcs11_module: str | None, token: str | None, algorithm: str,
         number_prefix: str | None, page_templates: tuple[str, ...], secret_files: tuple[str, ...],
         as_json: bool) -> None:
    """Create a site in DIRECTORY (absent or empty). Every key gets its own secret: the CSCA's
    ($MRTD_CSCA_PASSPHRASE), the Document Signer's ($MRTD_DS_PASSPHRASE) and the seal signer's
    ($MRTD_SEAL_PASSPHRASE), the audit key's ($MRTD_AUDIT_PASSPHRASE), or --secret-file ROLE=FILE, or a prompt."""
    if (csca == "external") != (csca_cert is not None):
        raise click.UsageError("--csca external and --csca-cert go together")
    if bool(pkcs11_module) != bool(token):
        raise click.UsageError("--pkcs11-module and --token go together")
    p11 = Pkcs11Config(pkcs11_module, token, role_secret("ds", True, secret_files, _prompt)) if pkcs11_module and token else None
    csca_p11 = None
    if csca_token is not None:
        module, _, label = csca_token.rpartition(":")
        if not module or not label:
            raise click.BadParameter("expected MODULE:LABEL", param_hint="--csca-token")
        csca_p11 = Pkcs11Config(module, label, role_secret("csca", True, secret_files, _prompt))
    roles = [] if csca == "external" else [r for r in ("csca", "ds", "seal-signer")
                                           if not (r == "csca" and csca_p11) and not (r != "csca" and p11)]
    roles += [] if p11 else ["audit"]  # the audit key signs the audit log's checkpoints (in the token with one)
    secrets = {role: role_secret(role, False, secret_files, _prompt) for role in roles}
    templates = _page_templates(page_templates)
    policy = default_policy(number_prefix.upper()) if number_prefix else None
    config = init_site(directory, country, secrets=secrets, clock=lambda: dt.datetime.now(dt.UTC),
                       database_url=database, pkcs11=p11, csca_token=csca_p11,
                       csca_certificate=read_file(csca_cert, "--csca-cert") if csca_cert else None,
                       certificate_country=certificate_country, numbering=policy, algorithm=algorithm,
                       page_templates=templates, actor=actor_name())
    backend = config.records_url.split(":", 1)[0]
    if as_json:
        emit_json({"site": str(config.root), "country": config.country, "records": backend,
                   "keys": config.pki_store, "csca": csca, "numbering": config.numbering.as_config()})
    else:
        click.echo(f"site created: {config.root}")
        click.echo(f"  country {config.country}, records {backend}, keys in {config.pki_store}, numbers "
                   f"{config.numbering.format(config.numbering.start)}...")
        if csca == "external":
            click.echo("  the CSCA lives elsewhere: request the signers with `mrtd pki csr ds|seal-signer`, have them "
                       "signed there (`mrtd pki sign-csr`), then `mrtd pki import-cert`")


def _site_config(directory: Path) -> SiteConfig:
    from mrtd.cli.issue import load_site_config

    return load_site_config(directory)


def _audit_secret(config: SiteConfig) -> bytes | None:
    """The audit key's secret when it is in the environment: the command's entry then ends under a signed
    checkpoint (never a prompt: a backup runs from cron)."""
    pki = config.pki(clock=lambda: dt.datetime.now(dt.UTC))
    return pki.secret_in_environment("audit") if pki.exists() and pki.has_audit_key() else None


@site.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@site_option
@json_option
@guarded
def backup(dest: Path, site: Path, as_json: bool) -> None:
    """Copy the site's records to DEST (a new file, owner-only): SQLite's online backup, or pg_dump's custom
    format for PostgreSQL. The numbering mark stays with the site (pki/)."""
    from mrtd.issuance.backup import backup as run

    config = _site_config(site)
    report = run(config, dest, actor=actor_name(), audit_secret=_audit_secret(config))
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(f"backup written: {report.path} ({report.backend}, {report.documents} documents, "
                   f"{report.bytes} bytes, sha256 {report.sha256})")


@site.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@site_option
@click.option("--force", is_flag=True, help="Restore over records that are intact (what they hold since the "
                                            "backup is lost; numbering still resumes above the mark).")
@json_option
@guarded
def restore(source: Path, site: Path, force: bool, as_json: bool) -> None:
    """Bring the site's records back from SOURCE (made by `mrtd site backup`). A backup older than the
    numbering mark is accepted: numbering resumes above the mark, and the blanks given out since the
    backup are recorded as lost, never issued again."""
    from mrtd.issuance.backup import restore as run

    config = _site_config(site)
    report = run(config, source, actor=actor_name(), force=force, audit_secret=_audit_secret(config))
    if as_json:
        emit_json(report.as_dict())
        return
    click.echo(f"records restored from {report.source}: {report.documents} documents "
               f"(the mark had {report.mark_documents})")
    if report.upgraded:
        click.echo(f"  upgraded from revision {report.upgraded[0]} to {report.upgraded[1]}")
    for key, (backup_next, resume) in sorted(report.sequences.items()):
        note = (f"; {resume - backup_next} number(s) drawn after the backup are not in the records"
                if resume > backup_next else "")
        click.echo(f"  sequence {key}: resumes at {resume}{note}")
    if report.lost_given:
        click.echo(f"  {len(report.lost_given)} blank number(s) given out after the backup recorded as lost: "
                   + ", ".join(report.lost_given[:10]) + (" ..." if len(report.lost_given) > 10 else ""))


@site.command("upgrade")
@site_option
@json_option
@guarded
def upgrade(site: Path, as_json: bool) -> None:
    """Migrate the site's records to this mrtd's schema (every row kept; back up first), start its numbering
    mark if it has none yet, and make the site folder owner-only."""
    from mrtd.issuance.backup import upgrade as run

    done = run(_site_config(site))
    if as_json:
        emit_json(done)
    else:
        moved = "already at" if done["from"] == done["to"] else f"upgraded from {done['from']} to"
        click.echo(f"records {moved} revision {done['to']}"
                   + ("; numbering mark started from the records" if done["mark_started"] else ""))
