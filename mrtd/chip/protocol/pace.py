"""PACE v2, Doc 9303-11 §4.4: DH and ECDH with Generic and Integrated Mapping, ECDH with Chip
Authentication Mapping, on every standardised domain (§9.5.1), MRZ or CAN passwords, 3DES and
AES-128/192/256 (CAM: AES only).

`PaceTerminal` produces the command APDUs and consumes the answers; `PaceChip` is the card side used
by the simulator. Private keys come from the `random` callable passed in (tests pass fixed keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from mrtd.asn1.tlv import TlvError, parse_all, tlv
from mrtd.chip.protocol import ciphers
from mrtd.chip.protocol.apdu import Command
from mrtd.chip.protocol.curves import DH_IDS, Element, Group, group
from mrtd.chip.protocol.kdf import ENC, MAC, Cipher, kdf, pace_password_key
from mrtd.chip.protocol.sm import SecureChannel
from mrtd.errors import ChipError, EncodingError, ProfileError

PACE_ARC = bytes.fromhex("04007F00070202 04".replace(" ", ""))
PW_MRZ = 1
PW_CAN = 2


class Mapping(Enum):
    GM = "GM"
    IM = "IM"
    CAM = "CAM"


# the mapping arc of id-PACE: (mapping, DH?) [Doc 9303-11 §9.2.3]
_ARCS = {(Mapping.GM, True): 1, (Mapping.GM, False): 2, (Mapping.IM, True): 3, (Mapping.IM, False): 4,
         (Mapping.CAM, False): 6}
_CIPHERS = {1: Cipher.DES3, 2: Cipher.AES128, 3: Cipher.AES192, 4: Cipher.AES256}
# pseudo-random number mapping constants [Doc 9303-11 §4.4.3.3.2]: l = 128 (3DES, AES-128), l = 256
_IM_C = {
    128: (bytes.fromhex("a668892a7c41e3ca739f40b057d85904"), bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")),
    256: (bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676"),
          bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")),
}


@dataclass(frozen=True, slots=True)
class PaceParams:
    """One PACE protocol (mapping + cipher) on one standardised curve."""

    mapping: Mapping
    cipher: Cipher
    param_id: int

    def __post_init__(self) -> None:
        group(self.param_id)
        if self.mapping is Mapping.CAM and (not self.cipher.is_aes or not self.is_ec):
            raise ProfileError("PACE-CAM: ECDH with AES only [Doc 9303-11 §4.4.3, Note 1]")
        if self.mapping is Mapping.IM and self.param_id == 10:
            raise ProfileError("PACE-IM: NIST P-224 is excluded [Doc 9303-11 §9.5.1]")

    @property
    def is_ec(self) -> bool:
        return self.param_id not in DH_IDS

    @property
    def oid(self) -> bytes:
        """The protocol OID content bytes (no 06 tag), e.g. 04007F00070202040202 for ECDH-GM-AES-128."""
        suffix = next(k for k, v in _CIPHERS.items() if v is self.cipher)
        return PACE_ARC + bytes((_ARCS[(self.mapping, not self.is_ec)], suffix))

    @classmethod
    def from_oid(cls, oid: bytes, param_id: int) -> PaceParams:
        if len(oid) != len(PACE_ARC) + 2 or not oid.startswith(PACE_ARC):
            raise ProfileError(f"PACE protocol OID {oid.hex()}: not a PACE protocol [Doc 9303-11 §9.2.1]")
        found = [(m, dh) for (m, dh), arc in _ARCS.items() if arc == oid[-2]]
        if not found or oid[-1] not in _CIPHERS:
            raise ProfileError(f"PACE protocol OID {oid.hex()}: unknown mapping or cipher [Doc 9303-11 §9.2.3]")
        mapping, dh = found[0]
        if dh != (param_id in DH_IDS):
            raise ProfileError(f"PACE protocol OID {oid.hex()}: domain parameters {param_id} are not "
                               f"{'DH' if dh else 'ECDH'} [Doc 9303-11 §9.5.1]")
        return cls(mapping, _CIPHERS[oid[-1]], param_id)

    @property
    def domain(self) -> Group:
        return group(self.param_id)

    @property
    def nonce_length(self) -> int:
        """Bytes of the nonce s: l, the smallest multiple of the block size with l >= k (the key size,
        128 bits for 3DES) [Doc 9303-11 §4.4.3.3]."""
        return 32 if self.cipher in (Cipher.AES192, Cipher.AES256) else 16

    @property
    def im_nonce_length(self) -> int:
        """Bytes of the IM nonce t: k, the key size (16 for 3DES) [Doc 9303-11 §4.4.3.3]."""
        return self.cipher.key_length

    def pace_info(self) -> bytes:
        """PACEInfo ::= SEQUENCE { protocol, version 2, parameterId } [Doc 9303-11 §9.2.1]."""
        return tlv(0x30, tlv(0x06, self.oid) + tlv(0x02, b"\x02") + tlv(0x02, bytes((self.param_id,))))


def card_access(params: PaceParams) -> bytes:
    """EF.CardAccess holding one PACEInfo."""
    return tlv(0x31, params.pace_info())


def parse_card_access(data: bytes) -> list[PaceParams]:
    """The PACE protocols a chip offers in EF.CardAccess; unknown SecurityInfos are skipped."""
    out: list[PaceParams] = []
    try:
        (root,) = parse_all(data, what="EF.CardAccess")
        for info in root.children():
            kids = info.children()
            if len(kids) < 2 or kids[0].tag != 0x06 or not kids[0].value.startswith(PACE_ARC):
                continue
            if len(kids) < 3 or kids[2].tag != 0x02:
                continue
            try:
                out.append(PaceParams.from_oid(kids[0].value, int.from_bytes(kids[2].value, "big")))
            except ProfileError:
                continue
    except (TlvError, ValueError) as exc:
        raise EncodingError(f"EF.CardAccess: not a SecurityInfos SET ({exc}) [Doc 9303-11 §9.2]") from exc
    return out


def block_encrypt(cipher: Cipher, key: bytes, data: bytes) -> bytes:
    if cipher.is_aes:
        return ciphers.aes_cbc_encrypt(key, data)
    return ciphers.des3_cbc_encrypt(key, data)


def block_decrypt(cipher: Cipher, key: bytes, data: bytes) -> bytes:
    if cipher.is_aes:
        return ciphers.aes_cbc_decrypt(key, data)
    return ciphers.des3_cbc_decrypt(key, data)


def token_mac(cipher: Cipher, key: bytes, data: bytes) -> bytes:
    if cipher.is_aes:
        return ciphers.aes_cmac8(key, data)
    return ciphers.retail_mac(key, data)


def public_key_do(oid: bytes, public: bytes, tag: int = 0x86) -> bytes:
    """7F49 { 06 protocol OID, 86 point | 84 DH value } as the authentication token covers it [§4.4.3.4,
    §9.4.5]."""
    return tlv(0x7F49, tlv(0x06, oid) + tlv(tag, public))


def im_prf(s: bytes, t: bytes, p: int, cipher: Cipher = Cipher.AES128) -> int:
    """R_p(s, t), the pseudo-random number mapping of Integrated Mapping [Doc 9303-11 §4.4.3.3.2]: the
    block cipher E in CBC mode with IV 0, keyed with t, then k_i = E(k_{i-1}, c0) truncated to the key
    size and x_i = E(k_i, c1), n blocks of l bits with n*l >= log2 p + 64."""
    l_bits = 8 * len(s)
    c0, c1 = _IM_C[256 if l_bits > 128 else 128]
    n = -(-(p.bit_length() + 64) // l_bits)
    k = block_encrypt(cipher, t, s)[: cipher.key_length]
    out = b""
    for _ in range(n):
        out += block_encrypt(cipher, k, c1)
        k = block_encrypt(cipher, k, c0)[: cipher.key_length]
    return int.from_bytes(out, "big") % p


def ephemeral_key(d: Group, sk_eph: int, im_generator: Element | None, s: bytes, sk_map: int,
                  pk_map: Element | None) -> Element:
    """The ephemeral public key sk_eph * G' on the mapped generator [§4.4.3.3].

    Integrated Mapping gives G' itself. Generic Mapping's G' = s*G + H with H = sk_map*PK_map (the other
    side's mapping key) is never formed: sk_eph*G' = (sk_eph*s)*G + (sk_eph*sk_map)*PK_map, where
    multiplying the generator is OpenSSL's fast fixed-base case, so each side multiplies another point
    once instead of twice. A G' at infinity still fails, as its multiple does."""
    if im_generator is not None:
        return d.mul(sk_eph, im_generator)
    assert pk_map is not None
    n = d.order
    return d.add(d.mul(sk_eph * int.from_bytes(s, "big") % n, d.generator), d.mul(sk_eph * sk_map % n, pk_map))


