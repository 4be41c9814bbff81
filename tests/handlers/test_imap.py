"""The IMAP poller against a real Dovecot on loopback (tests/dovecot.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import SQLModel

from handlers.mail.imap import ImapPoller
from handlers.mail.imap_target import ImapTarget, InsecureImapError, require_secure_login
from storage.engine import make_engine, transaction
from storage.imap_cursor import get_cursor, save_cursor
from storage.models import ImapCursor
from tests.dovecot import Dovecot, free_port, running_dovecot

pytestmark = pytest.mark.dovecot

WAIT_SECONDS = 10.0


def mail(n: int, *, take: bool = False, padding: int = 0) -> bytes:
    headers = [
        f"From: persoon{n}@example.nl",
        "To: secretariaat@proambt.nl",
        f"Subject: Inzageverzoek {n}",
        f"Message-ID: <m{n}@example.nl>",
    ]
    if take:
        headers.append("X-Test-Take: yes")
    return ("\r\n".join(headers) + f"\r\n\r\nBody {n}\r\n" + "x" * padding).encode()


def message_ids(raws: list[bytes]) -> list[str]:
    return [m.group(1).decode() for raw in raws if (m := re.search(rb"<(m\d+)@", raw))]


class Intake:
    """The deliver and on_oversize callbacks, recording what they were given."""

    def __init__(self, *, fail_once_on: str | None = None) -> None:
        self.delivered: list[bytes] = []
        self.sources: list[str] = []
        self.oversize: list[tuple[int, int]] = []
        self.attempts: dict[str, int] = {}
        self._fail_once_on = fail_once_on
        self._changed = asyncio.Event()

    async def __call__(self, raw: bytes, *, source: str) -> bool:
        (message_id,) = message_ids([raw])
        self.attempts[message_id] = self.attempts.get(message_id, 0) + 1
        if message_id == self._fail_once_on and self.attempts[message_id] == 1:
            raise ConnectionError("database briefly unavailable")
        self.delivered.append(raw)
        self.sources.append(source)
        self._changed.set()
        return b"X-Test-Take: yes" in raw

    async def on_oversize(self, uid: int, size: int) -> None:
        self.oversize.append((uid, size))

    async def wait_for(self, count: int) -> None:
        while len(self.delivered) < count:
            self._changed.clear()
            await self._changed.wait()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'dsr.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def make_poller(
    dovecot: Dovecot,
    engine: Engine,
    intake: Intake,
    *,
    folder: str = "INBOX",
    url: str = "",
    **options: Any,
) -> ImapPoller:
    settings: dict[str, Any] = {
        "max_message_bytes": 1_000_000,
        "poll_seconds": 300.0,
        "ssl_context": dovecot.ssl_context(),
        **options,
    }
    settings.setdefault("password", dovecot.password)
    return ImapPoller(
        target=ImapTarget.from_url(url or dovecot.url(folder)),
        engine=engine,
        deliver=intake,
        on_oversize=intake.on_oversize,
        **settings,
    )


def cursor(engine: Engine, dovecot: Dovecot, folder: str = "INBOX") -> ImapCursor | None:
    key = ImapTarget.from_url(dovecot.url(folder)).mailbox_key
    with transaction(engine) as session:
        return get_cursor(session=session, mailbox=key)


class _Signal(logging.Handler):
    """Sets an asyncio event, from whichever thread logs, when a record starts with `prefix`."""

    def __init__(self, prefix: str) -> None:
        super().__init__(logging.DEBUG)
        self.prefix = prefix
        self.event = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self.prefix):
            self._loop.call_soon_threadsafe(self.event.set)


@contextlib.contextmanager
def idling() -> Iterator[asyncio.Event]:
    """An event set once the poller's IDLE command is under way on the server."""
    logger = logging.getLogger("handlers.mail.imap")
    signal, level = _Signal("imap: idling"), logger.level
    logger.addHandler(signal)
    logger.setLevel(logging.DEBUG)
    try:
        yield signal.event
    finally:
        logger.removeHandler(signal)
        logger.setLevel(level)


def without_recent(flags: dict[int, frozenset[str]]) -> dict[int, frozenset[str]]:
    return {uid: f - {"\\Recent"} for uid, f in flags.items()}


async def test_new_mails_are_delivered_once_and_the_cursor_saved(
    dovecot: Dovecot, engine: Engine
) -> None:
    for n in (1, 2, 3):
        dovecot.append(mail(n))
    intake = Intake()
    poller = make_poller(dovecot, engine, intake)

    assert await poller.poll_once() == 3
    assert await poller.poll_once() == 0

    assert message_ids(intake.delivered) == ["m1", "m2", "m3"]
    assert intake.delivered[0] == mail(1)
    assert all(source.startswith("imap:INBOX:") for source in intake.sources)
    saved = cursor(engine, dovecot)
    assert saved is not None
    assert saved.last_uid == 3


