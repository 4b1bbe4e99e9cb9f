"""ISO/IEC 19794-6:2005 iris image records, the data block of DG4 (Doc 9303-10 §4.7.4).

    Record header (45 bytes): "IIR\\0", "010\\0", record length (4), capture device (2), number of eye
      subtypes (1), header length (2) = 45, image properties (2), iris diameter (2), image format (2),
      width (2), height (2), intensity depth (1), image transformation (1), device unique id (16)
    Per eye: subtype (1: 0 undefined, 1 right, 2 left), image count (2); per image: sequence number (2),
      quality (1), rotation angle (2), rotation uncertainty (2), image length (4), image

Written here: no maintained library reads or writes this record format.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from mrtd.asn1.tlv import TlvError

CLAUSE = "ISO/IEC 19794-6:2005 §6.5"
_HEADER = struct.Struct(">4s4sIHBHHHHHHBB16s")
_EYE = struct.Struct(">BH")
_IMAGE = struct.Struct(">HBHHI")


class ImageFormat(IntEnum):
    MONO_RAW = 2
    MONO_JPEG = 6
    MONO_JPEG_LS = 10
    MONO_JPEG2000 = 14


class Eye(IntEnum):
    UNDEFINED = 0
    RIGHT = 1
    LEFT = 2


@dataclass(frozen=True, slots=True)
class IrisRecord:
    eye: Eye
    images: tuple[bytes, ...] = field(repr=False)
    image_format: ImageFormat
    width: int
    height: int
    iris_diameter: int = 0
    raw: bytes = field(default=b"", repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, eye: Eye, images: Sequence[bytes], image_format: ImageFormat, width: int, height: int,
               iris_diameter: int = 0) -> IrisRecord:
        if not images:
            raise TlvError(f"iris record: at least one image [{CLAUSE}]")
        body = _EYE.pack(eye, len(images)) + b"".join(
            _IMAGE.pack(n + 1, 0, 0xFFFF, 0, len(img)) + img for n, img in enumerate(images)
        )
        total = _HEADER.size + len(body)
        head = _HEADER.pack(b"IIR\x00", b"010\x00", total, 0, 1, _HEADER.size, 0, iris_diameter, image_format,
                            width, height, 8, 0, bytes(16))
        return cls(eye, tuple(images), image_format, width, height, iris_diameter, head + body)

    @classmethod
    def decode(cls, data: bytes) -> IrisRecord:
        if len(data) < _HEADER.size:
            raise TlvError(f"iris record: {len(data)} bytes, the header needs 45 [{CLAUSE}]")
        magic, version, length, _dev, subtypes, hlen, _props, diameter, fmt, width, height, _depth, _tr, _uid = _HEADER.unpack_from(data)
        if magic != b"IIR\x00" or version != b"010\x00" or hlen != _HEADER.size:
            raise TlvError(f"iris record: not 'IIR' version 010 with a 45-byte header [{CLAUSE}]")
        if length != len(data) or subtypes != 1:
            raise TlvError(f"iris record: length {length} for {len(data)} bytes, {subtypes} eyes (one expected) [{CLAUSE}]")
        try:
            image_format = ImageFormat(fmt)
            pos = _HEADER.size
            eye_id, count = _EYE.unpack_from(data, pos)
            eye = Eye(eye_id)
        except (ValueError, struct.error):
            raise TlvError(f"iris record: unknown image format or eye [{CLAUSE}]") from None
        pos += _EYE.size
        images = []
        for _ in range(count):
            if pos + _IMAGE.size > len(data):
                raise TlvError(f"iris record: image header truncated at {pos} [{CLAUSE}]")
            *_, size = _IMAGE.unpack_from(data, pos)
            pos += _IMAGE.size
            if pos + size > len(data):
                raise TlvError(f"iris record: image of {size} bytes runs past the end [{CLAUSE}]")
            images.append(data[pos : pos + size])
            pos += size
        if pos != len(data) or not images:
            raise TlvError(f"iris record: {len(data) - pos} trailing bytes or no image [{CLAUSE}]")
        return cls(eye, tuple(images), image_format, width, height, diameter, bytes(data))
