"""Doc 9303 Parts 3-7: characters, check digits, names, transliteration, codes, dates and the MRZ formats.

Pure functions and tables (the tables are JSON files in `mrtd/mrz/data/`, loaded once).

The names below load with the submodule that defines them, on first use: a chip read that needs only the
check digits does not load the transliteration tables and the format definitions (PEP 562). No submodule
is named like a name here (`check` is in `reading`), so importing a submodule cannot shadow a function.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mrtd.mrz.checkdigit import check_digit
    from mrtd.mrz.document import mrz_lines, record_from_document
    from mrtd.mrz.formats import build, mrz_information
    from mrtd.mrz.names import name_field, truncation_problems
    from mrtd.mrz.reading import check, parse
    from mrtd.mrz.record import MrzRecord
    from mrtd.mrz.transliteration import NameOptions, transliterate

_HOME = {
    "check": "reading", "parse": "reading", "check_digit": "checkdigit", "mrz_lines": "document",
    "record_from_document": "document", "build": "formats", "mrz_information": "formats",
    "name_field": "names", "truncation_problems": "names", "MrzRecord": "record",
    "NameOptions": "transliteration", "transliterate": "transliteration",
}

__all__ = [
    "MrzRecord", "NameOptions", "build", "check", "check_digit", "mrz_information", "mrz_lines", "name_field",
    "parse", "record_from_document", "transliterate", "truncation_problems",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
