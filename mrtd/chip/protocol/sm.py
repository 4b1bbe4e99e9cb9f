"""Secure messaging, Doc 9303-11 §9.8: 3DES (after BAC) and AES (after PACE or Chip Authentication).

One `SecureChannel` per session and side: the terminal wraps commands and unwraps responses, the chip
(simulator) unwraps commands and wraps responses. The SSC is incremented before every command and
before every response MAC, on both sides.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import algorithms

from mrtd.asn1.tlv import TlvError, parse_all, tlv
from mrtd.chip.protocol import ciphers
from mrtd.chip.protocol.apdu import Command, Response
from mrtd.chip.protocol.kdf import Cipher
from mrtd.chip.protocol.status import describe
from mrtd.errors import ChipError, EncodingError

SW_SM_MISSING = 0x6987
SW_SM_INCORRECT = 0x6988


class SmError(EncodingError):
    """A secure-messaging object that is missing, malformed or carries a wrong MAC."""


class SecureChannel:
    def __init__(self, ks_enc: bytes, ks_mac: bytes, ssc: int, cipher: Cipher) -> None:
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.cipher = cipher
        self.block = cipher.block
        self._aes = cipher.is_aes
        self._modulus = 1 << (8 * self.block)
        self._set_ssc(ssc)
        # a command header padded to a block: the four header bytes, then 80 00 .. [§9.8.4]
        self._header_pad = b"\x80" + bytes(self.block - 5)
        # the session's keys, each with its cipher contexts kept for every APDU (ciphers.Cbc says why)
        self._mac: ciphers.Cmac8 | ciphers.RetailMac
        self._iv: ciphers.AesBlock | None = None
        if cipher.is_aes:
            self._cbc = ciphers.Cbc(algorithms.AES(ks_enc))
            self._iv = ciphers.AesBlock(ks_enc)
            self._mac = ciphers.Cmac8(ks_mac)
        else:
            self._cbc = ciphers.Cbc(ciphers.des3(ks_enc))
            self._mac = ciphers.RetailMac(ks_mac)

    # -- primitives ------------------------------------------------------------------------------------

    # the SSC moves by one before every command and every response; its bytes, which every MAC and (AES)
    # every IV starts from, are kept with it rather than made again for each use
    def _set_ssc(self, ssc: int) -> None:
        self.ssc = ssc
        self._ssc = ssc.to_bytes(self.block, "big")

    def _bump(self) -> None:
        self._set_ssc((self.ssc + 1) % self._modulus)

    def _iv_now(self) -> bytes:
        """AES: E(KSenc, SSC) [§9.8.6.1]; 3DES: zero [§9.8.6.1]."""
        return self._iv.encrypt(self._ssc) if self._iv is not None else bytes(8)

    def mac(self, data: bytes) -> bytes:
        """MAC over SSC || data, padded (method 2)."""
        if self._aes:
            return self._mac.mac(ciphers.pad(self._ssc + data, 16))
        return self._mac.mac(self._ssc + data)  # the retail MAC pads itself

    def encrypt(self, data: bytes) -> bytes:
        return self._cbc.encrypt(ciphers.pad(data, self.block), self._iv_now())

    def decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.block:
            raise SmError(f"secure messaging: cryptogram of {len(data)} bytes is not whole blocks [§9.8]")
        return ciphers.unpad(self._cbc.decrypt(data, self._iv_now()))

    # -- terminal side -----------------------------------------------------------------------------------

    def wrap(self, cmd: Command) -> Command:
        """The protected form of `cmd` [§9.8.4]."""
        self._bump()
        cla = (cmd.cla & 0xF0) | 0x0C
        header = bytes((cla, cmd.ins, cmd.p1, cmd.p2)) + self._header_pad
        body = b""
        if cmd.data:
            crypt = self.encrypt(cmd.data)
            body = tlv(0x85, crypt) if cmd.ins & 1 else tlv(0x87, b"\x01" + crypt)
        extended = cmd.extended
        if cmd.le is not None:
            if cmd.le > 256 or (extended and cmd.le != 256):
                body += tlv(0x97, (cmd.le % 65536).to_bytes(2, "big"))
                extended = True
            else:
                body += tlv(0x97, bytes((cmd.le % 256,)))
        body += tlv(0x8E, self.mac(header + body))
        le = 65536 if extended else 256
        return Command(cla, cmd.ins, cmd.p1, cmd.p2, body, le, extended or len(body) > 255)

    def unwrap(self, raw: bytes, *, step: str) -> Response:
        """Check and decrypt a protected response; a wrong or missing MAC is a ChipError for `step`."""
        self._bump()
        rsp = Response.decode(raw)
        if not rsp.data:
            # Doc 9303-11 §9.8.5: a chip answers in plain only when it aborts secure messaging (an SM error,
            # or a failure it reports that way); the status word says why
            if rsp.sw == 0x9000:
                raise ChipError(step, "the chip answered 9000 without secure messaging (it closed the channel)", rsp.sw)
            raise ChipError(step, f"the chip refused the command without secure messaging: {describe(rsp.sw)}", rsp.sw)
        try:
            objs = parse_all(rsp.data, what="secure messaging response")
        except TlvError as exc:
            raise ChipError(step, str(exc), rsp.sw) from exc
        by_tag = {o.tag: o for o in objs}
        mac_obj = by_tag.get(0x8E)
        sw_obj = by_tag.get(0x99)
        if mac_obj is None or sw_obj is None or objs[-1].tag != 0x8E:
            raise ChipError(step, "response lacks DO'99 or DO'8E [Doc 9303-11 §9.8.5]", rsp.sw)
        covered = b"".join(o.raw for o in objs if o.tag in (0x85, 0x87, 0x99))
        if self.mac(covered) != mac_obj.value:
            raise ChipError(step, "response MAC does not verify [Doc 9303-11 §9.8.5]", rsp.sw)
        data = b""
        crypt = by_tag.get(0x87) or by_tag.get(0x85)
        if crypt is not None:
            value = crypt.value
            if crypt.tag == 0x87:
                if not value or value[0] != 1:
                    raise ChipError(step, "DO'87 lacks the padding-content indicator 01 [§9.8]", rsp.sw)
                value = value[1:]
            try:
                data = self.decrypt(value)
            except EncodingError as exc:
                raise ChipError(step, str(exc), rsp.sw) from exc
        return Response(data, int.from_bytes(sw_obj.value[-2:], "big"))

    # -- chip side -----------------------------------------------------------------------------------------

    def unwrap_command(self, cmd: Command) -> Command:
        """Check and decrypt a protected command (chip side); SmError on any defect."""
        self._bump()
        if cmd.cla & 0x0C != 0x0C:
            raise SmError("command without secure messaging inside a secure channel [§9.8]")
        objs = parse_all(cmd.data, what="secure messaging command")
        if not objs or objs[-1].tag != 0x8E:
            raise SmError("command lacks DO'8E [§9.8.4]")
        header = bytes((cmd.cla, cmd.ins, cmd.p1, cmd.p2)) + self._header_pad
        covered = b"".join(o.raw for o in objs[:-1])
        if self.mac(header + covered) != objs[-1].value:
            raise SmError("command MAC does not verify [§9.8.4]")
        data = b""
        le: int | None = None
        for o in objs[:-1]:
            if o.tag == 0x87:
                if not o.value or o.value[0] != 1:
                    raise SmError("DO'87 lacks the padding-content indicator [§9.8]")
                data = self.decrypt(o.value[1:])
            elif o.tag == 0x85:
                data = self.decrypt(o.value)
            elif o.tag == 0x97:
                le = int.from_bytes(o.value, "big") or (256 if len(o.value) == 1 else 65536)
            else:
                raise SmError(f"unexpected data object {o.tag:02X} in a protected command [§9.8]")
        return Command(cmd.cla & 0xF0 & ~0x0C, cmd.ins, cmd.p1, cmd.p2, data, le, cmd.extended)

    def wrap_response(self, rsp: Response) -> Response:
        self._bump()
        body = b""
        if rsp.data:
            body = tlv(0x87, b"\x01" + self.encrypt(rsp.data))
        body += tlv(0x99, rsp.sw.to_bytes(2, "big"))
        body += tlv(0x8E, self.mac(body))
        return Response(body, rsp.sw)
