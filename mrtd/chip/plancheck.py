"""A personalisation plan checked as a whole against the chip profile, before the first byte is sent.

Every rule looks at the image the centre built and at what the card can hold; all findings come back at
once (`check_plan`), and `require_plan` refuses the plan with every reason. The card is never touched by
a plan that cannot finish: a key the card cannot use is found here, not by a 6A80 after the files were
written.

Doc 9303-11 §9.2.11 decides what DG14 must carry for the protocols the chip offers: DG14 is required when
the chip offers PACE with Generic or Integrated Mapping, Chip Authentication or Terminal Authentication,
and then holds the ChipAuthenticationInfo/-PublicKeyInfo, the TerminalAuthenticationInfo and every
SecurityInfo of EF.CardAccess; ECDSA Active Authentication needs an ActiveAuthenticationInfo (§9.2.4);
PACE-CAM needs EF.CardSecurity with the chip's key (§9.2.11).
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mrtd.asn1.keys import spki
from mrtd.chip.image import CA, ChipImage
from mrtd.chip.lds import files as lds_files
from mrtd.chip.lds import securityinfos as si
from mrtd.chip.lds.cardsecurity import CardSecurity
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.sod import Sod
from mrtd.chip.profiles import ChipProfile
from mrtd.errors import Finding, MrtdError, ProfileError, Severity

UPDATE_BINARY_MAX_OFFSET = 0x7FFF  # P1P2 without a short EF identifier [ISO/IEC 7816-4 §11.3]
SI_CLAUSE = "Doc 9303-11 §9.2.11"
# standardised domain parameter id -> curve name [Doc 9303-11 §9.5.1]
PACE_CURVES = {8: "secp192r1", 9: "brainpoolP192r1", 10: "secp224r1", 11: "brainpoolP224r1", 12: "secp256r1",
               13: "brainpoolP256r1", 14: "brainpoolP320r1", 15: "secp384r1", 16: "brainpoolP384r1",
               17: "brainpoolP512r1", 18: "secp521r1"}
_PACE_FAMILIES = {1: "DH-GM", 2: "ECDH-GM", 3: "DH-IM", 4: "ECDH-IM", 6: "ECDH-CAM"}


def pace_family(protocol: str) -> str:
    """'ECDH-GM' for 0.4.0.127.0.7.2.2.4.2.x, and so on [Doc 9303-11 §9.2.3]."""
    arcs = protocol.split(".")
    return _PACE_FAMILIES.get(int(arcs[9]), "unknown") if len(arcs) == 11 else "unknown"


def _f(field: str, rule: str, message: str, clause: str = "", severity: Severity = Severity.ERROR) -> Finding:
    return Finding(field, rule, message, clause, severity)


def _key_kind(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    return "ECDSA"


def _files(image: ChipImage, profile: ChipProfile) -> Iterable[Finding]:
    for name, content in image.files.items():
        try:
            f = lds_files.by_name(name)
        except MrtdError as exc:
            yield _f(name, "not-an-lds-file", str(exc), "Doc 9303-10 §4.6")
            continue
        if name not in profile.files or (f.in_mf and not profile.files_in_mf):
            yield _f(name, "file-not-held", f"the {profile.name} card cannot hold {name}")
        if len(content) > profile.max_file_size:
            yield _f(name, "file-too-large",
                     f"{len(content)} bytes exceed the {profile.name} limit of {profile.max_file_size}")
        elif len(content) > UPDATE_BINARY_MAX_OFFSET + 1 and not profile.odd_ins:
            yield _f(name, "needs-odd-ins", f"{len(content)} bytes: writing beyond offset 32767 needs odd-INS "
                     f"UPDATE BINARY, which the {profile.name} card lacks", "ISO/IEC 7816-4 §11.3")


def _keys(image: ChipImage, profile: ChipProfile, onchip: frozenset[str]) -> Iterable[Finding]:
    for kind in onchip:
        if kind not in profile.onchip_keys:
            yield _f(kind, "no-onchip-keys", f"the {profile.name} card cannot generate the {kind} key pair")
    aa_key, ca_key = image.aa_public_key(), image.ca_public_key()
    if aa_key is not None and _key_kind(aa_key) not in profile.aa_keys:
        yield _f("aa_key", "aa-key-type", f"Active Authentication with {_key_kind(aa_key)} is not one of "
                 f"the {profile.name} card's ({', '.join(profile.aa_keys)})", "Doc 9303-11 §6.1")
    if ca_key is not None or CA in onchip:
        if not profile.chip_authentication:
            yield _f("ca_key", "no-chip-authentication", f"the {profile.name} card has no Chip Authentication")
        elif ca_key is not None and ca_key.curve.name not in profile.ca_curves:
            yield _f("ca_key", "ca-curve", f"a Chip Authentication key on {ca_key.curve.name} cannot be used "
                     f"by the {profile.name} card (it takes {', '.join(profile.ca_curves)})", "Doc 9303-11 §6.2")
    if image.can is not None and not profile.can:
        yield _f("can", "no-can", f"the {profile.name} card has no CAN", "Doc 9303-11 §4.4")
    if image.cvca and not profile.terminal_authentication:
        yield _f("cvca", "no-terminal-authentication", f"the {profile.name} card has no Terminal Authentication")
    if image.cvca and image.chip_date is None:
        yield _f("chip_date", "chip-date", "a chip with a CVCA trust point needs its current date (the day of "
                 "personalisation)", "Doc 9303-11 §7.1.4.3.1")
    if len(image.cvca) > 2:
        yield _f("cvca", "trust-points", "a chip stores at most two CVCA trust points", "Doc 9303-11 §7.1.4.3.2")


def _infos(image: ChipImage, name: str) -> si.SecurityInfos | None:
    raw = image.files.get(name)
    if raw is None:
        return None
    if name == "DG14":
        return Dg14.decode(raw).security_infos
    if name == "EF.CardSecurity":
        return CardSecurity.decode(raw).security_infos
    return si.SecurityInfos.decode(raw, name)


def _spki_of(key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> bytes:
    return spki(key)


def _security_infos(image: ChipImage, profile: ChipProfile, onchip: frozenset[str]) -> Iterable[Finding]:
    try:
        access, dg14, security = (_infos(image, n) for n in ("EF.CardAccess", "DG14", "EF.CardSecurity"))
    except MrtdError as exc:
        yield _f("SecurityInfos", "undecodable", str(exc), SI_CLAUSE)
        return
    pace = access.of_type(si.PaceInfo) if access is not None else ()
    for info in pace:
        family = pace_family(info.protocol)
        if family not in profile.pace_protocols:
            yield _f("EF.CardAccess", "pace-protocol", f"PACE {family} ({info.protocol}) is not offered by the "
                     f"{profile.name} card", "Doc 9303-11 §4.4")
    ca_keys = dg14.of_type(si.ChipAuthenticationPublicKeyInfo) if dg14 is not None else ()
    ta = dg14.of_type(si.TerminalAuthenticationInfo) if dg14 is not None else ()
    ca_key = image.ca_public_key()
    needs_dg14 = [w for w, on in (("PACE-GM/IM", any(not pace_family(i.protocol).endswith("CAM") for i in pace)),
                                  ("Chip Authentication", ca_key is not None or CA in onchip),
                                  ("Terminal Authentication", bool(image.cvca))) if on]
    if needs_dg14 and dg14 is None:
        yield _f("DG14", "dg14-required", f"the chip offers {', '.join(needs_dg14)}, so DG14 is required", SI_CLAUSE)
        return
    if dg14 is not None and access is not None:
        missing = [i for i in access.infos if i.raw not in {d.raw for d in dg14.infos}]
        if missing:
            yield _f("DG14", "dg14-card-access", f"{len(missing)} SecurityInfo(s) of EF.CardAccess are not in DG14 "
                     "(it must carry the full set)", SI_CLAUSE)
    if ca_key is not None:
        mine = _spki_of(ca_key)
        if not any(k.subject_public_key_info == mine for k in ca_keys):
            yield _f("DG14", "ca-key-mismatch", "no ChipAuthenticationPublicKeyInfo carries the chip's key", SI_CLAUSE)
    elif ca_keys:
        yield _f("ca_key", "ca-key-missing", "DG14 offers Chip Authentication but there is no key for the chip",
                 "Doc 9303-11 §6.2")
    if ca_keys and dg14 is not None and not dg14.of_type(si.ChipAuthenticationInfo):
        yield _f("DG14", "ca-info", "a ChipAuthenticationPublicKeyInfo without a ChipAuthenticationInfo", SI_CLAUSE)
    if ta and not image.cvca:
        yield _f("cvca", "ta-trust-point", "DG14 offers Terminal Authentication but the chip gets no CVCA trust point",
                 "Doc 9303-11 §7.1.4.3.1")
    if image.cvca and not ta:
        yield _f("DG14", "ta-info", "the chip gets a CVCA trust point but DG14 has no TerminalAuthenticationInfo",
                 SI_CLAUSE)
    if (image.cvca or ta) and "EF.CVCA" not in image.files:
        yield _f("EF.CVCA", "ef-cvca", "Terminal Authentication needs EF.CVCA naming the trust points", "TR-03110-1 §A.1.2")
    if any(n in image.files for n in ("DG3", "DG4")) and not ta:
        yield _f("DG3/DG4", "unprotected-biometrics", "fingerprints or irises readable without Terminal "
                 "Authentication", "Doc 9303-11 §7", Severity.WARNING)
    for info in (i for i in pace if pace_family(i.protocol) == "ECDH-CAM"):
        cam_keys = security.of_type(si.ChipAuthenticationPublicKeyInfo) if security is not None else ()
        if not cam_keys:
            yield _f("EF.CardSecurity", "cam-card-security", "PACE-CAM needs EF.CardSecurity with the chip's key",
                     SI_CLAUSE)
        curve = PACE_CURVES.get(info.parameter_id or -1)
        if ca_key is not None and curve != ca_key.curve.name:
            yield _f("ca_key", "cam-curve", f"PACE-CAM on {curve or info.parameter_id} needs the chip's key on the "
                     f"same curve, not {ca_key.curve.name}", "Doc 9303-11 §4.4.3.5")
    yield from _active_authentication(image, dg14, onchip)


def _active_authentication(image: ChipImage, dg14: si.SecurityInfos | None, onchip: frozenset[str]) -> Iterable[Finding]:
    dg15 = image.files.get("DG15")
    aa_key = image.aa_public_key()
    if aa_key is not None:
        if dg15 is None:
            yield _f("DG15", "aa-key-missing", "an Active Authentication key but no DG15", "Doc 9303-10 §4.7.15")
            return
        try:
            if Dg15.decode(dg15).subject_public_key_info != _spki_of(aa_key):
                yield _f("DG15", "aa-key-mismatch", "DG15 does not carry the chip's Active Authentication key",
                         "Doc 9303-10 §4.7.15")
        except MrtdError as exc:
            yield _f("DG15", "undecodable", str(exc), "Doc 9303-10 §4.7.15")
        if isinstance(aa_key, ec.EllipticCurvePublicKey) and (
            dg14 is None or not dg14.of_type(si.ActiveAuthenticationInfo)
        ):
            yield _f("DG14", "aa-info", "ECDSA Active Authentication needs an ActiveAuthenticationInfo in DG14",
                     "Doc 9303-11 §9.2.4")
    elif dg15 is not None:
        yield _f("aa_key", "aa-key-missing", "DG15 offers Active Authentication but there is no key for the chip",
                 "Doc 9303-11 §6.1")


def _structure(image: ChipImage) -> Iterable[Finding]:
    """The chip holds exactly the built files: EF.COM lists the data groups there are, EF.SOD hashes them."""
    present = {f.dg for f in map(lds_files.by_name, image.files) if f.dg is not None}
    if "EF.COM" in image.files:
        try:
            listed = set(EfCom.decode(image.files["EF.COM"]).data_groups)
        except MrtdError as exc:
            yield _f("EF.COM", "undecodable", str(exc), "Doc 9303-10 §4.6.1")
        else:
            if listed != present:
                yield _f("EF.COM", "efcom-list", f"lists DG{sorted(listed)} but the image holds DG{sorted(present)}",
                         "Doc 9303-10 §4.6.1")
    if "EF.SOD" in image.files:
        try:
            hashed = {n for n, _ in Sod.decode(image.files["EF.SOD"]).security_object.hashes}
        except MrtdError as exc:
            yield _f("EF.SOD", "undecodable", str(exc), "Doc 9303-10 §4.6.2")
        else:
            if hashed != present:
                yield _f("EF.SOD", "sod-coverage", f"hashes DG{sorted(hashed)} but the image holds DG{sorted(present)}",
                         "Doc 9303-10 §4.6.2")


def check_plan(image: ChipImage, profile: ChipProfile, onchip: Iterable[str] = ()) -> list[Finding]:
    """Every reason the image cannot go onto a `profile` card as it is (errors), and warnings.
    `onchip`: key pairs the card is to generate, before it has (the files are not built yet: only the
    profile is checked); once generated, their public keys are in the image (`aa_public`/`ca_public`)."""
    keys_on_chip = frozenset(onchip) | image.onchip
    out = [*_files(image, profile), *_keys(image, profile, keys_on_chip)]
    if not onchip:
        out += [*_security_infos(image, profile, keys_on_chip), *_structure(image)]
    return out


def require_plan(image: ChipImage, profile: ChipProfile, onchip: Iterable[str] = ()) -> list[Finding]:
    """`check_plan`, raising ProfileError with every error; returns the warnings."""
    findings = check_plan(image, profile, onchip)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        raise ProfileError(
            f"{profile.name}: the plan cannot be written ({len(errors)} problem(s)); nothing was sent: "
            + "; ".join(str(f) for f in errors), errors,
        )
    return [f for f in findings if f.severity is not Severity.ERROR]
