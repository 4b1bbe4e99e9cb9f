"""The document image: every file a chip needs for one document, and its per-document key pairs.

`build_document_image` turns a document, its MRZ and its (already prepared) portrait into EF.COM,
DG1, DG2, [DG7], DG11, [DG12], DG14, DG15, EF.SOD and EF.CardAccess [and EF.CardSecurity], signed by
the Document Signer through a `Signer`. The Active and Chip Authentication private keys are generated
per document and held in memory only; `write_folder` hands them to the chip writer in a `keys/` file
(mode 0600, encrypted when a passphrase is given).

Folder layout (`write_folder` / `read_folder`): `EF.COM`, `EF.SOD`, `EF.CardAccess`, `EF.CardSecurity`
without an extension, data groups as `DG1.bin` ... `DG16.bin` (the file short name plus `.bin`);
`read_folder` also accepts `DG1` without `.bin`. Keys: `keys/chip-keys.json`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from PIL import Image, UnidentifiedImageError

from mrtd.chip.fingerprint import build_dg3
from mrtd.chip.lds import efcvca
from mrtd.chip.lds import securityinfos as si
from mrtd.chip.lds.cardaccess import CardAccess
from mrtd.chip.lds.cardsecurity import CardSecurity
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2, FaceImage, FaceRecord, ImageDataType, eye_centre_points, face_header
from mrtd.chip.lds.dg7 import Dg7
from mrtd.chip.lds.dg11 import Dg11, Dg11Fields
from mrtd.chip.lds.dg12 import Dg12, Dg12Fields
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.files import by_name, dg_name, file_name
from mrtd.chip.lds.finger import FingerPosition
from mrtd.chip.lds.sod import Sod
from mrtd.chip.portrait import token_eyes
from mrtd.errors import EncodingError, InputError, KeyAccessError
from mrtd.limits import read_file
from mrtd.model import Document, PartialDate, Sex
from mrtd.pki.cvc.certificate import CvCertificate
from mrtd.pki.keys import decrypt_private_key, encrypt_private_key
from mrtd.pki.signer import HashName, PublicKey, Signer, hash_for_curve
from mrtd.private import private_dir, write_private

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KeyGen = Callable[[str], PrivateKey]

LDS_VERSION = "0108"
UNICODE_VERSION = "040000"
KEYS_FILE = "keys/chip-keys.json"
# PACE: ECDH generic mapping, AES-128, on a standardised domain (Doc 9303-11 §9.5.1: 12 = NIST P-256,
# 13 = brainpoolP256r1).
PACE_PARAMETERS = {12: ec.SECP256R1, 13: ec.BrainpoolP256R1}

_EC_ALGORITHMS: dict[str, Callable[[], ec.EllipticCurve]] = {
    "ecdsa-p256": ec.SECP256R1,
    "ecdsa-p384": ec.SECP384R1,
    "ecdsa-p521": ec.SECP521R1,
    "ecdsa-brainpoolp256r1": ec.BrainpoolP256R1,
    "ecdsa-brainpoolp384r1": ec.BrainpoolP384R1,
    "ecdh-p192": ec.SECP192R1,  # the JMRTD applet's Chip Authentication key store is 192-bit
    "ecdh-p256": ec.SECP256R1,
    "ecdh-p384": ec.SECP384R1,
    "ecdh-brainpoolp256r1": ec.BrainpoolP256R1,
    "ecdh-brainpoolp384r1": ec.BrainpoolP384R1,
}
_RSA_ALGORITHMS = {"rsa-1024": 1024, "rsa-1536": 1536, "rsa-2048": 2048}
AA_ALGORITHMS = tuple(a for a in _EC_ALGORITHMS if a.startswith("ecdsa")) + tuple(_RSA_ALGORITHMS)
CA_ALGORITHMS = tuple(a for a in _EC_ALGORITHMS if a.startswith("ecdh"))


def generate_key(algorithm: str) -> PrivateKey:
    """A fresh per-document key: `ecdsa-*`/`rsa-*` for Active Authentication, `ecdh-*` for Chip Authentication."""
    if algorithm in _EC_ALGORITHMS:
        return ec.generate_private_key(_EC_ALGORITHMS[algorithm]())
    if algorithm in _RSA_ALGORITHMS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_ALGORITHMS[algorithm])
    raise InputError(f"key algorithm: {algorithm!r} is not one of {', '.join(AA_ALGORITHMS + CA_ALGORITHMS)}")


@dataclass(frozen=True)
class DocumentImage:
    """One document's chip contents: files by short name (exact bytes) and per-document private keys."""

    files: Mapping[str, bytes]
    aa_key: PrivateKey | None = field(default=None, repr=False)
    ca_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    ca_key_id: int | None = None
    cvca: tuple[bytes, ...] = ()  # the Terminal Authentication trust point(s) the chip gets
    chip_date: dt.date | None = None  # the chip's current date: the day of personalisation

    def __post_init__(self) -> None:
        for name in self.files:
            by_name(name)  # refuses names that are not LDS1 files
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    def __getitem__(self, name: str) -> bytes:
        return self.files[name]

    @property
    def data_groups(self) -> dict[int, bytes]:
        return {f.dg: self.files[f.name] for f in map(by_name, self.files) if f.dg is not None}

    @property
    def sod(self) -> Sod:
        return Sod.decode(self.files["EF.SOD"])


