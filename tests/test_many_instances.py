"""Three `dsr serve` processes on one PostgreSQL, one shared IMAP mailbox, SMTP load spread
over their three listeners, one of them SIGKILLed mid-run.

Afterwards every mail is stored once, every request has one case, one acknowledgement and one
code (queued once, written once into the shared Maildir), every reminder is recorded, queued
and posted once, and every case message and thread note is posted to Slack once. Rows the
killed instance had claimed stay leased for `LEASE` (10 minutes); the test lets that time pass
by running one last mail and Slack round with a clock past the lease, which is what the
survivors do 10 minutes later.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.desk import Desk
from handlers.mail.delivery import LEASE, MaildirTransport, OutboxWorker
from handlers.runtime import build_desk, utcnow
from handlers.slack.app import build_deps
from handlers.slack.delivery import SlackDelivery
from storage.migrate import upgrade
from storage.models import Case, Message, OutboxItem, ReminderSent
from tests.dovecot import running_dovecot
from tests.factories import make_settings, new_case
from tests.faults.child import MAILBOX, Child, child_env, free_port
from tests.slack_stub import SlackStub

pytestmark = [pytest.mark.postgres, pytest.mark.dovecot, pytest.mark.slow]

INSTANCES, SMTP_MAILS, IMAP_MAILS, OLD_CASES, SENDERS = 3, 90, 24, 12, 6
KILL_AT = SMTP_MAILS // 2
CHANNEL = "C0DESK"
REFERENCE = re.compile(r"DSR-\d{4}-\d{4,}")
DRAIN_SECONDS = 40.0


def build(n: int, *, via: str) -> tuple[EmailMessage, bool]:
    """Four in five are requests from distinct people; the rest ordinary mail."""
    request = n % 5 != 4
    mail = EmailMessage()
    mail["From"] = f"Persoon {via}{n} <{via}{n}@example.nl>"
    mail["To"] = MAILBOX
    mail["Message-ID"] = make_msgid(idstring=f"many-{via}{n}", domain="example.nl")
    if request:
        mail["Subject"] = f"Inzageverzoek {via}{n}"
        mail.set_content(
            "Geachte heer/mevrouw,\n\nIk wil graag inzage in mijn persoonsgegevens "
            f"(art. 15 AVG).\n\nMet vriendelijke groet,\nPersoon {n}\n"
        )
    else:
        mail["Subject"] = f"Vergadering donderdag {via}{n}"
        mail.set_content(f"Hoi,\n\nKunnen we donderdag om {n % 24}:00 afspreken?\n\nGroet\n")
    return mail, request


@dataclass
class Spread:
    """Senders that spread mail over the listeners and fail over like an MTA with 3 MXs."""

    ports: list[int]
    accepted: dict[str, int] = field(default_factory=dict)  # Message-ID -> listener index
    attempts: int = 0
    failovers: int = 0

    async def send(self, n: int, mail: EmailMessage) -> None:
        for attempt in range(60):
            index = (n + attempt) % len(self.ports)
            self.attempts += 1
            try:
                await aiosmtplib.send(
                    mail,
                    hostname="127.0.0.1",
                    port=self.ports[index],
                    sender=str(mail["From"]).rpartition("<")[2].rstrip(">"),
                    recipients=[MAILBOX],
                    timeout=30,
                )
            except aiosmtplib.SMTPResponseException as exc:
                assert exc.code < 500, f"refused: {exc.code} {exc.message}"
            except (aiosmtplib.SMTPException, OSError):
                self.failovers += 1
            else:
                self.accepted[str(mail["Message-ID"])] = index
                return
        raise AssertionError(f"{mail['Message-ID']} not accepted")


async def deliver(spread: Spread, mails: list[EmailMessage], victim: Child) -> int:
    queue: asyncio.Queue[tuple[int, EmailMessage]] = asyncio.Queue()
    for item in enumerate(mails):
        queue.put_nowait(item)
    reached = asyncio.Event()

    async def sender() -> None:
        while not queue.empty():
            await spread.send(*queue.get_nowait())
            if len(spread.accepted) >= KILL_AT:
                reached.set()

    async def killer() -> int:
        await reached.wait()
        await asyncio.to_thread(victim.kill)
        return len(spread.accepted)

    *_, at_kill = await asyncio.gather(*(sender() for _ in range(SENDERS)), killer())
    return int(at_kill)


def seed_old_cases(desk: Desk) -> None:
    """Cases received weeks ago: the first sweep owes them deadline and identity reminders."""
    now = utcnow()
    for n in range(OLD_CASES):
        new_case(desk, requester=f"oud{n}@example.nl", received_at=now - timedelta(days=3 * n + 5))


def outbox_busy(desk: Desk, *, fresh_after: datetime) -> int:
    """Rows a live instance may still send now: pending or claimed after the kill, except
    those queued behind a row of the same case and channel that waits out the killed
    instance's lease (delivery keeps the order per case)."""
    with desk.transaction() as session:
        rows = session.exec(
            select(
                OutboxItem.channel, OutboxItem.case_id, OutboxItem.state, OutboxItem.claimed_until
            ).where(col(OutboxItem.state).in_(["pending", "sending"]))
        ).all()
    stale = {
        (channel, case)
        for channel, case, state, until in rows
        if state == "sending" and until and until < fresh_after
    }
    return sum(
        1
        for channel, case, state, until in rows
        if (state == "pending" or (until and until >= fresh_after))
        and (case is None or (channel, case) not in stale)
    )


