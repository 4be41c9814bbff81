"""IMAP into the real intake: a Dovecot mailbox shared with people, through process_message."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.desk import Desk
from handlers.mail.imap_service import build_poller, imap_poller
from storage.models import Case, Message
from tests.dovecot import Dovecot
from tests.factories import T0
from tests.mailbuilder import build_mail

pytestmark = pytest.mark.dovecot


async def test_requests_in_the_shared_mailbox_become_cases_once(
    dovecot: Dovecot, desk: Desk
) -> None:
    settings = desk.settings.model_copy(
        update={"imap_url": dovecot.url(), "imap_password": SecretStr(dovecot.password)}
    )
    imap_desk = Desk(settings=settings, engine=desk.engine)
    dovecot.append(build_mail())
    dovecot.append(build_mail(subject="Afspraak", body="Kunnen we dinsdag om 10 uur bellen?"))
    poller = build_poller(imap_desk, clock=lambda: T0, ssl_context=dovecot.ssl_context())
    assert await poller.poll_once() == 2
    assert (
        await build_poller(
            imap_desk, clock=lambda: T0, ssl_context=dovecot.ssl_context()
        ).poll_once()
        == 0
    )
    with desk.transaction() as session:
        cases = session.exec(select(Case)).all()
        messages = session.exec(select(Message).where(Message.direction == "in")).all()
    assert len(cases) == 1 and cases[0].category == "access"
    assert sorted(m.action for m in messages) == ["created", "ignored"]
    assert all(flags == frozenset() or flags == {"\\Recent"} for flags in dovecot.flags().values())


async def test_the_imap_subsystem_ends_at_once_when_the_poller_fails(
    dovecot: Dovecot, desk: Desk
) -> None:
    settings = desk.settings.model_copy(
        update={"imap_url": dovecot.url(), "imap_password": SecretStr(dovecot.password)}
    )
    imap_desk = Desk(settings=settings, engine=desk.engine)
    dovecot.append(build_mail())
    with desk.engine.begin() as connection:  # a failure of ours, not of the connection
        connection.execute(text("DROP TABLE imap_cursor"))
    subsystem = imap_poller(imap_desk, clock=lambda: T0, ssl_context=dovecot.ssl_context())

    # `stop` is never set: the subsystem must end by itself, carrying the poller's error.
    with pytest.raises(DBAPIError):
        await asyncio.wait_for(subsystem.run(asyncio.Event()), 10.0)
