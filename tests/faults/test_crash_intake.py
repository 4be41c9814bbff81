"""Crash during intake: `dsr serve` is SIGKILLed while five senders deliver 1,000 mails.

The senders behave like sending MTAs (retry every mail that got no 250); the service is
restarted on the same SQLite file and Maildir. Afterwards every accepted mail is stored once,
each request has one case and one acknowledgement in the Maildir.

Outbox rows that were claimed when the process died stay leased for `LEASE` (10 minutes); the
test lets that time pass by running one last delivery round with a clock past the lease, which
is what the restarted service does 10 minutes later.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import make_msgid
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.desk import Desk
from handlers.mail.delivery import LEASE, MaildirTransport, OutboxWorker
from handlers.mail.maildir import write_maildir
from handlers.runtime import build_desk, utcnow
from storage.models import Case, Message, OutboxItem
from tests.factories import make_settings
from tests.faults.child import MAILBOX, Child, Tally, child_env, free_port, send_until_accepted

MAILS, SENDERS, KILL_AT = 1000, 5, 400
DRAIN_SECONDS = 180.0


def build(n: int) -> tuple[EmailMessage, bool]:
    """Nine in ten are requests from distinct people; the rest ordinary mail (no case)."""
    request = n % 10 != 9
    mail = EmailMessage()
    mail["From"] = f"Persoon {n} <persoon{n}@example.nl>"
    mail["To"] = MAILBOX
    mail["Message-ID"] = make_msgid(idstring=f"crash{n}", domain="example.nl")
    if request:
        mail["Subject"] = f"Inzageverzoek {n}"
        mail.set_content(
            "Geachte heer/mevrouw,\n\nIk wil graag inzage in mijn persoonsgegevens "
            f"(art. 15 AVG).\n\nMet vriendelijke groet,\nPersoon {n}\n"
        )
    else:
        mail["Subject"] = f"Vergadering donderdag {n}"
        mail.set_content(f"Hoi,\n\nKunnen we donderdag om {n % 24}:00 afspreken?\n\nGroet\n")
    return mail, request


async def deliver_all(child: Child, mails: list[EmailMessage]) -> tuple[Tally, int]:
    tally, up, reached = Tally(), asyncio.Event(), asyncio.Event()
    up.set()
    queue: asyncio.Queue[EmailMessage] = asyncio.Queue()
    for mail in mails:
        queue.put_nowait(mail)

    async def sender() -> None:
        while not queue.empty():
            await send_until_accepted(child.port, queue.get_nowait(), tally, up=up)
            if len(tally.accepted) >= KILL_AT:
                reached.set()

    async def crasher() -> int:
        await asyncio.wait_for(reached.wait(), timeout=600)
        up.clear()
        await asyncio.to_thread(child.kill)
        at_kill = len(tally.accepted)
        await asyncio.to_thread(child.start)
        up.set()
        return at_kill

    *_, at_kill = await asyncio.gather(*(sender() for _ in range(SENDERS)), crasher())
    return tally, int(at_kill)


def wait_for_outbox(desk: Desk, *, restarted: float, timeout: float) -> None:
    """Until the restarted service has sent everything it may send now (bounded)."""
    fresh = utcnow() - timedelta(seconds=time.time() - restarted) + LEASE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with desk.transaction() as session:
            busy = session.exec(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.channel == "mail")
                .where(
                    (OutboxItem.state == "pending")
                    | ((OutboxItem.state == "sending") & (col(OutboxItem.claimed_until) >= fresh))
                )
            ).one()
        if busy == 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"outbox not drained within {timeout}s: {busy} rows left")


def maildir_replies(root: Path) -> Counter[str]:
    parser, replies = BytesHeaderParser(), Counter[str]()
    for path in (root / "new").iterdir():
        headers = parser.parsebytes(path.read_bytes())
        replies[str(headers.get("In-Reply-To", "")).strip()] += 1
    return replies


@pytest.mark.slow
def test_sigkill_during_intake_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    port = free_port()
    child = Child(child_env(tmp_path, port), cwd=tmp_path, log=tmp_path / "serve.log", port=port)
    built = [build(n) for n in range(MAILS)]
    requests = {str(m["Message-ID"]) for m, is_request in built if is_request}
    child.start()
    try:
        tally, at_kill = asyncio.run(deliver_all(child, [m for m, _ in built]))
        restarted = time.time()
        url = f"sqlite:///{tmp_path / 'dsr.db'}"
        desk = build_desk(make_settings(url, tmp_path), migrate=False)  # the service's key
        wait_for_outbox(desk, restarted=restarted, timeout=DRAIN_SECONDS)
    finally:
        code = child.stop()
    assert code == 0, child.tail()
    outbox = tmp_path / "outbox"
    before = len(list((outbox / "new").iterdir()))
    stale = asyncio.run(
        OutboxWorker(
            desk, MaildirTransport(outbox), clock=lambda: utcnow() + LEASE + timedelta(minutes=1)
        ).run_once()
    )

    with desk.transaction() as session:
        stored = Counter(
            session.exec(select(Message.message_id).where(Message.direction == "in")).all()
        )
        request_cases = Counter(
            session.exec(
                select(Message.case_id)
                .where(Message.direction == "in")
                .where(col(Message.message_id).in_(requests))
            ).all()
        )
        cases = session.exec(select(func.count()).select_from(Case)).one()
        states = Counter(
            session.exec(select(OutboxItem.state).where(OutboxItem.channel == "mail")).all()
        )
        kinds = Counter(
            session.exec(select(OutboxItem.kind).where(OutboxItem.channel == "mail")).all()
        )
    desk.engine.dispose()
    replies = maildir_replies(outbox)
    deduped = stale.sent - (sum(replies.values()) - before)
    answers = Counter(tally.accepted.values())
    duplicates = sum(n - 1 for n in stored.values() if n > 1)
    lost = [m for m in tally.accepted if m not in stored]
    acks_doubled = {m: n for m, n in replies.items() if m in requests and n > 1}
    acks_missing = [m for m in requests if replies[m] == 0]
    print(
        f"\ncrash during intake: sent {MAILS} mails ({len(requests)} requests) with {SENDERS} "
        f"senders, {tally.attempts} attempts; SIGKILL after {at_kill} accepted; "
        f"{tally.connection_errors} connection errors, {tally.temporary} 4xx answers; "
        f"accepted {len(tally.accepted)} (answers {dict(answers)}), refused {len(tally.refused)}; "
        f"stored {len(stored)}, duplicates {duplicates}, lost {len(lost)}; cases {cases}; "
        f"outbound queued {sum(states.values())}, delivered {states['sent']} "
        f"({stale.sent} after the lease of the killed process ran out, {deduped} of them "
        f"already in the Maildir and not written again), files "
        f"{sum(replies.values())}, acks duplicated {len(acks_doubled)}, missing "
        f"{len(acks_missing)}; restarts {child.starts - 1}; kinds {dict(kinds)}"
    )
    assert tally.refused == {}
    assert len(tally.accepted) == MAILS
    assert lost == [] and duplicates == 0
    assert set(stored) == {str(m["Message-ID"]) for m, _ in built}
    assert cases == len(requests)
    assert None not in request_cases and set(request_cases.values()) == {1}
    # each request: its acknowledgement and its code in a mail of its own. The child runs on
    # the real clock, so the daily digest (Slack is off) goes once only on a working day past
    # its hour: at most one, whatever the day the test runs.
    digests = kinds.pop("digest", 0)
    assert digests <= 1
    assert kinds == Counter({"auto.ack": len(requests), "identity_code": len(requests)})
    assert set(states) == {"sent"}
    assert acks_missing == []
    assert acks_doubled == {}, f"acknowledged twice: {acks_doubled}"
    assert sum(replies.values()) == 2 * len(requests) + digests
    assert replies[""] == len(requests) + digests  # the codes and the digest answer no mail


def test_the_maildir_writes_a_message_id_once_even_after_a_reader_moved_it(
    tmp_path: Path,
) -> None:
    raw = b"Message-ID: <once@dsr.proambt.nl>\r\nSubject: x\r\n\r\nbody\r\n"
    first = write_maildir(tmp_path, raw)
    assert write_maildir(tmp_path, raw) == first
    read = tmp_path / "cur" / f"{first.name}:2,S"
    first.rename(read)  # a mail client read it
    assert write_maildir(tmp_path, raw) == read
    other = write_maildir(tmp_path, raw.replace(b"once@", b"twice@"))
    no_id = [write_maildir(tmp_path, b"Subject: y\r\n\r\nbody\r\n") for _ in range(2)]
    assert len({read, other, *no_id}) == 4
    assert sorted(p.parent.name for p in (read, other, *no_id)) == ["cur", "new", "new", "new"]
