"""Keys inside a PKCS#11 token (an HSM in production, SoftHSM2 in tests), used through the `Signer` protocol.

Keys are generated inside the token as sensitive and non-extractable; every signature is computed by
the token. For ECDSA we hash on the host and ask the token for CKM_ECDSA over the digest (SoftHSM2 and
many HSMs have no CKM_ECDSA_SHAxxx), then convert the token's raw r||s to DER. RSA uses
CKM_SHAxxx_RSA_PKCS_PSS with MGF1 of the same hash and salt length = hash length.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from typing import Any

import pkcs11
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import PKCS11Error

from mrtd.asn1.der import oid as der_oid
from mrtd.asn1.tlv import DER, read_tlv
from mrtd.errors import ConfigurationError, InputError, KeyAccessError
from mrtd.pki.signer import HashName, PublicKey, der_ecdsa, hash_algorithm

_CURVE_OIDS: dict[str, tuple[str, type[ec.EllipticCurve]]] = {
    "ecdsa-p256": ("1.2.840.10045.3.1.7", ec.SECP256R1),
    "ecdsa-p384": ("1.3.132.0.34", ec.SECP384R1),
    "ecdsa-p521": ("1.3.132.0.35", ec.SECP521R1),
    "ecdsa-brainpoolp256r1": ("1.3.36.3.3.2.8.1.1.7", ec.BrainpoolP256R1),
    "ecdsa-brainpoolp384r1": ("1.3.36.3.3.2.8.1.1.11", ec.BrainpoolP384R1),
    "ecdsa-brainpoolp512r1": ("1.3.36.3.3.2.8.1.1.13", ec.BrainpoolP512R1),
}
_RSA_BITS = {"rsa-pss-3072": 3072, "rsa-pss-4096": 4096}

_PSS_MECHANISMS = {
    HashName.SHA224: (Mechanism.SHA224_RSA_PKCS_PSS, Mechanism.SHA224, pkcs11.MGF.SHA224, 28),
    HashName.SHA256: (Mechanism.SHA256_RSA_PKCS_PSS, Mechanism.SHA256, pkcs11.MGF.SHA256, 32),
    HashName.SHA384: (Mechanism.SHA384_RSA_PKCS_PSS, Mechanism.SHA384, pkcs11.MGF.SHA384, 48),
    HashName.SHA512: (Mechanism.SHA512_RSA_PKCS_PSS, Mechanism.SHA512, pkcs11.MGF.SHA512, 64),
}

_libs: dict[str, Any] = {}
_libs_lock = threading.Lock()


def _lib(module: str) -> Any:
    with _libs_lock:
        if module not in _libs:
            try:
                _libs[module] = pkcs11.lib(module)
            except (OSError, RuntimeError, PKCS11Error) as exc:
                raise ConfigurationError(f"pkcs11 module {module}: cannot load it: {exc}") from None
        return _libs[module]


@dataclass(frozen=True)
class TokenRef:
    """Where a key lives: the PKCS#11 module path and the token label (never the PIN)."""

    module: str
    token: str


_sessions: dict[tuple[str, str], tuple[Any, bytes]] = {}
_session_locks: dict[int, threading.Lock] = {}


def open_session(module: str, token_label: str, pin: bytes) -> Any:
    """A logged-in read-write session on the token with `token_label`; the PIN is passed in, never stored.

    A token's login state is per process, so sessions are shared per (module, token); a later call
    with a different PIN is refused (only a salted digest of the PIN is held to compare).
    """
    lib = _lib(module)
    key = (module, token_label)
    with _libs_lock:
        cached = _sessions.get(key)
        if cached is not None:
            session, check = cached
            if hmac.compare_digest(check, _pin_check(module, token_label, pin)):
                return session
            raise KeyAccessError(f"pkcs11 token {token_label!r}: login failed (wrong PIN)")
        token = _token(lib, module, token_label)
        try:
            session = token.open(rw=True, user_pin=pin.decode("utf-8"))
        except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid):
            raise KeyAccessError(f"pkcs11 token {token_label!r}: login failed (wrong PIN)") from None
        except PKCS11Error as exc:
            raise KeyAccessError(f"pkcs11 token {token_label!r}: cannot open a session: {type(exc).__name__}") from None
        _sessions[key] = (session, _pin_check(module, token_label, pin))
        _session_locks[id(session)] = threading.Lock()
        return session