def _image_facts(portrait: bytes) -> tuple[ImageDataType, int, int, int]:
    """(JPEG or JPEG 2000, width, height, ISO 19794-5 colour space) from the image header."""
    if portrait[:3] == b"\xff\xd8\xff":
        kind = ImageDataType.JPEG
    elif portrait[:4] == b"\x00\x00\x00\x0c" or portrait[:4] == b"\xff\x4f\xff\x51":
        kind = ImageDataType.JPEG2000
    else:
        raise InputError("portrait: not a JPEG or JPEG 2000 image [Doc 9303-10 §4.7.2]")
    try:
        with Image.open(io.BytesIO(portrait)) as img:
            width, height = img.size
            mode = img.mode
    except (UnidentifiedImageError, OSError, ValueError):
        raise InputError("portrait: the image cannot be decoded") from None
    return kind, width, height, 3 if mode == "L" else 1


def _gender(sex: Sex) -> int:
    return {Sex.MALE: 1, Sex.FEMALE: 2}.get(sex, 0)


def _mrz_name(primary: str, secondary: str) -> str:
    def join(s: str) -> str:
        return "<".join(s.replace("-", " ").split())

    return f"{join(primary)}<<{join(secondary)}" if secondary else join(primary)


def build_document_image(
    document: Document,
    mrz_lines: Sequence[str],
    portrait_jpeg: bytes,
    signature_image: bytes | None,
    ds_signer: Signer,
    ds_certificate: x509.Certificate,
    *,
    clock: Callable[[], dt.datetime],
    keygen: KeyGen = generate_key,
    aa: str | None = "ecdsa-p256",
    ca: str | None = "ecdh-p256",
    ca_protocol: str = si.ID_CA_ECDH_AES_128,
    pace: bool = True,
    pace_parameter_id: int = 13,
    card_security: bool = False,
    hash_name: HashName = HashName.SHA256,
    extra_certificates: Sequence[x509.Certificate] = (),
    eyes_located: bool = False,
    fingerprints: Sequence[tuple[str, bytes]] = (),
    cvca: CvCertificate | None = None,
    aa_public: PublicKey | None = None,
    ca_public: ec.EllipticCurvePublicKey | None = None,
) -> DocumentImage:
    """Encode and sign one document's LDS. `portrait_jpeg` is the prepared DG2 image (JPEG or JPEG 2000,
    see `mrtd.chip.portrait.prepare_portrait`). `aa=None` leaves out DG15, `ca=None` Chip Authentication;
    `ca_protocol` is id-CA-ECDH-AES-CBC-CMAC-128 unless the chip does CA with 3DES only (the JMRTD applet).
    `eyes_located`: the portrait is a token image cropped at eye centres that a detector found, so DG2
    records where they are (ISO/IEC 19794-5 feature points 12.1 and 12.2).
    `fingerprints` ("right-index", image file) make DG3 (WSQ); with `cvca` (the CVCA's CV certificate) they
    are protected by Terminal Authentication: DG14 offers it and EF.CVCA names the trust point.
    `aa_public`/`ca_public`: public keys of key pairs the chip generated (mrtd.chip.onchip); no key pair
    is made here for them and the image carries no private key."""
    now = clock()
    holder = document.holder
    dgs: dict[int, bytes] = {1: Dg1.create(mrz_lines).raw}

    kind, width, height, space = _image_facts(portrait_jpeg)
    eyes = token_eyes(width)
    points = eye_centre_points(eyes.right, eyes.left) if eyes_located else ()
    face = FaceImage(portrait_jpeg, width, height, kind, gender=_gender(holder.sex), colour_space=space,
                     feature_points=points)
    dgs[2] = Dg2.create([(face_header(now), FaceRecord.create([face]).raw)]).raw
    if fingerprints:
        try:
            positions = [FingerPosition[name.upper().replace("-", "_")] for name, _ in fingerprints]
        except KeyError as exc:
            raise InputError(f"fingerprints: {exc.args[0]} is not a finger (right-thumb ... left-little)") from None
        dgs[3] = build_dg3(list(zip(positions, (img for _, img in fingerprints), strict=True))).raw
    if signature_image is not None:
        dgs[7] = Dg7.create([signature_image]).raw

    dob = holder.date_of_birth
    dgs[11] = Dg11.create(
        Dg11Fields(
            full_name=_mrz_name(holder.primary_identifier, holder.secondary_identifier),
            other_names=tuple(holder.other_names),
            personal_number=holder.personal_number or None,
            date_of_birth=dob if dob.year is not None else None,
            place_of_birth=holder.place_of_birth or None,
            address=holder.address or None,
            telephone=holder.telephone or None,
            profession=holder.profession or None,
            title=holder.title or None,
        )
    ).raw
    dgs[12] = Dg12.create(
        Dg12Fields(
            issuing_authority=document.authority or None,
            date_of_issue=PartialDate.of(document.date_of_issue) if document.date_of_issue else None,
            personalisation_time=now.astimezone(dt.UTC).replace(microsecond=0),
        )
    ).raw

    aa_key = keygen(aa) if aa is not None and aa_public is None else None
    ca_key = keygen(ca) if ca is not None and ca_public is None else None
    if ca_key is not None and not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise InputError(f"ca: {ca} did not give an EC key; Chip Authentication here is ECDH")
    if pace and pace_parameter_id not in PACE_PARAMETERS:
        raise InputError(f"pace_parameter_id: {pace_parameter_id} is not one of {sorted(PACE_PARAMETERS)}")
    pace_info = si.PaceInfo.create(si.ID_PACE_ECDH_GM_AES_128, pace_parameter_id) if pace else None
    infos: list[si.SecurityInfo] = []
    if pace_info is not None:
        infos.append(pace_info)
    ca_infos: list[si.SecurityInfo] = []
    aa_pub = aa_public if aa_public is not None else (aa_key.public_key() if aa_key is not None else None)
    ca_pub = ca_public if ca_public is not None else (ca_key.public_key() if isinstance(ca_key, ec.EllipticCurvePrivateKey) else None)
    if ca_pub is not None:
        ca_infos = [
            si.ChipAuthenticationInfo.create(ca_protocol),
            si.ChipAuthenticationPublicKeyInfo.create(ca_pub),
        ]
        infos += ca_infos
    if cvca is not None:
        infos.append(si.TerminalAuthenticationInfo.create())
    if isinstance(aa_pub, ec.EllipticCurvePublicKey):
        # the hash Doc 9303 pairs with the curve size (SHA-256 for 256-bit curves, SHA-384, SHA-512)
        aa_hash = hash_for_curve(aa_pub.curve)
        infos.append(si.ActiveAuthenticationInfo.create(si.ECDSA_PLAIN_BY_HASH[aa_hash.value]))
    if infos:
        dgs[14] = Dg14.create(infos).raw
    if aa_pub is not None:
        dgs[15] = Dg15.create(aa_pub).raw

    files: dict[str, bytes] = {
        "EF.COM": EfCom.create(LDS_VERSION, UNICODE_VERSION, (by_name(dg_name(n)).tag for n in sorted(dgs))).raw
    }
    files.update({dg_name(n): dgs[n] for n in sorted(dgs)})
    files["EF.SOD"] = Sod.create(
        dgs, ds_signer, ds_certificate, hash_name=hash_name, lds_version=LDS_VERSION,
        unicode_version=UNICODE_VERSION, extra_certificates=extra_certificates,
    ).raw  # fmt: skip
    if pace_info is not None:
        files["EF.CardAccess"] = CardAccess.create([pace_info]).raw
        if card_security:
            files["EF.CardSecurity"] = CardSecurity.create([pace_info, *ca_infos], ds_signer, ds_certificate, hash_name=hash_name).raw
    if cvca is not None:
        files["EF.CVCA"] = efcvca.create([cvca.chr])
    return DocumentImage(files, aa_key, ca_key, None, (cvca.raw,) if cvca is not None else (), now.date())


