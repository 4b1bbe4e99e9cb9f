"""Reading a chip: access control (PACE from EF.CardAccess if offered, else BAC), every file, Active and
Chip Authentication, and passive authentication when a trust store is given.

`ChipSession` is the terminal's side of one connection (it owns the secure channel); `read_chip` is the
use case. Every failure names the step (`ChipError.step` / `TransportError.step`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.asn1 import der
from mrtd.asn1.tlv import TlvError, parse_all
from mrtd.chip.lds import efcvca
from mrtd.chip.lds import files as lds_files
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.securityinfos import (
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PaceInfo,
    SecurityInfos,
)
from mrtd.chip.lds.sod import Sod
from mrtd.chip.passive import passive_authentication
from mrtd.chip.protocol import aa
from mrtd.chip.protocol import perso_commands as pc
from mrtd.chip.protocol.apdu import SHORT_READ, Command, Response, transceive
from mrtd.chip.protocol.bac import GET_CHALLENGE, BacTerminal, MrzInfo
from mrtd.chip.protocol.ca import ChipAuthTerminal, cipher_for_oid
from mrtd.chip.protocol.curves import domain_for_name
from mrtd.chip.protocol.kdf import Cipher, can_password, mrz_password
from mrtd.chip.protocol.pace import PW_CAN, PW_MRZ, PaceParams, PaceTerminal, parse_card_access
from mrtd.chip.protocol.sm import SecureChannel
from mrtd.chip.transport import Transport
from mrtd.errors import ChipError, EncodingError, InputError, MrtdError, TransportError

if TYPE_CHECKING:  # Terminal Authentication's stack loads with its first use: most reads have no IS key
    from mrtd.pki.cvc.certificate import CvCertificate

LDS1_AID = bytes.fromhex("A0000002471001")
SW_NOT_FOUND = 0x6A82


class ChipSession:
    """One connection to a chip: plain or protected APDUs, file reads, the authentication protocols."""

    def __init__(
        self, transport: Transport, random: Callable[[int], bytes] = os.urandom, max_read: int = SHORT_READ
    ) -> None:
        self.transport = transport
        self.random = random
        self.max_read = max_read
        self.channel: SecureChannel | None = None
        self.access: str | None = None
        self.pace: PaceTerminal | None = None
        self.id_ic = b""  # the chip's identifier for Terminal Authentication [Doc 9303-11 §7.1.2]
        self.comp_pk_ifd: bytes | None = None  # our Chip Authentication key, compressed

    def send(self, cmd: Command, step: str) -> Response:
        """Send one command (protected when a channel is open) and return the (unprotected) answer."""
        try:
            if self.channel is None:
                return transceive(self.transport.transmit, cmd, step=step)
            raw = self.transport.transmit(self.channel.wrap(cmd).encode())
            return self.channel.unwrap(raw, step=step)
        except TransportError as exc:
            raise TransportError(step, str(exc)) from exc
        except ChipError as exc:
            if exc.step == step:
                raise
            raise ChipError(step, str(exc), exc.sw) from exc

    def check(self, cmd: Command, step: str) -> bytes:
        return self.send(cmd, step).check(step)

    # -- access control ------------------------------------------------------------------------------------

    def read_card_access(self) -> bytes | None:
        """EF.CardAccess from the master file (readable without authentication), or None."""
        self.send(pc.select_mf(), "select master file")  # chips without an MF answer 6A82: fine
        rsp = self.send(pc.select_file(lds_files.by_name("EF.CardAccess").fid), "select EF.CardAccess")
        if rsp.sw != 0x9000:
            return None
        return self.read_selected("read EF.CardAccess")

    def select_applet(self, aid: bytes = LDS1_AID) -> None:
        self.check(pc.select_applet(aid), "select eMRTD application")

    def run_bac(self, mrz: MrzInfo) -> None:
        term = BacTerminal(mrz.information, self.random)
        rnd_ic = self.check(GET_CHALLENGE, "BAC GET CHALLENGE")
        answer = self.check(term.external_authenticate(rnd_ic), "BAC EXTERNAL AUTHENTICATE")
        self.channel = term.finish(answer)
        self.access = "BAC"
        self.id_ic = mrz.information[:-14].encode("ascii")  # the document number and its check digit

    def run_pace(self, params: PaceParams, secret: MrzInfo | str) -> None:
        if isinstance(secret, MrzInfo):
            term = PaceTerminal(params, mrz_password(secret.information), PW_MRZ, self.random)
        else:
            term = PaceTerminal(params, can_password(secret), PW_CAN, self.random)
        self.check(term.mse_set_at(), "PACE MSE:Set AT")
        a = self.check(term.get_nonce(), "PACE encrypted nonce")
        a = self.check(term.map_command(a), "PACE mapping")
        a = self.check(term.key_agreement_command(a), "PACE key agreement")
        a = self.check(term.token_command(a), "PACE mutual authentication")
        self.channel = term.finish(a)
        self.access = "PACE"
        self.pace = term
        self.id_ic = term.d.compress(term.d.decode(term.pk_ic))

    # -- files -------------------------------------------------------------------------------------------------

    def read_selected(self, step: str) -> bytes:
        """The whole selected file: its TLV header first (4 bytes), then the rest in chunks."""
        head = self.check(pc.read_binary(0, 4), step)
        if len(head) < 2:
            raise ChipError(step, f"file starts with {len(head)} byte(s), not a data object")
        try:
            total = _tlv_total(head)
        except EncodingError as exc:
            raise ChipError(step, str(exc)) from exc
        data = bytearray(head[:total])
        while len(data) < total:
            n = min(self.max_read, total - len(data))
            chunk = self.check(pc.read_binary(len(data), n), step)
            if len(data) > 0x7FFF:  # odd INS: the data comes in DO'53 [ISO/IEC 7816-4 §11.2.3]
                try:
                    chunk = pc.parse_odd_data(chunk, step)[1]
                except EncodingError as exc:
                    raise ChipError(step, str(exc)) from exc
            if not chunk:
                raise ChipError(step, f"chip returned no data at offset {len(data)} of {total}")
            data += chunk
        return bytes(data[:total])

    def read_ef_cvca(self) -> bytes | None:
        """EF.CVCA: a fixed 36 bytes, not one data object, so it is read by size [TR-03110-1 §A.1.2.5]."""
        rsp = self.send(pc.select_file(lds_files.by_name("EF.CVCA").fid), "select EF.CVCA")
        if rsp.sw == SW_NOT_FOUND:
            return None
        rsp.check("select EF.CVCA")
        return self.check(pc.read_binary(0, efcvca.SIZE), "read EF.CVCA")

    def read_file(self, name: str) -> bytes | None:
        """An LDS file by short name; None when the chip does not have it."""
        f = lds_files.by_name(name)
        rsp = self.send(pc.select_file(f.fid), f"select {name}")
        if rsp.sw == SW_NOT_FOUND:
            return None
        rsp.check(f"select {name}")
        return self.read_selected(f"read {name}")

    # -- Active and Chip Authentication ------------------------------------------------------------------------

    def active_authentication(self, public_key: aa.AaPublicKey) -> None:
        rnd = self.random(8)
        sig = self.check(aa.internal_authenticate(rnd), "Active Authentication")
        aa.verify(public_key, rnd, sig)

    def chip_authentication(self, info: ChipAuthenticationPublicKeyInfo, protocol: str | None) -> None:
        key = info.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ChipError("Chip Authentication", "only ECDH chip-authentication keys are supported")
        d = domain_for_name(key.curve.name)
        point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        if protocol is not None:
            cipher = cipher_for_oid(protocol)
        else:
            cipher = self.channel.cipher if self.channel is not None else Cipher.DES3
        term = ChipAuthTerminal(d, point, cipher, info.key_id, self.random)
        for cmd in term.commands():
            self.check(cmd, "Chip Authentication")
        self.channel = term.new_channel()
        self.comp_pk_ifd = d.compress(d.decode(term.pk))
        # the chip proves itself implicitly: the next protected command must verify under the new keys


    def terminal_authentication(self, chain: Sequence[CvCertificate], key: ec.EllipticCurvePrivateKey) -> None:
        """Terminal Authentication v1 after Chip Authentication [Doc 9303-11 §7.1.5]."""
        step = "Terminal Authentication"
        if self.comp_pk_ifd is None:
            raise ChipError(step, "needs Chip Authentication first (it authenticates the terminal's CA key)")
        from mrtd.chip.protocol.ta import TerminalAuthTerminal

        try:
            term = TerminalAuthTerminal(chain, key, self.id_ic, self.comp_pk_ifd)
        except EncodingError as exc:
            raise ChipError(step, str(exc)) from exc
        for cmd in term.certificate_commands():
            what = "MSE:Set DST" if cmd.ins == 0x22 else "PSO:Verify Certificate"
            self.check(cmd, f"{step} ({what})")
        self.check(term.set_at(), f"{step} (MSE:Set AT)")
        r_ic = self.check(GET_CHALLENGE, f"{step} (GET CHALLENGE)")
        self.check(term.external_authenticate(r_ic), f"{step} (EXTERNAL AUTHENTICATE)")


def _tlv_total(head: bytes) -> int:
    """Length of the whole data object from its first bytes (tag of 1 or 2 bytes, definite length)."""
    i = 2 if head[0] & 0x1F == 0x1F else 1
    if len(head) <= i:
        raise EncodingError("file header: truncated tag or length [Doc 9303-10 §4.3]")
    first = head[i]
    if first < 0x80:
        return i + 1 + first
    n = first & 0x7F
    if n == 0 or n > 2 or len(head) < i + 1 + n:
        raise EncodingError("file header: unsupported length encoding [Doc 9303-10 §4.3]")
    return i + 1 + n + int.from_bytes(head[i + 1 : i + 1 + n], "big")


# -- the use case ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # "pass" | "fail" | "absent" | "skipped"
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class ReadReport:
    files: dict[str, bytes]
    access: str
    protocol: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Everything the chip offers passed, passive authentication included (skipped is not a pass).
        Terminal Authentication skipped (no inspection-system certificate) is fine: DG3/DG4 stay unread."""
        return all(_fine(c) for c in self.checks)

    @property
    def ok_without_passive(self) -> bool:
        """As `ok`, but passive authentication may have been skipped (no trust store given)."""
        return all(_fine(c) or (c.name == "passive-authentication" and c.status == "skipped") for c in self.checks)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "access": self.access,
            "protocol": self.protocol,
            "files": {k: len(v) for k, v in self.files.items()},
            "checks": [c.as_dict() for c in self.checks],
        }


