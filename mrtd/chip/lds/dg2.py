"""DG2 (tag 75): the encoded face inside the biometric information template group (Doc 9303-10 §4.7.2),
and the ISO/IEC 19794-5:2005 facial record that the biometric data block (5F2E) carries.

Structure: 75 { 7F61 { 02 01 n, 7F60 { A1 <BHT>, 5F2E <BDB> } x n } }. The BDB may also be an
ISO/IEC 39794-5 block under 7F2E; it is kept as it is.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from mrtd.asn1.tlv import Tlv, TlvError, expect, only, parse_all, tlv

TAG = 0x75
CLAUSE = "Doc 9303-10 §4.7.2"
FACE_CLAUSE = "ISO/IEC 19794-5:2005 §5"
BDB_19794 = 0x5F2E
BDB_39794 = 0x7F2E

FORMAT_OWNER_JTC1_SC37 = b"\x01\x01"
FORMAT_TYPE_FACE = b"\x00\x08"
BIOMETRIC_TYPE_FACE = b"\x02"


@dataclass(frozen=True, slots=True)
class BiometricInstance:
    """One 7F60 biometric information template: its header template elements and data block."""

    header: tuple[Tlv, ...]  # the elements inside A1, in order (80 version, 81 type, ..., 87 owner, 88 type)
    bdb: bytes  # the biometric data block's value
    bdb_tag: int = BDB_19794
    raw: bytes = field(default=b"", repr=False)

    def header_value(self, tag: int) -> bytes | None:
        return next((e.value for e in self.header if e.tag == tag), None)

    def face(self) -> FaceRecord:
        if self.bdb_tag != BDB_19794:
            raise TlvError(f"DG2: the data block is ISO/IEC 39794 (7F2E), not a 19794-5 record [{CLAUSE}]")
        return FaceRecord.decode(self.bdb)


@dataclass(frozen=True, slots=True)
class Dg2:
    instances: tuple[BiometricInstance, ...]
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, instances: Iterable[tuple[Sequence[Tlv], bytes]], *, bdb_tag: int = BDB_19794) -> Dg2:
        """From (header elements, data block) pairs. The header must carry 87 and 88 (Table 39)."""
        built, raw = build_template_group(TAG, "DG2", list(instances), bdb_tag=bdb_tag)
        return cls(built, raw)

    @classmethod
    def decode(cls, data: bytes) -> Dg2:
        top = only(data, TAG, "DG2", CLAUSE)
        return cls(decode_template_group(top.value, "DG2"), bytes(data))


def build_template_group(tag: int, what: str, instances: Sequence[tuple[Sequence[Tlv], bytes]], *,
                         bdb_tag: int = BDB_19794) -> tuple[tuple[BiometricInstance, ...], bytes]:
    """`tag { 7F61 { 02 01 n, 7F60 { A1 BHT, 5F2E BDB } x n } }` for DG2, DG3 or DG4; the BHT must carry
    87 and 88 (Table 39)."""
    built: list[BiometricInstance] = []
    for header, bdb in instances:
        if not {0x87, 0x88} <= {e.tag for e in header}:
            raise TlvError(f"{what}.BHT: format owner (87) and format type (88) are required [{CLAUSE}]")
        raw = tlv(0x7F60, tlv(0xA1, b"".join(e.raw for e in header)) + tlv(bdb_tag, bdb))
        built.append(BiometricInstance(tuple(header), bdb, bdb_tag, raw))
    if not 1 <= len(built) <= 255:
        raise TlvError(f"{what}: needs 1 to 255 biometric instances, got {len(built)} [{CLAUSE}]")
    group = tlv(0x7F61, tlv(0x02, bytes((len(built),))) + b"".join(i.raw for i in built))
    return tuple(built), tlv(tag, group)


def decode_template_group(value: bytes, what: str) -> tuple[BiometricInstance, ...]:
    """The 7F61 biometric information group template inside DG2, DG3 or DG4."""
    outer = parse_all(value, what=what)
    if not outer or outer[0].tag != 0x7F61:
        raise TlvError(f"{what}: expected the 7F61 group template [{CLAUSE}]")
    parts = outer[0].children()
    if not parts or parts[0].tag != 0x02 or len(parts[0].value) != 1:
        raise TlvError(f"{what}: 7F61 must start with the instance count 02 01 n [{CLAUSE}]")
    count = parts[0].value[0]
    instances: list[BiometricInstance] = []
    for obj in parts[1:]:
        expect(obj, 0x7F60, f"{what}.7F61", CLAUSE)
        inner = obj.children()
        if len(inner) != 2:
            raise TlvError(f"{what}.7F60: expected a header (A1) and a data block [{CLAUSE}]")
        header = expect(inner[0], 0xA1, f"{what}.7F60", CLAUSE).children()
        if inner[1].tag not in (BDB_19794, BDB_39794):
            raise TlvError(f"{what}.7F60: data block tag {inner[1].tag:X} is not 5F2E or 7F2E [{CLAUSE}]")
        instances.append(BiometricInstance(header, inner[1].value, inner[1].tag, obj.raw))
    if len(instances) != count:
        raise TlvError(f"{what}: 7F61 announces {count} instances but holds {len(instances)} [{CLAUSE}]")
    return tuple(instances)


def face_header(created: dt.datetime | None = None) -> tuple[Tlv, ...]:
    """The BHT this issuer writes: version 0101, type face, (creation time,) owner JTC 1/SC 37, type 0008."""
    out = [Tlv.build(0x80, b"\x01\x01"), Tlv.build(0x81, BIOMETRIC_TYPE_FACE)]
    if created is not None:
        c = created.astimezone(dt.UTC)
        bcd = bytes.fromhex(c.strftime("%Y%m%d%H%M%S"))
        out.append(Tlv.build(0x83, bcd))
    out += [Tlv.build(0x87, FORMAT_OWNER_JTC1_SC37), Tlv.build(0x88, FORMAT_TYPE_FACE)]
    return tuple(out)


class ImageDataType(IntEnum):
    JPEG = 0
    JPEG2000 = 1


class FaceImageType(IntEnum):
    BASIC = 0
    FULL_FRONTAL = 1
    TOKEN_FRONTAL = 2


# A feature point (ISO/IEC 19794-5:2005 §5.6.3 and §5.8): type, point code (major << 4 | minor), x, y, reserved.
_POINT_BLOCK = struct.Struct(">BBHHH")
FEATURE_2D = 1  # feature point type: 2D (MPEG-4 face definition point)
# The eye centres, which ISO/IEC 19794-5 adds to the MPEG-4 points as 12.1 (left) and 12.2 (right); left and
# right are the subject's own.
EYE_CENTRE_LEFT = (12, 1)
EYE_CENTRE_RIGHT = (12, 2)


@dataclass(frozen=True, slots=True)
class FeaturePoint:
    """One feature point of a face image, in the image's pixel coordinates."""

    kind: int
    major: int
    minor: int
    x: int
    y: int

    def encode(self) -> bytes:
        if not (0 <= self.kind <= 0xFF and 0 <= self.major <= 0xF and 0 <= self.minor <= 0xF):
            raise TlvError(f"face record: feature point {self.major}.{self.minor} type {self.kind} out of range [{FACE_CLAUSE}]")
        if not (0 <= self.x <= 0xFFFF and 0 <= self.y <= 0xFFFF):
            raise TlvError(f"face record: feature point ({self.x}, {self.y}) out of range [{FACE_CLAUSE}]")
        return _POINT_BLOCK.pack(self.kind, self.major << 4 | self.minor, self.x, self.y, 0)

    @classmethod
    def decode(cls, block: bytes) -> FeaturePoint:
        kind, code, x, y, _reserved = _POINT_BLOCK.unpack(block)
        return cls(kind, code >> 4, code & 0xF, x, y)


