"""Every parser of outside input as a fuzz target: what it does with the bytes (as the CLI would), the seeds
the project makes for it, and how a saved input is replayed through the CLI.

The guarantee checked: only `MrtdError` leaves a target, and no input takes over 2 seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fuzz.world import EXAMPLES, NOW, der, jpeg, pdf, png, portrait, world
from mrtd.asn1.x509 import read_certificate, read_crl
from mrtd.chip.lds.cardaccess import CardAccess
from mrtd.chip.lds.cardsecurity import CardSecurity
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2
from mrtd.chip.lds.dg7 import Dg7
from mrtd.chip.lds.dg11 import Dg11
from mrtd.chip.lds.dg12 import Dg12
from mrtd.chip.lds.dg13 import Dg13
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.dg16 import Dg16
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.sod import Sod
from mrtd.chip.passive import passive_authentication
from mrtd.chip.portrait import prepare_portrait
from mrtd.errors import MrtdError
from mrtd.issuance.application import check_application_file
from mrtd.issuance.batch import read_batch
from mrtd.issuance.images import check_image
from mrtd.pki import masterlist
from mrtd.pki.lint import lint_certificate, lint_crl, lint_masterlist
from mrtd.pki.trust import TrustStore
from mrtd.seals import idb, vds, vdsnc
from mrtd.seals.verify import check_seal

Argv = list[str]


@dataclass(frozen=True)
class Target:
    run: Callable[[bytes], object]
    seeds: Callable[[], Sequence[bytes]]
    cli: Callable[[Path, bytes], Argv]  # writes what the command needs under the folder, returns its argv


def _certificate(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        cert = read_certificate(data)
        _ = (cert.subject_text, cert.issuer_text, cert.not_before, cert.not_after, cert.ski, cert.aki, cert.country)
        with contextlib.suppress(MrtdError):
            _ = cert.public_key
        world().store.validate(cert, NOW, purpose="ds")
    lint_certificate(data)


def _crl(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        crl = read_crl(data)
        _ = (crl.number, crl.revoked_at(12345), crl.next_update)
        store = TrustStore()
        store.add_certificate(world().csca)
        store.add_crl(crl)
        store.validate(world().ds, NOW, purpose="ds", require_crl=True)
    lint_crl(data)


def _trust_file(data: bytes) -> None:
    store = TrustStore()
    store.add_bytes(data, "fuzz")
    store.validate(world().ds, NOW, purpose="ds")


def _masterlist(data: bytes) -> None:
    lint_masterlist(data, at=NOW)
    ml = masterlist.parse(data)
    ml.csca_certificates()
    masterlist.verify(ml, world().store, NOW)


def _sod(data: bytes) -> None:
    Sod.decode(data)
    passive_authentication({**world().files, "EF.SOD": data}, world().store, NOW)


LDS_DECODERS: tuple[tuple[str, Callable[[bytes], object]], ...] = (
    ("EF.COM", EfCom.decode), ("DG1", Dg1.decode), ("DG2", Dg2.decode), ("DG7", Dg7.decode),
    ("DG11", Dg11.decode), ("DG12", Dg12.decode), ("DG13", Dg13.decode), ("DG14", Dg14.decode),
    ("DG15", Dg15.decode), ("DG16", Dg16.decode), ("EF.CardAccess", CardAccess.decode),
    ("EF.CardSecurity", CardSecurity.decode),
)


def _lds(data: bytes) -> None:
    """The first byte picks the file; the rest is that file's bytes."""
    if not data:
        return
    name, decode = LDS_DECODERS[data[0] % len(LDS_DECODERS)]
    with contextlib.suppress(MrtdError):
        decoded = decode(data[1:])
        if isinstance(decoded, CardSecurity):
            decoded.verify()
    passive_authentication({**world().files, name: data[1:]}, world().store, NOW)


def _lds_seeds() -> list[bytes]:
    files = world().files
    return [bytes([i]) + files[name] for i, (name, _) in enumerate(LDS_DECODERS) if name in files]


def _seal(data: bytes) -> None:
    check_seal(data, world().seal_trust, NOW)
    with contextlib.suppress(MrtdError):
        check_seal(data, world().seal_trust, NOW, strict=True)


def _vds(data: bytes) -> None:
    vds.decode(data)
    _seal(data)


