"""A site: one folder with `mrtd.toml`, the PKI (`pki/`) and, by default, the records database.

`init_site` creates all three; `load_site` reads `mrtd.toml` into a plain `SiteConfig`. The library never
reads environment variables: the CLI merges flags > `MRTD_*` environment > file > defaults and hands the
result to `load_site` as `overrides` (dotted keys such as `records.url`).

`mrtd.toml` holds no secret. A PostgreSQL URL with a password in it is refused: libpq reads the password
from PGPASSWORD or ~/.pgpass instead.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from mrtd.errors import ConfigurationError, InputError, StateError
from mrtd.issuance.checkpoints import DEFAULT_EVERY, Checkpointer
from mrtd.issuance.numbering import NumberPolicy
from mrtd.issuance.records import RecordStore, normalise_url
from mrtd.layouts import load_template
from mrtd.layouts.pdf import parse_offset, sheet
from mrtd.model import DocumentFormat
from mrtd.mrz import NameOptions
from mrtd.pki.keys import DEFAULT_ALGORITHM, DEFAULT_SCRYPT_LOG2N, Secrets, check_distinct, secret_of
from mrtd.pki.profiles import country_codes
from mrtd.pki.site import Pkcs11Config, PkiSite

CONFIG_NAME = "mrtd.toml"
DEFAULT_SQLITE = "sqlite:///records.sqlite3"  # relative to the site folder
DEFAULT_SEAL_SIGNER_CN = "01"
# Document types the site's Document Signer may sign (Doc 9303-12 §7.1.1.3): every chip-bearing code.
DS_DOCUMENT_TYPES = ("P", "I", "A", "C")
Clock = Callable[[], dt.datetime]

_SECTIONS: dict[str, dict[str, type]] = {
    "site": {"country": str, "certificate_country": str},
    "records": {"url": str},
    "numbering": {"prefix": str, "length": int, "start": int, "source": str},
    "pki": {"store": str, "algorithm": str, "seal_signer_cn": str, "pkcs11_module": str, "token": str},
    "chip": {"profile": str, "reader": str, "keys": str},
    "seal": {"symbology": str, "idb_date_bytes": int},
    "page": {"dpi": int, "print_check": bool, "render": bool, "templates": dict},
    "print": {"offset": str, "sheets": dict},
    "names": {"cyrillic_language": str, "latin": dict},
    "audit": {"checkpoint_every": int},
}


@dataclass(frozen=True)
class SiteConfig:
    """A site's settings as plain values. `records_url` is absolute (a relative SQLite path is resolved
    against the site folder). `reader` empty means the in-process chip simulator."""

    root: Path
    country: str
    certificate_country: str
    records_url: str
    numbering: NumberPolicy
    number_source: str = "sequence"  # or "inventory": every number is a pre-numbered blank's (mrtd.issuance.inventory)
    pki_store: str = "file"
    pkcs11_module: str = ""
    pkcs11_token: str = ""
    algorithm: str = DEFAULT_ALGORITHM
    chip_profile: str = "mrtd-sim"
    chip_keys: str = "centre"  # "on-chip": the chip generates its AA/CA key pairs (mrtd.chip.onchip)
    reader: str = ""
    symbology: str = "qr"
    idb_date_bytes: int = 4  # the IDB signature date: 4 (masked, what readers read) or 3 (the TR's table)
    dpi: int = 300
    print_check: bool = True
    render_page: bool = True
    names: NameOptions = field(default_factory=NameOptions)
    # A site's own page templates by format ("TD2" -> absolute path of a template file); formats not
    # named here use the templates shipped with mrtd.layouts.
    page_templates: Mapping[str, str] = field(default_factory=dict)
    # The site printer's calibration (mm, right and down) and the print sheet of each format
    # ("TD3" -> "a4-etd"): the pipeline then also writes print-sheet.pdf.
    print_offset: tuple[float, float] = (0.0, 0.0)
    print_sheets: Mapping[str, str] = field(default_factory=dict)
    # The audit key signs the log's head every this many entries (and at the end of each command).
    checkpoint_every: int = DEFAULT_EVERY

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    def pki(self, *, clock: Clock, actor: str = "mrtd") -> PkiSite:
        return PkiSite(self.root, clock=clock, actor=actor)

    def open_records(self, *, clock: Clock | None = None, audit_secret: bytes | None = None) -> RecordStore:
        """The records; with the audit key's own secret, they sign checkpoints of the audit log."""
        store = RecordStore.open(self.records_url, clock=clock)
        if audit_secret is not None:
            try:
                signer = PkiSite(self.root, clock=clock or (lambda: dt.datetime.now(dt.UTC))).audit_signer(audit_secret)
            except BaseException:
                store.close()
                raise
            store.use_checkpoints(Checkpointer(signer, self.checkpoint_every))
        return store


