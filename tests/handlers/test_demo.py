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
