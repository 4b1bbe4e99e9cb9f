"""`mrtd records list`, `mrtd document show|void|report-lost` through click's CliRunner, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import envelope, json_result
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.cli.records import document, records, records_url
from mrtd.errors import ConfigurationError
from mrtd.issuance.numbering import NumberPolicy
from mrtd.issuance.records import RecordStore, default_url
from mrtd.issuance.roles import Role
from mrtd.issuance.states import DocumentState
from mrtd.issuance.users import add_user

pytest_plugins = ["test_records_backends"]  # the parametrised backend fixtures

S = DocumentState
HAPPY = [S.VALIDATED, S.APPROVED, S.PERSONALISED, S.QUALITY_CHECKED, S.ISSUED]


@pytest.fixture
def site(tmp_path: Path, store_url: str) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "mrtd.toml").write_text(f'[records]\nurl = "{store_url}"\n', encoding="utf-8")
    return folder


@pytest.fixture
def numbers(store: RecordStore) -> dict[str, str]:
    """One issued, one received, one spoiled document; the clock starts 2026-11-01 09:00 UTC."""
    policy = NumberPolicy("UT")
    out: dict[str, str] = {}
    a = store.receive_application("app-issued", {"n": 1})
    out["issued"] = store.allocate_number(policy, a.id)
    for state in HAPPY:
        store.transition(out["issued"], state, actor="station-1")
    b = store.receive_application("app-received", {"n": 2})
    out["spoiled"] = store.allocate_number(policy, b.id)
    store.transition(out["spoiled"], S.SPOILED, actor="station-1", detail={"step": "print"})
    out["received"] = store.allocate_number(policy, b.id)
    return out


def invoke(group: object, args: list[str], **kwargs: object) -> tuple[int, str]:
    result = CliRunner().invoke(group, args, **kwargs)  # type: ignore[arg-type]
    return result.exit_code, result.output


def test_list_all_and_by_state(site: Path, numbers: dict[str, str]) -> None:
    code, out = invoke(records, ["list", "--site", str(site)])
    assert code == 0, out
    assert out.splitlines()[-1] == "3 documents"
    assert numbers["issued"] in out and "issued" in out
    code, out = invoke(records, ["list", "--site", str(site), "--state", "spoiled", "--json"])
    assert code == 0, out
    assert [d["number"] for d in json_result(out)] == [numbers["spoiled"]]


def test_list_by_date(site: Path, numbers: dict[str, str]) -> None:
    code, out = invoke(
        records, ["list", "--site", str(site), "--since", "2026-11-01", "--until", "2026-11-01", "--json"]
    )
    assert code == 0, out
    assert len(json_result(out)) == 3
    code, out = invoke(records, ["list", "--site", str(site), "--since", "2026-11-02", "--json"])
    assert json_result(out) == []
    code, out = invoke(records, ["list", "--site", str(site), "--until", "2026-10-31", "--json"])
    assert json_result(out) == []
    # The issued document entered its state before the spoiled one (one clock tick per reading).
    code, out = invoke(records, ["list", "--site", str(site), "--until", "2026-11-01T09:00:09", "--json"])
    assert [d["number"] for d in json_result(out)] == [numbers["issued"]]


def test_list_refuses_bad_dates_and_states(site: Path) -> None:
    code, out = invoke(records, ["list", "--site", str(site), "--since", "yesterday"])
    assert code == 2 and "--since" in out
    code, out = invoke(records, ["list", "--site", str(site), "--state", "shredded"])
    assert code == 2


def test_show(site: Path, numbers: dict[str, str]) -> None:
    code, out = invoke(document, ["show", numbers["issued"], "--site", str(site)])
    assert code == 0, out
    assert out.startswith(f"{numbers['issued']}  issued")
    assert "quality-checked -> issued  by station-1" in out
    code, out = invoke(document, ["show", numbers["spoiled"], "--site", str(site), "--json"])
    shown = json_result(out)
    assert shown["state"] == "spoiled"
    assert [e["to_state"] for e in shown["events"]] == ["received", "spoiled"]
    assert shown["events"][1]["detail"] == {"step": "print"}


def test_show_unknown_number_exits_1(site: Path, numbers: dict[str, str]) -> None:
    code, out = invoke(document, ["show", "UT9999999", "--site", str(site)])
    assert code == 1 and "no document UT9999999" in out


def test_void(site: Path, numbers: dict[str, str], store: RecordStore) -> None:
    add_user(store, "clerk-7", Role.SUPERVISOR, actor="admin")
    code, out = invoke(
        document,
        [
            "void",
            numbers["issued"],
            "--reason",
            "damaged at the counter",
            "--site",
            str(site),
            "--user",
            "clerk-7",
        ],
    )
    assert code == 0, out
    assert out.strip() == f"{numbers['issued']}: issued -> voided"
    last = store.events(numbers["issued"])[-1]
    assert (last.to_state, last.actor, last.detail) == (
        S.VOIDED,
        "clerk-7",
        {"reason": "damaged at the counter"},
    )


def test_void_needs_a_reason_and_an_issued_document(site: Path, numbers: dict[str, str]) -> None:
    code, _ = invoke(document, ["void", numbers["issued"], "--site", str(site)])
    assert code == 2
    code, out = invoke(document, ["void", numbers["received"], "--reason", "x", "--site", str(site)])
    assert code == 1 and "illegal transition received -> voided" in out


def test_report_lost_then_stolen(site: Path, numbers: dict[str, str], store: RecordStore) -> None:
    n = numbers["issued"]
    code, out = invoke(document, ["report-lost", n, "--site", str(site), "--json"])
    assert code == 0, out
    assert json_result(out) == {"number": n, "from": "issued", "to": "reported-lost"}
    code, out = invoke(
        document, ["report-lost", n, "--stolen", "--reason", "police report 17/2026", "--site", str(site)]
    )
    assert code == 0, out
    assert store.document(n).state is S.REPORTED_STOLEN
    code, out = invoke(document, ["report-lost", n, "--site", str(site), "--json"])
    assert code == 1 and envelope(out)["errors"][0]["rule"] == "illegal-transition"


def test_secrets_are_refused_on_the_command_line_too(site: Path, numbers: dict[str, str]) -> None:
    code, out = invoke(
        document, ["void", numbers["issued"], "--reason", "-----BEGIN PRIVATE KEY-----", "--site", str(site)]
    )
    assert code == 1 and "secrets are never recorded" in out


def test_site_from_the_environment(site: Path, numbers: dict[str, str]) -> None:
    code, out = invoke(records, ["list", "--json"], env={"MRTD_SITE": str(site)})
    assert code == 0, out
    assert len(json_result(out)) == 3


# --- configuration (backend independent) -----------------------------------------------------------


def test_default_url_is_sqlite_in_the_site(tmp_path: Path) -> None:
    (tmp_path / "mrtd.toml").write_text('[site]\ncountry = "UTO"\n', encoding="utf-8")
    assert records_url(tmp_path) == default_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/records.sqlite3"
    code, out = invoke(records, ["list", "--site", str(tmp_path)])
    assert code == 0 and out.splitlines() == ["number\tstate\tsince\tapplication", "0 documents"]
    assert (tmp_path / "records.sqlite3").is_file()


def test_relative_sqlite_path_is_relative_to_the_site(tmp_path: Path) -> None:
    (tmp_path / "mrtd.toml").write_text('[records]\nurl = "sqlite:///db/records.db"\n', encoding="utf-8")
    assert records_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/db/records.db"


def test_missing_or_broken_site_configuration(tmp_path: Path) -> None:
    code, out = invoke(records, ["list", "--site", str(tmp_path)])
    assert code == 1 and "has no mrtd.toml" in out
    (tmp_path / "mrtd.toml").write_text("[records\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        records_url(tmp_path)
    (tmp_path / "mrtd.toml").write_text("[records]\nurl = 5\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"records\.url must be a str"):
        records_url(tmp_path)


@settings(max_examples=80)
@given(raw=st.one_of(st.binary(max_size=80), st.text(max_size=80).map(lambda t: t.encode("utf-8"))))
def test_any_mrtd_toml_gives_a_url_or_a_configuration_error(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    site = tmp_path_factory.mktemp("site")
    for content in (raw, b"[records]\nurl = " + raw):
        (site / "mrtd.toml").write_bytes(content)
        try:
            url = records_url(site)
        except ConfigurationError as exc:
            assert "mrtd.toml" in str(exc)
        else:
            assert isinstance(url, str) and url