# --- reading ------------------------------------------------------------------------------------------


def read_config(root: Path) -> dict[str, Any]:
    """The raw tables of `<root>/mrtd.toml`, checked against the known sections and keys."""
    path = Path(root) / CONFIG_NAME
    if not path.is_file():
        raise ConfigurationError(f"site: {root} has no {CONFIG_NAME} (create one with `mrtd site init`)")
    try:
        with path.open("rb") as fh:
            table = tomllib.load(fh)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read: {exc}") from None
    for section, value in table.items():
        if section not in _SECTIONS:
            raise ConfigurationError(f"{path}: unknown section [{section}]")
        if not isinstance(value, dict):
            raise ConfigurationError(f"{path}: [{section}] must be a table")
        for key, item in value.items():
            kind = _SECTIONS[section].get(key)
            if kind is None:
                raise ConfigurationError(f"{path}: unknown key {section}.{key}")
            if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
                raise ConfigurationError(f"{path}: {section}.{key} must be a {kind.__name__}")
    return table


def _merge(table: dict[str, Any], overrides: Mapping[str, object]) -> dict[str, Any]:
    merged = {k: dict(v) for k, v in table.items()}
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        kind = _SECTIONS.get(section, {}).get(key)
        if kind is None:
            raise ConfigurationError(f"setting {dotted!r}: no such setting")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigurationError(f"setting {dotted}: must be a {kind.__name__}")
        merged.setdefault(section, {})[key] = value
    return merged


def resolve_records_url(root: Path, url: str) -> str:
    """A relative SQLite path is relative to the site folder; other URLs pass unchanged."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:" and not Path(url[len(prefix) :]).is_absolute():
        return prefix + str((Path(root) / url[len(prefix) :]).resolve())
    return url


def check_database_url(url: str) -> str:
    """Refuse what is not SQLite or PostgreSQL, and any URL carrying a password (a secret in a file)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as exc:
        raise ConfigurationError(f"records.url: not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigurationError(f"records.url: {backend!r} is not supported (sqlite or postgresql)")
    if parsed.password:
        raise ConfigurationError(
            "records.url: holds a password; give it through PGPASSWORD or ~/.pgpass, never in mrtd.toml"
        )
    return url


def load_site(root: Path, overrides: Mapping[str, object] | None = None) -> SiteConfig:
    """Read `<root>/mrtd.toml`, apply `overrides` (dotted keys, already merged by the caller), and check."""
    root = Path(root).resolve()
    t = _merge(read_config(root), overrides or {})

    def get(section: str, key: str, default: Any) -> Any:
        return t.get(section, {}).get(key, default)

    country = get("site", "country", "")
    if not country:
        raise ConfigurationError(f"{root / CONFIG_NAME}: site.country is missing")
    url = check_database_url(get("records", "url", DEFAULT_SQLITE))
    names = t.get("names", {})
    latin = names.get("latin", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in latin.items()):
        raise ConfigurationError(f"{root / CONFIG_NAME}: names.latin maps characters to strings")
    try:
        name_options = NameOptions(latin=dict(latin), cyrillic_language=names.get("cyrillic_language") or None)
    except (InputError, ConfigurationError) as exc:
        raise ConfigurationError(f"{root / CONFIG_NAME}: names: {exc}") from None
    store = get("pki", "store", "file")
    if store not in ("file", "pkcs11"):
        raise ConfigurationError(f"{root / CONFIG_NAME}: pki.store is {store!r}, not file or pkcs11")
    symbology = get("seal", "symbology", "qr")
    if symbology not in ("qr", "datamatrix"):
        raise ConfigurationError(f"{root / CONFIG_NAME}: seal.symbology is {symbology!r}, not qr or datamatrix")
    idb_date_bytes = get("seal", "idb_date_bytes", 4)
    if idb_date_bytes not in (3, 4):
        raise ConfigurationError(f"{root / CONFIG_NAME}: seal.idb_date_bytes is {idb_date_bytes}, not 3 or 4")
    page_templates = _page_templates(root, get("page", "templates", {}))
    number_source = get("numbering", "source", "sequence")
    if number_source not in ("sequence", "inventory"):
        raise ConfigurationError(f"{root / CONFIG_NAME}: numbering.source is {number_source!r}, not sequence or inventory")
    dpi = get("page", "dpi", 300)
    if dpi not in (300, 600):
        raise ConfigurationError(f"{root / CONFIG_NAME}: page.dpi is {dpi}, not 300 or 600")
    try:
        print_offset = parse_offset(get("print", "offset", "0,0"))
        print_sheets = _print_sheets(get("print", "sheets", {}))
    except (InputError, ConfigurationError) as exc:
        raise ConfigurationError(f"{root / CONFIG_NAME}: print: {exc}") from None
    return SiteConfig(
        root=root,
        country=country,
        certificate_country=get("site", "certificate_country", ""),
        records_url=resolve_records_url(root, url),
        numbering=NumberPolicy.from_config({k: v for k, v in t.get("numbering", {}).items() if k != "source"}),
        number_source=number_source,
        pki_store=store,
        pkcs11_module=get("pki", "pkcs11_module", ""),
        pkcs11_token=get("pki", "token", ""),
        algorithm=get("pki", "algorithm", DEFAULT_ALGORITHM),
        chip_profile=get("chip", "profile", "mrtd-sim"),
        chip_keys=_chip_keys(root, get("chip", "keys", "centre")),
        reader=get("chip", "reader", ""),
        symbology=symbology,
        idb_date_bytes=idb_date_bytes,
        dpi=dpi,
        print_check=get("page", "print_check", True),
        render_page=get("page", "render", True),
        names=name_options,
        page_templates=page_templates,
        print_offset=print_offset,
        print_sheets=print_sheets,
        checkpoint_every=_checkpoint_every(root, get("audit", "checkpoint_every", DEFAULT_EVERY)),
    )


def _checkpoint_every(root: Path, value: int) -> int:
    if value < 1:
        raise ConfigurationError(f"{root / CONFIG_NAME}: audit.checkpoint_every is {value}, not a positive number")
    return value


def _chip_keys(root: Path, value: str) -> str:
    if value not in ("centre", "on-chip"):
        raise ConfigurationError(f"{root / CONFIG_NAME}: chip.keys is {value!r}, not \"centre\" or \"on-chip\"")
    return value


# --- writing ------------------------------------------------------------------------------------------


def _page_templates(root: Path, table: Mapping[str, object]) -> dict[str, str]:
    """`[page] templates = { TD2 = "templates/td2.toml" }`: format -> template file, relative to the site."""
    out: dict[str, str] = {}
    for key, value in table.items():
        try:
            fmt = DocumentFormat.parse(key)
        except InputError:
            raise ConfigurationError(f"{root / CONFIG_NAME}: page.templates: {key!r} is not a document format") from None
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"{root / CONFIG_NAME}: page.templates.{key} must name a template file")
        out[fmt.value] = str((root / value).resolve())
    return out