def in_flight_slack(desk: Desk) -> set[int]:
    """Cases whose Slack row the killed instance had claimed: it may have posted it already."""
    with desk.transaction() as session:
        return {
            case
            for case in session.exec(
                select(OutboxItem.case_id)
                .where(OutboxItem.channel == "slack")
                .where(OutboxItem.state == "sending")
            ).all()
            if case is not None
        }


def wait_until_drained(desk: Desk, *, expected_messages: int, killed_at: float) -> None:
    """Every mail stored and every row sent that a live instance may send now (bounded)."""
    fresh_after = utcnow() - timedelta(seconds=time.time() - killed_at) + LEASE
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        with desk.transaction() as session:
            stored = session.exec(
                select(func.count()).select_from(Message).where(Message.direction == "in")
            ).one()
        if stored >= expected_messages and outbox_busy(desk, fresh_after=fresh_after) == 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"not drained within {DRAIN_SECONDS}s")


def maildir_replies(root: Path) -> Counter[str]:
    parser, replies = BytesHeaderParser(), Counter[str]()
    for path in (root / "new").iterdir():
        headers = parser.parsebytes(path.read_bytes())
        replies[str(headers.get("In-Reply-To", "")).strip()] += 1
    return replies


def case_of_post(args: dict[str, Any]) -> str | None:
    """The reference in a case message's header block; None for other posts (the digest)."""
    blocks = args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    headers = [b["text"]["text"] for b in blocks if b.get("type") == "header"]
    found = REFERENCE.match(headers[0]) if headers else None
    return found.group(0) if found else None


async def finish_after_lease(desk: Desk, outbox: Path) -> tuple[int, int]:
    """What the survivors do once the killed instance's leases have run out."""
    late = utcnow() + LEASE + timedelta(minutes=1)
    mail = await OutboxWorker(desk, MaildirTransport(outbox), clock=lambda: late).run_once()
    slack = SlackDelivery(build_deps(desk, clock=lambda: late))
    posted = 0
    while handled := await slack.deliver_due():
        posted += handled
    return mail.sent, posted


