"""DG7 (tag 67): displayed signature or usual mark images (Doc 9303-10 §4.7.7): 02 01 n, then 5F43 x n."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mrtd.asn1.tlv import TlvError, expect, only, tlv

TAG = 0x67
CLAUSE = "Doc 9303-10 §4.7.7"


@dataclass(frozen=True, slots=True)
class Dg7:
    images: tuple[bytes, ...]  # each a JPEG or JPEG 2000 image, as stored
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, images: Sequence[bytes]) -> Dg7:
        if not 1 <= len(images) <= 255:
            raise TlvError(f"DG7: needs 1 to 255 images, got {len(images)} [{CLAUSE}]")
        if any(not img for img in images):
            raise TlvError(f"DG7.5F43: an image is empty [{CLAUSE}]")
        body = tlv(0x02, bytes((len(images),))) + b"".join(tlv(0x5F43, img) for img in images)
        return cls(tuple(images), tlv(TAG, body))

    @classmethod
    def decode(cls, data: bytes) -> Dg7:
        parts = only(data, TAG, "DG7", CLAUSE).children()
        if not parts or parts[0].tag != 0x02 or len(parts[0].value) != 1:
            raise TlvError(f"DG7: must start with the image count 02 01 n [{CLAUSE}]")
        images = tuple(expect(p, 0x5F43, "DG7", CLAUSE).value for p in parts[1:])
        if len(images) != parts[0].value[0]:
            raise TlvError(f"DG7: announces {parts[0].value[0]} images but holds {len(images)} [{CLAUSE}]")
        return cls(images, bytes(data))
