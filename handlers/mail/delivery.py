"""Outbound mail: the outbox worker and its transports (an SMTP relay, or a Maildir).

A row is claimed for a lease, handed to the transport, and marked sent right after the relay
accepted it. Temporary failures (4xx, refused connections, timeouts) are retried with jittered
exponential backoff for at least a day; a permanent refusal (5xx) fails the row with the
server's answer. A mail with an address or a header that is not ASCII (EAI) is sent with
SMTPUTF8 (RFC 6531), or fails at once with the reason when the relay does not offer it. Logs
carry outbox ids and case references only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import aiosmtplib
from sqlmodel import col, select

from bot.cases import audit
from bot.desk import Desk
from bot.reminders import drop_stale_reminders
from bot.settings import LOOPBACK_HOSTS, Settings
from handlers.mail.maildir import write_maildir
from handlers.outbox_wake import wait_for_any, wake_on_queue
from handlers.runtime import utcnow
from handlers.service import Subsystem
from storage.models import Case, OutboxItem
from storage.outbox import FAILED, claim_due, mark_final, mark_retry, mark_sent

logger = logging.getLogger("dsr.delivery")

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
RETRY_FOR = timedelta(hours=24)
LEASE = timedelta(minutes=10)
WAKE_SECONDS = 5.0


class TemporaryDeliveryError(Exception):
    """Try again later: 4xx answer, refused connection, timeout, full disk."""


class PermanentDeliveryError(Exception):
    """The receiving side refused for good (5xx); the message is its answer."""


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


class UnsendableError(PermanentDeliveryError):
    """We refuse to send the mail as it is; the message says why and what to do (it names no
    address, so the audit trail may carry it)."""


def needs_smtputf8(raw: bytes, *, sender: str, recipient: str) -> bool:
    """An address or a header that is not ASCII (EAI, RFC 6532) travels only with SMTPUTF8."""
    head = _BLANK_LINE.split(raw, maxsplit=1)[0]
    return not (sender.isascii() and recipient.isascii() and head.isascii())


class Transport(Protocol):
    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None: ...


class MaildirTransport:
    """Without a relay every mail becomes a file in DSR_OUTBOX_DIR (new/)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return f"into the Maildir {self.root} (no DSR_SMTP_RELAY)"

    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        try:
            await asyncio.to_thread(write_maildir, self.root, raw, envelope_to=recipient)
        except OSError as exc:
            raise TemporaryDeliveryError(
                f"cannot write to the outbox Maildir ({exc.strerror}); check DSR_OUTBOX_DIR"
            ) from exc


class SmtpRelay:
    """`smtps://host:465` (implicit TLS) or `smtp://host:587` (STARTTLS when offered; in the
    clear only to a loopback host). Logs in when a user is configured."""

    def __init__(
        self,
        url: str,
        *,
        user: str = "",
        password: str = "",
        timeout: float = 60.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.user, self.password, self.timeout = user, password, timeout
        self.tls_context = tls_context

    def describe(self) -> str:
        return f"through the relay {self.host}:{self.port}"

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.implicit_tls,
            start_tls=False,
            timeout=self.timeout,
            tls_context=self.tls_context,
        )

    async def send(self, raw: bytes, *, sender: str, recipient: str) -> None:
        client = self._client()
        try:
            await client.connect()
            await self._secure(client)
            if self.user:
                await client.login(self.user, self.password)
            await self._sendmail(client, raw, sender=sender, recipient=recipient)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _from_response(exc.recipients[0].code, exc.recipients[0].message) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _from_response(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"relay unreachable: {type(exc).__name__}") from exc
        finally:
            if client.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.quit()

    async def verify(self) -> None:
        """Connect, EHLO, STARTTLS where it applies, log in, quit: nothing is sent (`dsr doctor`).
        Raises what `send` raises for the same trouble."""
        client = self._client()
        try:
            await client.connect()
            await self._secure(client)
            if self.user:
                await client.login(self.user, self.password)
        except aiosmtplib.SMTPResponseException as exc:
            raise _from_response(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"relay unreachable: {type(exc).__name__}") from exc
        finally:
            if client.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.quit()

    async def _sendmail(
        self, client: aiosmtplib.SMTP, raw: bytes, *, sender: str, recipient: str
    ) -> None:
        """Send, with SMTPUTF8 when the mail needs it; aiosmtplib refuses that option when the
        relay's EHLO does not offer it, and retrying cannot change that."""
        if not needs_smtputf8(raw, sender=sender, recipient=recipient):
            await client.sendmail(sender, [recipient], raw)
            return
        try:
            await client.sendmail(sender, [recipient], raw, mail_options=_SMTPUTF8)
        except aiosmtplib.SMTPNotSupported as exc:
            raise UnsendableError(
                f"the recipient's address is not ASCII and the relay {self.host} does not offer "
                "SMTPUTF8 (RFC 6531); write to the requester by hand, or set a relay that "
                "offers SMTPUTF8 in DSR_SMTP_RELAY / het adres van de ontvanger bevat tekens "
                f"buiten ASCII en de relay {self.host} biedt geen SMTPUTF8 (RFC 6531); schrijf "
                "de aanvrager zelf, of stel in DSR_SMTP_RELAY een relay in die SMTPUTF8 biedt"
            ) from exc

    async def _secure(self, client: aiosmtplib.SMTP) -> None:
        if self.implicit_tls:
            return
        await client.ehlo()
        if client.supports_extension("starttls"):
            await client.starttls(tls_context=self.tls_context)
        elif self.host.lower() not in LOOPBACK_HOSTS:
            raise TemporaryDeliveryError(
                f"relay {self.host} offers no STARTTLS; mail is sent in the clear only to a "
                "loopback relay. Use smtps:// or a relay with STARTTLS in DSR_SMTP_RELAY"
            )


