"""The web front on a real loopback socket, a case closed with a real package, and the mails
read back from the stored outbox."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiohttp import web
from sqlmodel import col, select

from bot import cases as core
from bot import tasks as work
from bot.desk import Desk
from bot.downloads import Packager
from bot.export_check import ExportFile
from handlers.web.app import build_app, package_builder
from handlers.web.background import TASKS
from storage.models import Case, OutboxItem
from tests.factories import T0, new_case

LATER = T0 + timedelta(days=3)
CSV = ExportFile("relatie Jan Jansen.csv", b"naam;e-mail\nJan Jansen;jan@example.nl\n")
PDF = ExportFile("facturen.pdf", b"%PDF-1.7\nJan Jansen factuur")
LINK = re.compile(r"http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_-]{43}")
CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


class Clock:
    """The web front's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class Site:
    desk: Desk
    clock: Clock
    url: str
    app: web.Application

    async def settle(self) -> None:
        """Wait for the work the pages left for after their answers (the status code mail)."""
        await asyncio.gather(*self.app[TASKS])

    async def code(self) -> tuple[str, str]:
        """(recipient, code) of the newest code mail, once the pages' work is done."""
        await self.settle()
        return latest_code(self.desk)


@asynccontextmanager
async def running_site(
    desk: Desk, clock: Clock, *, packager: Packager = package_builder
) -> AsyncIterator[Site]:
    """The app on 127.0.0.1 at a free port; the desk it gets knows that port as its public URL
    (the links in the mails point there)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    public = Desk(settings=desk.settings.model_copy(update={"public_url": url}), engine=desk.engine)
    app = build_app(public, clock=clock, packager=packager)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield Site(desk=public, clock=clock, url=url, app=app)
    finally:
        await runner.cleanup()


def closed_access_case(
    desk: Desk,
    *,
    language: str = "nl",
    requester: str = "jan.jansen@example.nl",
    case: Case | None = None,
) -> str:
    """A verified access case (new, or `case`) whose systems answered (crm and financien with
    files), closed as done at LATER: its outcome mail carries the download link."""
    case = case or new_case(desk, language=language, requester=requester)
    core.verify_by_hand(desk, reference=case.reference, note="paspoort gezien", actor="t", now=T0)
    files = {"crm": [CSV], "financien": [PDF]}
    results = {"crm": "exported", "financien": "exported", "groep": "found"}
    for row in work.list_tasks(desk, reference=case.reference):
        system = row.task.system
        work.task_done(
            desk,
            task_id=row.task.id or 0,
            result=results.get(system, "nothing_found"),
            note=None,
            actor="cli:anna",
            now=LATER,
            files=files.get(system, []),
        )
    core.close(desk, reference=case.reference, outcome="done", note="klaar", actor="t", now=LATER)
    return case.reference


def mails(desk: Desk, *, kind: str | None = None) -> list[tuple[str, EmailMessage]]:
    """Queued mails (recipient, message), oldest first."""
    with desk.reading() as session:
        statement = select(OutboxItem).where(OutboxItem.channel == "mail")
        if kind is not None:
            statement = statement.where(col(OutboxItem.kind).in_([kind, f"auto.{kind}"]))
        rows = session.exec(statement.order_by(col(OutboxItem.id))).all()
    out = []
    for row in rows:
        message = message_from_bytes(row.payload, policy=policy.default)
        assert isinstance(message, EmailMessage)
        out.append((row.recipient, message))
    return out


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def download_link(desk: Desk) -> str:
    found = LINK.findall(text_of(mails(desk, kind="outcome_done")[-1][1]))
    assert len(found) == 1
    return str(found[0])


def latest_code(desk: Desk) -> tuple[str, str]:
    """(recipient, code) of the newest web code mail."""
    to, message = mails(desk, kind="web_code")[-1]
    found = CODE.findall(text_of(message))
    assert len(found) == 1
    return to, str(found[0])


def case_of(desk: Desk, reference: str) -> Case:
    return core.get_case(desk, reference=reference)