def _fine(c: Check) -> bool:
    return c.status in ("pass", "absent") or (c.name == "terminal-authentication" and c.status == "skipped")


@dataclass(frozen=True)
class TerminalCredentials:
    """An inspection system: its CV certificate chain (DV, terminal; link certificates first when the
    chip needs them) and its private key."""

    chain: tuple[CvCertificate, ...]
    key: ec.EllipticCurvePrivateKey = field(repr=False)


EAC_PROTECTED = ("DG3", "DG4")


def mrz_info_from_dg1(dg1: bytes) -> MrzInfo:
    """Document number, birth and expiry dates from DG1's MRZ (TD1, TD2 or TD3)."""
    try:
        (outer,) = parse_all(dg1, what="DG1")
        mrz = next(o.value for o in outer.children() if o.tag == 0x5F1F).decode("ascii")
    except (TlvError, ValueError, StopIteration, UnicodeDecodeError) as exc:
        raise InputError(f"DG1: no MRZ data object 5F1F ({exc}) [Doc 9303-10 §4.7.1]") from exc
    if len(mrz) == 90:  # TD1
        doc, opt, dob, doe = mrz[5:14], mrz[15:30], mrz[30:36], mrz[38:44]
        cd = mrz[14]
    elif len(mrz) in (72, 88):  # TD2, TD3
        half = len(mrz) // 2
        line2 = mrz[half:]
        doc, dob, doe, cd = line2[0:9], line2[13:19], line2[21:27], line2[9]
        opt = line2[28:35] if half == 36 else ""
    else:
        raise InputError(f"DG1: MRZ of {len(mrz)} characters is not TD1, TD2 or TD3 [Doc 9303-10 §4.7.1]")
    if cd == "<" and opt:
        # long document number: the rest and its check digit open the optional data [Doc 9303-3 §4.2.4]
        rest = opt.split("<", 1)[0]
        doc = doc + rest[:-1]
    return MrzInfo(doc.rstrip("<") if len(doc) <= 9 else doc, dob, doe)


