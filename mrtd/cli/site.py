"""`mrtd site init DIR --country CODE [--database URL] [--pkcs11-module PATH --token LABEL]`.

Creates the site folder: `mrtd.toml`, the records database, the PKI (CSCA, Document Signer, seal
signer) and the document number policy. The key passphrase comes from $MRTD_KEY_PASSPHRASE,
--passphrase-file or a prompt; the PKCS#11 PIN from $MRTD_PKCS11_PIN, --pin-file or a prompt. Never argv.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from mrtd.cli._common import emit_json, guarded, json_option
from mrtd.issuance.site import default_policy, init_site
from mrtd.pki.keys import ALGORITHMS, passphrase_from, pin_from
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
@click.option("--pkcs11-module", type=click.Path(dir_okay=False), default=None, help="PKCS#11 module (HSM).")
@click.option("--token", default=None, help="PKCS#11 token label.")
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="ecdsa-p256", show_default=True)
@click.option("--number-prefix", default=None, help="Document number prefix (default: the country's first letter).")
@click.option("--page-template", "page_templates", multiple=True, metavar="FORMAT=FILE",
              help="The site's own page template for a format (e.g. TD2=td2-card.toml); copied into the site.")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File holding the key passphrase (else $MRTD_KEY_PASSPHRASE or a prompt).")
@click.option("--pin-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File holding the PKCS#11 PIN (else $MRTD_PKCS11_PIN or a prompt).")
@json_option
@guarded
def init(directory: Path, country: str, certificate_country: str | None, database: str | None,
         pkcs11_module: str | None, token: str | None, algorithm: str, number_prefix: str | None,
         page_templates: tuple[str, ...], passphrase_file: Path | None, pin_file: Path | None,
         as_json: bool) -> None:
    """Create a site in DIRECTORY (absent or empty)."""
    p11 = None
    passphrase = b""
    if pkcs11_module or token:
        if not (pkcs11_module and token):
            raise click.UsageError("--pkcs11-module and --token go together")
        p11 = Pkcs11Config(pkcs11_module, token, pin_from(os.environ, pin_file, _prompt))
    else:
        passphrase = passphrase_from(os.environ, passphrase_file, _prompt)
    templates = _page_templates(page_templates)
    policy = default_policy(number_prefix.upper()) if number_prefix else None
    config = init_site(directory, country, passphrase=passphrase, clock=lambda: dt.datetime.now(dt.UTC),
                       database_url=database, pkcs11=p11, certificate_country=certificate_country,
                       numbering=policy, algorithm=algorithm, page_templates=templates, actor=actor_name())
    backend = config.records_url.split(":", 1)[0]
    if as_json:
        emit_json({"ok": True, "site": str(config.root), "country": config.country, "records": backend,
                   "keys": config.pki_store, "numbering": config.numbering.as_config()})
    else:
        click.echo(f"site created: {config.root}")
        click.echo(f"  country {config.country}, records {backend}, keys in {config.pki_store}, numbers "
                   f"{config.numbering.format(config.numbering.start)}...")
