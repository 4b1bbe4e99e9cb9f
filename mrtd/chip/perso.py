"""Personalisation: a document's files and keys -> an ordered plan of APDUs for a chip profile -> the
chip; then read everything back over PACE (or BAC), run Active and Chip Authentication (and passive
authentication when a trust store is given), and lock only when all of it passes.

The plan can run again on the same unlocked chip (CREATE FILE of an existing file with the same size is
allowed, writes overwrite). A card removed or failing midway raises ChipError/TransportError naming the
step; a chip that fails the read-back is never reported good, and a locked chip that fails is "spoiled".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.chip.image import ChipImage, as_image
from mrtd.chip.lds import files as lds_files
from mrtd.chip.plancheck import require_plan
from mrtd.chip.profiles import ChipProfile, load_profile
from mrtd.chip.protocol import perso_commands as pc
from mrtd.chip.protocol.apdu import Command
from mrtd.chip.protocol.bac import MrzInfo
from mrtd.chip.protocol.curves import domain_for_name
from mrtd.chip.reader import Check, ChipSession, ReadReport, read_chip
from mrtd.chip.transport import Transport
from mrtd.errors import ChipError, TransportError

SW_LOCKED = 0x6985


@dataclass(frozen=True, slots=True)
class PlanStep:
    step: str
    command: Command


@dataclass
class PersoReport:
    profile: str
    status: str  # "personalised" | "failed" (unlocked, may be retried) | "spoiled" (locked and failing)
    apdus: int
    bytes_sent: int
    checks: list[Check] = field(default_factory=list)
    read: ReadReport | None = None

    @property
    def ok(self) -> bool:
        return self.status == "personalised"

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "status": self.status,
            "ok": self.ok,
            "apdus": self.apdus,
            "bytes_sent": self.bytes_sent,
            "checks": [c.as_dict() for c in self.checks],
        }


def _file_steps(name: str, content: bytes, profile: ChipProfile) -> list[PlanStep]:
    fid = lds_files.by_name(name).fid
    steps = [PlanStep(f"create {name}", pc.create_file(fid, len(content))),
             PlanStep(f"select {name}", pc.select_file(fid))]
    size = profile.max_command_data
    for offset in range(0, len(content), size):
        chunk = content[offset : offset + size]
        steps.append(PlanStep(f"write {name} at {offset}", pc.update_binary(offset, chunk)))
    return steps


_ORDER = ["EF.COM"] + [f"DG{i}" for i in range(1, 17)] + ["EF.SOD", "EF.CVCA"]


def plan(image: ChipImage, profile: ChipProfile) -> list[PlanStep]:
    """The ordered personalisation commands (everything but the lock), after `plancheck.require_plan`
    found nothing that would stop the card halfway. The chip gets exactly the image's files."""
    require_plan(image, profile)
    return _plan_steps(image, profile)


def _plan_steps(image: ChipImage, profile: ChipProfile) -> list[PlanStep]:
    steps: list[PlanStep] = []
    mf_files = [n for n in image.files if lds_files.by_name(n).in_mf]
    app_files = [n for n in image.files if not lds_files.by_name(n).in_mf]
    if profile.files_in_mf:
        steps.append(PlanStep("select master file", pc.select_mf()))
        for name in mf_files:
            steps += _file_steps(name, image.files[name], profile)
    steps.append(PlanStep("select eMRTD application", pc.select_applet(profile.aid)))
    for name in sorted(app_files, key=_ORDER.index):
        steps += _file_steps(name, image.files[name], profile)
    mrz = image.mrz_info
    steps.append(PlanStep("BAC key seed", pc.put_mrz_seed(mrz.document_number, mrz.date_of_birth, mrz.date_of_expiry)))
    if image.can is not None:
        steps.append(PlanStep("CAN", pc.put_can(image.can)))
    if image.aa_key is not None:
        steps += _aa_steps(image.aa_key, profile)
    if image.ca_key is not None:
        d = domain_for_name(image.ca_key.curve.name)
        steps.append(PlanStep("Chip Authentication key", pc.put_ca_key(d, image.ca_key.private_numbers().private_value, image.ca_key_id)))
    for i, cert in enumerate(image.cvca):
        steps.append(PlanStep("CVCA trust point", pc.put_cvca(cert, i)))
    if image.cvca and image.chip_date is not None:  # the date Terminal Authentication starts from
        steps.append(PlanStep("chip current date", pc.put_date(image.chip_date)))
    return steps


def _aa_steps(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, profile: ChipProfile) -> list[PlanStep]:
    if isinstance(key, rsa.RSAPrivateKey) and profile.aa_key_command == "modulus-exponent":
        nums = key.private_numbers()
        size = (key.key_size + 7) // 8
        return [PlanStep("Active Authentication key", c) for c in pc.put_aa_rsa(nums.public_numbers.n, nums.d, size)]
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return [PlanStep("Active Authentication key", pc.put_aa_private_key(der))]


class _Counting:
    """Counts what goes through a transport (for the report and the benchmark)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.apdus = 0
        self.bytes = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.apdus += 1
        self.bytes += len(apdu)
        return self.inner.transmit(apdu)

    def close(self) -> None:
        self.inner.close()


def personalise(
    image_or_files: Any,
    transport: Transport,
    profile: str | ChipProfile = "mrtd-sim",
    *,
    trust: Any = None,
    at: datetime | None = None,
    random: Callable[[int], bytes] = os.urandom,
    lock: bool = True,
    passive: Callable[[Mapping[str, bytes], Any, datetime | None], Check] | None = None,
) -> PersoReport:
    """Write the image, read it back and check it, lock when everything passes."""
    prof = profile if isinstance(profile, ChipProfile) else load_profile(profile)
    image = as_image(image_or_files)
    steps = plan(image, prof)
    counting = _Counting(transport)
    session = ChipSession(counting, random)
    locked_already = False
    for s in steps:
        rsp = session.send(s.command, s.step)
        if rsp.sw == SW_LOCKED and s.command.ins in (0xE0, 0xD6, 0xDA):
            locked_already = True
            break
        rsp.check(s.step)
    secret: MrzInfo | str = image.mrz_info
    max_read = prof.max_read - 64 if prof.extended_length else prof.max_read
    expected = dict(image.files)
    try:
        read = read_chip(counting, secret, trust, at, random=random, max_read=max_read,
                         expected=expected, passive=passive)
    except ChipError as exc:
        if locked_already:
            return PersoReport(prof.name, "spoiled", counting.apdus, counting.bytes,
                               [Check("read-back", "fail", str(exc))])
        raise
    good = read.ok if trust is not None else read.ok_without_passive
    checks = list(read.checks)
    if not good:
        status = "spoiled" if locked_already else "failed"
        return PersoReport(prof.name, status, counting.apdus, counting.bytes, checks, read)
    if locked_already:
        checks.append(Check("lock", "pass", "the chip was already locked and holds exactly this image"))
    elif lock:
        ChipSession(counting, random).check(pc.lock(), "lock")
        checks.append(Check("lock", "pass", "locked"))
    return PersoReport(prof.name, "personalised", counting.apdus, counting.bytes, checks, read)


__all__ = ["ChipImage", "PersoReport", "PlanStep", "TransportError", "as_image", "personalise", "plan"]