def _security_infos(dg14: bytes) -> tuple[list[ChipAuthenticationPublicKeyInfo], list[ChipAuthenticationInfo]]:
    si = Dg14.decode(dg14).security_infos
    return list(si.of_type(ChipAuthenticationPublicKeyInfo)), list(si.of_type(ChipAuthenticationInfo))


def _ca_protocol_for(pk: ChipAuthenticationPublicKeyInfo, infos: list[ChipAuthenticationInfo]) -> str | None:
    for info in infos:
        if info.key_id is None or pk.key_id is None or info.key_id == pk.key_id:
            return info.protocol
    return None


def read_chip(
    transport: Transport,
    secret: MrzInfo | str,
    trust: Any = None,
    at: datetime | None = None,
    *,
    random: Callable[[int], bytes] = os.urandom,
    max_read: int = SHORT_READ,
    expected: Mapping[str, bytes] | None = None,
    passive: Callable[[Mapping[str, bytes], Any, datetime | None], Check] | None = None,
    terminal: TerminalCredentials | None = None,
) -> ReadReport:
    """Authenticate (PACE if EF.CardAccess offers it, else BAC; a CAN needs PACE), read every file
    EF.COM lists plus EF.SOD (and EF.CardSecurity after PACE), run AA and CA when the chip has the keys,
    and passive authentication when `trust` is given (through `passive`, or mrtd.chip.passive).

    `expected`: files the chip must hold byte for byte (the personaliser's read-back check; an unlocked
    chip lets the personaliser read DG3/DG4). `terminal`: an inspection system's credentials for
    Terminal Authentication, after which DG3/DG4 are read; without them they stay unread.
    """
    session = ChipSession(transport, random, max_read)
    files: dict[str, bytes] = {}
    card_access = session.read_card_access()
    offered = parse_card_access(card_access) if card_access else []
    if card_access:
        files["EF.CardAccess"] = card_access
    protocol = ""
    if offered:
        params = offered[0]
        protocol = params.oid.hex().upper()
        session.run_pace(params, secret)
        card_security = session.read_file("EF.CardSecurity")
        if card_security is not None:
            files["EF.CardSecurity"] = card_security
        session.select_applet()
    else:
        if not isinstance(secret, MrzInfo):
            raise ChipError("access control", "the chip offers no PACE, and BAC needs the MRZ, not a CAN")
        session.select_applet()
        session.run_bac(secret)
        protocol = "BAC"
    com = session.read_file("EF.COM")
    if com is None:
        raise ChipError("read EF.COM", "the chip has no EF.COM", SW_NOT_FOUND)
    files["EF.COM"] = com
    listed = [lds_files.dg_name(n) for n in _dg_numbers(com)]
    protected = [n for n in listed if n in EAC_PROTECTED and expected is None]
    for name in (n for n in listed if n not in protected):
        _read_listed(session, files, name)
    sod = session.read_file("EF.SOD")
    unlisted: list[str] = []
    if sod is not None:
        files["EF.SOD"] = sod
        # EF.COM is not signed and EF.SOD is: a data group EF.SOD covers is read even where EF.COM leaves it
        # out, so that an altered EF.COM cannot switch Active or Chip Authentication off [Doc 9303-10 §4.6]
        unlisted = [n for n in _covered(sod) if n not in listed]
        for name in unlisted:
            if name in EAC_PROTECTED and expected is None:
                protected.append(name)
            else:
                _read_listed(session, files, name, "EF.SOD")
    if protected or (expected is not None and "EF.CVCA" in expected):
        cvca = session.read_ef_cvca()
        if cvca is not None:
            files["EF.CVCA"] = cvca
    report = ReadReport(files, session.access or "", protocol)
    if unlisted:
        report.checks.append(Check("data-groups", "pass", f"read as EF.SOD lists them; EF.COM (not signed) leaves "
                                   f"out {', '.join(unlisted)} [Doc 9303-10 §4.6]"))
    access = _access_as_signed(files, session.pace.params if session.pace is not None else None)
    if access is not None:
        report.checks.append(access)
    report.checks.append(_run_aa(session, files))
    report.checks.extend(_run_ca(session, files))
    if protected:
        report.checks.append(_run_ta(session, files, protected, terminal))
    if expected is not None:
        report.checks.insert(0, _compare(expected, files))
    report.checks.append(_run_passive(files, trust, at, passive))
    return report


