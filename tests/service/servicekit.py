"""Shared by the service tests: a site with users and tokens, an application as the API takes it, and
what a station does with a claim."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

from conftest import EXAMPLES

from mrtd.issuance.roles import Role
from mrtd.issuance.site import SiteConfig, init_site, load_site
from mrtd.issuance.users import add_user, issue_token

PASS = b"service-test-passphrase"
ROLES = [r for r in Role]
USERS = {Role.CLERK: "carla", Role.APPROVER: "amal", Role.SUPERVISOR: "sam", Role.STATION: "st1",
         Role.PKI_OFFICER: "pia", Role.AUDITOR: "audra", Role.ADMIN: "ada"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_site(root: Path, url: str | None = None) -> SiteConfig:
    init_site(root, "UTO", passphrase=PASS, clock=now, certificate_country="UT", kdf_log2n=12, database_url=url)
    return load_site(root, {"page.print_check": False})


def make_users(site: SiteConfig, extra: dict[str, Role] | None = None) -> dict[str, str]:
    """Users for every role (and `extra`); returns name -> token."""
    tokens = {}
    with site.open_records() as store:
        for role, name in USERS.items():
            add_user(store, name, role, actor="admin")
            tokens[name] = issue_token(store, name, actor="admin")
        for name, role in (extra or {}).items():
            add_user(store, name, role, actor="admin")
            tokens[name] = issue_token(store, name, actor="admin")
    return tokens


def submission(name: str, **changes: Any) -> dict[str, Any]:
    """An example application as the API takes it: images inline, base64."""
    path = EXAMPLES / name
    data = json.loads(path.read_text("utf-8"))
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values}
    images = {}
    for kind in ("portrait", "signature"):
        if kind in data:
            file = Path(data[kind])
            images[file.name] = base64.b64encode((path.parent / file).read_bytes()).decode("ascii")
            data[kind] = file.name
    return {"application": data, "images": images}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
