"""Chip personalisation profiles, as data: one JSON file per card command set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from mrtd.errors import ConfigurationError

PROFILE_NAMES = ("jmrtd-applet", "mrtd-sim")


@dataclass(frozen=True, slots=True)
class ChipProfile:
    name: str
    aid: bytes
    extended_length: bool
    max_command_data: int
    max_read: int
    max_file_size: int
    files_in_mf: bool
    access_control: tuple[str, ...]
    active_authentication: tuple[str, ...]
    chip_authentication: bool
    pace: bool
    card_access: bool
    can: bool


@lru_cache(maxsize=8)
def load_profile(name: str) -> ChipProfile:
    if name not in PROFILE_NAMES:
        raise ConfigurationError(f"chip profile {name!r}: not one of {', '.join(PROFILE_NAMES)}")
    raw = json.loads(resources.files("mrtd.chip.profiles").joinpath(f"{name}.json").read_text("utf-8"))
    return ChipProfile(
        name=raw["name"],
        aid=bytes.fromhex(raw["aid"]),
        extended_length=bool(raw["extended_length"]),
        max_command_data=int(raw["max_command_data"]),
        max_read=int(raw["max_read"]),
        max_file_size=int(raw["max_file_size"]),
        files_in_mf=bool(raw["files_in_mf"]),
        access_control=tuple(raw["access_control"]),
        active_authentication=tuple(raw["active_authentication"]),
        chip_authentication=bool(raw["chip_authentication"]),
        pace=bool(raw["pace"]),
        card_access=bool(raw["card_access"]),
        can=bool(raw["can"]),
    )