_PIN_SALT = os.urandom(16)


def _pin_check(module: str, token_label: str, pin: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin, _PIN_SALT + f"{module}|{token_label}".encode(), 10_000)


class Pkcs11Signer:
    """A `Signer` whose private key never leaves the token."""

    def __init__(self, session: Any, label: str) -> None:
        self._session = session
        self._label = label
        self._lock = _session_locks.setdefault(id(session), threading.Lock())
        try:
            self._private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
            public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=label)
        except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned) as exc:
            raise KeyAccessError(f"pkcs11 key {label!r}: {type(exc).__name__}") from None
        self._public = _public_key_from(public)
        self._ec = isinstance(self._public, ec.EllipticCurvePublicKey)

    @property
    def key_id(self) -> str:
        return f"pkcs11:{self._label}"

    @property
    def label(self) -> str:
        return self._label

    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes, hash_name: HashName) -> bytes:
        name = HashName(hash_name)
        try:
            if self._ec:
                h = hashes.Hash(hash_algorithm(name))
                h.update(data)
                digest = h.finalize()
                with self._lock:
                    raw = self._private.sign(digest, mechanism=Mechanism.ECDSA)
                return der_ecdsa(raw)
            mech, hash_mech, mgf, salt = _PSS_MECHANISMS[name]
            with self._lock:
                return bytes(self._private.sign(data, mechanism=mech, mechanism_param=(hash_mech, mgf, salt)))
        except PKCS11Error as exc:
            raise KeyAccessError(f"pkcs11 key {self._label!r}: signing failed: {type(exc).__name__}") from None


def generate_key(session: Any, algorithm: str, label: str) -> Pkcs11Signer:
    """Generate a key pair inside the token: private key sensitive, non-extractable, sign-only."""
    try:
        session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
    except pkcs11.NoSuchKey:
        pass
    except pkcs11.MultipleObjectsReturned:
        raise KeyAccessError(f"pkcs11 key {label!r}: already exists") from None
    else:
        raise KeyAccessError(f"pkcs11 key {label!r}: already exists")
    private_template = {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.SIGN: True,
        Attribute.DECRYPT: False,
        Attribute.DERIVE: False,
        Attribute.UNWRAP: False,
    }
    public_template = {Attribute.TOKEN: True, Attribute.VERIFY: True, Attribute.ENCRYPT: False,
                       Attribute.WRAP: False}
    key_id = label.encode("utf-8")
    try:
        if algorithm in _CURVE_OIDS:
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: der_oid(_CURVE_OIDS[algorithm][0])}, local=True
            )
            params.generate_keypair(store=True, label=label, id=key_id,
                                    public_template=public_template, private_template=private_template)
        elif algorithm in _RSA_BITS:
            session.generate_keypair(KeyType.RSA, _RSA_BITS[algorithm], store=True, label=label, id=key_id,
                                     public_template=public_template, private_template=private_template)
        else:
            raise InputError(f"algorithm: unknown key algorithm {algorithm!r}")
    except PKCS11Error as exc:
        raise KeyAccessError(f"pkcs11 key {label!r}: generation failed: {type(exc).__name__}") from None
    return Pkcs11Signer(session, label)


