"""`dsr demo`: sample mails over real SMTP, replies in a Maildir, the queue printed."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from handlers.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, _ = capsys.readouterr()
    return int(exited.value.code or 0), out


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith(("DSR_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_demo_feeds_the_samples_and_prints_the_queue(
    embedded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(["demo"], capsys)
    assert code == 0
    answers = dict(
        re.findall(r"^  (\S+ \S+(?: \S+)?)\s+-> 250 2\.0\.0 queued \((\w+)[ )]", out, re.M)
    )
    assert answers == {
        "nl access": "created",
        "en erasure": "created",
        "nl correction": "created",
        "en correction": "created",
        "nl out-of-office": "ignored",
        "en ordinary mail": "ignored",
        "nl unclear mail": "review",
        "nl follow-up": "threaded",
    }
    assert "4 case(s)" in out
    assert "wacht op beoordeling: 1 mail(s)" in out
    new = embedded / "var" / "demo" / "outbox" / "new"
    # four acknowledgements, four code mails, and the confirmation of the code the follow-up
    # carried
    assert "9 mail(s) in var/demo/outbox/new" in out
    assert len(list(new.iterdir())) == 9
    assert re.search(r"DSR-\d{4}-0001\s+open\s+access", out)
    assert "jan.devries" not in out  # the queue shows masked addresses only


def test_demo_starts_fresh_and_leaves_the_real_database_alone(
    embedded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(["demo"], capsys)
    code, out = run(["demo"], capsys)
    assert code == 0
    assert "4 case(s)" in out
    assert "wacht op beoordeling: 1 mail(s)" in out
    assert not (embedded / "var" / "dsr.db").exists()
    code, out = run(["cases", "list", "--json"], capsys)
    assert json.loads(out) == []


REQUEST = (
    b"From: Jan de Vries <jan.devries@voorbeeld.nl>\r\n"
    b"To: secretariaat@proambt.nl\r\n"
    b"Subject: Inzageverzoek\r\n"
    b"Message-ID: <readme-walk-1@voorbeeld.nl>\r\n"
    b"Date: Mon, 1 Jun 2026 10:00:00 +0200\r\n\r\n"
    b"Graag inzage in mijn persoonsgegevens op grond van artikel 15 AVG.\r\n"
)


def test_the_demo_leaves_the_real_audit_trail_verifiable(
    embedded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's walk: demo, a real mail, then `dsr audit verify` on the real trail."""
    assert run(["demo"], capsys)[0] == 0
    (embedded / "request.eml").write_bytes(REQUEST)
    assert run(["ingest", "request.eml"], capsys)[0] == 0
    code, out = run(["audit", "verify"], capsys)
    assert code == 0 and "audit trail intact" in out
    assert "of var/audit.head" in out
    assert (embedded / "var" / "demo" / "audit.head").exists()


def test_the_demo_store_opens_with_its_var_dir(
    embedded: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README and the demo itself say to run next works: DSR_VAR_DIR=var/demo opens
    the demo's database with the demo's keys, and its trail reaches the demo's own head."""
    code, out = run(["demo"], capsys)
    assert "Look around / rondkijken: DSR_VAR_DIR=var/demo uv run dsr review list" in out
    monkeypatch.setenv("DSR_VAR_DIR", "var/demo")
    code, out = run(["review", "list"], capsys)
    assert code == 0 and "1 item(s)" in out
    code, out = run(["audit", "verify"], capsys)
    assert code == 0 and "of var/demo/audit.head" in out
