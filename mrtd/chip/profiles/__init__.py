"""Chip personalisation profiles, as data: one JSON file per card command set.

A profile says what a card can hold (files, sizes, key types and curves, protocols); `mrtd.chip.plancheck`
checks a whole plan against it before the first byte is sent.
"""

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
    files: tuple[str, ...]  # the LDS files the card can hold
    access_control: tuple[str, ...]
    aa_keys: tuple[str, ...]  # "RSA-1024", ..., "ECDSA"
    aa_key_command: str  # "modulus-exponent" (PUT DATA 60/61) or "pkcs8" (PUT DATA 66)
    chip_authentication: bool
    ca_curves: tuple[str, ...]
    pace: bool
    pace_protocols: tuple[str, ...]  # "ECDH-GM", "DH-IM", ...
    card_access: bool
    can: bool
    terminal_authentication: bool
    onchip_keys: tuple[str, ...]  # "active-authentication", "chip-authentication"
    odd_ins: bool  # READ/UPDATE BINARY with odd INS (offsets beyond 32767)


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
        files=tuple(raw["files"]),
        access_control=tuple(raw["access_control"]),
        aa_keys=tuple(raw["aa_keys"]),
        aa_key_command=str(raw["aa_key_command"]),
        chip_authentication=bool(raw["chip_authentication"]),
        ca_curves=tuple(raw["ca_curves"]),
        pace=bool(raw["pace"]),
        pace_protocols=tuple(raw["pace_protocols"]),
        card_access=bool(raw["card_access"]),
        can=bool(raw["can"]),
        terminal_authentication=bool(raw["terminal_authentication"]),
        onchip_keys=tuple(raw["onchip_keys"]),
        odd_ins=bool(raw["odd_ins"]),
    )
