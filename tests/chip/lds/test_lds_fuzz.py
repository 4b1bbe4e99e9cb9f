"""Every LDS parser of outside input: random and mutated bytes raise only MrtdError subclasses."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import ldskit
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.asn1.keys import load_spki
from mrtd.asn1.tlv import Tlv, parse_all
from mrtd.chip.document import DocumentImage
from mrtd.chip.lds.cardaccess import CardAccess
from mrtd.chip.lds.cardsecurity import CardSecurity
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2, FaceRecord
from mrtd.chip.lds.dg7 import Dg7
from mrtd.chip.lds.dg11 import Dg11
from mrtd.chip.lds.dg12 import Dg12
from mrtd.chip.lds.dg13 import Dg13
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.dg16 import Dg16
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.sod import LdsSecurityObject, Sod
from mrtd.chip.passive import passive_authentication
from mrtd.errors import MrtdError

PARSERS: dict[str, Callable[[bytes], object]] = {
    "EF.COM": EfCom.decode, "DG1": Dg1.decode, "DG2": Dg2.decode, "DG7": Dg7.decode, "DG11": Dg11.decode,
    "DG12": Dg12.decode, "DG13": Dg13.decode, "DG14": Dg14.decode, "DG15": Dg15.decode, "DG16": Dg16.decode,
    "EF.CardAccess": CardAccess.decode,
}  # fmt: skip


def _image() -> DocumentImage:
    return ldskit.build(signature=ldskit.portrait(), card_security=True)


def _samples() -> dict[str, bytes]:
    img = _image()
    files = dict(img.files)
    from mrtd.chip.lds.dg13 import Dg13 as D13
    from mrtd.chip.lds.dg16 import Dg16 as D16
    from mrtd.chip.lds.dg16 import PersonToNotify

    files["DG13"] = D13.create(b"\x01\x02issuer data").raw
    files["DG16"] = D16.create([PersonToNotify("SMITH<<ANN", None, "+31 20 555", "Main St 1")]).raw
    return files


SAMPLES = _samples()


def _call(parse: Callable[[bytes], object], data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        parse(data)


ALL = {**PARSERS, "EF.SOD": Sod.decode, "EF.CardSecurity": CardSecurity.decode,
       "LDSSecurityObject": LdsSecurityObject.decode, "FaceRecord": FaceRecord.decode, "SPKI": load_spki,
       "TLV": Tlv.decode, "TLV*": parse_all}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ALL))
@settings(max_examples=150)
@given(data=st.binary(max_size=400))
def test_random_bytes(name: str, data: bytes) -> None:
    _call(ALL[name], data)


def _mutate(data: bytes, draw: Callable[[st.SearchStrategy[Any]], Any]) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 3))
        i = draw(st.integers(0, max(0, len(buf) - 1)))
        if kind == 0 and buf:
            buf[i] = draw(st.integers(0, 255))
        elif kind == 1:
            buf = buf[: draw(st.integers(0, len(buf)))]
        elif kind == 2:
            buf[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif buf:
            del buf[i]
    return bytes(buf)


@pytest.mark.parametrize("name", sorted(set(SAMPLES) & set(ALL)))
@settings(max_examples=120)
@given(data=st.data())
def test_mutated_files(name: str, data: st.DataObject) -> None:
    mutated = _mutate(SAMPLES[name], data.draw)
    _call(ALL[name], mutated)


@settings(max_examples=60)
@given(data=st.data())
def test_mutated_sod_inner_parts(data: st.DataObject) -> None:
    sod = Sod.decode(SAMPLES["EF.SOD"])
    _call(LdsSecurityObject.decode, _mutate(sod.security_object.raw, data.draw))
    _call(lambda b: FaceRecord.decode(b), _mutate(Dg2.decode(SAMPLES["DG2"]).instances[0].bdb[:300], data.draw))


@settings(max_examples=40)
@given(data=st.data())
def test_passive_authentication_never_crashes(data: st.DataObject) -> None:
    """Mutated files give a report (with failures), never an exception other than MrtdError."""
    files = dict(SAMPLES)
    name = data.draw(st.sampled_from(sorted(files)))
    files[name] = _mutate(files[name], data.draw)
    try:
        report = passive_authentication(files, ldskit.make_pki().trust(), ldskit.NOW)
    except MrtdError:
        return
    assert report.checks
