"""Must show: a ceremony with three custodians, two required; one share is not enough; the transcript names
who took part and each of them can check it with their share."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from clikit import envelope

from mrtd.cli.pki import pki

ENV = {"MRTD_CSCA_PASSPHRASE": "csca before custody", "MRTD_DS_PASSPHRASE": "ds of the ceremony"}


def run(args: list[str], input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(pki, args, env=ENV, input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_two_of_three_custodians_issue_a_document_signer(tmp_path: Path) -> None:
    site = str(tmp_path / "site")
    assert run(["init", "--country", "NL", "--site", site])[0] == 0
    shares_dir = tmp_path / "shares"
    code, out = run(["ceremony", "setup", "--custodian", "alice", "--custodian", "bob", "--custodian", "carol",
                     "--quorum", "2", "--shares-out", str(shares_dir), "--site", site])
    assert code == 0, out
    share = {n: (shares_dir / f"{n}.share").read_text().strip() for n in ("alice", "bob", "carol")}
    # The old passphrase no longer opens the key, and no one runs a CSCA operation alone.
    code, out = run(["issue", "ds", "--site", site, "--json"])
    assert code == 1 and "held by custodians (2 of 3" in envelope(out)["errors"][0]["message"], out
    code, out = run(["ceremony", "issue", "ds", "--site", site, "--json"], input=f"alice\n{share['alice']}\n\n")
    assert code == 1 and "1 share(s) given; the CSCA key needs 2 of 3" in out, out
    code, out = run(["ceremony", "issue", "ds", "--site", site, "--json"],
                    input=f"alice\n{share['alice']}\ncarol\n{share['carol']}\n")
    assert code == 0, out
    transcripts = sorted((tmp_path / "site" / "pki" / "ceremonies").glob("*.json"))
    assert len(transcripts) == 1
    body = json.loads(transcripts[0].read_text())["transcript"]
    assert body["custodians_present"] == ["alice", "carol"] and body["operation"] == "issue ds"
    assert any(op["op"] == "issue" and op["role"] == "ds" for op in body["key_operations"])
    log = [json.loads(line) for line in (tmp_path / "site" / "pki" / "log.jsonl").read_text().splitlines()]
    assert log[-1]["op"] == "ceremony" and log[-1]["custodians"] == ["alice", "carol"]
    assert not any(words in (tmp_path / "site" / "pki" / "log.jsonl").read_text() for words in share.values())
    code, out = run(["ceremony", "check", str(transcripts[0]), "--custodian", "carol", "--site", site],
                    input=share["carol"] + "\n")
    assert code == 0 and "by alice, carol" in out, out
    code, out = run(["ceremony", "check", str(transcripts[0]), "--custodian", "bob", "--site", site],
                    input=share["bob"] + "\n")
    assert code == 1 and "bob did not take part" in out, out
