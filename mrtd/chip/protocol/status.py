"""What a status word means (ISO/IEC 7816-4 and the Java Card reason codes some cards pass on), from the
table in status_words.json; every chip error that carries a status word names its meaning."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, str]]:
    raw = json.loads(resources.files("mrtd.chip.protocol").joinpath("status_words.json").read_text("utf-8"))
    return raw["exact"], raw["sw1"]


def describe(sw: int) -> str:
    """The meaning of `sw`, e.g. 6A80 -> 'incorrect parameters in the command data field (...)'."""
    exact, by_sw1 = _table()
    text = f"{sw:04X}"
    if text in exact:
        return exact[text]
    if text[:2] == "63" and text[2] == "C":
        return f"verification failed, {sw & 0xF} tries left"
    return by_sw1.get(text[:2], "unknown status word")


def sw_text(sw: int) -> str:
    """'SW 6A80: incorrect parameters ...' for messages."""
    return f"SW {sw:04X}: {describe(sw)}"