def session_keys(cipher: Cipher, k: bytes) -> tuple[bytes, bytes]:
    return kdf(k, ENC, cipher), kdf(k, MAC, cipher)


def cam_iv(cipher: Cipher, ks_enc: bytes) -> bytes:
    return ciphers.aes_ecb_encrypt(ks_enc, b"\xff" * 16)


def _dyn(data: bytes, tag: int, step: str) -> bytes:
    try:
        (outer,) = parse_all(data, what="dynamic authentication data")
        if outer.tag != 0x7C:
            raise TlvError("not 7C")
        for kid in outer.children():
            if kid.tag == tag:
                return kid.value
    except (TlvError, ValueError) as exc:
        raise ChipError(step, f"malformed dynamic authentication data ({exc}) [§4.4.4]") from exc
    raise ChipError(step, f"dynamic authentication data lacks tag {tag:02X} [§4.4.4]")


def _ga(data: bytes, last: bool) -> Command:
    return Command(0x00 if last else 0x10, 0x86, 0x00, 0x00, tlv(0x7C, data), 256)


class PaceTerminal:
    """Terminal side. Call the methods in order, passing each answer's data to the next."""

    def __init__(
        self, params: PaceParams, password: bytes, pw_ref: int, random: Callable[[int], bytes]
    ) -> None:
        self.params = params
        self.d = params.domain
        self.k_pi = pace_password_key(password, params.cipher)
        self.pw_ref = pw_ref
        self.random = random
        self.s = b""
        self.sk_map = 0
        self.t = b""
        self.g_mapped: Element | None = None  # Integrated Mapping's; Generic Mapping does without it
        self.sk_eph = 0
        self.pk_eph = b""
        self.pk_ic = b""
        self.pk_map_ic: Element | None = None
        self.ks_enc = b""
        self.ks_mac = b""
        self.ca_ic: int | None = None

    def mse_set_at(self) -> Command:
        data = tlv(0x80, self.params.oid) + tlv(0x83, bytes((self.pw_ref,)))
        return Command(0x00, 0x22, 0xC1, 0xA4, data)

    def get_nonce(self) -> Command:
        return _ga(b"", last=False)

    def map_command(self, nonce_answer: bytes) -> Command:
        z = _dyn(nonce_answer, 0x80, "PACE encrypted nonce")
        if len(z) != self.params.nonce_length:
            raise ChipError("PACE encrypted nonce", f"{len(z)} bytes; the nonce has {self.params.nonce_length} "
                            "[Doc 9303-11 §4.4.3.3]")
        self.s = block_decrypt(self.params.cipher, self.k_pi, z)
        if self.params.mapping is Mapping.IM:
            self.t = self.random(self.params.im_nonce_length)
            return _ga(tlv(0x81, self.t), last=False)
        self.sk_map = self.d.scalar(self.random(self.d.scalar_bytes()))
        return _ga(tlv(0x81, self.d.encode(self.d.mul(self.sk_map, self.d.generator))), last=False)

    def key_agreement_command(self, map_answer: bytes) -> Command:
        step = "PACE mapping"
        try:
            if self.params.mapping is Mapping.IM:
                self.g_mapped = self.d.integrated_mapping(im_prf(self.s, self.t, self.d.p, self.params.cipher))
            else:
                self.pk_map_ic = self.d.decode(_dyn(map_answer, 0x82, step))
            self.sk_eph = self.d.scalar(self.random(self.d.scalar_bytes()))
            self.pk_eph = self.d.encode(ephemeral_key(self.d, self.sk_eph, self.g_mapped, self.s, self.sk_map, self.pk_map_ic))
        except EncodingError as exc:
            raise ChipError(step, str(exc)) from exc
        return _ga(tlv(0x83, self.pk_eph), last=False)

    def token_command(self, ka_answer: bytes) -> Command:
        step = "PACE key agreement"
        self.pk_ic = _dyn(ka_answer, 0x84, step)
        if self.pk_ic == self.pk_eph:
            raise ChipError(step, "the chip returned the terminal's own public key [§4.4.3.4]")
        try:
            shared = self.d.shared_secret(self.sk_eph, self.d.decode(self.pk_ic))
        except EncodingError as exc:
            raise ChipError(step, str(exc)) from exc
        self.ks_enc, self.ks_mac = session_keys(self.params.cipher, shared)
        t_ifd = token_mac(self.params.cipher, self.ks_mac, public_key_do(self.params.oid, self.pk_ic, self.d.key_tag))
        return _ga(tlv(0x85, t_ifd), last=True)

    def finish(self, token_answer: bytes) -> SecureChannel:
        step = "PACE mutual authentication"
        t_ic = _dyn(token_answer, 0x86, step)
        expected = token_mac(self.params.cipher, self.ks_mac, public_key_do(self.params.oid, self.pk_eph, self.d.key_tag))
        if t_ic != expected:
            raise ChipError(step, "the chip's authentication token does not verify [§4.4.3.5]")
        if self.params.mapping is Mapping.CAM:
            enc = _dyn(token_answer, 0x8A, "PACE-CAM")
            plain = ciphers.unpad(
                ciphers.aes_cbc_decrypt(self.ks_enc, enc, cam_iv(self.params.cipher, self.ks_enc))
            )
            self.ca_ic = int.from_bytes(plain, "big")
        return SecureChannel(self.ks_enc, self.ks_mac, 0, self.params.cipher)

    def verify_cam(self, pk_ic_static: bytes) -> bool:
        """PK_map,IC == CA_IC * PK_IC, with PK_IC the static key from EF.CardSecurity [§4.4.3.5.1]."""
        if self.ca_ic is None or self.pk_map_ic is None:
            return False
        try:
            return bool(self.d.mul(self.ca_ic, self.d.decode(pk_ic_static)) == self.pk_map_ic)
        except EncodingError:
            return False