def _read_listed(session: ChipSession, files: dict[str, bytes], name: str, lister: str = "EF.COM") -> None:
    content = session.read_file(name)
    if content is None:
        raise ChipError(f"read {name}", f"{lister} lists it but the chip does not have it", SW_NOT_FOUND)
    files[name] = content


def _covered(sod: bytes) -> list[str]:
    """The data groups EF.SOD hashes; none if it cannot be read (passive authentication says why)."""
    try:
        hashes = Sod.decode(sod).security_object.hashes
    except MrtdError:
        return []
    return [lds_files.dg_name(n) for n, _ in hashes]


def _access_as_signed(files: Mapping[str, bytes], used: PaceParams | None) -> Check | None:
    """The access control against the PACEInfo of the signed DG14; EF.CardAccess, which chose it, is not
    signed, so an altered one could have turned PACE into BAC or into another PACE protocol. None where DG14
    lists no PACE (a BAC chip) or cannot be read (Chip Authentication reports that)."""
    try:
        signed = Dg14.decode(files["DG14"]).security_infos.of_type(PaceInfo) if "DG14" in files else ()
    except MrtdError:
        return None
    if not signed:
        return None
    names = ", ".join(sorted({i.protocol for i in signed}))
    if used is None and _offered_as_signed(files.get("EF.CardAccess"), signed):
        return Check("access-control", "pass", f"EF.CardAccess offers the PACE DG14 (signed) lists ({names}) with "
                     "domain parameters this reader does not run: BAC was used")
    if used is None:
        return Check("access-control", "fail", f"DG14 (signed) lists PACE ({names}), but EF.CardAccess offered "
                     "none and BAC was used: EF.CardAccess was altered or removed [Doc 9303-11 §9.2]")
    ran = (der.oid_text(used.oid), used.param_id)
    # a PACEInfo without parameterId names the protocol only (its domain is in PACEDomainParameterInfo)
    if not any(i.protocol == ran[0] and i.parameter_id in (None, ran[1]) for i in signed):
        return Check("access-control", "fail", f"PACE ran as {ran[0]} on domain {ran[1]}, which DG14 (signed) "
                     f"does not list ({names}) [Doc 9303-11 §9.2]")
    return Check("access-control", "pass", f"PACE as DG14 (signed) lists it: {ran[0]}, domain {ran[1]}")


