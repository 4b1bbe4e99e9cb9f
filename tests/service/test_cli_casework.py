"""The command line on a local site, through the same use cases as the service: users and tokens, submit,
four eyes, approve as a named user, issue here, report lost, replace, search (audited), reprint."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import json_result
from conftest import EXAMPLES, secret_env
from servicekit import make_site

from mrtd.cli import main


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    site = make_site(tmp_path / "site")
    for name, value in secret_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MRTD_SITE", str(site.root))
    monkeypatch.delenv("MRTD_USER", raising=False)

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args))
        return result.exit_code, result.output

    return invoke


def test_casework_on_the_command_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("users", "add", "amal", "--role", "approver")[0] == 0
    assert run("users", "add", "sam", "--role", "supervisor")[0] == 0
    code, out = run("users", "token", "amal", "--out", str(tmp_path / "amal.token"))
    assert code == 0 and (tmp_path / "amal.token").stat().st_mode & 0o777 == 0o600
    assert "mrtd_" not in out  # written to the file, not shown
    code, out = run("application", "submit", str(EXAMPLES / "olena-shevchenko-cyrillic.json"), "--json")
    assert code == 0, out
    app_id = json_result(out)["id"]
    code, out = run("application", "approve", str(app_id), "--user", "sam")
    assert code == 1 and "may not application.decide" in out  # a supervisor is no approver
    code, out = run("application", "approve", str(app_id), "--json")
    # the OS user submitted it and so may not approve it too
    assert code == 1 and "four eyes" in out
    code, out = run("application", "approve", str(app_id), "--user", "amal", "--json")
    assert code == 0 and json_result(out)["decided_by"] == "amal", out
    code, out = run("application", "issue", str(app_id), "--out", str(tmp_path / "doc"), "--no-print-check", "--json")
    assert code == 0, out
    number = json_result(out)["number"]
    assert json_result(out)["approval"] == {"approved_by": "amal", "submitted_by": json_result(out)["approval"]["submitted_by"],
                                           "four_eyes": True}
    assert run("document", "report-lost", number, "--user", "sam")[0] == 0
    code, out = run("document", "replace", number, "--user", "sam", "--json")
    assert code == 0, out
    assert json_result(out)["replaces"] == number
    code, out = run("search", "--reason", "replacement", "--name", "shevchenko", "--user", "sam", "--json")
    assert code == 0 and len(json_result(out)) == 2, out
    code, out = run("search", "--name", "shevchenko", "--user", "sam")
    assert code == 2  # the reason is required
    code, out = run("application", "show", str(app_id), "--user", "sam", "--json")
    assert code == 0 and json_result(out)["application"]["holder"]["primary_identifier"] == "Шевченко"


def test_web_passwords_totp_and_revoke_on_the_command_line(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import pyotp

    from mrtd.issuance.roles import Unauthenticated
    from mrtd.issuance.signin import SignInFailed, session_of, sign_in
    from mrtd.issuance.site import load_site

    assert run("users", "add", "carla", "--role", "clerk")[0] == 0
    secret = tmp_path / "password"
    secret.write_text("short\n", "utf-8")
    code, out = run("users", "password", "carla", "--password-file", str(secret))
    assert code == 1 and "shorter than 12" in out
    secret.write_text("carla's long passphrase\n", "utf-8")
    code, out = run("users", "password", "carla", "--password-file", str(secret), "--json")
    assert code == 0 and json_result(out) == {"user": "carla"}
    assert "long passphrase" not in out
    monkeypatch.setenv("MRTD_USER_PASSWORD", "another long passphrase")
    assert run("users", "password", "carla")[0] == 0
    code, out = run("users", "totp", "carla", "--json")
    assert code == 0 and json_result(out)["otpauth_uri"].startswith("otpauth://totp/")
    site = load_site(tmp_path / "site")
    with site.open_records() as store:
        with pytest.raises(SignInFailed):
            sign_in(store, "carla", "another long passphrase")  # the second factor is now needed
        totp = pyotp.parse_uri(json_result(out)["otpauth_uri"])
        _, token = sign_in(store, "carla", "another long passphrase", totp.now())
        code, out = run("users", "revoke", "carla", "--json")
        assert code == 0 and json_result(out)["sessions_ended"] == 1

        with pytest.raises(Unauthenticated):
            session_of(store, token, dt.datetime.now(dt.UTC))
