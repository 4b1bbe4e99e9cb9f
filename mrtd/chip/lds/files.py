"""The LDS1 elementary files: short name, file identifier, short EF identifier and tag (Doc 9303-10 §4.6)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from mrtd.errors import InputError


@dataclass(frozen=True, slots=True)
class LdsFile:
    name: str  # "EF.COM", "DG1", ..., "EF.SOD", "EF.CardAccess", "EF.CardSecurity"
    fid: int
    sfi: int
    tag: int
    dg: int | None = None  # the data group number, for DG1..DG16
    in_mf: bool = False  # EF.CardAccess and EF.CardSecurity live in the master file


@lru_cache(maxsize=1)
def lds_files() -> tuple[LdsFile, ...]:
    text = resources.files("mrtd.chip.lds").joinpath("lds_files.json").read_text("utf-8")
    return tuple(
        LdsFile(
            r["name"], int(r["fid"], 16), int(r["sfi"], 16), int(r["tag"], 16), r.get("dg"), r.get("in_mf", False)
        )
        for r in json.loads(text)["files"]
    )


@lru_cache(maxsize=64)
def by_name(name: str) -> LdsFile:
    for f in lds_files():
        if f.name == name:
            return f
    raise InputError(f"file name {name!r} is not an LDS1 elementary file [Doc 9303-10 §4.6]")


def dg_name(number: int) -> str:
    if not 1 <= number <= 16:
        raise InputError(f"data group number {number} is not 1..16 [Doc 9303-10 §4.6]")
    return f"DG{number}"


@lru_cache(maxsize=64)
def dg_tag(number: int) -> int:
    return by_name(dg_name(number)).tag


@lru_cache(maxsize=64)
def dg_for_tag(tag: int) -> int | None:
    for f in lds_files():
        if f.dg is not None and f.tag == tag:
            return f.dg
    return None


def file_name(short_name: str) -> str:
    """The name of a file in a document folder: data groups get `.bin`, EF.* files keep their short name."""
    return f"{short_name}.bin" if by_name(short_name).dg is not None else short_name
