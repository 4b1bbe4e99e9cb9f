"""Document number policy: a fixed prefix and a zero-padded sequence, within the MRZ number field.

Doc 9303 gives the document number nine characters in every MRZ layout (Parts 4 to 7); only TD1 and
TD2 have an overflow for longer numbers, which this policy deliberately does not use, so a
number always fits every format unchanged and its check digit always follows it directly. The MRZ
alphabet allows A-Z, 0-9 and the filler; a number here never contains a filler.

The policy is pure: allocation (a database sequence row, locked while it is advanced, so that numbers are
unique under concurrent workers and never reused) is `RecordStore.allocate_number`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mrtd.errors import ConfigurationError, InputError

MRZ_NUMBER_LENGTH = 9
_PREFIX = re.compile(r"^[A-Z0-9]*$")
_CLAUSE = "Doc 9303 Parts 4-7, document number field"


@dataclass(frozen=True, slots=True)
class NumberPolicy:
    """`prefix` followed by the sequence, zero-padded so the whole number is `length` characters.

    `NumberPolicy("UT")` gives UT0000001, UT0000002, ... UT9999999.
    """

    prefix: str = ""
    length: int = MRZ_NUMBER_LENGTH
    start: int = 1

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise ConfigurationError(
                f"numbering.prefix: {self.prefix!r} has characters outside A-Z and 0-9 [{_CLAUSE}]"
            )
        if not 1 <= self.length <= MRZ_NUMBER_LENGTH:
            raise ConfigurationError(
                f"numbering.length: {self.length} is not 1..{MRZ_NUMBER_LENGTH} [{_CLAUSE}]"
            )
        if len(self.prefix) >= self.length:
            raise ConfigurationError(
                f"numbering.prefix: {self.prefix!r} leaves no room for a sequence in {self.length} characters"
            )
        if not 0 <= self.start <= self.last:
            raise ConfigurationError(f"numbering.start: {self.start} is not 0..{self.last}")

    @classmethod
    def from_config(cls, table: Mapping[str, object]) -> NumberPolicy:
        """From a site's `[numbering]` table: `prefix`, `length`, `start` (each optional)."""
        unknown = set(table) - {"prefix", "length", "start"}
        if unknown:
            raise ConfigurationError(f"numbering: unknown keys {', '.join(sorted(unknown))}")
        prefix = table.get("prefix", "")
        length = table.get("length", MRZ_NUMBER_LENGTH)
        start = table.get("start", 1)
        if not isinstance(prefix, str):
            raise ConfigurationError("numbering.prefix: must be a string")
        for name, value in (("length", length), ("start", start)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigurationError(f"numbering.{name}: must be an integer")
        assert isinstance(length, int) and isinstance(start, int)
        return cls(prefix=prefix, length=length, start=start)

    def as_config(self) -> dict[str, object]:
        return {"prefix": self.prefix, "length": self.length, "start": self.start}

    @property
    def digits(self) -> int:
        return self.length - len(self.prefix)

    @property
    def last(self) -> int:
        """The highest sequence value the policy can express."""
        return int(10**self.digits) - 1

    @property
    def sequence_key(self) -> str:
        """Names the database sequence row this policy draws from."""
        return f"{self.prefix}/{self.length}"

    def format(self, sequence: int) -> str:
        if not self.start <= sequence <= self.last:
            raise ConfigurationError(
                f"numbering: sequence {sequence} is outside {self.start}..{self.last} for prefix "
                f"{self.prefix!r}; the number range is exhausted"
            )
        return f"{self.prefix}{sequence:0{self.digits}d}"

    def parse(self, number: str) -> int:
        """The sequence value of a number this policy made; InputError for any other text."""
        tail = number[len(self.prefix) :]
        if len(number) != self.length or not number.startswith(self.prefix) or not tail.isdigit():
            raise InputError(
                f"document.number: {number!r} is not {self.prefix!r} followed by {self.digits} digits"
            )
        return int(tail)


_NUMBER = re.compile(r"^[A-Z0-9]{1,9}$")


def check_number(number: str) -> str:
    """A document number as records keep it: 1 to 9 characters of A-Z and 0-9."""
    if not _NUMBER.match(number):
        raise InputError(f"document.number: {number!r} is not 1 to 9 characters of A-Z and 0-9 [{_CLAUSE}]")
    return number