def _print_sheets(table: Mapping[str, object]) -> dict[str, str]:
    """`[print] sheets = { TD3 = "a4-etd", TD1 = "a4-cards" }`: format -> print sheet (mrtd.layouts)."""
    out: dict[str, str] = {}
    for key, value in table.items():
        fmt = DocumentFormat.parse(key)
        out[fmt.value] = sheet(str(value)).name
    return out


def _toml_value(value: object) -> str:
    # Hand-written because the standard library reads TOML but does not write it, and this file only
    # ever holds strings, integers, booleans and one flat string table.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        if any(ord(c) < 0x20 for c in escaped):
            raise ConfigurationError(f"setting value {value!r}: control characters are not allowed")
        return f'"{escaped}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise ConfigurationError(f"setting value {value!r}: not a string, integer or boolean")


def dump_config(table: Mapping[str, Mapping[str, object]]) -> str:
    lines = ["# mrtd site configuration (`mrtd site init`). No secrets here: passphrases and PINs come from",
             "# a prompt, each key's own $MRTD_<ROLE>_PASSPHRASE / $MRTD_<ROLE>_PIN or --secret-file ROLE=FILE;",
             "# database passwords from PGPASSWORD."]
    for section in _SECTIONS:
        values = table.get(section)
        if not values:
            continue
        lines += ["", f"[{section}]"]
        lines += [f"{key} = {_toml_value(v)}" for key, v in values.items()]
    return "\n".join(lines) + "\n"