def _key_entry(key: PrivateKey, passphrase: bytes | None) -> dict[str, str]:
    if passphrase:
        pem = encrypt_private_key(key, passphrase).decode("ascii")
    else:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
    kind = f"ec-{key.curve.name}" if isinstance(key, ec.EllipticCurvePrivateKey) else f"rsa-{key.key_size}"
    return {"algorithm": kind, "encrypted": "yes" if passphrase else "no", "pkcs8_pem": pem}


def write_folder(image: DocumentImage, out_dir: Path, *, passphrase: bytes | None = None) -> list[Path]:
    """Write the files (and `keys/chip-keys.json`, mode 0600) into `out_dir`, all or nothing.

    `out_dir` must not exist or be empty. Everything is written to a temporary sibling first and moved
    into place at the end, so a failure leaves no partial folder behind."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise InputError(f"{out_dir}: exists and is not an empty folder; refusing to overwrite a document")
    private_dir(out_dir.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        written = []
        for name, data in image.files.items():
            write_private(tmp / file_name(name), data)
            written.append(out_dir / file_name(name))
        keys: dict[str, object] = {}
        if image.aa_key is not None:
            keys["active_authentication"] = _key_entry(image.aa_key, passphrase)
        if image.ca_key is not None:
            entry: dict[str, object] = dict(_key_entry(image.ca_key, passphrase))
            entry["key_id"] = image.ca_key_id
            keys["chip_authentication"] = entry
        if keys:
            write_private(tmp / KEYS_FILE, json.dumps(keys, indent=1), exclusive=True)
            written.append(out_dir / KEYS_FILE)
        if out_dir.exists():
            out_dir.rmdir()
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return written


def read_files(folder: Path) -> dict[str, bytes]:
    """The LDS files in a document folder, by short name (`DG1` or `DG1.bin` both read as DG1)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    out: dict[str, bytes] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        name = path.name[:-4] if path.name.startswith("DG") and path.name.endswith(".bin") else path.name
        try:
            by_name(name)
        except InputError:
            continue  # not an LDS file (a note, a manifest): not ours to judge
        if name in out:
            raise InputError(f"{folder}: {name} is there twice (with and without .bin)")
        out[name] = read_file(path, name)
    if not out:
        raise InputError(f"{folder}: holds no LDS file (EF.COM, DG1.bin, ..., EF.SOD)")
    return out


