"""Delivery workers are woken by the commit that queues mail, not by their next look: in the
process through the desk, across instances on PostgreSQL through LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.desk import Desk
from handlers.mail.delivery import outbox_worker
from handlers.outbox_wake import announced, libpq_url, outbox_listener
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.outbox import add_item
from tests.factories import T0, make_settings

# Far longer than any test may take: a test that passes did not wait for the next look.
NEVER = 3600.0
BOUND = 20.0  # upper bound on waiting for an event that should come at once


def queue_mail(desk: Desk, to: str, *, key: str = "wake-1", channel: str = "mail") -> bool:
    """One mail row queued and committed, as every queued mail is (storage.outbox.add_item);
    False when the dedupe key was queued before."""
    with desk.transaction() as session:
        return queue_row(session, to, key=key, channel=channel)


def queue_row(session: Any, to: str, *, key: str, channel: str = "mail") -> bool:
    row = {
        "channel": channel,
        "kind": "test",
        "dedupe_key": key,
        "recipient": to,
        "payload": b"Subject: test\r\n\r\ntest\r\n",
        "created_at": T0,
        "next_attempt_at": T0,
    }
    return add_item(session=session, row=row)


class FakeTransport:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.arrived = asyncio.Event()

    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        self.sent.append(recipient)
        self.arrived.set()


def test_the_desk_tells_after_a_commit_that_queued_mail(desk: Desk) -> None:
    seen: list[frozenset[str]] = []
    desk.outbox_queued.subscribe(seen.append)
    with desk.transaction():
        pass
    with pytest.raises(RuntimeError), desk.transaction() as session:
        queue_row(session, "an@example.nl", key="rolled-back")
        raise RuntimeError("rolled back: nothing was queued")
    assert seen == []
    assert queue_mail(desk, "jan.jansen@example.nl")
    assert seen == [frozenset({"mail"})]
    assert not queue_mail(desk, "jan.jansen@example.nl")  # the same dedupe key: not queued
    assert seen == [frozenset({"mail"})]


def test_a_removed_listener_hears_nothing(desk: Desk) -> None:
    seen: list[frozenset[str]] = []
    unsubscribe = desk.outbox_queued.subscribe(seen.append)
    unsubscribe()
    queue_mail(desk, "jan.jansen@example.nl")
    assert seen == []


async def test_queued_mail_is_delivered_without_waiting_for_the_next_look(desk: Desk) -> None:
    transport = FakeTransport()
    loop = asyncio.get_running_loop()
    looked = asyncio.Event()

    def on_commit(_connection: Any) -> None:
        loop.call_soon_threadsafe(looked.set)

    # The worker's first round ends with a commit; the mail is queued only after it, so the
    # worker has already looked and found nothing, and waits for its next look (an hour).
    event.listen(desk.engine, "commit", on_commit)
    stop = asyncio.Event()
    task = asyncio.create_task(
        outbox_worker(desk, transport=transport, wake_seconds=NEVER).run(stop)
    )
    try:
        await asyncio.wait_for(looked.wait(), BOUND)
        event.remove(desk.engine, "commit", on_commit)
        assert transport.sent == []
        queue_mail(desk, "jan.jansen@example.nl")
        await asyncio.wait_for(transport.arrived.wait(), BOUND)
        assert transport.sent == ["jan.jansen@example.nl"]
    finally:
        stop.set()
        await asyncio.wait_for(task, BOUND)


@pytest.mark.postgres
async def test_another_instance_hears_of_queued_mail_through_notify(
    postgres_url: str, tmp_path: Path
) -> None:
    engines = [make_engine(postgres_url), make_engine(postgres_url)]
    upgrade(engines[0])
    settings = make_settings(postgres_url, tmp_path)
    here, there = (Desk(settings=settings, engine=engine) for engine in engines)
    loop = asyncio.get_running_loop()
    heard = asyncio.Event()
    seen: list[frozenset[str]] = []

    def record(channels: frozenset[str]) -> None:
        # On (re)connecting the listener wakes every worker once ({"mail", "slack"}); the
        # NOTIFY of the other instance's commit names the mail channel alone.
        seen.append(channels)
        if channels == {"mail"}:
            loop.call_soon_threadsafe(heard.set)

    there.outbox_queued.subscribe(record)
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(outbox_listener(there, ready=ready).run(stop))
    try:
        await asyncio.wait_for(ready.wait(), BOUND)
        assert seen[0] == {"mail", "slack"}
        await asyncio.to_thread(queue_mail, here, "jan.jansen@example.nl")
        await asyncio.wait_for(heard.wait(), BOUND)
    finally:
        stop.set()
        await asyncio.wait_for(task, BOUND)
        for engine in engines:
            engine.dispose()


def test_a_notification_wakes_for_the_channels_it_names_unless_it_is_our_own() -> None:
    # Tested as a function: the test database is shared, so a live listener also hears
    # the notifications of tests running beside this one.
    assert announced("a1b2 mail,slack", own="c3d4") == {"mail", "slack"}
    assert announced("a1b2 slack", own="c3d4") == {"slack"}
    assert announced("c3d4 mail", own="c3d4") == frozenset()
    assert announced("a1b2 mail,fax", own="c3d4") == {"mail"}
    assert announced("something else", own="c3d4") == frozenset()


def test_the_listener_connects_with_libpq_s_form_of_the_url() -> None:
    url = "postgresql+psycopg://dsr:p%40ss@db.internal:5433/dsr?options=-csearch_path%3Dx"
    assert libpq_url(url) == (
        "postgresql://dsr:p%40ss@db.internal:5433/dsr?options=-csearch_path%3Dx"
    )