def write_config(root: Path, table: Mapping[str, Mapping[str, object]]) -> Path:
    """Write `mrtd.toml` whole (temporary file + rename)."""
    path = Path(root) / CONFIG_NAME
    text = dump_config(table)
    tomllib.loads(text)  # what we write must read back
    tmp = path.with_name(f".{CONFIG_NAME}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def default_policy(prefix: str) -> NumberPolicy:
    """`prefix` and a sequence that starts at 1 followed by zeros (U10000001, U10000002, ...).

    The sequence never begins with 0: right after a letter, OCR-B's 0 and O are the pair a reader
    confuses most in the alphanumeric number field, and the print check would reject the page."""
    digits = 9 - len(prefix)
    return NumberPolicy(prefix=prefix, start=10 ** (digits - 1) + 1 if digits > 1 else 1)


def init_site(
    root: Path,
    country: str,
    *,
    secrets: Secrets,
    clock: Clock,
    database_url: str | None = None,
    pkcs11: Pkcs11Config | None = None,
    csca_token: Pkcs11Config | None = None,
    csca_certificate: bytes | None = None,
    certificate_country: str | None = None,
    numbering: NumberPolicy | None = None,
    algorithm: str = DEFAULT_ALGORITHM,
    seal_signer_cn: str = DEFAULT_SEAL_SIGNER_CN,
    page_templates: Mapping[str, Path] | None = None,
    actor: str = "mrtd",
    kdf_log2n: int = DEFAULT_SCRYPT_LOG2N,
    rng: Callable[[int], bytes] = os.urandom,
) -> SiteConfig:
    """Create a site in `root` (absent or empty): `mrtd.toml`, the records database, the PKI (CSCA,
    Document Signer, seal signer) and the document number policy.

    `country` is the issuing-state code (`UTO`, `D`, `NLD`) or an ISO alpha-2 code. Every key has its own
    secret, by role in `secrets` ("csca", "ds", "seal-signer"): the passphrase of its file; with `pkcs11` the
    signing keys are made in that token (its PIN opens them) and with `csca_token` the CSCA key in its own
    token. The audit key (which signs the audit log's checkpoints) is made when `secrets` has "audit" (in the
token with `pkcs11`); an existing site gets one with `mrtd audit init-key`. With `csca_certificate` the CSCA lives at another site: only its certificate is kept, and the
    signing keys come later through `mrtd pki csr` / `sign-csr` / `import-cert`. Everything in the
    folder is built in a temporary sibling and moved into place at the end, so a failure leaves nothing.
    (Keys made in a token before a failure stay in the token, under labels no site refers to.)
    `page_templates` (format -> template file) are copied into the site's `templates/` folder.
    """
    root = Path(root).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise StateError(f"site: {root} exists and is not an empty folder; refusing to overwrite a site")
    cert_country, mrz = country_codes(country, certificate_country)
    policy = numbering or default_policy(mrz[0])
    url = check_database_url(database_url or DEFAULT_SQLITE)
    templates = {DocumentFormat.parse(k): Path(v) for k, v in (page_templates or {}).items()}
    for fmt, source in templates.items():  # refused before anything is made: geometry, then format
        if load_template(str(source)).format is not fmt:
            raise ConfigurationError(f"page template {source}: not a {fmt.value} template")
    if len(seal_signer_cn) != 2:
        raise InputError(f"seal_signer_cn: {seal_signer_cn!r} is not 2 characters (seal signer identifier)")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.init-", dir=root.parent))
    try:
        pki = PkiSite(tmp, clock=clock, actor=actor, kdf_log2n=kdf_log2n, rng=rng)
        check_distinct({r: s for r, s in secrets.items() if r != "csca" or csca_token is None})
        if csca_certificate is not None:
            pki.init_external(cert_country, csca_certificate, mrz_code=mrz, algorithm=algorithm, signer_token=pkcs11)
        else:
            csca = csca_token.pin if csca_token is not None else secret_of(secrets, "csca")
            pki.init(cert_country, algorithm, csca, pkcs11=csca_token, mrz_code=mrz, signer_token=pkcs11)
            for role, extra in (("ds", {"document_types": DS_DOCUMENT_TYPES}), ("seal-signer", {"common_name": seal_signer_cn})):
                own = None if pkcs11 is not None else secret_of(secrets, role)
                pki.issue(role, csca, key_secret=own, token=pkcs11, **extra)
        if pkcs11 is not None or "audit" in secrets:
            # The audit key signs the audit log's checkpoints (no certificate: it is no ICAO role).
            pki.new_audit_key(b"" if pkcs11 is not None else secret_of(secrets, "audit"), token=pkcs11)
        table: dict[str, dict[str, object]] = {
            "site": {"country": mrz, "certificate_country": cert_country},
            "records": {"url": url},
            "numbering": policy.as_config(),
            "pki": {"store": "pkcs11" if pkcs11 else "file", "algorithm": algorithm,
                    "seal_signer_cn": seal_signer_cn},
            "chip": {"profile": "mrtd-sim", "reader": ""},
            "seal": {"symbology": "qr"},
            "page": {"dpi": 300, "print_check": True, "render": True},
            "audit": {"checkpoint_every": DEFAULT_EVERY},
        }
        if templates:
            (tmp / "templates").mkdir()
            copied: dict[str, object] = {}
            for fmt, source in templates.items():
                target = tmp / "templates" / f"{fmt.value.lower()}.toml"
                shutil.copyfile(source, target)
                copied[fmt.value] = f"templates/{target.name}"
            table["page"]["templates"] = copied
        if pkcs11 is not None:
            table["pki"].update({"pkcs11_module": pkcs11.module, "token": pkcs11.token})
        write_config(tmp, table)
        # The database: SQLite inside the (temporary) site folder, or the PostgreSQL server's tables.
        with RecordStore.open(resolve_records_url(tmp, url), clock=clock):
            pass
        if root.exists():
            root.rmdir()
        tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_site(root)