def eye_centre_points(right: tuple[float, float], left: tuple[float, float]) -> tuple[bytes, bytes]:
    """The two eye centres as feature point blocks 12.1 (the subject's left eye) and 12.2 (right)."""
    return (
        FeaturePoint(FEATURE_2D, *EYE_CENTRE_LEFT, round(left[0]), round(left[1])).encode(),
        FeaturePoint(FEATURE_2D, *EYE_CENTRE_RIGHT, round(right[0]), round(right[1])).encode(),
    )


_FAC_HEADER = struct.Struct(">4s4sIH")  # "FAC\0", "010\0", record length, number of faces
_FACE_INFO = struct.Struct(">IHBBB3sH3s3s")  # block length, points, gender, eyes, hair, mask, expression, pose, uncertainty
_IMAGE_INFO = struct.Struct(">BBHHBBHH")  # face type, data type, width, height, colour space, source, device, quality
_POINT = 8


@dataclass(frozen=True, slots=True)
class FaceImage:
    """One facial image with its ISO/IEC 19794-5 facial information and image information."""

    image: bytes
    width: int
    height: int
    data_type: ImageDataType = ImageDataType.JPEG
    face_type: FaceImageType = FaceImageType.TOKEN_FRONTAL
    gender: int = 0  # 0 unspecified, 1 male, 2 female, 0xFF unknown
    eye_colour: int = 0
    hair_colour: int = 0
    feature_mask: bytes = b"\x00\x00\x00"
    expression: int = 0
    pose: bytes = b"\x00\x00\x00"
    pose_uncertainty: bytes = b"\x00\x00\x00"
    feature_points: tuple[bytes, ...] = ()  # 8 bytes each, kept as they are
    colour_space: int = 1  # 1 = 24-bit RGB, 3 = 8-bit greyscale
    source_type: int = 2  # 2 = static photograph, unknown source
    device_type: int = 0
    quality: int = 0

    def points(self) -> tuple[FeaturePoint, ...]:
        return tuple(FeaturePoint.decode(p) for p in self.feature_points)

    def encode(self) -> bytes:
        length = _FACE_INFO.size + _POINT * len(self.feature_points) + _IMAGE_INFO.size + len(self.image)
        info = _FACE_INFO.pack(
            length, len(self.feature_points), self.gender, self.eye_colour, self.hair_colour,
            self.feature_mask, self.expression, self.pose, self.pose_uncertainty,
        )  # fmt: skip
        image_info = _IMAGE_INFO.pack(
            self.face_type, self.data_type, self.width, self.height, self.colour_space,
            self.source_type, self.device_type, self.quality,
        )  # fmt: skip
        return info + b"".join(self.feature_points) + image_info + self.image


