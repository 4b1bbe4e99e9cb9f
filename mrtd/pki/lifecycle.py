"""A site's keys over their life: what is due (`status`) and the end of a retired key (`destroy_key`).

A retired key (superseded, revoked, or past its private key usage period) is destroyed for good: a key
file is overwritten with random bytes, flushed and unlinked; a token's private and public objects are
destroyed in the token. The record keeps its certificate (documents it signed still verify) and says
when the key was destroyed; the key log says who did it.
"""

from __future__ import annotations

import os
from datetime import datetime

from mrtd.errors import InputError, KeyAccessError, StateError
from mrtd.pki import status as statusmod
from mrtd.pki.site import END_ENTITY_ROLES, CertRecord, PkiSite, _dt, _iso

# Roles a signing site is expected to hold a usable key for.
EXPECTED_ROLES = ("ds", "seal-signer")


def status(site: PkiSite, within_days: int, *, stale_custody: str | None = None) -> list[statusmod.Due]:
    """What needs action within `within_days` days (and anything overdue), soonest first."""
    if within_days < 0:
        raise InputError("--days: must be 0 or more")
    state = site._load()
    now = site.now()
    records = site._records(state)
    views = [statusmod.KeyView(r.role, r.serial, r.subject, r.status, _dt(r.not_after) or now, _dt(r.usage_end),
                               r.key.get("store") in ("file", "pkcs11"))
             for r in records]
    here = state.get("csca", "here") == "here"
    latest = site.latest_crl() if here else None
    present = {r.role for r in records if r.role in END_ENTITY_ROLES}
    roles = [role for role in (*EXPECTED_ROLES, *sorted(present)) if role in present or role in EXPECTED_ROLES]
    return statusmod.due(
        views, now, within_days,
        crl_next_update=latest.next_update_utc if latest is not None else None,
        unpublished=[(r.serial, _dt(r.revoked_at) or now) for r in site.unpublished(state, latest)],
        roles=list(dict.fromkeys(roles)), csca_here=here, stale_custody=stale_custody)


def retired(rec: CertRecord, now: datetime) -> bool:
    usage_end = _dt(rec.usage_end)
    return rec.status in ("superseded", "revoked") or (usage_end is not None and usage_end < now)


def destroy_key(site: PkiSite, serial: str, *, token_pin: bytes | None = None) -> CertRecord:
    """Zeroise the private key of the retired certificate `serial` (a file, or the objects in a token)."""
    state = site._load()
    serial = serial.upper().removeprefix("0X")
    raw = next((r for r in state["certificates"] if r["serial"] == serial), None)
    if raw is None:
        raise InputError(f"serial: no certificate {serial} in this site (see `mrtd pki list`)")
    rec = CertRecord(**raw)
    now = site.now()
    ref = rec.key
    if ref.get("store") not in ("file", "pkcs11"):
        raise StateError(f"{serial}: no private key of it is held here ({ref.get('store')})")
    if not retired(rec, now):
        raise StateError(f"{serial}: the {rec.role} key is still in use; revoke it (`mrtd pki revoke`) or issue its "
                         "successor first")
    if ref["store"] == "file":
        _zeroise(site.root / ref["path"])
        what = ref["path"]
    else:
        if token_pin is None:
            raise KeyAccessError(f"{serial}: the key is in token {ref['token']!r}; its PIN is needed to destroy it")
        from mrtd.pki import pkcs11

        session = pkcs11.open_session(ref["module"], ref["token"], token_pin)
        pkcs11.destroy_key(session, ref["label"])
        what = f"pkcs11:{ref['token']}/{ref['label']}"
    raw["key"] = {**ref, "store": "destroyed", "was": ref["store"], "destroyed": _iso(now) or ""}
    site._save(state)
    site._log("key-destroy", role=rec.role, serial=serial, key=what)
    return CertRecord(**raw)


def _zeroise(path: os.PathLike[str] | str) -> None:
    """Overwrite a key file in place with random bytes, flush it to disk, then unlink it."""
    try:
        size = os.path.getsize(path)
        with open(path, "r+b") as fh:
            fh.write(os.urandom(size))
            fh.flush()
            os.fsync(fh.fileno())
        os.unlink(path)
    except FileNotFoundError:
        raise StateError(f"{path}: the key file is already gone") from None
