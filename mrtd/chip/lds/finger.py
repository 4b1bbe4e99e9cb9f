"""ISO/IEC 19794-4:2005 finger image records, the data block of DG3 (Doc 9303-10 §4.7.3).

    General record header (32 bytes): "FIR\\0", "010\\0", record length (6), capture device (2),
      image acquisition level (2), number of fingers (1), scale units (1: pixels per inch),
      scan resolution h, v (2, 2), image resolution h, v (2, 2), pixel depth (1), compression (1), reserved (2)
    Finger image header (14 bytes) per view: data block length (4), finger position (1), view count (1),
      view number (1), quality (1), impression type (1), width (2), height (2), reserved (1); then the image

Written here: no maintained library reads or writes this record format.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from mrtd.asn1.tlv import TlvError

CLAUSE = "ISO/IEC 19794-4:2005 §8"
_GENERAL = struct.Struct(">4s4s6sHHBBHHHHBBH")
_VIEW = struct.Struct(">IBBBBBHHB")


class Compression(IntEnum):
    UNCOMPRESSED = 0
    UNCOMPRESSED_PACKED = 1
    WSQ = 2
    JPEG = 3
    JPEG2000 = 4
    PNG = 5


class FingerPosition(IntEnum):
    """ISO/IEC 19794-4 Table 5 (the positions used here)."""

    UNKNOWN = 0
    RIGHT_THUMB = 1
    RIGHT_INDEX = 2
    RIGHT_MIDDLE = 3
    RIGHT_RING = 4
    RIGHT_LITTLE = 5
    LEFT_THUMB = 6
    LEFT_INDEX = 7
    LEFT_MIDDLE = 8
    LEFT_RING = 9
    LEFT_LITTLE = 10

    @property
    def cbeff_subtype(self) -> int:
        """Doc 9303-10 Table 49: bits b2b1 01 right / 10 left, b5..b3 1 thumb ... 5 little finger."""
        if self is FingerPosition.UNKNOWN:
            return 0
        side = 0b01 if self.value <= 5 else 0b10
        return (((self.value - 1) % 5 + 1) << 2) | side


@dataclass(frozen=True, slots=True)
class FingerImage:
    position: FingerPosition
    image: bytes = field(repr=False)
    width: int
    height: int
    quality: int = 0
    impression: int = 0  # 0: live-scan plain


@dataclass(frozen=True, slots=True)
class FingerRecord:
    images: tuple[FingerImage, ...]
    compression: Compression
    resolution: int  # pixels per inch, both directions
    pixel_depth: int = 8
    acquisition_level: int = 31  # 500 ppi [ISO/IEC 19794-4 Table 1]
    raw: bytes = field(default=b"", repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, images: Sequence[FingerImage], compression: Compression, resolution: int = 500,
               pixel_depth: int = 8) -> FingerRecord:
        if not 1 <= len(images) <= 255:
            raise TlvError(f"finger record: 1 to 255 views, got {len(images)} [{CLAUSE}]")
        views = b"".join(
            _VIEW.pack(_VIEW.size + len(i.image), i.position, 1, 1, i.quality, i.impression, i.width, i.height, 0) + i.image
            for i in images
        )
        total = _GENERAL.size + len(views)
        head = _GENERAL.pack(b"FIR\x00", b"010\x00", total.to_bytes(6, "big"), 0, 31, len(images), 1,
                             resolution, resolution, resolution, resolution, pixel_depth, compression, 0)
        return cls(tuple(images), compression, resolution, pixel_depth, 31, head + views)

    @classmethod
    def decode(cls, data: bytes) -> FingerRecord:
        if len(data) < _GENERAL.size:
            raise TlvError(f"finger record: {len(data)} bytes, the general header needs 32 [{CLAUSE}]")
        magic, version, length, _dev, level, count, units, hres, _vres, _ih, _iv, depth, comp, _r = _GENERAL.unpack_from(data)
        if magic != b"FIR\x00" or version != b"010\x00":
            raise TlvError(f"finger record: not 'FIR' version 010 [{CLAUSE}]")
        if int.from_bytes(length, "big") != len(data):
            raise TlvError(f"finger record: length field {int.from_bytes(length, 'big')} but {len(data)} bytes [{CLAUSE}]")
        if units != 1:
            raise TlvError(f"finger record: scale units {units}, pixels per inch (1) expected [{CLAUSE}]")
        try:
            compression = Compression(comp)
        except ValueError:
            raise TlvError(f"finger record: compression {comp} is unknown [{CLAUSE}]") from None
        images, pos = [], _GENERAL.size
        for _ in range(count):
            if pos + _VIEW.size > len(data):
                raise TlvError(f"finger record: view header truncated at {pos} [{CLAUSE}]")
            block, position, _views, _view, quality, impression, width, height, _res = _VIEW.unpack_from(data, pos)
            if block < _VIEW.size or pos + block > len(data):
                raise TlvError(f"finger record: view length {block} at {pos} runs past the end [{CLAUSE}]")
            try:
                where = FingerPosition(position)
            except ValueError:
                raise TlvError(f"finger record: finger position {position} is not 0-10 [{CLAUSE}]") from None
            images.append(FingerImage(where, data[pos + _VIEW.size : pos + block], width, height, quality, impression))
            pos += block
        if pos != len(data):
            raise TlvError(f"finger record: {len(data) - pos} bytes after the last view [{CLAUSE}]")
        return cls(tuple(images), compression, hres, depth, level, bytes(data))