async def test_three_instances_one_killed_do_everything_once(
    postgres_url: str, tmp_path: Path
) -> None:
    stub = SlackStub()
    await stub.start()
    audit_key = secrets.token_hex(32)
    outbox = tmp_path / "outbox"
    settings = make_settings(
        postgres_url,
        tmp_path,
        audit_key=audit_key,
        outbox_dir=str(outbox),
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        slack_api_url=stub.api_url,
        slack_channel=CHANNEL,
    )
    desk = build_desk(settings, migrate=False)
    upgrade(desk.engine)
    seed_old_cases(desk)
    smtp_built = [build(n, via="smtp") for n in range(SMTP_MAILS)]
    imap_built = [build(n, via="imap") for n in range(IMAP_MAILS)]
    requests = {str(m["Message-ID"]) for m, is_request in smtp_built + imap_built if is_request}
    everything = {str(m["Message-ID"]) for m, _ in smtp_built + imap_built}

    with running_dovecot(tls=False) as server:
        account = server.account("secretariaat")
        for mail, _ in imap_built:
            account.append(bytes(mail))
        ports = [free_port() for _ in range(INSTANCES)]
        children = []
        for n, port in enumerate(ports):
            env = child_env(
                tmp_path,
                port,
                DSR_DATABASE_URL=postgres_url,
                DSR_VAR_DIR=str(tmp_path / f"var{n}"),
                DSR_AUDIT_KEY=audit_key,
                DSR_IMAP_URL=account.url(),
                DSR_IMAP_PASSWORD=account.password,
                DSR_IMAP_POLL_SECONDS="1",
                DSR_SCHEDULER_INTERVAL_SECONDS="1",
                DSR_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
                DSR_WEB_LISTEN="",
                DSR_SLACK_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
                SLACK_BOT_TOKEN="xoxb-test",
                SLACK_SIGNING_SECRET="secret",
                DSR_SLACK_API_URL=stub.api_url,
                DSR_SLACK_CHANNEL=CHANNEL,
            )
            children.append(Child(env, cwd=tmp_path, log=tmp_path / f"serve{n}.log", port=port))
        started = time.monotonic()
        try:
            await asyncio.gather(*(asyncio.to_thread(child.start) for child in children))
            up = time.monotonic()
            spread = Spread(ports)
            at_kill = await deliver(spread, [m for m, _ in smtp_built], children[1])
            killed_at = time.time()
            await asyncio.to_thread(
                wait_until_drained, desk, expected_messages=len(everything), killed_at=killed_at
            )
            drained = time.monotonic()
        finally:
            codes = [child.stop() for child in children]
    in_flight = in_flight_slack(desk)
    late_mail, late_slack = await finish_after_lease(desk, outbox)
    await stub.stop()

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
        cases = session.exec(select(Case)).all()
        rows = session.exec(select(OutboxItem)).all()
        recorded = Counter((r.case_id, r.step) for r in session.exec(select(ReminderSent)))
    desk.engine.dispose()
    references = {case.id: case.reference for case in cases}
    kinds = Counter(row.kind for row in rows)
    states = Counter(row.state for row in rows)
    acks = Counter(row.case_id for row in rows if row.kind == "auto.ack")
    reminder_rows = Counter(
        (row.case_id, json.loads(row.payload)["step"]) for row in rows if row.kind == "reminder"
    )
    replies = maildir_replies(outbox)
    posts = stub.ok_calls("chat.postMessage")
    posted_cases = {references[r.case_id] for r in rows if r.channel == "slack" and r.case_id}
    case_posts = [call.args for call in posts if not call.args.get("thread_ts")]
    top_level = Counter(ref for args in case_posts if (ref := case_of_post(args)))
    doubled = {ref for ref, n in top_level.items() if n > 1}
    notes = Counter(  # by the outbox row each thread note names in its metadata
        ((call.args.get("metadata") or {}).get("event_payload") or {}).get("outbox")
        for call in posts
        if call.args.get("thread_ts")
    )
    notes_doubled = sum(n - 1 for n in notes.values())
    (tmp_path / "posts.json").write_text(json.dumps([c.args for c in posts], default=str))
    duplicates = sum(n - 1 for n in stored.values() if n > 1)
    audit = subprocess.run(
        [sys.executable, "-m", "handlers.cli", "audit", "verify"],
        cwd=tmp_path,
        env={**children[0].env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    print(
        f"\nmany instances: {INSTANCES} dsr serve on one PostgreSQL, started in "
        f"{up - started:.1f}s; {SMTP_MAILS} mails by SMTP over {INSTANCES} listeners "
        f"({SENDERS} senders, {spread.attempts} attempts, {spread.failovers} failed over), "
        f"{IMAP_MAILS} in the shared IMAP mailbox, {OLD_CASES} old cases; instance 2 SIGKILLed "
        f"after {at_kill} accepted; all stored and sent in {drained - up:.1f}s; stored "
        f"{len(stored)}, duplicates {duplicates}; cases {len(cases)}; acknowledgements "
        f"{sum(acks.values())} for {len(requests)} requests, Maildir files {sum(replies.values())}"
        f"; reminders {sum(recorded.values())} recorded, {sum(reminder_rows.values())} queued; "
        f"Slack posts {len(posts)} ({sum(top_level.values())} case messages for "
        f"{len(posted_cases)} cases with Slack rows, {len(doubled)} posted twice, "
        f"{sum(notes.values())} thread notes, {notes_doubled} repeated, "
        f"{len(in_flight)} Slack row(s) in flight at the kill); after the lease: "
        f"{late_mail} mails, {late_slack} Slack rows; kinds "
        f"{dict(kinds)}; states {dict(states)}; exits {codes}; audit: {audit.stdout.strip()}"
    )
    assert codes[0] == 0 and codes[2] == 0, [child.tail() for child in children]
    assert set(spread.accepted) == {str(m["Message-ID"]) for m, _ in smtp_built}
    assert set(stored) == everything and duplicates == 0
    assert None not in request_cases and set(request_cases.values()) == {1}
    assert len(cases) == len(requests) + OLD_CASES
    assert set(states) == {"sent"}, states
    assert len(acks) == len(requests) and set(acks.values()) == {1}
    assert all(replies[m] == 1 for m in requests), "an acknowledgement missing or doubled"
    assert kinds["identity_code"] == len(requests)
    assert sum(recorded.values()) > 0 and set(recorded.values()) == {1}
    assert sum(reminder_rows.values()) > 0 and set(reminder_rows.values()) == {1}
    # A row sent again after its lease finds a case message the killed instance had posted
    # (its metadata) and updates it: every case message exactly once.
    assert set(top_level) == posted_cases and set(top_level.values()) == {1}, doubled
    # Thread notes name their outbox row; a row sent again finds its note in the thread.
    assert None not in notes and set(notes.values()) == {1}, notes
    assert audit.returncode == 0, audit.stdout + audit.stderr