def _idb(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        idb.decode(data.decode("latin-1"))
    _seal(data)


def _vdsnc(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        vdsnc.decode(data)
    _seal(data)


def _in_file(suffix: str, data: bytes, use: Callable[[Path], object]) -> object:
    with tempfile.TemporaryDirectory(prefix="mrtd-fuzz-") as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        return use(path)


def _application_json(data: bytes) -> None:
    _in_file(".json", data, lambda p: check_application_file(p, today=NOW.date()))


def _batch(suffix: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        _in_file(suffix, data, lambda p: list(read_batch(p, today=NOW.date())))
    return run


def _portrait(data: bytes) -> None:
    _in_file(".jpg", data, lambda p: check_image(p, "portrait"))
    prepare_portrait(data, budget=8000)


# --- replay through the CLI -----------------------------------------------------------------------


def _trusted(tmp: Path) -> Path:
    path = tmp / "csca.pem"
    path.write_bytes(world().csca_pem())
    return path


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _chip_folder(tmp: Path, name: str, data: bytes) -> Path:
    folder = tmp / "document"
    folder.mkdir()
    for short, raw in {**world().files, name: data}.items():
        (folder / (f"{short}.bin" if short.startswith("DG") else short)).write_bytes(raw)
    return folder


def _seal_cli(tmp: Path, data: bytes) -> Argv:
    trust = tmp / "trust"
    trust.mkdir()
    (trust / "csca.pem").write_bytes(world().csca_pem())
    (trust / "signers.pem").write_bytes(b"".join(c.pem() for c in world().certificates()[2:4]))
    return ["seal", "verify", str(_write(tmp, "seal.input", data)), "--trust", str(trust)]


def _lds_cli(tmp: Path, data: bytes) -> Argv:
    name = LDS_DECODERS[data[0] % len(LDS_DECODERS)][0] if data else "DG1"
    return ["chip", "verify", str(_chip_folder(tmp, name, data[1:])), "--trust", str(_trusted(tmp)),
            "--at", NOW.date().isoformat()]


TARGETS: dict[str, Target] = {
    "certificate": Target(_certificate, lambda: [c.der for c in world().certificates()],
                          lambda t, d: ["pki", "lint", str(_write(t, "cert.der", d))]),
    "crl": Target(_crl, lambda: [world().crl], lambda t, d: ["pki", "lint", str(_write(t, "list.crl", d))]),
    "trust-file": Target(
        _trust_file,
        lambda: [world().csca_pem(), b"subject=C = UT\n\n" + world().csca_pem(), der(world().csca), world().crl,
                 world().masterlist],
        lambda t, d: ["chip", "verify", str(_chip_folder(t, "DG1", world().files["DG1"])), "--trust",
                      str(_write(t, "trust.pem", d)), "--at", NOW.date().isoformat()]),
    "masterlist": Target(_masterlist, lambda: [world().masterlist],
                         lambda t, d: ["pki", "masterlist", "verify", str(_write(t, "list.ml", d)), "--trust",
                                       str(_trusted(t)), "--at", NOW.date().isoformat()]),
    "sod": Target(_sod, lambda: [world().files["EF.SOD"]],
                  lambda t, d: ["chip", "verify", str(_chip_folder(t, "EF.SOD", d)), "--trust", str(_trusted(t)),
                                "--at", NOW.date().isoformat()]),
    "lds": Target(_lds, _lds_seeds, _lds_cli),
    "vds": Target(_vds, lambda: [world().vds], _seal_cli),
    "idb": Target(_idb, lambda: [world().idb], _seal_cli),
    "vdsnc": Target(_vdsnc, lambda: [world().vdsnc], _seal_cli),
    "seal-image": Target(_seal, lambda: [png(world().vds, 1), jpeg(world().idb), png(world().vdsnc, 1)],
                         _seal_cli),
    "seal-pdf": Target(_seal, lambda: [pdf(world().idb)], _seal_cli),
    "application-json": Target(
        _application_json, lambda: [p.read_bytes() for p in sorted(EXAMPLES.glob("*.json"))],
        lambda t, d: ["application", "validate", str(_write(t, "application.json", d))]),
    "application-csv": Target(
        _batch(".csv"), lambda: [(EXAMPLES / "batches" / "consulate-day.csv").read_bytes()],
        lambda t, d: ["application", "validate", str(_write(t, "batch.csv", d))]),
    "application-jsonl": Target(
        _batch(".jsonl"), lambda: [(EXAMPLES / "batches" / "consulate-day.jsonl").read_bytes()],
        lambda t, d: ["application", "validate", str(_write(t, "batch.jsonl", d))]),
    "portrait": Target(_portrait, lambda: [portrait(), portrait(320, 400)],
                       lambda t, d: ["application", "validate", str(_portrait_application(t, d))]),
}


def _portrait_application(tmp: Path, data: bytes) -> Path:
    import json

    app = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text("utf-8"))
    (tmp / "portrait.jpg").write_bytes(data)
    app["portrait"] = "portrait.jpg"
    app.pop("signature", None)
    return _write(tmp, "application.json", json.dumps(app).encode("utf-8"))


def run_once(name: str, data: bytes) -> None:
    """One input through a target: returns when only MrtdError was raised, else lets the escape through."""
    with contextlib.suppress(MrtdError):
        TARGETS[name].run(data)


__all__ = ["TARGETS", "Target", "dt", "run_once"]
