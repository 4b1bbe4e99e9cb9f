"""Doc 9303 Parts 3-7: characters, check digits, names, transliteration, codes, dates and the MRZ formats.

Pure functions and tables (the tables are JSON files in `mrtd/mrz/data/`, loaded once).
"""

from mrtd.mrz.check import check, parse
from mrtd.mrz.checkdigit import check_digit
from mrtd.mrz.document import mrz_lines, record_from_document
from mrtd.mrz.formats import build, mrz_information
from mrtd.mrz.names import name_field, truncation_problems
from mrtd.mrz.record import MrzRecord
from mrtd.mrz.transliteration import NameOptions, transliterate

__all__ = [
    "MrzRecord",
    "NameOptions",
    "build",
    "check",
    "check_digit",
    "mrz_information",
    "mrz_lines",
    "name_field",
    "parse",
    "record_from_document",
    "transliterate",
    "truncation_problems",
]