class PaceChip:
    """Card side of PACE, driven by the simulator one GENERAL AUTHENTICATE at a time.

    `step(data)` returns the answer data (without SW) or None when authentication fails.
    """

    def __init__(
        self,
        params: PaceParams,
        password: bytes,
        random: Callable[[int], bytes],
        ca_private: int | None = None,
    ) -> None:
        self.params = params
        self.d = params.domain
        self.k_pi = pace_password_key(password, params.cipher)
        self.random = random
        self.ca_private = ca_private
        self.stage = 0
        self.s = random(params.nonce_length)
        self.sk_map = 0
        self.pk_map_ifd: Element | None = None
        self.g_mapped: Element | None = None  # Integrated Mapping's; Generic Mapping does without it
        self.sk_eph = 0
        self.pk_eph = b""
        self.pk_ifd = b""
        self.ks_enc = b""
        self.ks_mac = b""
        self._agreed: Element | None = None  # the terminal's validated key, its shared secret not yet computed
        self.channel: SecureChannel | None = None

    def step(self, dyn: bytes) -> bytes | None:
        try:
            return self._step(dyn)
        except (ChipError, EncodingError):
            return None

    def settle(self) -> bool:
        """The session keys of the key agreement, derived once its answer has gone out (the simulator calls
        this when it is idle, while the terminal derives its own) or at the mutual authentication, whichever
        comes first. False when there are none (no key agreement yet, or no shared secret)."""
        if self._agreed is not None:
            peer, self._agreed = self._agreed, None
            try:
                shared = self.d.shared_secret(self.sk_eph, peer)
            except EncodingError:
                return False
            self.ks_enc, self.ks_mac = session_keys(self.params.cipher, shared)
        return bool(self.ks_mac)

    def _step(self, dyn: bytes) -> bytes | None:
        stage = self.stage
        self.stage += 1
        c = self.params.cipher
        if stage == 0:
            return tlv(0x7C, tlv(0x80, block_encrypt(c, self.k_pi, self.s)))
        if stage == 1:
            mapping_data = _dyn(dyn, 0x81, "PACE mapping")
            if self.params.mapping is Mapping.IM:
                if len(mapping_data) != self.params.im_nonce_length:
                    return None
                self.g_mapped = self.d.integrated_mapping(im_prf(self.s, mapping_data, self.d.p, c))
                return tlv(0x7C, b"")
            self.pk_map_ifd = self.d.decode(mapping_data)
            self.sk_map = self.d.scalar(self.random(self.d.scalar_bytes()))
            return tlv(0x7C, tlv(0x82, self.d.encode(self.d.mul(self.sk_map, self.d.generator))))
        if stage == 2:
            self.pk_ifd = _dyn(dyn, 0x83, "PACE key agreement")
            peer = self.d.decode(self.pk_ifd)  # validated now: a key off the curve or the group is refused here
            self.sk_eph = self.d.scalar(self.random(self.d.scalar_bytes()))
            self.pk_eph = self.d.encode(ephemeral_key(self.d, self.sk_eph, self.g_mapped, self.s, self.sk_map, self.pk_map_ifd))
            if self.pk_ifd == self.pk_eph:
                return None
            self._agreed = peer
            return tlv(0x7C, tlv(0x84, self.pk_eph))
        if stage == 3:
            if not self.settle():
                return None
            t_ifd = _dyn(dyn, 0x85, "PACE mutual authentication")
            tag = self.d.key_tag
            if t_ifd != token_mac(c, self.ks_mac, public_key_do(self.params.oid, self.pk_eph, tag)):
                return None
            body = tlv(0x86, token_mac(c, self.ks_mac, public_key_do(self.params.oid, self.pk_ifd, tag)))
            if self.params.mapping is Mapping.CAM:
                if self.ca_private is None:
                    return None
                ca_ic = pow(self.ca_private, -1, self.d.order) * self.sk_map % self.d.order
                plain = ciphers.pad(ca_ic.to_bytes(self.d.size, "big"), 16)
                body += tlv(0x8A, ciphers.aes_cbc_encrypt(self.ks_enc, plain, cam_iv(c, self.ks_enc)))
            self.channel = SecureChannel(self.ks_enc, self.ks_mac, 0, c)
            return tlv(0x7C, body)
        return None
