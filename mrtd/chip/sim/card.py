"""The virtual eMRTD card: the chip side of BAC, PACE (GM/IM/CAM), secure messaging, Chip and Active
Authentication, and both profiles' personalisation commands, over a file system with access conditions
and a life cycle (personalisation -> locked).

`VirtualCard.process(apdu) -> response` is all a transport needs. The state (files, keys, life cycle)
can be saved to and loaded from JSON, so a card process that is killed and restarted keeps what was
written, as a real chip's EEPROM would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# ec.ECDSA() imports OpenSSL's backend module on first use, 7 ms inside the chip's first INTERNAL
# AUTHENTICATE; a chip has its crypto ready at power-on, so the card pays it when it is loaded.
import cryptography.hazmat.backends.openssl.backend  # noqa: F401
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.asn1.tlv import TlvError, parse_all, tlv
from mrtd.chip.profiles import ChipProfile, load_profile
from mrtd.chip.protocol import aa
from mrtd.chip.protocol import perso_commands as pc
from mrtd.chip.protocol.apdu import ApduError, Command, Response
from mrtd.chip.protocol.bac import MrzInfo, bac_chip_answer, bac_keys
from mrtd.chip.protocol.ca import CA_ECDH_ARC, chip_channel, cipher_for_oid
from mrtd.chip.protocol.curves import domain, ec_curve
from mrtd.chip.protocol.kdf import Cipher, can_password, mrz_password
from mrtd.chip.protocol.pace import PW_CAN, PW_MRZ, PaceChip, PaceParams, parse_card_access
from mrtd.chip.protocol.sm import SecureChannel, SmError
from mrtd.chip.protocol.ta import TaChip
from mrtd.errors import MrtdError
from mrtd.pki.cvc.certificate import READ_DG3, READ_DG4, CvCertificate
from mrtd.private import replace_private

OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_SECURITY = 0x6982
SW_AUTH_FAILED = 0x6300
SW_CONDITIONS = 0x6985
SW_WRONG_DATA = 0x6A80
SW_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6B00
SW_INS = 0x6D00
SW_CLA = 0x6E00
SW_FUNC = 0x6A81
SW_SM_INCORRECT = 0x6988

CARD_ACCESS_FID = 0x011C
CARD_SECURITY_FID = 0x011D
EAC_FILES = {0x0103: READ_DG3, 0x0104: READ_DG4}  # DG3 fingerprints, DG4 irises


def _atr() -> bytes:
    # 3B 88 80 01: direct convention, TD1 -> TD2 = T=1, 8 historical bytes "mrtd-sim", then TCK
    body = bytes.fromhex("888001") + b"mrtd-sim"
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes((tck,))


ATR = _atr()


@dataclass
class CardState:
    """What a chip keeps across power cycles."""

    profile: str
    locked: bool = False
    files: dict[str, bytearray] = field(default_factory=dict)  # "mf:011C" / "app:0101" -> contents
    mrz: tuple[str, str, str] | None = None
    can: str | None = None
    aa_modulus: int | None = None
    aa_exponent: int | None = None
    aa_pkcs8: bytes | None = None
    ca_param_id: int | None = None
    ca_private: int | None = None
    ca_key_id: int | None = None
    cvca: list[bytes] = field(default_factory=list)  # Terminal Authentication trust points, most recent first
    current_date: str | None = None  # the chip's current date (ISO), moved forward by accurate CV certificates

    def to_json(self) -> str:
        return json.dumps(
            {
                "profile": self.profile,
                "locked": self.locked,
                "files": {k: bytes(v).hex() for k, v in self.files.items()},
                "mrz": list(self.mrz) if self.mrz else None,
                "can": self.can,
                "aa_modulus": self.aa_modulus,
                "aa_exponent": self.aa_exponent,
                "aa_pkcs8": self.aa_pkcs8.hex() if self.aa_pkcs8 else None,
                "ca_param_id": self.ca_param_id,
                "ca_private": self.ca_private,
                "ca_key_id": self.ca_key_id,
                "cvca": [c.hex() for c in self.cvca],
                "current_date": self.current_date,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> CardState:
        r = json.loads(text)
        mrz = r["mrz"]
        return cls(
            profile=r["profile"],
            locked=r["locked"],
            files={k: bytearray.fromhex(v) for k, v in r["files"].items()},
            mrz=(mrz[0], mrz[1], mrz[2]) if mrz else None,
            can=r["can"],
            aa_modulus=r["aa_modulus"],
            aa_exponent=r["aa_exponent"],
            aa_pkcs8=bytes.fromhex(r["aa_pkcs8"]) if r["aa_pkcs8"] else None,
            ca_param_id=r["ca_param_id"],
            ca_private=r["ca_private"],
            ca_key_id=r["ca_key_id"],
            cvca=[bytes.fromhex(c) for c in r.get("cvca", [])],
            current_date=r.get("current_date"),
        )


class _Fail(Exception):
    def __init__(self, sw: int) -> None:
        self.sw = sw


@lru_cache(maxsize=8)
def _load_aa_key(pkcs8: bytes) -> aa.AaKey | None:
    """The Active Authentication private key PUT DATA gave the card, loaded once (as a chip keeps its key
    ready: personalisation checks it and INTERNAL AUTHENTICATE uses it); None when it is not an RSA or EC
    key in PKCS#8."""
    try:
        key = serialization.load_der_private_key(pkcs8, None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else None


class VirtualCard:
    def __init__(
        self,
        profile: str = "mrtd-sim",
        random: Callable[[int], bytes] = os.urandom,
        state: CardState | None = None,
        state_path: Path | None = None,
    ) -> None:
        self.profile: ChipProfile = load_profile(state.profile if state else profile)
        self.state = state or CardState(self.profile.name)
        self.random = random
        self.state_path = state_path
        self.apdus = 0
        self.power_on()

    @classmethod
    def load(cls, path: Path, profile: str, random: Callable[[int], bytes] = os.urandom) -> VirtualCard:
        state = CardState.from_json(path.read_text()) if path.exists() else None
        return cls(profile, random, state, path)

    def _save(self) -> None:
        if self.state_path is not None:
            replace_private(self.state_path, self.state.to_json())

    # -- session -------------------------------------------------------------------------------------------

    def power_on(self) -> None:
        """Reset: nothing selected, no session, no pending protocol."""
        self.df = "mf"
        self.ef: int | None = None
        self.channel: SecureChannel | None = None
        self.auth: str | None = None  # "BAC" | "PACE"
        # Chip Authentication's keys: agreed while answering, derived by `idle` once the answer is out
        self.pending_channel: Callable[[], SecureChannel] | None = None
        self.challenge: bytes | None = None
        self.pace: PaceChip | None = None
        self.ca_cipher: Cipher | None = None
        self._new_session_rights()

    def _new_session_rights(self) -> None:
        self.id_ic = b""  # ID_IC for Terminal Authentication: Comp(PACE PK_IC) or the document number
        self.comp_pk_ifd: bytes | None = None  # the terminal's Chip Authentication key, compressed
        self.ta: TaChip | None = None
        self.ta_chr: str | None = None
        self.ta_done = False
        self.rights = 0  # DG3/DG4 read rights from Terminal Authentication

    def _drop_session(self) -> None:
        self.channel = None
        self.auth = None
        self.pace = None
        self._new_session_rights()

    # -- entry point -----------------------------------------------------------------------------------------

    def idle(self) -> None:
        """Finish what the last answer left: the session keys that PACE's key agreement and Chip
        Authentication agreed are derived after that answer has gone out. The vpcd loop calls this while
        the terminal reads the answer (and derives its own keys on the other CPU); a command that comes
        first has it done before it is handled."""
        if self.pending_channel is not None and self.channel is None:
            derive, self.pending_channel = self.pending_channel, None
            try:
                self.channel = derive()
            except MrtdError:
                self._drop_session()  # no keys: the next protected command is refused (6987)
        if self.pace is not None:
            self.pace.settle()

    def process(self, raw: bytes) -> bytes:
        self.idle()
        self.apdus += 1
        try:
            cmd = Command.decode(raw)
        except ApduError:
            return Response(b"", SW_WRONG_LENGTH).encode()
        if not self.profile.extended_length and (cmd.extended or len(cmd.data) > 255):
            return Response(b"", SW_WRONG_LENGTH).encode()
        if cmd.cla & 0x0C == 0x0C:
            if self.channel is None:
                return Response(b"", 0x6987).encode()
            channel = self.channel
            try:
                inner = channel.unwrap_command(cmd)
            except (SmError, MrtdError):
                self._drop_session()
                return Response(b"", SW_SM_INCORRECT).encode()
            rsp = self._dispatch(inner, protected=True)
            out = channel.wrap_response(rsp).encode() if self.channel is channel else rsp.encode()
            if self.pending_channel is not None:
                self.channel = None  # the old keys end with this answer; `idle` derives the new ones
            return out
        if self.channel is not None:
            # a plain command inside a secure channel aborts it [Doc 9303-11 §9.8]
            self._drop_session()
        return self._dispatch(cmd, protected=False).encode()

    def _dispatch(self, cmd: Command, protected: bool) -> Response:
        try:
            data = self._handle(cmd, protected)
            return Response(data, OK)
        except _Fail as f:
            return Response(b"", f.sw)
        except MrtdError:
            return Response(b"", SW_WRONG_DATA)

    def _handle(self, cmd: Command, protected: bool) -> bytes:
        ins = cmd.ins
        if cmd.cla & 0x80:
            raise _Fail(SW_CLA)
        if ins == 0xA4:
            return self._select(cmd, protected)
        if ins in (0xB0, 0xB1) and (ins == 0xB0 or self.profile.odd_ins):
            return self._read(cmd, protected)
        if ins == 0x84:
            return self._ta_challenge(cmd) if protected else self._get_challenge(cmd)
        if ins == 0x82:
            return self._ta_authenticate(cmd) if protected else self._external_authenticate(cmd)
        if ins == 0x2A and (cmd.p1, cmd.p2) == (0x00, 0xBE) and protected:
            return self._ta_verify_certificate(cmd)
        if ins == 0x22:
            return self._mse(cmd, protected)
        if ins == 0x86:
            return self._general_authenticate(cmd, protected)
        if ins == 0x88:
            return self._internal_authenticate(cmd, protected)
        if ins in (0xE0, 0xD6, 0xDA) or (ins == 0xD7 and self.profile.odd_ins):
            return self._perso(cmd, protected)
        if ins == 0x46 and self.profile.onchip_keys:
            return self._generate_key_pair(cmd)
        raise _Fail(SW_INS)

    # -- files -------------------------------------------------------------------------------------------------

    def _key(self, df: str, fid: int) -> str:
        return f"{df}:{fid:04X}"

    def _readable(self, df: str, fid: int) -> bool:
        if df == "mf" and fid == CARD_ACCESS_FID:
            return True
        if df == "mf" and fid == CARD_SECURITY_FID:
            return self.auth == "PACE"
        if df == "app" and fid in EAC_FILES and self.state.locked:
            # DG3/DG4 only with the rights Terminal Authentication granted [Doc 9303-11 §7.1.3]
            return self.auth is not None and bool(self.rights & EAC_FILES[fid])
        return self.auth is not None

    def _select(self, cmd: Command, protected: bool) -> bytes:
        if cmd.p1 == 0x04:
            if cmd.data != self.profile.aid:
                raise _Fail(SW_NOT_FOUND)
            if not protected:
                self._drop_session()
            self.df, self.ef = "app", None
            return b""
        if cmd.data in (b"", pc.MF) and cmd.p1 == 0x00:
            if not self.profile.files_in_mf:
                raise _Fail(SW_NOT_FOUND)
            self.df, self.ef = "mf", None
            return b""
        if len(cmd.data) != 2:
            raise _Fail(SW_WRONG_DATA)
        fid = int.from_bytes(cmd.data, "big")
        if self.state.locked and not protected and not (self.df == "mf" and fid == CARD_ACCESS_FID):
            raise _Fail(SW_SECURITY)
        if self._key(self.df, fid) not in self.state.files:
            raise _Fail(SW_NOT_FOUND)
        self.ef = fid
        return b""

    def _read(self, cmd: Command, protected: bool) -> bytes:
        if self.state.locked and not protected and not (self.df == "mf" and self.ef == CARD_ACCESS_FID):
            raise _Fail(SW_SECURITY)
        if cmd.ins == 0xB1:  # odd INS: offset in DO'54, answer in DO'53 [ISO/IEC 7816-4 §11.2.3]
            try:
                odd_offset, _ = pc.parse_odd_data(cmd.data, "READ BINARY")
            except MrtdError:
                raise _Fail(SW_WRONG_DATA) from None
            offset = odd_offset or 0
        elif cmd.p1 & 0x80:
            if not self.profile.extended_length:
                raise _Fail(0x6A81)  # JMRTD: no short-file-identifier READ BINARY
            fid = 0x0100 | (cmd.p1 & 0x1F)
            if self._key(self.df, fid) not in self.state.files:
                raise _Fail(SW_NOT_FOUND)
            self.ef = fid
            offset = cmd.p2
        else:
            offset = (cmd.p1 << 8) | cmd.p2
        if self.ef is None:
            raise _Fail(0x6986)
        if not self._readable(self.df, self.ef) or (self.auth is not None and not protected):
            raise _Fail(SW_SECURITY)
        content = self.state.files[self._key(self.df, self.ef)]
        if offset > len(content):
            raise _Fail(SW_WRONG_P1P2)
        n = cmd.le if cmd.le is not None else 256
        n = min(n, self.profile.max_read)
        if cmd.ins == 0xB1:
            return tlv(0x53, bytes(content[offset : offset + max(0, n - 4)]))
        return bytes(content[offset : offset + n])

    # -- BAC ---------------------------------------------------------------------------------------------------

    def _get_challenge(self, cmd: Command) -> bytes:
        if self.state.mrz is None:
            raise _Fail(SW_CONDITIONS)
        self.challenge = self.random(8)
        return self.challenge

    def _external_authenticate(self, cmd: Command) -> bytes:
        if self.state.mrz is None or self.challenge is None:
            raise _Fail(SW_CONDITIONS)
        k_enc, k_mac = bac_keys(MrzInfo(*self.state.mrz).information)
        answer = bac_chip_answer(k_enc, k_mac, self.challenge, cmd.data, self.random)
        self.challenge = None
        if answer is None:
            self._drop_session()
            raise _Fail(SW_AUTH_FAILED)
        data, channel = answer
        self.channel, self.auth = channel, "BAC"
        self.id_ic = MrzInfo(*self.state.mrz).information[:-14].encode("ascii")  # document number + check digit
        return data

    # -- Terminal Authentication (EAC v1) ----------------------------------------------------------------

    def _ta_state(self) -> TaChip:
        if self.ta is None:
            if not self.profile.terminal_authentication or not self.state.cvca or self.state.current_date is None:
                raise _Fail(SW_CONDITIONS)
            trust = [CvCertificate.decode(c) for c in self.state.cvca]
            self.ta = TaChip(trust, dt.date.fromisoformat(self.state.current_date))
        return self.ta

    def _ta_persist(self, ta: TaChip) -> None:
        """The current date and the trust points are the chip's permanent memory [§7.1.4.3.4]."""
        self.state.cvca = [c.raw for c in ta.trust]
        self.state.current_date = ta.today.isoformat()
        self._save()

    def _ta_set_dst(self, car: bytes) -> bytes:
        if self.comp_pk_ifd is None:
            raise _Fail(SW_CONDITIONS)  # Chip Authentication first [Doc 9303-11 §7.1]
        try:
            self._ta_state().set_dst(car.decode("latin-1"))
        except LookupError:
            raise _Fail(0x6A88) from None
        return b""

    def _ta_verify_certificate(self, cmd: Command) -> bytes:
        ta = self._ta_state()
        try:
            ta.verify(cmd.data)
        except MrtdError:
            raise _Fail(SW_WRONG_DATA) from None
        self._ta_persist(ta)
        return b""

    def _ta_set_at(self, chr_: bytes) -> bytes:
        try:
            self._ta_state().terminal(chr_.decode("latin-1"))
        except LookupError:
            raise _Fail(0x6A88) from None
        self.ta_chr = chr_.decode("latin-1")
        return b""

    def _ta_challenge(self, cmd: Command) -> bytes:
        self.challenge = self.random(8)
        return self.challenge

    def _ta_authenticate(self, cmd: Command) -> bytes:
        if self.ta_done or self.ta is None or self.ta_chr is None or self.challenge is None or self.comp_pk_ifd is None:
            raise _Fail(SW_SECURITY)  # once per session, after the chain and a challenge [§7.1.5.5]
        challenge, self.challenge = self.challenge, None
        self.ta_done = True
        try:
            self.rights = self.ta.authenticate(self.ta_chr, cmd.data, self.id_ic, challenge, self.comp_pk_ifd)
        except MrtdError:
            raise _Fail(SW_AUTH_FAILED) from None
        return b""

    # -- PACE and Chip Authentication -------------------------------------------------------------------------

    def _mse(self, cmd: Command, protected: bool) -> bytes:
        try:
            objs = {o.tag: o.value for o in parse_all(cmd.data)}
        except TlvError:
            raise _Fail(SW_WRONG_DATA) from None
        if (cmd.p1, cmd.p2) == (0xC1, 0xA4):
            return self._pace_start(objs)
        if (cmd.p1, cmd.p2) == (0x81, 0xB6) and protected:
            return self._ta_set_dst(objs.get(0x83, b""))
        if (cmd.p1, cmd.p2) == (0x81, 0xA4) and protected:
            return self._ta_set_at(objs.get(0x83, b""))
        if (cmd.p1, cmd.p2) == (0x41, 0xA6) and protected and self.channel is not None:
            # Chip Authentication with MSE:Set KAT (3DES)
            self._ca_agree(objs.get(0x91, b""), Cipher.DES3)
            return b""
        if (cmd.p1, cmd.p2) == (0x41, 0xA4) and protected and self.channel is not None:
            oid = objs.get(0x80, b"")
            if not oid.startswith(CA_ECDH_ARC) or len(oid) != len(CA_ECDH_ARC) + 1:
                raise _Fail(SW_WRONG_DATA)
            self.ca_cipher = cipher_for_oid("0.4.0.127.0.7.2.2.3.2." + str(oid[-1]))
            return b""
        raise _Fail(SW_WRONG_P1P2)

    def _pace_start(self, objs: dict[int, bytes]) -> bytes:
        if not self.profile.pace:
            raise _Fail(SW_WRONG_P1P2)
        card_access = self.state.files.get(self._key("mf", CARD_ACCESS_FID))
        offered = parse_card_access(bytes(card_access)) if card_access else []
        wanted = objs.get(0x80, b"")
        match = [p for p in offered if p.oid == wanted]
        if not match:
            raise _Fail(SW_WRONG_DATA)
        params: PaceParams = match[0]
        ref = objs.get(0x83, b"\x00")[0]
        if ref == PW_MRZ and self.state.mrz:
            password = mrz_password(MrzInfo(*self.state.mrz).information)
        elif ref == PW_CAN and self.state.can:
            password = can_password(self.state.can)
        else:
            raise _Fail(SW_WRONG_DATA)
        self._drop_session()
        self.pace = PaceChip(params, password, self.random, self.state.ca_private)
        return b""

    def _general_authenticate(self, cmd: Command, protected: bool) -> bytes:
        if protected:
            if self.ca_cipher is None or self.channel is None:
                raise _Fail(SW_CONDITIONS)
            try:
                (outer,) = parse_all(cmd.data)
                pk = next(o.value for o in outer.children() if o.tag == 0x80)
            except (TlvError, ValueError, StopIteration):
                raise _Fail(SW_WRONG_DATA) from None
            self._ca_agree(pk, self.ca_cipher)
            self.ca_cipher = None
            return tlv(0x7C, b"")
        if self.pace is None:
            raise _Fail(SW_CONDITIONS)
        last = not cmd.cla & 0x10
        answer = self.pace.step(cmd.data)
        if answer is None or (last != (self.pace.stage == 4)):
            self.pace = None
            raise _Fail(SW_AUTH_FAILED)
        if last:
            chip = self.pace
            self.channel, self.auth = chip.channel, "PACE"
            self.id_ic = chip.d.compress(chip.d.decode(chip.pk_eph))  # ID_IC = Comp(PK_DH,IC) [§7.1.2]
            self.pace = None
        return answer

    def _ca_agree(self, pk_ifd: bytes, cipher: Cipher) -> None:
        if self.state.ca_private is None or self.state.ca_param_id is None:
            raise _Fail(SW_CONDITIONS)
        try:
            d = domain(self.state.ca_param_id)
            self.comp_pk_ifd = d.compress(d.decode(pk_ifd))  # validated now; the keys come after the answer
            private = self.state.ca_private
            self.pending_channel = lambda: chip_channel(d, private, pk_ifd, cipher)
        except MrtdError:
            raise _Fail(SW_WRONG_DATA) from None

    # -- Active Authentication --------------------------------------------------------------------------------

    def _aa_key(self) -> aa.AaKey | None:
        return _load_aa_key(self.state.aa_pkcs8) if self.state.aa_pkcs8 else None

    def _internal_authenticate(self, cmd: Command, protected: bool) -> bytes:
        if not protected:
            raise _Fail(SW_SECURITY)
        if len(cmd.data) != 8:
            raise _Fail(SW_WRONG_DATA)
        key = self._aa_key()
        if key is not None:
            return aa.sign(key, cmd.data, self.random)
        if self.state.aa_modulus and self.state.aa_exponent:
            return aa.sign_rsa(self.state.aa_modulus, self.state.aa_exponent, cmd.data, self.random)
        raise _Fail(SW_CONDITIONS)

    # -- personalisation -------------------------------------------------------------------------------------

    def _perso(self, cmd: Command, protected: bool) -> bytes:
        if self.state.locked:
            raise _Fail(SW_CONDITIONS)
        s = self.state
        if cmd.ins == 0xE0:
            fid, size = pc.parse_create_file(cmd.data)
            if size > self.profile.max_file_size:
                raise _Fail(0x6A84)
            key = self._key(self.df, fid)
            old = s.files.get(key)
            if old is not None and size > len(old):
                raise _Fail(SW_CONDITIONS)  # JMRTD: re-create may only shrink
            s.files[key] = bytearray(size) if old is None else old[:size]
            self.ef = fid
        elif cmd.ins in (0xD6, 0xD7):
            if cmd.p1 & 0x80:
                raise _Fail(SW_FUNC)
            if self.ef is None:
                raise _Fail(0x6986)
            offset = (cmd.p1 << 8) | cmd.p2
            data = cmd.data
            if cmd.ins == 0xD7:  # odd INS: DO'54 offset, DO'53 data [ISO/IEC 7816-4 §11.3.5]
                odd_offset, data = pc.parse_odd_data(cmd.data, "UPDATE BINARY")
                offset = odd_offset or 0
            content = s.files[self._key(self.df, self.ef)]
            if offset + len(data) > len(content):
                raise _Fail(SW_WRONG_P1P2)
            content[offset : offset + len(data)] = data
        else:
            self._put_data(cmd)
        self._save()
        return b""

    def _generate_key_pair(self, cmd: Command) -> bytes:
        """The chip makes the key pair; only the public key leaves it [ISO/IEC 7816-8 §5.1]."""
        if self.state.locked:
            raise _Fail(SW_CONDITIONS)
        wanted = {pc.KEY_AA: "active-authentication", pc.KEY_CA: "chip-authentication"}.get(cmd.p2)
        if cmd.p1 != 0x80 or wanted not in self.profile.onchip_keys:
            raise _Fail(SW_WRONG_P1P2)
        param_id, bits = pc.parse_key_spec(cmd.data)
        s = self.state
        if cmd.p2 == pc.KEY_CA:
            if param_id is None or domain(param_id).curve_name not in self.profile.ca_curves:
                raise _Fail(SW_WRONG_DATA)
            d = domain(param_id)
            s.ca_param_id, s.ca_private, s.ca_key_id = param_id, d.scalar(self.random(d.scalar_bytes())), None
            out = pc.public_key_object(point=d.encode(d.mul(s.ca_private, d.generator)))
        else:
            key: aa.AaKey
            if bits is not None:
                if f"RSA-{bits}" not in self.profile.aa_keys:
                    raise _Fail(SW_WRONG_DATA)
                key = rsa.generate_private_key(65537, bits)
                nums = key.public_key().public_numbers()
                out = pc.public_key_object(n=nums.n, e=nums.e)
            else:
                assert param_id is not None
                key = ec.generate_private_key(ec_curve(domain(param_id).curve_name))
                out = pc.public_key_object(point=key.public_key().public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
            s.aa_pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
        self._save()
        return out

    def _put_data(self, cmd: Command) -> None:
        s = self.state
        p = (cmd.p1, cmd.p2)
        if p == (0xDE, 0xAD):
            s.locked = True
            self._drop_session()
        elif p == (0x00, 0x62):
            doc, dob, doe = pc.parse_mrz_seed(cmd.data)
            s.mrz = (doc.rstrip("<") if len(doc) == 9 else doc, dob, doe)
            MrzInfo(*s.mrz)
        elif p == (0x00, 0x60):
            s.aa_modulus = pc.parse_aa_rsa(cmd.data, 0x60)
        elif p == (0x00, 0x61):
            s.aa_exponent = pc.parse_aa_rsa(cmd.data, 0x61)
        elif p == (0x00, 0x63) and self.profile.chip_authentication:
            key = pc.parse_ca_key(cmd.data)
            if key.domain.curve_name not in self.profile.ca_curves:
                raise _Fail(SW_WRONG_DATA)  # as the JMRTD applet refuses a key its 192-bit key store cannot take
            s.ca_param_id, s.ca_private, s.ca_key_id = key.domain.param_id, key.private, key.key_id
        elif cmd.p2 == 0x67 and cmd.p1 in (0, 1) and self.profile.terminal_authentication:
            cert = CvCertificate.decode(cmd.data)  # a trust point: the CVCA certificate
            trust = list(s.cvca[:1] if cmd.p1 == 1 else s.cvca[1:2])
            s.cvca = [cert.raw, *trust] if cmd.p1 == 0 else [*trust, cert.raw]
        elif p == (0x00, 0x68) and self.profile.terminal_authentication:
            s.current_date = pc.parse_date(cmd.data).isoformat()
        elif p == (0x00, 0x65) and self.profile.can:
            can = pc.parse_simple(cmd.data, 0x65)
            if not can.isascii():
                raise _Fail(SW_WRONG_DATA)
            s.can = can.decode("ascii")
        elif p == (0x00, 0x66) and self.profile.name == "mrtd-sim":
            pkcs8 = pc.parse_simple(cmd.data, 0x66)
            if _load_aa_key(pkcs8) is None:
                raise _Fail(SW_WRONG_DATA)
            s.aa_pkcs8 = pkcs8
        else:
            raise _Fail(SW_WRONG_P1P2)