def _public_key_from(obj: Any) -> PublicKey:
    key_type = obj[Attribute.KEY_TYPE]
    if key_type == KeyType.RSA:
        n = int.from_bytes(obj[Attribute.MODULUS], "big")
        e = int.from_bytes(obj[Attribute.PUBLIC_EXPONENT], "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    if key_type == KeyType.EC:
        params = bytes(obj[Attribute.EC_PARAMS])
        curve = None
        for oid, curve_type in _CURVE_OIDS.values():
            if der_oid(oid) == params:
                curve = curve_type()
        if curve is None:
            raise KeyAccessError("pkcs11 public key: unsupported EC domain parameters")
        point = bytes(obj[Attribute.EC_POINT])
        if len(point) != 1 + 2 * ((curve.key_size + 7) // 8):
            # DER OCTET STRING around the point (PKCS#11 2.40 says so; SoftHSM2 does it).
            point = read_tlv(point, rules=DER, what="pkcs11 EC_POINT")[0].value
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    raise KeyAccessError(f"pkcs11 public key: unsupported key type {key_type}")


def key_attributes(session: Any, label: str) -> dict[str, bool]:
    """The protection flags of a private key (for tests and audits)."""
    key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)
    return {
        "sensitive": bool(key[Attribute.SENSITIVE]),
        "extractable": bool(key[Attribute.EXTRACTABLE]),
        "always_sensitive": bool(key[Attribute.ALWAYS_SENSITIVE]),
        "never_extractable": bool(key[Attribute.NEVER_EXTRACTABLE]),
        "local": bool(key[Attribute.LOCAL]),
    }


def destroy_key(session: Any, label: str) -> int:
    """Destroy the private and public key objects labelled `label` in the token; how many were destroyed."""
    lock = _session_locks.setdefault(id(session), threading.Lock())
    try:
        with lock:
            objects = [o for kind in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY)
                       for o in session.get_objects({Attribute.CLASS: kind, Attribute.LABEL: label})]
            if not objects:
                raise KeyAccessError(f"pkcs11 key {label!r}: not in the token (destroyed already?)")
            for obj in objects:
                obj.destroy()
    except PKCS11Error as exc:
        raise KeyAccessError(f"pkcs11 key {label!r}: cannot destroy it: {type(exc).__name__}") from None
    return len(objects)


def _token(lib: Any, module: str, token_label: str) -> Any:
    """The one token labelled `token_label` in `module`'s slots."""
    try:
        return lib.get_token(token_label=token_label)
    except pkcs11.NoSuchToken:
        raise ConfigurationError(f"pkcs11 token {token_label!r}: not found in {module}") from None
    except pkcs11.MultipleTokensReturned:
        raise ConfigurationError(f"pkcs11 token {token_label!r}: more than one token has this label") from None
    except PKCS11Error as exc:
        raise KeyAccessError(f"pkcs11 token {token_label!r}: cannot open a session: {type(exc).__name__}") from None


def _public_session(module: str, token_label: str) -> Any:
    token = _token(_lib(module), module, token_label)
    try:
        return token.open(rw=True)
    except PKCS11Error as exc:
        raise KeyAccessError(f"pkcs11 token {token_label!r}: cannot open a session: {type(exc).__name__}") from None


def read_data(module: str, token_label: str, label: str) -> list[bytes]:
    """The values of the public data objects labelled `label` in the token (no PIN: they hold nothing
    secret); one, normally."""
    session = _public_session(module, token_label)
    try:
        found = session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: label})
        return [bytes(obj[Attribute.VALUE]) for obj in found]
    except PKCS11Error as exc:
        raise KeyAccessError(f"pkcs11 data object {label!r}: cannot read it: {type(exc).__name__}") from None
    finally:
        session.close()


def write_data(module: str, token_label: str, label: str, value: bytes) -> None:
    """Keep `value` as the public data object `label` in the token (created, or replaced whole)."""
    session = _public_session(module, token_label)
    try:
        old = list(session.get_objects({Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: label}))
        session.create_object({Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: True, Attribute.PRIVATE: False,
                               Attribute.LABEL: label, Attribute.APPLICATION: "mrtd", Attribute.VALUE: value})
        for obj in old:  # the new one first: a failure in between leaves two, never none
            obj.destroy()
    except PKCS11Error as exc:
        raise KeyAccessError(f"pkcs11 data object {label!r}: cannot write it: {type(exc).__name__}") from None
    finally:
        session.close()
