"""Chip Authentication (ECDH), Doc 9303-11 §6.2: an ephemeral terminal key against the chip's static
key from DG14; both sides derive new session keys and secure messaging restarts with SSC = 0.

With 3DES (after BAC) the key is sent by MSE:Set KAT; with AES by MSE:Set AT + GENERAL AUTHENTICATE.
The key-agreement commands themselves still travel under the old keys.
"""

from __future__ import annotations

from collections.abc import Callable

from mrtd.asn1.tlv import tlv
from mrtd.chip.protocol.apdu import Command
from mrtd.chip.protocol.curves import Domain
from mrtd.chip.protocol.kdf import Cipher
from mrtd.chip.protocol.pace import session_keys
from mrtd.chip.protocol.sm import SecureChannel
from mrtd.errors import ProfileError

CA_ECDH_ARC = bytes.fromhex("04007F000702020302")
_SUFFIX = {Cipher.DES3: 1, Cipher.AES128: 2, Cipher.AES192: 3, Cipher.AES256: 4}


def ca_oid(cipher: Cipher) -> bytes:
    """id-CA-ECDH-{3DES-CBC-CBC | AES-CBC-CMAC-128/192/256} content bytes."""
    return CA_ECDH_ARC + bytes((_SUFFIX[cipher],))


def ca_oid_dotted(cipher: Cipher) -> str:
    return f"0.4.0.127.0.7.2.2.3.2.{_SUFFIX[cipher]}"


def cipher_for_oid(dotted: str) -> Cipher:
    prefix = "0.4.0.127.0.7.2.2.3.2."
    if not dotted.startswith(prefix):
        raise ProfileError(f"Chip Authentication protocol {dotted}: only id-CA-ECDH is supported [§6.2]")
    suffix = int(dotted[len(prefix) :])
    for cipher, s in _SUFFIX.items():
        if s == suffix:
            return cipher
    raise ProfileError(f"Chip Authentication protocol {dotted}: unknown cipher suffix [Doc 9303-11 §9.2.5]")


class ChipAuthTerminal:
    """Terminal side: `commands()` (sent under the current channel), then `new_channel()`."""

    def __init__(
        self, d: Domain, pk_ic: bytes, cipher: Cipher, key_id: int | None, random: Callable[[int], bytes]
    ) -> None:
        self.d = d
        self.cipher = cipher
        self.key_id = key_id
        self.pk_ic = d.decode(pk_ic)
        self.sk = d.scalar(random(d.scalar_bytes()))
        self.pk = d.encode(d.mul(self.sk, d.generator))

    def commands(self) -> list[Command]:
        kid = b"" if self.key_id is None else tlv(0x84, self.key_id.to_bytes(max(1, (self.key_id.bit_length() + 7) // 8), "big"))
        if not self.cipher.is_aes:
            return [Command(0x00, 0x22, 0x41, 0xA6, tlv(0x91, self.pk) + kid)]
        return [
            Command(0x00, 0x22, 0x41, 0xA4, tlv(0x80, ca_oid(self.cipher)) + kid),
            Command(0x00, 0x86, 0x00, 0x00, tlv(0x7C, tlv(0x80, self.pk)), 256),
        ]

    def new_channel(self) -> SecureChannel:
        shared = self.d.shared_secret(self.sk, self.pk_ic)
        enc, mac = session_keys(self.cipher, shared)
        return SecureChannel(enc, mac, 0, self.cipher)


def chip_channel(d: Domain, private: int, pk_ifd: bytes, cipher: Cipher) -> SecureChannel:
    """Chip side: the channel that replaces the current one once the answer has gone out."""
    shared = d.shared_secret(private, d.decode(pk_ifd))
    enc, mac = session_keys(cipher, shared)
    return SecureChannel(enc, mac, 0, cipher)
