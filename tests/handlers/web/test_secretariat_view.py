"""What closing makes (a link only for a package, only with the web front on, its token never
stored) and what the secretariat sees of it: `dsr cases show` and the case's Slack message."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from bot.settings import load_settings
from handlers.cli import main
from handlers.runtime import build_desk
from handlers.slack.blocks import build_case_message
from storage.models import DownloadLink
from storage.sealing import generate_key
from tests.factories import T0, inventory_desk, new_case
from tests.handlers.web.site import LATER, download_link, mails


def _public(desk: Desk, url: str = "https://desk.example.nl") -> Desk:
    return Desk(settings=desk.settings.model_copy(update={"public_url": url}), engine=desk.engine)


def _close(desk: Desk, category: str) -> str:
    case = new_case(desk, category=category)
    core.verify_by_hand(desk, reference=case.reference, note="gezien", actor="t", now=T0)
    core.close(
        desk, reference=case.reference, outcome="done", note="n", actor="t", now=LATER, force=True
    )
    return case.reference


def test_only_a_package_case_gets_a_link_and_only_with_the_web_front_on(
    web_desk: Desk,
) -> None:
    _close(web_desk, "access")  # no DSR_PUBLIC_URL
    _close(_public(web_desk), "erasure")
    with web_desk.reading() as session:
        assert session.exec(select(DownloadLink)).all() == []
    for _, message in mails(web_desk, kind="outcome_done"):
        assert "/d/" not in message.as_string()
    _close(_public(web_desk, "http://127.0.0.1:8080"), "portability")
    token = download_link(web_desk).rsplit("/", 1)[1]
    with web_desk.reading() as session:
        rows = session.connection().execute(text("SELECT * FROM download_link")).all()
    assert len(rows) == 1 and token not in repr(rows)  # only its hash is kept


def test_cases_show_says_downloaded_on(
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", db_url)
    monkeypatch.setenv("DSR_DB_AUTO_UPGRADE", "true")
    monkeypatch.setenv("DSR_ENCRYPTION_KEY", generate_key())
    monkeypatch.setenv("DSR_PUBLIC_URL", "https://desk.example.nl")
    desk = inventory_desk(build_desk(load_settings()), tmp_path)
    reference = _close(desk, "access")
    with desk.transaction() as session:
        link = session.exec(select(DownloadLink)).one()
        link.downloads, link.first_download_at = 1, LATER + timedelta(days=1)
        link.last_download_at = link.first_download_at
        session.add(link)
    with pytest.raises(SystemExit):
        main(["cases", "show", reference, "--json"])
    shown = json.loads(capsys.readouterr().out)["download"]
    assert shown["downloads"] == 1 and shown["first_download_at"].startswith("2026-03-06T10:30")
    with pytest.raises(SystemExit):
        main(["cases", "show", reference])
    out = capsys.readouterr().out
    assert "downloaded on 2026-03-06 10:30 (1 of 5)" in out
    case = core.get_case(desk, reference=reference)
    _, blocks = build_case_message(
        case, now=LATER, tz=desk.tz, download="downloaded on 2026-03-06 10:30 (1 of 5)"
    )
    assert "downloaded on 2026-03-06 10:30" in json.dumps(blocks)