def _offered_as_signed(card_access: bytes | None, signed: Sequence[PaceInfo]) -> bool:
    """EF.CardAccess holds a PACEInfo of DG14 byte for byte: it was not altered, the reader could not use it."""
    if card_access is None:
        return False
    try:
        offered = SecurityInfos.decode(card_access, "EF.CardAccess").of_type(PaceInfo)
    except MrtdError:
        return False
    return any(o.raw == s.raw for o in offered for s in signed)


def _run_ta(session: ChipSession, files: dict[str, bytes], names: list[str], terminal: TerminalCredentials | None) -> Check:
    """Terminal Authentication, then the files it protects; a chip that refuses keeps secure messaging."""
    if terminal is None:
        return Check("terminal-authentication", "skipped",
                     f"{', '.join(names)} need Terminal Authentication: no inspection-system certificate given")
    try:
        session.terminal_authentication(terminal.chain, terminal.key)
        for name in names:
            _read_listed(session, files, name)
    except ChipError as exc:
        return Check("terminal-authentication", "fail", str(exc))
    return Check("terminal-authentication", "pass", f"{terminal.chain[-1].chr}: read {', '.join(names)}")


def _dg_numbers(com: bytes) -> list[int]:
    try:
        (outer,) = parse_all(com, what="EF.COM")
        tags = next(o.value for o in outer.children() if o.tag == 0x5C)
    except (TlvError, ValueError, StopIteration) as exc:
        raise ChipError("read EF.COM", f"no tag list 5C ({exc}) [Doc 9303-10 §4.6.1]") from exc
    out = []
    for t in tags:
        n = lds_files.dg_for_tag(t)
        if n is None:
            raise ChipError("read EF.COM", f"tag {t:02X} in the list is not a data group [Doc 9303-10 §4.6.1]")
        out.append(n)
    return out


