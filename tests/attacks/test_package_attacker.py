"""Attacks on the answer package and the exports behind it, through the real paths: files
handed in (`dsr tasks done --file`'s path and a Slack file share), checked, sealed, packed
into the ZIP with the cover letter.

Each test names the attack and asserts the safe behaviour. Written by a reviewer who attacked
the package; the ones that got through at first (an XML DOCTYPE behind 4 KB of padding, a
macro project under another part name, an xlsx zip bomb) are fixed in bot/export_check.py.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import select

from bot import export_check
from bot import tasks as work
from bot.desk import Desk
from bot.export_check import ExportFile, ExportRefused, check_export
from bot.package import build_package
from storage.models import TaskExport
from tests.bot.test_package import LATER, answer_all, inv_desk, verified_case
from tests.factories import inventory_desk, make_settings
from tests.handlers.slack.conftest import clock, slack, stub
from tests.handlers.slack.harness import CHANNEL, SECRET, Harness
from tests.handlers.slack.test_exports import CSV, OWNER, crm_task, share, stored
from tests.handlers.slack.test_exports import verified_case as slack_case
from tests.slack_stub import SlackStub

__all__ = ["clock", "inv_desk", "slack", "stub"]  # fixtures used below
LIMIT = 20_000_000


@pytest.fixture
def slack_desk(engine: Engine, db_url: str, tmp_path: Path, stub: SlackStub) -> Desk:
    """The Slack test desk (tests/handlers/slack/conftest.py) with the example inventory."""
    settings = make_settings(
        db_url,
        tmp_path,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=stub.api_url,
        slack_channel=CHANNEL,
    )
    return inventory_desk(Desk(settings=settings, engine=engine), tmp_path)


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def office(kind: str, parts: dict[str, bytes], types: str = "<Types/>") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("xl/workbook.xml" if kind == "xlsx" else "word/document.xml", "<x/>")
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- names -----------------------------------------------------------------------------------


HOSTILE_NAMES = [
    "../../../../etc/cron.d/evil.csv",
    "..\\..\\Windows\\System32\\evil.csv",
    "C:\\evil.csv",
    "/etc/passwd.csv",
    "crm/../../x.csv",
    "\u202egnp.csv",  # right-to-left override
    "con.csv",
    "a" * 300 + ".csv",
    "%2e%2e%2fescape.csv",
    "line\r\nbreak.csv",
]


def test_zip_slip_through_export_names_stays_in_the_system_folder(inv_desk: Desk) -> None:
    """An export named to climb out of the ZIP (or to a drive, or with control characters)
    lands as a plain name inside its system's folder."""
    reference = verified_case(inv_desk)
    files = [ExportFile(name, f"n;{i}\n".encode()) for i, name in enumerate(HOSTILE_NAMES)]
    answer_all(inv_desk, reference, crm=files)
    names = list(read_zip(build_package(inv_desk, reference, now=LATER)))
    exports = [n for n in names if "/" in n]
    assert len(exports) == len(HOSTILE_NAMES)
    for name in names:
        parts = name.split("/")
        assert not name.startswith("/") and ".." not in parts and "." not in parts
        assert not any(c in name for c in "\\:\r\n\u202e")
        assert len(parts) <= 2
    assert all(n.startswith("crm/") for n in exports)


def test_html_in_a_file_name_does_not_reach_the_cover_letter_as_markup(inv_desk: Desk) -> None:
    """The HTML letter in the ZIP lists the files: a name carrying markup is plain text."""
    reference = verified_case(inv_desk)
    hostile = ExportFile('<img src=x onerror="alert(1)"><script>x</script>.csv', b"a;b\n")
    answer_all(inv_desk, reference, crm=[hostile])
    files = read_zip(build_package(inv_desk, reference, now=LATER))
    letter = files["brief.html"].decode()
    assert "crm/" in letter
    assert "<img" not in letter and "<script" not in letter and "onerror=" not in letter


# --- contents --------------------------------------------------------------------------------


def _refused(name: str, data: bytes) -> str:
    with pytest.raises(ExportRefused) as caught:
        check_export(ExportFile(name, data), max_bytes=LIMIT)
    return str(caught.value)


def test_an_xml_doctype_behind_padding_is_refused() -> None:
    """XXE / billion laughs for the requester's XML reader: the DOCTYPE may follow any amount
    of comment, so only the first 4 KB were looked at before the fix."""
    entity = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    padded = b'<?xml version="1.0"?>\n<!--' + b"x" * 5000 + b"-->\n" + entity
    assert "DOCTYPE" in _refused("relatie.xml", padded)
    assert "DOCTYPE" in _refused("relatie.xml", b"<?xml version='1.0'?>" + entity)


