"""What needs a PKI administrator's action within N days: usage periods ending, certificates expiring, the
CRL's nextUpdate coming (Doc 9303-12 §4: a CRL at least every 90 days), revocations not yet published
(within 48 hours), roles with no usable key. Pure: the site hands in its records and the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

# What to run when a role's key needs replacing (a site whose CSCA is elsewhere asks for a certificate).
RENEW = {
    "csca": "mrtd pki rollover",
    "ds": "mrtd pki issue ds",
    "seal-signer": "mrtd pki issue seal-signer --common-name CN",
    "vdsnc-signer": "mrtd pki issue vdsnc-signer --common-name CN",
    "masterlist-signer": "mrtd pki issue masterlist-signer",
    "deviationlist-signer": "mrtd pki issue deviationlist-signer",
}
RENEW_BY_REQUEST = "mrtd pki csr {role} (then sign-csr at the CSCA's site and import-cert here)"
PUBLISH_WITHIN = timedelta(hours=48)


@dataclass(frozen=True)
class Due:
    what: str  # "usage-period" | "certificate" | "crl" | "revocation" | "no-key" | "custody"
    subject: str
    when: str | None  # ISO time the thing runs out (None: already missing)
    days_left: float | None
    action: str

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "overdue": self.overdue}


@dataclass(frozen=True)
class KeyView:
    """What status needs of one certificate record."""

    role: str
    serial: str
    subject: str
    status: str
    not_after: datetime
    usage_end: datetime | None
    has_key: bool  # the private key is held here (not a CSCA kept at another site)


def _days(until: datetime, now: datetime) -> float:
    return round((until - now).total_seconds() / 86400, 1)


def due(keys: Sequence[KeyView], now: datetime, within_days: int, *, crl_next_update: datetime | None,
        unpublished: Iterable[tuple[str, datetime]], roles: Iterable[str],
        csca_here: bool, stale_custody: str | None = None) -> list[Due]:
    """Everything due within `within_days` (and everything already overdue), soonest first."""
    horizon = now + timedelta(days=within_days)
    found: list[Due] = []
    active = [k for k in keys if k.status == "active" and k.role != "link"]
    for k in active:
        renew = RENEW[k.role] if csca_here or k.role == "csca" else RENEW_BY_REQUEST.format(role=k.role)
        label = f"{k.role} {k.serial} ({k.subject})"
        if k.has_key and k.usage_end is not None and k.usage_end <= horizon:
            found.append(Due("usage-period", label, k.usage_end.isoformat(), _days(k.usage_end, now),
                             f"its private key usage period ends: {renew}"))
        elif k.not_after <= horizon:
            found.append(Due("certificate", label, k.not_after.isoformat(), _days(k.not_after, now),
                             f"the certificate expires: {renew}"))
    for role in roles:
        if not any(k.role == role and k.has_key and (k.usage_end is None or k.usage_end > now) for k in active):
            renew = RENEW[role] if csca_here or role == "csca" else RENEW_BY_REQUEST.format(role=role)
            found.append(Due("no-key", role, None, None, f"no {role} key can sign now: {renew}"))
    if csca_here:
        if crl_next_update is None:
            found.append(Due("crl", "CRL", None, None, "no CRL published yet: mrtd pki crl --out FILE"))
        elif crl_next_update <= horizon:
            found.append(Due("crl", "CRL", crl_next_update.isoformat(), _days(crl_next_update, now),
                             "the CRL's nextUpdate comes (9303-12 §4: at least every 90 days): mrtd pki crl --out FILE"))
        for serial, when in unpublished:
            deadline = when + PUBLISH_WITHIN
            found.append(Due("revocation", serial, deadline.isoformat(), _days(deadline, now),
                             "revoked but on no published CRL (9303-12 §4: within 48 hours): mrtd pki crl --out FILE"))
    if stale_custody:
        found.append(Due("custody", "csca", None, None, stale_custody))
    return sorted(found, key=lambda d: (d.days_left is not None, d.days_left or 0.0))
