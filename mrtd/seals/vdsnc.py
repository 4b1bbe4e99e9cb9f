"""ICAO VDS-NC: a JSON seal `{"data": {"hdr": ..., "msg": ...}, "sig": {"alg", "cer", "sigvl"}}`.

The signed bytes are the RFC 8785 canonical form (JCS) of `data`; `sig` is not signed. `cer` is the
signer certificate (base64url DER) and `sigvl` the raw r||s (base64url). Real seals pad base64url with
`=`, so the decoder accepts padding; the writer leaves it out.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.errors import EncodingError, Finding, Severity
from mrtd.pki.signer import HashName, Signer, raw_ecdsa

CLAUSE = "ICAO TR VDS-NC"
ALGORITHMS: dict[str, tuple[HashName, int]] = {
    "ES256": (HashName.SHA256, 256),
    "ES384": (HashName.SHA384, 384),
    "ES512": (HashName.SHA512, 521),
}


@dataclass(frozen=True, slots=True)
class VdsNcSeal:
    data: dict[str, Any]
    alg: str
    certificate: bytes
    signature: bytes
    text: str
    findings: tuple[Finding, ...] = field(default=())

    @property
    def signed_bytes(self) -> bytes:
        return canonical(self.data)

    @property
    def hash_name(self) -> HashName:
        return ALGORITHMS[self.alg][0]

    @property
    def use_case(self) -> str:
        return str(self.data["hdr"]["t"])

    @property
    def issuing_state(self) -> str:
        return str(self.data["hdr"]["is"])

    def encode(self) -> str:
        return json.dumps(
            {"data": self.data, "sig": {"alg": self.alg, "cer": b64url(self.certificate), "sigvl": b64url(self.signature)}},
            ensure_ascii=False, separators=(",", ":"),
        )


def canonical(data: Mapping[str, Any]) -> bytes:
    try:
        out: bytes = rfc8785.dumps(data)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EncodingError(f"data: cannot be canonicalised with RFC 8785 ({exc}) [{CLAUSE}]") from None
    return out


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64url(text: Any, where: str, findings: list[Finding], strict: bool) -> bytes:
    if not isinstance(text, str):
        raise EncodingError(f"{where}: expected a base64url string [{CLAUSE}]")
    body = text
    if body.endswith("="):
        if strict:
            raise EncodingError(f"{where}: base64url padding '=' [{CLAUSE}]")
        findings.append(Finding(where, "base64url-padding", "base64url with '=' padding", CLAUSE, Severity.INFO))
        body = body.rstrip("=")
    if not body or any(not (c.isascii() and (c.isalnum() or c in "-_")) for c in body) or len(body) % 4 == 1:
        raise EncodingError(f"{where}: not base64url [{CLAUSE}]")
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise EncodingError(f"{where}: not base64url [{CLAUSE}]") from None


def decode(text: str | bytes, strict: bool = False) -> VdsNcSeal:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise EncodingError(f"seal: VDS-NC is UTF-8 JSON [{CLAUSE}]") from None
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise EncodingError(f"seal: not JSON [{CLAUSE}]") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict) or not isinstance(doc.get("sig"), dict):
        raise EncodingError(f"seal: a VDS-NC is an object with 'data' and 'sig' objects [{CLAUSE}]")
    data, sig = doc["data"], doc["sig"]
    hdr = data.get("hdr")
    if not isinstance(hdr, dict) or not isinstance(data.get("msg"), dict):
        raise EncodingError(f"data: needs 'hdr' and 'msg' objects [{CLAUSE}]")
    for key, kind in (("t", str), ("v", int), ("is", str)):
        if not isinstance(hdr.get(key), kind) or isinstance(hdr.get(key), bool):
            raise EncodingError(f"data.hdr.{key}: missing or not a {kind.__name__} [{CLAUSE}]")
    alg = sig.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise EncodingError(f"sig.alg: {alg!r} is not ES256, ES384 or ES512 [{CLAUSE}]")
    findings: list[Finding] = []
    cer = _unb64url(sig.get("cer"), "sig.cer", findings, strict)
    sigvl = _unb64url(sig.get("sigvl"), "sig.sigvl", findings, strict)
    canonical(data)  # refuse data that has no canonical form (e.g. non-finite numbers)
    return VdsNcSeal(data, str(alg), cer, sigvl, text, tuple(findings))


def make(
    use_case: str,
    issuing_state: str,
    msg: Mapping[str, Any],
    signer: Signer,
    certificate_der: bytes,
    version: int = 1,
) -> VdsNcSeal:
    """Sign `data` = {hdr, msg} in canonical form; ES256/384/512 chosen by the signer's curve."""
    key = signer.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
        raise EncodingError(f"sig.alg: VDS-NC signs with ECDSA on P-256, P-384 or P-521 [{CLAUSE}]")
    alg = {256: "ES256", 384: "ES384", 521: "ES512"}[key.curve.key_size]
    data = {"hdr": {"t": use_case, "v": version, "is": issuing_state}, "msg": dict(msg)}
    signature = raw_ecdsa(signer.sign(canonical(data), ALGORITHMS[alg][0]), key.curve)
    seal = VdsNcSeal(data, alg, certificate_der, signature, "")
    return VdsNcSeal(data, alg, certificate_der, signature, seal.encode())
