"""Basic Access Control, Doc 9303-11 §4.3 (ISO/IEC 11770-2 mechanism 6) and its keys (§9.7.2).

Terminal side: `BacTerminal` builds EXTERNAL AUTHENTICATE from the challenge and checks the answer.
Chip side: `bac_chip_answer` checks the terminal's cryptogram and builds the chip's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mrtd.chip.protocol import ciphers
from mrtd.chip.protocol.apdu import Command
from mrtd.chip.protocol.kdf import ENC, MAC, Cipher, bac_seed, kdf
from mrtd.chip.protocol.sm import SecureChannel
from mrtd.errors import ChipError, InputError
from mrtd.mrz.checkdigit import check_digit_char

GET_CHALLENGE = Command(0x00, 0x84, 0x00, 0x00, b"", 8)

@dataclass(frozen=True, slots=True)
class MrzInfo:
    """The three MRZ fields behind BAC and the PACE MRZ password."""

    document_number: str
    date_of_birth: str  # YYMMDD
    date_of_expiry: str  # YYMMDD

    def __post_init__(self) -> None:
        # Unknown parts of a birth date are `<` in the MRZ, and MRZ_information takes the characters
        # as printed [Doc 9303-3 §4.7, Doc 9303-11 §9.7.2]; an expiry date is always complete.
        for name, allowed in (("date_of_birth", "0123456789<"), ("date_of_expiry", "0123456789")):
            v = getattr(self, name)
            if len(v) != 6 or any(c not in allowed for c in v):
                raise InputError(f"{name}: {v!r} is not YYMMDD [Doc 9303-11 §9.7.2]")
        doc = self.document_number
        if not doc or len(doc) > 22 or any(not (c.isalnum() or c == "<") for c in doc) or doc != doc.upper():
            raise InputError("document_number: 1 to 22 characters A-Z, 0-9 or '<' [Doc 9303-3 §4.2]")

    @property
    def padded_number(self) -> str:
        return self.document_number.ljust(9, "<")

    @property
    def information(self) -> str:
        """MRZ_information: document number + cd + birth + cd + expiry + cd [§9.7.2]."""
        doc = self.padded_number
        return (
            doc + check_digit_char(doc) + self.date_of_birth + check_digit_char(self.date_of_birth)
            + self.date_of_expiry + check_digit_char(self.date_of_expiry)
        )

    @classmethod
    def parse(cls, text: str) -> MrzInfo:
        """`DOCNO,YYMMDD,YYMMDD` as the CLI takes it."""
        parts = [p.strip().upper() for p in text.split(",")]
        if len(parts) != 3:
            raise InputError("mrz-info: expected DOCNO,YYMMDD,YYMMDD")
        return cls(parts[0], parts[1], parts[2])


def bac_keys(mrz_information: str) -> tuple[bytes, bytes]:
    seed = bac_seed(mrz_information)
    return kdf(seed, ENC, Cipher.DES3), kdf(seed, MAC, Cipher.DES3)


def _ssc(rnd_ic: bytes, rnd_ifd: bytes) -> int:
    return int.from_bytes(rnd_ic[-4:] + rnd_ifd[-4:], "big")


def _session(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SecureChannel:
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    return SecureChannel(kdf(seed, ENC, Cipher.DES3), kdf(seed, MAC, Cipher.DES3), _ssc(rnd_ic, rnd_ifd), Cipher.DES3)


class BacTerminal:
    """Terminal side of BAC: `external_authenticate(rnd_ic)` then `finish(response_data)`."""

    def __init__(self, mrz_information: str, random: Callable[[int], bytes]) -> None:
        self.k_enc, self.k_mac = bac_keys(mrz_information)
        self.rnd_ifd = random(8)
        self.k_ifd = random(16)
        self.rnd_ic = b""

    def external_authenticate(self, rnd_ic: bytes) -> Command:
        if len(rnd_ic) != 8:
            raise ChipError("BAC GET CHALLENGE", f"challenge of {len(rnd_ic)} bytes, 8 expected")
        self.rnd_ic = rnd_ic
        e_ifd = ciphers.des3_cbc_encrypt(self.k_enc, self.rnd_ifd + rnd_ic + self.k_ifd)
        m_ifd = ciphers.retail_mac(self.k_mac, e_ifd)
        return Command(0x00, 0x82, 0x00, 0x00, e_ifd + m_ifd, 0x28)

    def finish(self, data: bytes) -> SecureChannel:
        step = "BAC EXTERNAL AUTHENTICATE"
        if len(data) != 40:
            raise ChipError(step, f"answer of {len(data)} bytes, 40 expected [Doc 9303-11 §4.3]")
        e_ic, m_ic = data[:32], data[32:]
        if ciphers.retail_mac(self.k_mac, e_ic) != m_ic:
            raise ChipError(step, "the chip's MAC does not verify [Doc 9303-11 §4.3]")
        r = ciphers.des3_cbc_decrypt(self.k_enc, e_ic)
        if r[:8] != self.rnd_ic or r[8:16] != self.rnd_ifd:
            raise ChipError(step, "the chip's nonces do not match [Doc 9303-11 §4.3]")
        return _session(self.k_ifd, r[16:32], self.rnd_ic, self.rnd_ifd)


def bac_chip_answer(
    k_enc: bytes, k_mac: bytes, rnd_ic: bytes, data: bytes, random: Callable[[int], bytes]
) -> tuple[bytes, SecureChannel] | None:
    """Chip side: check EXTERNAL AUTHENTICATE data; return (answer, channel) or None when it fails."""
    if len(data) != 40 or ciphers.retail_mac(k_mac, data[:32]) != data[32:]:
        return None
    s = ciphers.des3_cbc_decrypt(k_enc, data[:32])
    rnd_ifd, k_ifd = s[:8], s[16:32]
    if s[8:16] != rnd_ic:
        return None
    k_ic = random(16)
    e_ic = ciphers.des3_cbc_encrypt(k_enc, rnd_ic + rnd_ifd + k_ic)
    return e_ic + ciphers.retail_mac(k_mac, e_ic), _session(k_ifd, k_ic, rnd_ic, rnd_ifd)
