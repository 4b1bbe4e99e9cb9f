"""The one error family of mrtd, and the findings that checks and linters return.

`verify_*` functions raise; `check_*` and `lint_*` functions return a list of `Finding`.
Messages name the field, the rule and, where there is one, the clause of the standard. They never
carry secrets (passphrases, PINs, private keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found by a check or a linter.

    `field` is a path into the thing checked (`holder.date_of_birth`, `line2[10]`, `extensions.keyUsage`);
    `rule` a short stable identifier (`check-digit`, `not-a-date`); `clause` the spec reference.
    """

    field: str
    rule: str
    message: str
    clause: str = ""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f" [{self.clause}]" if self.clause else ""
        return f"{self.field}: {self.message}{where}"

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
            "clause": self.clause,
            "severity": self.severity.value,
        }


class MrtdError(Exception):
    """Root of every error mrtd raises on purpose."""


class InputError(MrtdError):
    """Bad input from outside: an application, MRZ lines, a file, an argument."""


class ValidationError(InputError):
    """Input that breaks one or more rules; carries every finding, not just the first."""

    def __init__(self, findings: Iterable[Finding], *, source: str = "") -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        self.source = source
        head = f"{source}: " if source else ""
        lines = "; ".join(str(f) for f in self.findings) or "invalid input"
        super().__init__(f"{head}{lines}")


class EncodingError(MrtdError):
    """Bytes or text that cannot be decoded, or a value that cannot be encoded conformantly."""


class ProfileError(MrtdError):
    """Something that would break a profile of the standard (Doc 9303 Part 12, LDS, seal profile)."""

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        super().__init__(message)


class VerificationError(MrtdError):
    """A signature, hash or certification path that does not verify."""


class SignatureError(VerificationError):
    """A signature that does not verify."""


class ChainError(VerificationError):
    """A certificate that does not chain to a trusted anchor, or is revoked or out of date."""


class KeyAccessError(MrtdError):
    """A key that cannot be loaded, unlocked or used (wrong passphrase, usage period over, ...)."""


class ChipError(MrtdError):
    """A chip refused or failed a step; names the step and, when there is one, the status word."""

    def __init__(self, step: str, message: str, sw: int | None = None) -> None:
        self.step = step
        self.sw = sw
        sw_text = f" (SW {sw:04X})" if sw is not None else ""
        super().__init__(f"{step}: {message}{sw_text}")


class TransportError(MrtdError):
    """The reader or the link to the card failed (no reader, card removed, no response)."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        super().__init__(f"{step}: {message}")


class ConfigurationError(MrtdError):
    """A site, a template or a setting that is missing or inconsistent."""


class StateError(MrtdError):
    """An operation that the current state of a record does not allow."""