async def test_a_restarted_poller_delivers_only_mail_that_arrived_since(
    dovecot: Dovecot, engine: Engine
) -> None:
    dovecot.append(mail(1))
    dovecot.append(mail(2))
    first = Intake()
    assert await make_poller(dovecot, engine, first).poll_once() == 2

    second = Intake()
    restarted = make_poller(dovecot, engine, second)
    assert await restarted.poll_once() == 0
    dovecot.append(mail(3))
    dovecot.append(mail(4))
    assert await restarted.poll_once() == 2

    assert message_ids(second.delivered) == ["m3", "m4"]


@pytest.mark.parametrize("move_to", ["", "Handled"])
async def test_flags_are_untouched_and_nothing_is_deleted(
    dovecot: Dovecot, engine: Engine, move_to: str
) -> None:
    dovecot.create_folder("Handled")
    dovecot.append(mail(1), flags="\\Seen")
    dovecot.append(mail(2))
    dovecot.append(mail(3), flags="\\Flagged")
    before = without_recent(dovecot.flags())

    assert await make_poller(dovecot, engine, Intake(), move_to=move_to).poll_once() == 3

    after = without_recent(dovecot.flags())
    assert after == before
    assert after == {1: {"\\Seen"}, 2: frozenset(), 3: {"\\Flagged"}}
    assert dovecot.flags("Handled") == {}


async def test_a_temporary_failure_holds_the_cursor_and_is_retried(
    dovecot: Dovecot, engine: Engine
) -> None:
    for n in (1, 2, 3):
        dovecot.append(mail(n))
    intake = Intake(fail_once_on="m2")
    poller = make_poller(dovecot, engine, intake)

    assert await poller.poll_once() == 1
    saved = cursor(engine, dovecot)
    assert saved is not None
    assert saved.last_uid == 1

    assert await poller.poll_once() == 2
    assert message_ids(intake.delivered) == ["m1", "m2", "m3"]
    assert intake.attempts == {"m1": 1, "m2": 2, "m3": 1}
    saved = cursor(engine, dovecot)
    assert saved is not None
    assert saved.last_uid == 3


async def test_an_oversize_mail_is_reported_not_downloaded_and_does_not_block(
    dovecot: Dovecot, engine: Engine
) -> None:
    dovecot.append(mail(1))
    dovecot.append(mail(2, padding=50_000))
    dovecot.append(mail(3))
    intake = Intake()

    poller = make_poller(dovecot, engine, intake, max_message_bytes=10_000)
    assert await poller.poll_once() == 2

    assert message_ids(intake.delivered) == ["m1", "m3"]
    assert [uid for uid, _ in intake.oversize] == [2]
    assert intake.oversize[0][1] == len(mail(2, padding=50_000))
    saved = cursor(engine, dovecot)
    assert saved is not None
    assert saved.last_uid == 3
    # Dovecot logs the body bytes each session sent: the big mail never left the server.
    sent = sum(int(n) for n in re.findall(r"body_bytes=(\d+)", dovecot.log()))
    assert sent < 10_000