# RFC 6531 section 3.4: the MAIL parameter that lets addresses and headers be UTF-8.
_SMTPUTF8 = ["SMTPUTF8"]


def _from_response(code: int, message: str) -> Exception:
    answer = f"{code} {message}".strip()
    if 400 <= code < 500:
        return TemporaryDeliveryError(answer)
    return PermanentDeliveryError(answer)


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_relay:
        return SmtpRelay(
            settings.smtp_relay,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value(),
        )
    return MaildirTransport(settings.outbox_dir)


def retry_delay(attempt: int, *, jitter: float = 0.5) -> timedelta:
    """1 min doubling to 1 h after the `attempt`-th failure, spread by +-10% (jitter in [0,1))."""
    base = min(FIRST_RETRY * (1 << min(max(attempt - 1, 0), 20)), MAX_RETRY)
    return base * (0.9 + 0.2 * jitter)


def retried_for(attempts: int) -> timedelta:
    """The time the unjittered schedule has spent on `attempts` tries."""
    return sum((retry_delay(n) for n in range(1, attempts)), timedelta())


MAX_ROUNDS = 1000


@dataclass(frozen=True)
class Claimed:
    id: int
    payload: bytes
    recipient: str
    attempts: int
    created_at: datetime
    reference: str | None


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass
class OutboxWorker:
    desk: Desk
    transport: Transport
    clock: Callable[[], datetime] = utcnow
    jitter: Callable[[], float] = field(default_factory=lambda: secrets.SystemRandom().random)
    batch: int = 20
    lease: timedelta = LEASE

    async def run_once(self) -> DeliveryReport:
        """Deliver everything due now, batch by batch. A case's later mail becomes due once
        its earlier one is out (claim_due keeps the order), so rounds go on until a claim
        finds nothing; bounded, as every round sends, drops or reschedules what it took."""
        report = DeliveryReport()
        for _ in range(MAX_ROUNDS):
            taken, claimed = await asyncio.to_thread(self._claim, self.clock())
            if taken == 0:
                break
            for item in claimed:
                await self._deliver(item, report)
        return report

    def _claim(self, now: datetime) -> tuple[int, Sequence[Claimed]]:
        """How many rows were claimed, and those still wanted after stale reminders drop."""
        with self.desk.transaction() as session:
            taken = claim_due(
                session=session, channel="mail", now=now, limit=self.batch, lease=self.lease
            )
            items = drop_stale_reminders(session=session, items=taken)
            case_ids = {i.case_id for i in items if i.case_id is not None}
            refs = dict(
                session.exec(
                    select(Case.id, Case.reference).where(col(Case.id).in_(case_ids))
                ).all()
            )
            return len(taken), [
                Claimed(
                    id=int(i.id or 0),
                    payload=i.payload,
                    recipient=i.recipient,
                    attempts=i.attempts,
                    created_at=i.created_at,
                    reference=refs.get(i.case_id) if i.case_id else None,
                )
                for i in items
            ]

    async def _deliver(self, item: Claimed, report: DeliveryReport) -> None:
        sender = self.desk.settings.sender_address
        try:
            await self.transport.send(item.payload, sender=sender, recipient=item.recipient)
        except UnsendableError as exc:
            await asyncio.to_thread(self._fail, item, str(exc), reason=str(exc))
            report.failed += 1
        except PermanentDeliveryError as exc:
            await asyncio.to_thread(self._fail, item, str(exc))
            report.failed += 1
        except TemporaryDeliveryError as exc:
            await self._retry(item, str(exc), report)
        except Exception as exc:
            logger.exception("outbox=%s case=%s unexpected delivery error", item.id, item.reference)
            await self._retry(item, f"unexpected error: {type(exc).__name__}", report)
        else:
            await asyncio.to_thread(self._sent, item)
            report.sent += 1

    def _sent(self, item: Claimed) -> None:
        with self.desk.transaction() as session:
            mark_sent(session=session, item_id=item.id, now=self.clock())
        logger.info("outbox=%s case=%s sent", item.id, item.reference)

    async def _retry(self, item: Claimed, error: str, report: DeliveryReport) -> None:
        now = self.clock()
        if now - item.created_at >= RETRY_FOR and retried_for(item.attempts) >= RETRY_FOR:
            await asyncio.to_thread(
                self._fail, item, f"gave up after {item.attempts} tries: {error}"
            )
            report.failed += 1
            return
        at = now + retry_delay(item.attempts, jitter=self.jitter())
        await asyncio.to_thread(self._mark_retry, item, at, error)
        report.retried += 1

    def _mark_retry(self, item: Claimed, at: datetime, error: str) -> None:
        self.desk.monitor.count("dsr_delivery_failures", channel="mail", kind="temporary")
        with self.desk.transaction() as session:
            mark_retry(session=session, item_id=item.id, at=at, error=error)
        logger.warning(
            "outbox=%s case=%s temporary failure, try %d; next at %s",
            item.id,
            item.reference,
            item.attempts,
            at.isoformat(timespec="seconds"),
        )

    def _fail(self, item: Claimed, error: str, *, reason: str = "") -> None:
        """Fail the row for good and flag its case; `reason` (our own words, no address) goes
        into the audit trail, which `dsr cases show` and `/dsr show` read."""
        now = self.clock()
        self.desk.monitor.count("dsr_delivery_failures", channel="mail", kind="permanent")
        with self.desk.transaction() as session:
            mark_final(session=session, item_id=item.id, state=FAILED, error=error)
            row = session.get(OutboxItem, item.id)
            case = session.get(Case, row.case_id) if row and row.case_id else None
            if case is not None:
                audit(
                    session,
                    case,
                    now=now,
                    actor="system",
                    action="mail_failed",
                    details={"outbox_id": item.id, **({"reason": reason} if reason else {})},
                )
                if "undeliverable" not in case.flags:
                    case.flags = sorted({*case.flags, "undeliverable"})
                    session.add(case)
        logger.error("outbox=%s case=%s delivery failed for good", item.id, item.reference)


def outbox_worker(
    desk: Desk,
    *,
    transport: Transport | None = None,
    clock: Callable[[], datetime] = utcnow,
    wake_seconds: float = WAKE_SECONDS,
) -> Subsystem:
    """`Subsystem("outbox")`: delivers mail as soon as a commit queues it, and looks for mail
    that fell due every `wake_seconds`, until stop is set."""
    worker = OutboxWorker(desk, transport or transport_for(desk.settings), clock=clock)
    where = worker.transport.describe() if hasattr(worker.transport, "describe") else "custom"

    async def run(stop: asyncio.Event) -> None:
        logger.info("outbox: delivering mail %s", where)
        # Woken by each commit that queues mail; `wake_seconds` bounds the wait for what falls
        # due later (retries, expired leases).
        with wake_on_queue(desk, "mail") as wake:
            while not stop.is_set():
                wake.clear()
                try:
                    await worker.run_once()
                except Exception:
                    logger.exception("outbox: a delivery round failed; trying again shortly")
                await wait_for_any(stop, wake, timeout=wake_seconds)

    return Subsystem("outbox", run)