@dataclass(frozen=True, slots=True)
class FaceRecord:
    """An ISO/IEC 19794-5:2005 facial record (format identifier FAC, version 010)."""

    faces: tuple[FaceImage, ...]
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, faces: Sequence[FaceImage]) -> FaceRecord:
        if not 1 <= len(faces) <= 0xFFFF:
            raise TlvError(f"face record: needs at least one face [{FACE_CLAUSE}]")
        for f in faces:
            if not (0 < f.width <= 0xFFFF and 0 < f.height <= 0xFFFF):
                raise TlvError(f"face record: image size {f.width}x{f.height} out of range [{FACE_CLAUSE}]")
            if len(f.feature_mask) != 3 or len(f.pose) != 3 or len(f.pose_uncertainty) != 3:
                raise TlvError(f"face record: mask, pose and uncertainty are 3 bytes each [{FACE_CLAUSE}]")
            if any(len(p) != _POINT for p in f.feature_points):
                raise TlvError(f"face record: feature points are 8 bytes each [{FACE_CLAUSE}]")
        body = b"".join(f.encode() for f in faces)
        header = _FAC_HEADER.pack(b"FAC\x00", b"010\x00", _FAC_HEADER.size + len(body), len(faces))
        return cls(tuple(faces), header + body)

    @classmethod
    def decode(cls, data: bytes) -> FaceRecord:
        if len(data) < _FAC_HEADER.size:
            raise TlvError(f"face record: {len(data)} bytes is shorter than the record header [{FACE_CLAUSE}]")
        ident, version, length, count = _FAC_HEADER.unpack_from(data, 0)
        if ident != b"FAC\x00":
            raise TlvError(f"face record: format identifier is {ident!r}, not 'FAC' [{FACE_CLAUSE}]")
        if version != b"010\x00":
            raise TlvError(f"face record: version {version!r} is not 010 (19794-5:2005) [{FACE_CLAUSE}]")
        if length != len(data):
            raise TlvError(f"face record: record length says {length}, data has {len(data)} [{FACE_CLAUSE}]")
        pos = _FAC_HEADER.size
        faces: list[FaceImage] = []
        for _ in range(count):
            if pos + _FACE_INFO.size > len(data):
                raise TlvError(f"face record: truncated facial information [{FACE_CLAUSE}]")
            block, npoints, gender, eyes, hair, mask, expr, pose, unc = _FACE_INFO.unpack_from(data, pos)
            end = pos + block
            head = _FACE_INFO.size + _POINT * npoints + _IMAGE_INFO.size
            if block < head or end > len(data):
                raise TlvError(f"face record: facial record data length {block} is inconsistent [{FACE_CLAUSE}]")
            p = pos + _FACE_INFO.size
            points = tuple(bytes(data[p + i * _POINT : p + (i + 1) * _POINT]) for i in range(npoints))
            p += _POINT * npoints
            ftype, dtype, width, height, space, source, device, quality = _IMAGE_INFO.unpack_from(data, p)
            p += _IMAGE_INFO.size
            try:
                face_type, data_type = FaceImageType(ftype), ImageDataType(dtype)
            except ValueError:
                raise TlvError(f"face record: face type {ftype} / image data type {dtype} unknown [{FACE_CLAUSE}]") from None
            faces.append(
                FaceImage(
                    bytes(data[p:end]), width, height, data_type, face_type, gender, eyes, hair, mask, expr,
                    pose, unc, points, space, source, device, quality,
                )
            )
            pos = end
        if pos != len(data):
            raise TlvError(f"face record: {len(data) - pos} bytes after the last face [{FACE_CLAUSE}]")
        if not faces:
            raise TlvError(f"face record: no face [{FACE_CLAUSE}]")
        return cls(tuple(faces), bytes(data))