async def test_a_uidvalidity_change_rescans_the_folder(
    dovecot: Dovecot, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.create_folder("Requests")
    dovecot.append(mail(1), folder="Requests")
    dovecot.append(mail(2), folder="Requests")
    intake = Intake()
    poller = make_poller(dovecot, engine, intake, folder="Requests")
    assert await poller.poll_once() == 2
    old = cursor(engine, dovecot, "Requests")
    assert old is not None

    dovecot.delete_folder("Requests")
    dovecot.create_folder("Requests")
    dovecot.append(mail(1), folder="Requests")
    dovecot.append(mail(3), folder="Requests")
    with caplog.at_level(logging.WARNING, logger="handlers.mail.imap"):
        assert await poller.poll_once() == 2

    assert message_ids(intake.delivered) == ["m1", "m2", "m1", "m3"]
    new = cursor(engine, dovecot, "Requests")
    assert new is not None
    assert (new.uidvalidity, new.last_uid) != (old.uidvalidity, old.last_uid)
    assert new.last_uid == 2
    assert "UIDVALIDITY changed" in caplog.text


async def test_a_stale_cursor_row_from_another_uidvalidity_rescans(
    dovecot: Dovecot, engine: Engine
) -> None:
    dovecot.append(mail(1))
    dovecot.append(mail(2))
    key = ImapTarget.from_url(dovecot.url()).mailbox_key
    with transaction(engine) as session:
        save_cursor(session=session, mailbox=key, uidvalidity=1, last_uid=99)
    intake = Intake()

    assert await make_poller(dovecot, engine, intake).poll_once() == 2
    assert message_ids(intake.delivered) == ["m1", "m2"]


async def test_move_to_moves_only_taken_mail(dovecot: Dovecot, engine: Engine) -> None:
    dovecot.create_folder("Handled")
    dovecot.append(mail(1, take=True), flags="\\Seen")
    dovecot.append(mail(2))
    dovecot.append(mail(3, take=True))
    intake = Intake()

    poller = make_poller(dovecot, engine, intake, move_to="Handled")
    assert await poller.poll_once() == 3
    assert await poller.poll_once() == 0

    assert without_recent(dovecot.flags()) == {2: frozenset()}
    moved = without_recent(dovecot.flags("Handled"))
    assert sorted(moved.values(), key=len) == [frozenset(), {"\\Seen"}]
    assert len(intake.delivered) == 3


async def test_idle_wakes_on_new_mail_and_stop_returns_promptly(
    dovecot: Dovecot, engine: Engine
) -> None:
    dovecot.append(mail(1))
    intake = Intake()
    poller = make_poller(dovecot, engine, intake, poll_seconds=600.0)
    task = asyncio.create_task(poller.run())
    try:
        await asyncio.wait_for(intake.wait_for(1), WAIT_SECONDS)
        await asyncio.to_thread(dovecot.append, mail(2))
        # The poll interval is ten minutes: only IDLE can deliver this in time.
        await asyncio.wait_for(intake.wait_for(2), WAIT_SECONDS)
    finally:
        poller.stop()
        await asyncio.wait_for(task, 2.0)
    assert message_ids(intake.delivered) == ["m1", "m2"]


async def test_stop_during_idle_returns_within_five_seconds(
    dovecot: Dovecot, engine: Engine
) -> None:
    poller = make_poller(dovecot, engine, Intake(), poll_seconds=600.0)
    with idling() as idle:
        task = asyncio.create_task(poller.run())
        try:
            await asyncio.wait_for(idle.wait(), WAIT_SECONDS)
        finally:
            poller.stop()
            # The IDLE was issued for up to ten minutes: only its short windows end it in time.
            await asyncio.wait_for(task, 5.0)
    assert task.exception() is None


async def test_mail_that_arrives_during_a_round_is_not_left_for_the_next_poll(
    dovecot: Dovecot, engine: Engine
) -> None:
    class AppendingIntake(Intake):
        async def __call__(self, raw: bytes, *, source: str) -> bool:
            if message_ids([raw]) == ["m1"]:
                await asyncio.to_thread(dovecot.append, mail(2))
            return await super().__call__(raw, source=source)

    dovecot.append(mail(1))
    intake = AppendingIntake()
    poller = make_poller(dovecot, engine, intake, poll_seconds=600.0)
    task = asyncio.create_task(poller.run())
    try:
        # The server reports m2 with the IDLE continuation, before the socket is polled.
        await asyncio.wait_for(intake.wait_for(2), WAIT_SECONDS)
    finally:
        poller.stop()
        await asyncio.wait_for(task, 5.0)
    assert message_ids(intake.delivered) == ["m1", "m2"]


async def test_a_connection_dropped_during_idle_is_reopened(
    dovecot: Dovecot, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    dovecot.append(mail(1))
    intake = Intake()
    poller = make_poller(dovecot, engine, intake, poll_seconds=600.0, backoff_initial=0.01)
    with idling() as idle, caplog.at_level(logging.DEBUG, logger="handlers.mail.imap"):
        task = asyncio.create_task(poller.run())
        try:
            await asyncio.wait_for(idle.wait(), WAIT_SECONDS)
            await asyncio.to_thread(dovecot.kick)
            await asyncio.to_thread(dovecot.append, mail(2))
            await asyncio.wait_for(intake.wait_for(2), WAIT_SECONDS)
        finally:
            poller.stop()
            await asyncio.wait_for(task, 5.0)
    assert message_ids(intake.delivered) == ["m1", "m2"]
    assert "connection failed" in caplog.text


async def test_moving_never_expunges_mail_a_person_marked_deleted(
    dovecot: Dovecot, engine: Engine
) -> None:
    dovecot.create_folder("Handled")
    dovecot.append(mail(1), flags="\\Deleted")  # marked by a person, not yet expunged
    dovecot.append(mail(2, take=True))

    assert await make_poller(dovecot, engine, Intake(), move_to="Handled").poll_once() == 2

    assert without_recent(dovecot.flags()) == {1: {"\\Deleted"}}
    assert list(without_recent(dovecot.flags("Handled")).values()) == [frozenset()]


@pytest.mark.parametrize(
    ("capability", "moved"), [("IMAP4rev1 IDLE UIDPLUS", True), ("IMAP4rev1 IDLE", False)]
)
async def test_without_move_only_our_uid_is_expunged_or_nothing_moves(
    engine: Engine, capability: str, moved: bool
) -> None:
    with running_dovecot(capability=capability) as server:
        dovecot = server.account("nomove")
        dovecot.create_folder("Handled")
        dovecot.append(mail(1), flags="\\Deleted")  # marked by a person, not yet expunged
        dovecot.append(mail(2, take=True))

        poller = make_poller(dovecot, engine, Intake(), move_to="Handled")
        assert await poller.poll_once() == 2

        inbox = without_recent(dovecot.flags())
        handled = without_recent(dovecot.flags("Handled"))
    assert inbox == ({1: {"\\Deleted"}} if moved else {1: {"\\Deleted"}, 2: frozenset()})
    assert list(handled.values()) == ([frozenset()] if moved else [])


async def test_run_retries_connection_errors_with_backoff_until_stopped(
    dovecot: Dovecot, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    closed_port = free_port()  # nothing listens there: every connect is refused
    url = f"imap://{dovecot.user}@127.0.0.1:{closed_port}/INBOX"
    poller = make_poller(dovecot, engine, Intake(), url=url, backoff_initial=0.01, backoff_max=0.04)

    async def retried(times: int) -> None:
        while caplog.text.count("connection failed") < times:
            await asyncio.sleep(0.01)  # polling the log, bounded by wait_for below

    with caplog.at_level(logging.WARNING, logger="handlers.mail.imap"):
        task = asyncio.create_task(poller.run())
        try:
            await asyncio.wait_for(retried(4), WAIT_SECONDS)
        finally:
            poller.stop()
            await asyncio.wait_for(task, 2.0)
    delays = re.findall(r"retrying in ([\d.]+) s", caplog.text)
    assert delays[:4] == ["0.01", "0.02", "0.04", "0.04"]  # doubling, capped
    assert "ConnectionRefusedError" in caplog.text


async def test_tls_logins_are_verified(dovecot: Dovecot, engine: Engine) -> None:
    dovecot.append(mail(1))
    intake = Intake()
    imaps = make_poller(dovecot, engine, intake, url=dovecot.url(scheme="imaps"))
    assert await imaps.poll_once() == 1

    dovecot.append(mail(2))
    starttls = make_poller(dovecot, engine, intake, url=dovecot.url(scheme="imap"))
    assert await starttls.poll_once() == 1
    logins = re.findall(r"Login: user=<.*", dovecot.log())
    assert sum("TLS" in line for line in logins) == 2  # the two pollers; APPEND is plain

    untrusted = make_poller(dovecot, engine, intake, ssl_context=None)
    with pytest.raises(ssl.SSLCertVerificationError):
        await untrusted.poll_once()


def test_plain_login_off_loopback_is_refused() -> None:
    remote = ImapTarget.from_url("imap://desk@mail.example.nl/INBOX")
    with pytest.raises(InsecureImapError, match="without TLS"):
        require_secure_login(target=remote, peer="192.0.2.10", tls_active=False)
    require_secure_login(target=remote, peer="192.0.2.10", tls_active=True)
    for loopback in ("127.0.0.1", "::1", "127.0.1.1"):
        require_secure_login(target=remote, peer=loopback, tls_active=False)


def test_imap_urls_are_parsed_and_bad_ones_refused() -> None:
    assert ImapTarget.from_url("imaps://sec%40proambt.nl@mail.proambt.nl/Verzoeken") == (
        ImapTarget(
            tls="imaps", host="mail.proambt.nl", port=993, user="sec@proambt.nl", folder="Verzoeken"
        )
    )
    plain = ImapTarget.from_url("imap://desk@127.0.0.1")
    assert (plain.tls, plain.port, plain.folder) == ("starttls", 143, "INBOX")
    for bad in (
        "pop3://desk@host/INBOX",
        "imaps://host/INBOX",
        "imaps://desk:secret@host/INBOX",
        "imaps://desk@host:99999/INBOX",
    ):
        with pytest.raises(ValueError, match="IMAP URL"):
            ImapTarget.from_url(bad)
