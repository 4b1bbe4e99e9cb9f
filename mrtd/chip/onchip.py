"""Key pairs generated inside the chip: the chip makes the Active and Chip Authentication key pairs and
hands out their public keys; the centre builds DG14/DG15 and signs EF.SOD around them; then the files go
on, are read back, Active and Chip Authentication run against the chip's own keys, and the chip is
locked. No private key exists outside the chip at any moment.

What can be checked before the chip is asked (the profile can generate these keys on these curves) is
checked before the first byte; the built files are checked as a whole before they are written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.chip.image import AA, CA, ChipImage
from mrtd.chip.perso import PersoReport, personalise
from mrtd.chip.plancheck import require_plan
from mrtd.chip.profiles import ChipProfile, load_profile
from mrtd.chip.protocol import perso_commands as pc
from mrtd.chip.protocol.curves import domain, domain_for_name, ec_curve
from mrtd.chip.reader import ChipSession
from mrtd.chip.transport import Transport
from mrtd.errors import ChipError, EncodingError, InputError, ProfileError

# key algorithm names as `mrtd chip build` uses them -> (curve, RSA bits)
_EC = {"p256": "secp256r1", "p384": "secp384r1", "p521": "secp521r1", "brainpoolp256r1": "brainpoolP256r1",
       "brainpoolp384r1": "brainpoolP384r1", "brainpoolp512r1": "brainpoolP512r1", "p192": "secp192r1"}


@dataclass(frozen=True)
class ChipKeys:
    """The public keys the chip generated."""

    aa: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None
    ca: ec.EllipticCurvePublicKey | None


def _spec(algorithm: str) -> tuple[int | None, int | None]:
    """(EC domain id, RSA bits) of an algorithm name like ecdsa-p256, ecdh-brainpoolp256r1, rsa-2048."""
    kind, _, rest = algorithm.partition("-")
    if kind == "rsa" and rest.isdigit():
        return None, int(rest)
    if kind in ("ecdsa", "ecdh") and rest in _EC:
        return domain_for_name(_EC[rest]).param_id, None
    raise InputError(f"key algorithm {algorithm!r}: not ecdsa-*/ecdh-*/rsa-N")


def _public(answer: bytes, param_id: int | None) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    point, n, e = pc.parse_public_key_object(answer)
    if point is not None and param_id is not None:
        d = domain(param_id)
        d.decode(point)  # on the curve
        return ec.EllipticCurvePublicKey.from_encoded_point(ec_curve(d.curve_name), point)
    if n is not None and e is not None:
        return rsa.RSAPublicNumbers(e, n).public_key()
    raise EncodingError("generated public key: not the kind that was asked for")


def generate_keys(session: ChipSession, aid: bytes, aa: str | None, ca: str | None) -> ChipKeys:
    """Ask the chip for its key pairs (GENERATE ASYMMETRIC KEY PAIR inside the eMRTD application)."""
    session.select_applet(aid)
    out: dict[str, Any] = {"aa": None, "ca": None}
    for which, algorithm, ref in (("aa", aa, pc.KEY_AA), ("ca", ca, pc.KEY_CA)):
        if algorithm is None:
            continue
        param_id, bits = _spec(algorithm)
        step = f"generate the {'Active' if which == 'aa' else 'Chip'} Authentication key pair on the chip"
        answer = session.check(pc.generate_key_pair(ref, param_id=param_id, rsa_bits=bits), step)
        try:
            out[which] = _public(answer, param_id)
        except EncodingError as exc:
            raise ChipError(step, str(exc)) from exc
    return ChipKeys(out["aa"], out["ca"])


def personalise_with_chip_keys(
    build: Callable[[ChipKeys], ChipImage],
    transport: Transport,
    profile: str | ChipProfile = "mrtd-sim",
    *,
    aa: str | None = "ecdsa-p256",
    ca: str | None = "ecdh-p256",
    trust: Any = None,
    at: datetime | None = None,
    random: Callable[[int], bytes] = os.urandom,
    lock: bool = True,
) -> tuple[ChipImage, PersoReport]:
    """Generate the key pairs on the chip, `build` the image around their public keys (the centre's DG14,
    DG15 and EF.SOD), then personalise as usual. Returns the image and the report."""
    prof = profile if isinstance(profile, ChipProfile) else load_profile(profile)
    wanted = [k for k, alg in ((AA, aa), (CA, ca)) if alg is not None]
    skeleton = ChipImage({})
    require_plan(skeleton, prof, onchip=wanted)  # the profile can make these key pairs: before any byte
    if ca is not None:
        ca_id, _ = _spec(ca)
        if ca_id is None or domain(ca_id).curve_name not in prof.ca_curves:
            raise ProfileError(f"{prof.name}: cannot make a Chip Authentication key {ca} (curves {', '.join(prof.ca_curves)})")
    if aa is not None:
        _aa_id, bits = _spec(aa)
        if (f"RSA-{bits}" if bits else "ECDSA") not in prof.aa_keys:
            raise ProfileError(f"{prof.name}: cannot make an Active Authentication key {aa} ({', '.join(prof.aa_keys)})")
    keys = generate_keys(ChipSession(transport, random), prof.aid, aa, ca)
    image = build(keys)
    if image.aa_key is not None or image.ca_key is not None or image.aa_public != keys.aa or image.ca_public != keys.ca:
        raise InputError("on-chip keys: the built image must carry the chip's public keys and no private key")
    return image, personalise(image, transport, prof, trust=trust, at=at, random=random, lock=lock)
