"""Site folders: `init_site` creates mrtd.toml, records and PKI; `load_site` reads them back with overrides."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import EXAMPLES, KEY_SECRETS, ROOT, require, secret_env
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.cli.site import site as site_group
from mrtd.errors import ConfigurationError, InputError, MrtdError, StateError
from mrtd.issuance.records import RecordStore
from mrtd.issuance.site import CONFIG_NAME, init_site, load_site, write_config
from mrtd.pki.site import PkiSite

PASS = b"site-test-passphrase"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    return NOW


def test_init_creates_config_records_and_pki(tmp_path: Path) -> None:
    cfg = init_site(tmp_path / "s", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    raw = tomllib.loads((tmp_path / "s" / CONFIG_NAME).read_text("utf-8"))
    assert raw["site"] == {"country": "UTO", "certificate_country": "UT"}
    assert raw["records"] == {"url": "sqlite:///records.sqlite3"}
    assert raw["numbering"] == {"prefix": "U", "length": 9, "start": 10000001}
    assert cfg.records_url == f"sqlite:///{(tmp_path / 's' / 'records.sqlite3').resolve()}"
    assert (tmp_path / "s" / "records.sqlite3").is_file()
    roles = sorted(r.role for r in PkiSite(tmp_path / "s").list())
    assert roles == ["csca", "ds", "seal-signer"]
    with RecordStore.open(cfg.records_url) as store:
        assert store.documents() == []
    key_files = list((tmp_path / "s" / "pki" / "keys").iterdir())
    assert key_files and all(b"ENCRYPTED PRIVATE KEY" in p.read_bytes() for p in key_files)
    assert PASS not in (tmp_path / "s" / CONFIG_NAME).read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_init_from_alpha2_country(tmp_path: Path) -> None:
    cfg = init_site(tmp_path / "nl", "NL", secrets=KEY_SECRETS, clock=clock, kdf_log2n=12)
    assert (cfg.country, cfg.certificate_country, cfg.numbering.prefix) == ("NLD", "NL", "N")
    de = init_site(tmp_path / "de", "D", secrets=KEY_SECRETS, clock=clock, kdf_log2n=12)
    assert (de.country, de.certificate_country) == ("D", "DE")


def test_init_refuses_a_non_empty_folder_and_unmapped_country(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(StateError):
        init_site(tmp_path / "busy", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT")
    with pytest.raises(InputError, match="certificate country"):
        init_site(tmp_path / "new", "XXA", secrets=KEY_SECRETS, clock=clock)
    assert not (tmp_path / "new").exists()


def test_database_url_with_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="PGPASSWORD"):
        init_site(tmp_path / "s", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT",
                  database_url="postgresql://mrtd:hunter2@127.0.0.1/test")
    assert not (tmp_path / "s").exists()


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    init_site(tmp_path / "s", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)
    cfg = load_site(tmp_path / "s", {"chip.reader": "Virtual PCD 00 00", "page.print_check": False,
                                      "records.url": "sqlite:///other.sqlite3", "seal.symbology": None})
    assert cfg.reader == "Virtual PCD 00 00" and cfg.print_check is False
    assert cfg.records_url.endswith("/s/other.sqlite3") and cfg.symbology == "qr"
    with pytest.raises(ConfigurationError, match="no such setting"):
        load_site(tmp_path / "s", {"chip.colour": "red"})
    with pytest.raises(ConfigurationError, match="must be a bool"):
        load_site(tmp_path / "s", {"page.print_check": "yes"})


def test_bad_config_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(ConfigurationError, match=r"no mrtd\.toml"):
        load_site(tmp_path / "a")
    write_config(tmp_path / "a", {"site": {"country": "UTO"}, "page": {"dpi": 72}})
    with pytest.raises(ConfigurationError, match="dpi"):
        load_site(tmp_path / "a")
    (tmp_path / "a" / CONFIG_NAME).write_text('[site]\ncountry = "UTO"\ncolour = "red"\n')
    with pytest.raises(ConfigurationError, match=r"unknown key site\.colour"):
        load_site(tmp_path / "a")


def test_cli_site_init_takes_the_passphrase_from_the_environment(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(site_group, ["init", str(tmp_path / "s"), "--country", "UTO", "--certificate-country",
                                        "UT", "--json"], env=secret_env())
    assert result.exit_code == 0, result.output
    assert '"records": "sqlite"' in result.output
    again = runner.invoke(site_group, ["init", str(tmp_path / "s"), "--country", "UTO"],
                          env=secret_env())
    assert again.exit_code == 1 and "refusing to overwrite" in again.output


SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def _cli(group: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A command in its own process: the PKCS#11 library reads SOFTHSM2_CONF once per process."""
    module = {"site": "mrtd.cli.site", "issue": "mrtd.cli.issue", "audit": "mrtd.cli.audit"}[group]
    code = f"from {module} import {group}; {group}(prog_name='mrtd {group}')"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env}, cwd=ROOT, check=False)