def _compare(expected: Mapping[str, bytes], files: Mapping[str, bytes]) -> Check:
    wrong = [n for n, b in expected.items() if files.get(n) != b]
    if wrong:
        return Check("read-back", "fail", "differs from what was written: " + ", ".join(sorted(wrong)))
    return Check("read-back", "pass", f"{len(expected)} files byte-exact")


def _run_aa(session: ChipSession, files: Mapping[str, bytes]) -> Check:
    if "DG15" not in files:
        return Check("active-authentication", "absent", "no DG15")
    try:
        key = Dg15.decode(files["DG15"]).public_key()
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            return Check("active-authentication", "fail", "DG15 key is neither RSA nor EC")
        session.active_authentication(key)
    except (ChipError, TransportError):
        raise
    except MrtdError as exc:
        return Check("active-authentication", "fail", str(exc))
    return Check("active-authentication", "pass", "RSA ISO 9796-2" if isinstance(key, rsa.RSAPublicKey) else "ECDSA")


def _run_ca(session: ChipSession, files: Mapping[str, bytes]) -> list[Check]:
    out: list[Check] = []
    if "DG14" not in files:
        return [Check("chip-authentication", "absent", "no DG14")]
    try:
        keys, infos = _security_infos(files["DG14"])
    except MrtdError as exc:
        return [Check("chip-authentication", "fail", f"DG14: {exc}")]
    if not keys:
        return [Check("chip-authentication", "absent", "DG14 has no chip-authentication key")]
    pk = keys[0]
    if session.pace is not None and session.pace.params.mapping.name == "CAM":
        cam_ok = session.pace.verify_cam(
            pk.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )
        out.append(Check("pace-cam", "pass" if cam_ok else "fail", "CA_IC * PK_IC == PK_map,IC"))
    try:
        session.chip_authentication(pk, _ca_protocol_for(pk, infos))
        # implicit authentication: a protected command must now verify under the new keys
        session.check(pc.select_file(lds_files.by_name("EF.COM").fid), "Chip Authentication (confirm)")
    except ChipError as exc:
        out.append(Check("chip-authentication", "fail", str(exc)))
        return out
    out.append(Check("chip-authentication", "pass", "secure messaging continued with the new keys"))
    return out


def _run_passive(
    files: Mapping[str, bytes],
    trust: Any,
    at: datetime | None,
    passive: Callable[[Mapping[str, bytes], Any, datetime | None], Check] | None,
) -> Check:
    if trust is None:
        return Check("passive-authentication", "skipped", "no trust store given")
    if passive is None:
        passive = _passive_authentication
    try:
        return passive(files, trust, at)
    except MrtdError as exc:
        return Check("passive-authentication", "fail", str(exc))


def _passive_authentication(files: Mapping[str, bytes], trust: Any, at: datetime | None) -> Check:
    """mrtd.chip.passive over what was read, folded into one check."""
    if at is None:
        return Check("passive-authentication", "fail", "no validation time given")
    report = passive_authentication(files, trust, at)
    failed = report.failed()
    if failed:
        return Check("passive-authentication", "fail", "; ".join(f"{c.name}: {c.why}" for c in failed))
    warned = [str(f) for f in report.findings if f.severity.value == "warning"]
    return Check("passive-authentication", "pass", f"{len(report.checks)} checks passed"
                 + (f"; warnings: {'; '.join(warned)}" if warned else ""))
