"""Certificates with the defects real issuers' certificates have, made by the tests: a good certificate is
built with cryptography, its tbsCertificate is edited at the byte level and signed again by the issuer.
Keys on brainpoolP224r1 come from the pure-Python `ecdsa` package, so that mrtd's fastecdsa path is
checked against an implementation it does not share."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable

import ecdsa
import ecdsa.util
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mrtd.asn1 import der
from mrtd.asn1.algorithms import HashName
from mrtd.asn1.keys import CurveKey, curve_named
from mrtd.asn1.tlv import BER, Tlv, tlv
from mrtd.pki import certificates as C
from mrtd.pki.signer import MemorySigner

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
ECDSA_SHA256 = der.seq(der.oid("1.2.840.10045.4.3.2"))
CSCA_KEY = ec.generate_private_key(ec.BrainpoolP256R1())
CSCA_SIGNER = MemorySigner(CSCA_KEY, "csca")
CSCA = C.build_csca(CSCA_SIGNER, C.make_name("DE", "CSCA DE"), not_before=NOW - dt.timedelta(days=400),
                    not_after=NOW + dt.timedelta(days=4000), key_usage_end=NOW + dt.timedelta(days=1000),
                    rng=os.urandom, mrz_code="D")


def good_ds(public_key: ec.EllipticCurvePublicKey | None = None) -> x509.Certificate:
    key = public_key or ec.generate_private_key(ec.SECP256R1()).public_key()
    return C.build_document_signer(C.Issuer(CSCA_SIGNER, CSCA), key, C.make_name("DE", "DS DE"),
                                   not_before=NOW - dt.timedelta(days=30), usage_end=NOW + dt.timedelta(days=60),
                                   not_after=NOW + dt.timedelta(days=3650), document_types=("P",), rng=os.urandom)


def tbs_items(cert: x509.Certificate) -> list[bytes]:
    return [t.raw for t in Tlv.decode(cert.tbs_certificate_bytes, rules=BER).children()]


def signed(tbs: bytes, alg: bytes = ECDSA_SHA256, *, indefinite: bool = False) -> bytes:
    """tbs signed by the CSCA key: Certificate ::= SEQUENCE { tbs, alg, BIT STRING }."""
    signature = tlv(0x03, b"\x00" + CSCA_KEY.sign(tbs, ec.ECDSA(hashes.SHA256())))
    if indefinite:
        return b"\x30\x80" + tbs + alg + signature + b"\x00\x00"
    return der.seq(tbs, alg, signature)


def edited(edit: Callable[[list[bytes]], list[bytes]], *, alg: bytes = ECDSA_SHA256) -> bytes:
    """A DS certificate whose tbsCertificate fields went through `edit`, signed again."""
    return signed(der.seq(*edit(tbs_items(good_ds()))), alg)


def with_serial(value: bytes) -> bytes:
    """The serial's content octets replaced (index 1: after the [0] version)."""
    def edit(items: list[bytes]) -> list[bytes]:
        items[1] = tlv(0x02, value)
        return items
    return edited(edit)


def with_extension_edit(edit_ext: Callable[[list[bytes]], list[bytes]]) -> bytes:
    """Each Extension (as the list of its element encodings) passed through `edit_ext`."""
    def edit(items: list[bytes]) -> list[bytes]:
        exts = Tlv.decode(items[-1], rules=BER).children()[0]
        new = [der.seq(*edit_ext([c.raw for c in e.children()])) for e in exts.children()]
        items[-1] = der.context(3, der.seq(*new))
        return items
    return edited(edit)


def boolean_true_as_01() -> bytes:
    return with_extension_edit(lambda parts: [p if p != b"\x01\x01\xff" else b"\x01\x01\x01" for p in parts])


def critical_false_encoded() -> bytes:
    return with_extension_edit(lambda parts: parts if len(parts) == 3 else [parts[0], b"\x01\x01\x00", parts[1]])


def ecdsa_null_parameters() -> bytes:
    null_alg = der.seq(der.oid("1.2.840.10045.4.3.2"), der.NULL_DER)

    def edit(items: list[bytes]) -> list[bytes]:
        items[2] = null_alg
        return items
    return edited(edit, alg=null_alg)


def ber_indefinite() -> bytes:
    """Outer SEQUENCE and tbsCertificate with indefinite lengths: the signature covers the BER tbs."""
    items = tbs_items(good_ds())
    tbs = b"\x30\x80" + b"".join(items) + b"\x00\x00"
    return signed(tbs, indefinite=True)


DEFECTS: dict[str, tuple[Callable[[], bytes], str]] = {
    "negative serial": (lambda: with_serial(b"\xfe\xd4"), "serial-not-positive"),
    "zero serial": (lambda: with_serial(b"\x00"), "serial-not-positive"),
    "serial of 21 octets": (lambda: with_serial(b"\x01" * 21), "serial-too-long"),
    "serial with a redundant leading zero": (lambda: with_serial(b"\x00\x05"), "integer-not-minimal"),
    "BOOLEAN TRUE as 01": (boolean_true_as_01, "boolean-not-der"),
    "critical FALSE encoded": (critical_false_encoded, "default-encoded"),
    "ecdsa-with-SHA256 with NULL parameters": (ecdsa_null_parameters, "ecdsa-null-params"),
    "BER indefinite lengths": (ber_indefinite, "ber-indefinite-length"),
}


# --- brainpoolP224r1 (German passports of 2007-2008) ------------------------------------------------

P224R1 = curve_named("brainpoolP224r1")


class P224r1Signer:
    """A brainpoolP224r1 key in the pure-Python `ecdsa` package (cryptography has no such curve)."""

    def __init__(self) -> None:
        self._key = ecdsa.SigningKey.generate(curve=ecdsa.curves.BRAINPOOLP224r1)
        point = self._key.get_verifying_key().pubkey.point
        self._public = CurveKey(P224R1, int(point.x()), int(point.y()))

    def public_key(self) -> CurveKey:
        return self._public

    def sign(self, data: bytes, hash_name: HashName) -> bytes:
        return bytes(self._key.sign_deterministic(data, hashfunc=getattr(hashlib, HashName(hash_name).value),
                                                  sigencode=ecdsa.util.sigencode_der))

    def spki(self) -> bytes:
        size = 28
        point = b"\x04" + self._public.x.to_bytes(size, "big") + self._public.y.to_bytes(size, "big")
        alg = der.seq(der.oid("1.2.840.10045.2.1"), der.oid(P224R1.oid))
        return der.seq(alg, tlv(0x03, b"\x00" + point))


def p224r1_ds(signer: P224r1Signer) -> bytes:
    """A Document Signer certificate for a brainpoolP224r1 key, signed by the (brainpoolP256r1) CSCA."""
    def edit(items: list[bytes]) -> list[bytes]:
        items[6] = signer.spki()  # subjectPublicKeyInfo (after version, serial, alg, issuer, validity, subject)
        return items
    cert = edited(edit)
    # the SKI extension still names the placeholder key; a verifier looks the DS up by issuer and serial
    return cert


def pem(data: bytes) -> bytes:
    return x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.PEM)


def csca_pem() -> bytes:
    return CSCA.public_bytes(serialization.Encoding.PEM)


__all__ = ["CSCA", "DEFECTS", "NOW", "NameOID"]
