"""What goes on one chip: the LDS files by short name, the per-document private keys (or which key pairs
the chip generates itself), the access data and the Terminal Authentication trust point."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.chip.protocol.bac import MrzInfo
from mrtd.chip.reader import mrz_info_from_dg1
from mrtd.errors import ProfileError

AA = "active-authentication"
CA = "chip-authentication"


@dataclass(frozen=True)
class ChipImage:
    """`cvca`: CV certificates of the chip's Terminal Authentication trust points (most recent first, at
    most two, Doc 9303-11 §7.1.4.3.1); `chip_date`: the card's current date at personalisation;
    `aa_public`/`ca_public`: the public keys of key pairs the chip generated (no private key here)."""

    files: Mapping[str, bytes]
    aa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    ca_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    ca_key_id: int | None = None
    can: str | None = None
    mrz: MrzInfo | None = None
    cvca: tuple[bytes, ...] = ()
    chip_date: dt.date | None = None
    # key pairs the chip generated itself: only their public keys exist outside it
    aa_public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None = None
    ca_public: ec.EllipticCurvePublicKey | None = None

    @property
    def onchip(self) -> frozenset[str]:
        return frozenset(k for k, pub, priv in ((AA, self.aa_public, self.aa_key), (CA, self.ca_public, self.ca_key))
                         if pub is not None and priv is None)

    def aa_public_key(self) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None:
        return self.aa_key.public_key() if self.aa_key is not None else self.aa_public

    def ca_public_key(self) -> ec.EllipticCurvePublicKey | None:
        return self.ca_key.public_key() if self.ca_key is not None else self.ca_public

    @property
    def mrz_info(self) -> MrzInfo:
        if self.mrz is not None:
            return self.mrz
        if "DG1" not in self.files:
            raise ProfileError("chip image: no DG1, so no MRZ for the access keys [Doc 9303-11 §9.7]")
        return mrz_info_from_dg1(self.files["DG1"])


def as_image(obj: Any) -> ChipImage:
    """A ChipImage from a ChipImage, a plain mapping of file name -> bytes, or a document image with
    `files` and private-key attributes (`aa_private_key`/`aa_key`, `ca_private_key`/`ca_key`)."""
    if isinstance(obj, ChipImage):
        return obj
    if isinstance(obj, Mapping):
        return ChipImage(dict(obj))
    files = getattr(obj, "files", None)
    if not isinstance(files, Mapping):
        raise ProfileError("personalise: expected a ChipImage, a document image or a mapping of files")
    aa_key = getattr(obj, "aa_private_key", None) or getattr(obj, "aa_key", None)
    ca_key = getattr(obj, "ca_private_key", None) or getattr(obj, "ca_key", None)
    return ChipImage(
        dict(files), aa_key, ca_key, getattr(obj, "ca_key_id", None), getattr(obj, "can", None),
        cvca=tuple(getattr(obj, "cvca", ()) or ()), chip_date=getattr(obj, "chip_date", None),
    )
