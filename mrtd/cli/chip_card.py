"""`mrtd chip write`, `mrtd chip read`, `mrtd chip simulate`: the chip through a PC/SC reader, and the
virtual card on a vpcd slot. (Module-level click commands; `mrtd.cli.chip` lists them in the group.)

The per-document keys in DIR/keys/ are decrypted with $MRTD_CHIP_KEYS_PASSPHRASE or
`--keys-passphrase-file`, never a command-line value.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mrtd.chip.profiles import PROFILE_NAMES
from mrtd.chip.protocol.apdu import SHORT_READ
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
)
from mrtd.cli.output import verdict
from mrtd.private import write_private

if TYPE_CHECKING:  # the chip stack loads when a command runs, not for --help
    from mrtd.chip.protocol.bac import MrzInfo
    from mrtd.chip.reader import TerminalCredentials


def _trust(path: Path | None, require_crl: bool = False) -> Any:
    if path is None:
        return None
    from mrtd.pki.trust import TrustStore

    return TrustStore.load(path, require_crl=require_crl)


def _terminal(cert: Path, key: Path, passphrase_file: Path | None) -> TerminalCredentials:
    """The inspection system's chain and key; the key file is encrypted PKCS#8 (mrtd pki is issue)."""
    import os

    from cryptography.hazmat.primitives.asymmetric import ec

    from mrtd.chip.reader import TerminalCredentials
    from mrtd.errors import KeyAccessError
    from mrtd.pki.cvc.certificate import split_certificates
    from mrtd.pki.keys import decrypt_private_key, terminal_passphrase_from

    chain = tuple(split_certificates(cert.read_bytes()))
    secret = terminal_passphrase_from(os.environ, passphrase_file, prompt_secret)
    private = decrypt_private_key(key.read_bytes(), secret, source=key.name)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise KeyAccessError(f"{key.name}: an inspection system's key is an EC key (id-TA-ECDSA)")
    return TerminalCredentials(chain, private)


def _print_checks(checks: list[dict[str, str]]) -> None:
    for c in checks:
        click.echo(f"  {c['status']:8} {c['name']}: {c['detail']}")


@click.command("write")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--reader", "reader_name", required=True, help="PC/SC reader name.")
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default="mrtd-sim", show_default=True)
@click.option("--trust", type=click.Path(exists=True, path_type=Path), default=None, help="CSCA trust store for passive authentication.")
@click.option("--keys-passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--no-lock", is_flag=True, help="Leave the chip unlocked (test cards).")
@click.option("--wait", type=float, default=10.0, show_default=True, help="Seconds to wait for a card.")
@json_option
@guarded
def write(
    folder: Path, reader_name: str, profile: str, trust: Path | None, keys_passphrase_file: Path | None,
    no_lock: bool, wait: float, as_json: bool,
) -> None:  # fmt: skip
    """Personalise the chip in READER with the document in FOLDER, check it, lock it."""
    from mrtd.chip.document import read_folder
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.perso import personalise  # writing's own stack: `chip read` does not load it

    image = read_folder(folder, passphrase=chip_keys_passphrase(keys_passphrase_file))
    transport = PcscTransport(reader_name, wait=wait)
    try:
        report = personalise(image, transport, profile, trust=_trust(trust), at=dt.datetime.now(dt.UTC), lock=not no_lock)
    finally:
        transport.close()
    if as_json:
        failed = [{"rule": c.name, "message": c.detail or c.status} for c in report.checks if c.status == "fail"]
        emit_json(report.as_dict(), **verdict(report.ok, (), failed))
    else:
        click.echo(f"{report.status}: {report.apdus} APDUs, {report.bytes_sent} bytes ({report.profile})")
        _print_checks([c.as_dict() for c in report.checks])
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)


@click.command("read")
@click.option("--reader", "reader_name", required=True, help="PC/SC reader name.")
@click.option("--mrz-info", default=None, help="DOCNO,YYMMDD,YYMMDD (birth, expiry).")
@click.option("--can", default=None, help="Card access number (PACE).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--trust", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--max-read", type=int, default=SHORT_READ, show_default=True, help="Bytes per READ BINARY (extended length above 256).")
@click.option("--is-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Inspection system CV certificate chain (DV, terminal) for Terminal Authentication (DG3/DG4).")
@click.option("--is-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The inspection system's private key (passphrase: --is-passphrase-file or $MRTD_IS_KEY_PASSPHRASE).")
@click.option("--is-passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--wait", type=float, default=10.0, show_default=True)
@at_option
@require_crl_option
@json_option
@guarded
def read(
    reader_name: str, mrz_info: str | None, can: str | None, out_dir: Path, trust: Path | None,
    max_read: int, is_cert: Path | None, is_key: Path | None, is_passphrase_file: Path | None, wait: float,
    at: str | None, require_crl: bool, as_json: bool,
) -> None:  # fmt: skip
    """Read a chip: PACE or BAC, every file (saved raw in OUT), AA, CA, Terminal Authentication (with
    --is-cert/--is-key: DG3, DG4), passive authentication."""
    from mrtd.chip.lds.files import file_name
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.protocol.bac import MrzInfo
    from mrtd.chip.reader import read_chip

    if (mrz_info is None) == (can is None) or (is_cert is None) != (is_key is None):
        raise click.UsageError("give exactly one of --mrz-info and --can, and --is-cert with --is-key")
    secret: MrzInfo | str = MrzInfo.parse(mrz_info) if mrz_info else str(can)
    terminal = _terminal(is_cert, is_key, is_passphrase_file) if is_cert and is_key else None
    transport = PcscTransport(reader_name, wait=wait)
    try:
        report = read_chip(transport, secret, _trust(trust, require_crl), parse_at(at), max_read=max_read,
                           terminal=terminal)
    finally:
        transport.close()
    for name, data in report.files.items():
        write_private(out_dir / file_name(name), data)
    if as_json:
        failed = [{"rule": c.name, "message": c.detail or c.status} for c in report.checks if c.status == "fail"]
        emit_json(report.as_dict(), **verdict(report.ok, (), failed))
    else:
        click.echo(f"{'ok' if report.ok else 'FAILED'}: {report.access} ({report.protocol}), {len(report.files)} files -> {out_dir}")
        _print_checks([c.as_dict() for c in report.checks])
    sys.exit(EXIT_OK if report.ok else EXIT_FINDINGS)


@click.command("simulate")
@click.option("--slot", type=click.Choice(["0", "1"]), default="0", show_default=True, help="vpcd slot.")
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default="mrtd-sim", show_default=True)
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Keep the card's contents in this file.")
@click.option("--host", default="127.0.0.1", show_default=True)
@guarded
def simulate(slot: str, profile: str, state: Path | None, host: str) -> None:
    """Run a virtual eMRTD on a vpcd slot until stopped (Ctrl-C)."""
    from mrtd.chip.sim.card import VirtualCard
    from mrtd.chip.sim.vpcd import SLOT_PORTS, connect, serve

    card = VirtualCard.load(state, profile) if state else VirtualCard(profile)
    port = SLOT_PORTS[int(slot)]
    sock = connect(host, port)
    click.echo(f"virtual card ({card.profile.name}) on vpcd slot {slot} (port {port}); Ctrl-C to stop")
    try:
        serve(card, sock)
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