@pytest.mark.softhsm
@pytest.mark.slow
def test_pkcs11_site_keys_live_in_the_token_and_issue_works(tmp_path: Path) -> None:
    require(shutil.which("softhsm2-util") is not None and Path(SOFTHSM_MODULE).exists(), "SoftHSM2")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    # The signing keys in the token (its PIN for each), the CSCA in a file of its own (offline-able).
    env = {"SOFTHSM2_CONF": str(conf), "MRTD_DS_PIN": "246810", "MRTD_SEAL_PIN": "246810", "MRTD_AUDIT_PIN": "246810",
           "MRTD_CSCA_PASSPHRASE": "csca of a token site"}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "mrtd-site", "--pin", "246810",
                    "--so-pin", "13579135"], check=True, capture_output=True, env={**os.environ, **env})
    made = _cli("site", ["init", str(tmp_path / "s"), "--country", "UTO", "--certificate-country", "UT",
                         "--pkcs11-module", SOFTHSM_MODULE, "--token", "mrtd-site"], env)
    assert made.returncode == 0, made.stderr
    cfg = load_site(tmp_path / "s")
    assert (cfg.pki_store, cfg.pkcs11_module, cfg.pkcs11_token) == ("pkcs11", SOFTHSM_MODULE, "mrtd-site")
    assert [p.name[:4] for p in (tmp_path / "s" / "pki" / "keys").iterdir()] == ["csca"]  # signers: no file
    refs = {r.role: r.key["store"] for r in PkiSite(tmp_path / "s").list()}
    assert refs == {"csca": "file", "ds": "pkcs11", "seal-signer": "pkcs11"}
    issued = _cli("issue", [str(EXAMPLES / "anna-eriksson-td1.json"), "--site", str(tmp_path / "s"), "--out",
                            str(tmp_path / "out"), "--no-print-check", "--json"], env)
    assert issued.returncode == 0, issued.stderr
    assert envelope(issued.stdout)["ok"]
    receipt = json_result(issued.stdout)
    assert receipt["checks"][-1] == {**receipt["checks"][-1], "name": "chip", "status": "pass"}
    assert "246810" not in issued.stdout + issued.stderr
    # The audit key is in the token too, and issuing signed a checkpoint of the log with it.
    assert PkiSite(tmp_path / "s").key_in_token("audit")
    verified = _cli("audit", ["verify", "--site", str(tmp_path / "s")], env)
    assert verified.returncode == 0, verified.stderr
    assert "1 signed checkpoints verified, 0 entries after the last; 1 documents agree" in verified.stdout


_SAMPLE = (b'[site]\ncountry = "UTO"\ncertificate_country = "UT"\n[records]\nurl = "sqlite:///r.sqlite3"\n'
           b'[numbering]\nprefix = "U"\nlength = 9\nstart = 10000001\n[pki]\nstore = "file"\n'
           b'[chip]\nprofile = "mrtd-sim"\nreader = ""\n[page]\ndpi = 300\n[names]\nlatin = { "\xc3\x9c" = "UXX" }\n')


@settings(max_examples=150)
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.tuples(st.integers(0, len(_SAMPLE) - 1), st.integers(0, 255)), max_size=6).map(
                     lambda edits: bytes(_mutate(_SAMPLE, edits)))))
def test_any_mrtd_toml_loads_or_raises_a_configuration_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, CONFIG_NAME).write_bytes(data)
        try:
            cfg = load_site(Path(tmp))
        except MrtdError:
            return
        assert cfg.country and cfg.numbering.length <= 9


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytearray:
    out = bytearray(data)
    for at, value in edits:
        out[at] = value
    return out


def test_the_sample_config_itself_loads(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_bytes(_SAMPLE)
    cfg = load_site(tmp_path)
    assert cfg.numbering.format(cfg.numbering.start) == "U10000001"
    assert cfg.records_url == f"sqlite:///{(tmp_path / 'r.sqlite3').resolve()}"