def read_folder(folder: Path, *, passphrase: bytes | None = None) -> DocumentImage:
    """A document image from a folder `write_folder` wrote; keys are loaded when `keys/` is there."""
    folder = Path(folder)
    files = read_files(folder)
    key_path = folder / KEYS_FILE
    aa_key = ca_key = None
    ca_key_id = None
    if key_path.is_file():
        try:
            keys = json.loads(key_path.read_text("utf-8"))
        except (ValueError, UnicodeDecodeError):
            keys = None
        if not isinstance(keys, dict) or not all(isinstance(v, dict) for v in keys.values()):
            raise EncodingError(f"{key_path}: not a keys file written by write_folder")

        def load(entry: Mapping[str, str], what: str) -> PrivateKey:
            pem = str(entry.get("pkcs8_pem", "")).encode("utf-8")
            if entry.get("encrypted") == "yes":
                if not passphrase:
                    raise KeyAccessError(f"{key_path}: the {what} key is encrypted; a passphrase is needed")
                return decrypt_private_key(pem, passphrase, source=f"{key_path} ({what})")
            try:
                key = serialization.load_pem_private_key(pem, password=None)
            except (ValueError, TypeError):
                raise KeyAccessError(f"{key_path}: the {what} key cannot be loaded") from None
            if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
                raise KeyAccessError(f"{key_path}: the {what} key is not RSA or EC")
            return key

        if "active_authentication" in keys:
            aa_key = load(keys["active_authentication"], "Active Authentication")
        if "chip_authentication" in keys:
            loaded = load(keys["chip_authentication"], "Chip Authentication")
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise KeyAccessError(f"{key_path}: the Chip Authentication key is not EC")
            ca_key = loaded
            key_id = keys["chip_authentication"].get("key_id")
            ca_key_id = key_id if isinstance(key_id, int) else None
    return DocumentImage(files, aa_key, ca_key, ca_key_id)