def test_a_macro_project_under_another_name_is_refused() -> None:
    """A VBA project is found by its content type, not only by the usual part name."""
    types = (
        '<Types><Override PartName="/word/data.bin" '
        'ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    renamed = office("docx", {"word/data.bin": b"\xd0\xcf\x11\xe0macro"}, types)
    assert "macro" in _refused("brief.docx", renamed)
    enabled = office(
        "xlsx",
        {},
        '<Types><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>',
    )
    assert "macro" in _refused("lijst.xlsx", enabled)
    assert "macro" in _refused("lijst.xlsx", office("xlsx", {"xl/vbaProject.bin": b"m"}))


def test_an_xlsx_zip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A small xlsx that unpacks to far more than any export (the requester's spreadsheet
    program would choke on it); the bytes are counted as they unpack (the limit is lowered
    here to keep the test quick)."""
    monkeypatch.setattr(export_check, "OFFICE_MAX_UNPACKED", 8_000_000)
    bomb = office("xlsx", {"xl/worksheets/sheet1.xml": b"<c/>" * 2_500_000})
    assert len(bomb) < 100_000
    assert "unpack" in _refused("lijst.xlsx", bomb)
    fine = office("xlsx", {"xl/worksheets/sheet1.xml": b"<c/>" * 1_000_000})
    assert check_export(ExportFile("lijst.xlsx", fine), max_bytes=LIMIT).kind == "xlsx"


def test_a_pdf_that_runs_script_or_carries_a_file_is_refused() -> None:
    """The PDF reader's macros: JavaScript (also spelled with name escapes), a launch action,
    an embedded file."""
    for body in (
        b"1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj",
        b"1 0 obj << /OpenAction << /S /J#61vaScript /J#53 (x) >> >> endobj",
        b"1 0 obj << /S /Launch /F (cmd.exe) >> endobj",
        b"1 0 obj << /Names << /EmbeddedFiles 2 0 R >> >> endobj",
    ):
        assert "active content" in _refused("factuur.pdf", b"%PDF-1.7\n" + body)
    plain = b"%PDF-1.7\n1 0 obj << /Type /Catalog /JSON (no) >> endobj"
    assert check_export(ExportFile("factuur.pdf", plain), max_bytes=LIMIT).kind == "pdf"


def test_a_polyglot_passes_only_as_the_type_its_extension_names() -> None:
    """An executable or HTML page dressed as a PDF or image is refused; a PDF that also holds
    HTML is kept as a .pdf (the requester's PDF reader opens it, never a browser)."""
    assert "%PDF-" in _refused("factuur.pdf", b"MZ\x90\x00" + b"%PDF-1.7")
    assert "PNG" in _refused("foto.png", b"<html><script>alert(1)</script>")
    assert "not accepted" in _refused("pagina.html", b"<html></html>")
    assert "not accepted" in _refused("factuur.pdf.exe", b"%PDF-1.7")
    assert "not accepted" in _refused("factuur.zip", b"PK\x03\x04")
    assert "binary" in _refused("notitie.txt", b"MZ\x90\x00\x03\x00\x00\x00")
    kept = check_export(ExportFile("factuur.pdf", b"%PDF-1.7\n<html>x</html>"), max_bytes=LIMIT)
    assert kept.kind == "pdf" and kept.name == "factuur.pdf"


# --- Slack file shares -----------------------------------------------------------------------


class Catcher:
    """A web server that is not Slack: records every request (and its Authorization)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.headers.get("Authorization", ""))
        return web.Response(body=CSV)


@pytest.fixture
async def catcher() -> AsyncIterator[Catcher]:
    found = Catcher()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", found.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield found
    await runner.cleanup()


async def test_a_url_private_pointing_elsewhere_never_gets_the_bot_token(
    slack: Harness, catcher: Catcher
) -> None:
    """SSRF / token theft: the event names a file address that is not Slack's."""
    reference, thread = await slack_case(slack)
    host = catcher.url.removeprefix("http://")
    for number, url in enumerate(
        [
            f"{catcher.url}/files/F1/x.csv",
            f"https://files.slack.com@{host}/x.csv",
            f"http://files.slack.com.{host}/x.csv",
            "file:///etc/passwd",
        ]
    ):
        file: dict[str, Any] = {"id": f"FX{number}", "name": "x.csv", "size": len(CSV)}
        file["url_private_download"] = file["url_private"] = url
        reply = await share(slack, [file], thread_ts=thread, event_id=f"EvSsrf{number}")
        assert "not a Slack file address" in reply and "niets opgeslagen" in reply
    assert catcher.seen == [] and slack.stub.downloads == []
    assert stored(slack) == [] and crm_task(slack, reference).state == "open"


async def test_a_share_in_another_channel_with_the_case_threads_ts_is_refused(
    slack: Harness,
) -> None:
    """The thread is named by channel and ts together: the case's ts in another channel (a DM
    with the bot, a channel the attacker runs) is not the case's thread."""
    _reference, thread = await slack_case(slack)
    file = slack.stub.add_file("relatie.csv", CSV)
    before = len(slack.stub.ok_calls("chat.postMessage"))
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "C0ATTACKER",
        "user": OWNER,
        "ts": "1700000400.000001",
        "thread_ts": thread,
        "text": "export",
        "files": [file],
    }
    assert CHANNEL != "C0ATTACKER"
    body = slack.event_body(event, event_id="EvOtherChannel")
    assert await slack.post(body, content_type="application/json") == 200
    await slack.stub.wait_for(lambda s: len(s.ok_calls("chat.postMessage")) > before)
    assert (
        "only taken in a case's thread" in slack.stub.ok_calls("chat.postMessage")[-1].args["text"]
    )
    assert stored(slack) == [] and slack.stub.downloads == []


async def test_a_redelivered_or_repeated_share_stores_the_file_once(slack: Harness) -> None:
    """Slack's retry (same event id) is acted on once; the same file shared again under a new
    event id is recognised by its SHA-256 and not stored twice."""
    reference, thread = await slack_case(slack)
    file = slack.stub.add_file("relatie.csv", CSV)
    await share(slack, [file], thread_ts=thread, event_id="EvDup")
    body = slack.event_body(
        {"type": "message", "subtype": "file_share", "channel": CHANNEL, "user": OWNER,
         "ts": "1700000500.000001", "thread_ts": thread, "files": [file]},
        event_id="EvDup",
    )  # fmt: skip
    assert await slack.post(body, content_type="application/json") == 200
    again = slack.stub.add_file("relatie kopie.csv", CSV)
    await share(slack, [again], thread_ts=thread, event_id="EvDup2")
    with slack.desk.reading() as session:
        rows = session.exec(select(TaskExport)).all()
    assert len(rows) == 1
    assert len(slack.audit("export_stored")) == 1
    assert work.list_tasks(slack.desk, reference=reference)
