"""Inbound SMTP: take mail for our mailboxes and answer 250 only once it is stored.

The handler validates and hands over; `bot.intake.process_message` decides. Our fault (database
or disk) is a 451, so the sending server keeps the mail and retries (RFC 5321 section 4.2.5).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.desk import Desk
from bot.intake import IntakeResult, TemporaryIntakeError, process_message
from handlers.runtime import utcnow
from handlers.service import Subsystem

logger = logging.getLogger("dsr.smtp")

Intake = Callable[..., IntakeResult]
RETRY_LATER = "451 4.3.0 Temporary local problem: the mail was not stored; please try again later"
# The same answer whatever intake made of the mail (a new case, a reply, a duplicate, machine
# mail): a sender must not learn from it which cases exist.
QUEUED = "250 2.0.0 queued"
CLOSE_SECONDS = 2.0


class IntakeHandler:
    """aiosmtpd hooks: RCPT only for DSR_MAILBOX_ADDRESSES, DATA through `process_message`."""

    def __init__(
        self,
        desk: Desk,
        *,
        clock: Callable[[], datetime] = utcnow,
        intake: Intake = process_message,
    ) -> None:
        self.desk, self.clock, self.intake = desk, clock, intake
        self.mailboxes = frozenset(desk.settings.mailboxes)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.strip("<> ").lower() not in self.mailboxes:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = _with_return_path(envelope.original_content or b"", envelope.mail_from or "")
        try:
            result = await asyncio.to_thread(
                self.intake, self.desk, raw, now=self.clock(), source="smtp"
            )
        except TemporaryIntakeError as exc:
            logger.warning("smtp: mail not stored (%s); answered 451", exc)
            return _per_recipient(server, envelope, RETRY_LATER)
        except Exception:
            logger.exception("smtp: intake failed unexpectedly; answered 451")
            return _per_recipient(server, envelope, RETRY_LATER)
        logger.debug("smtp: mail stored (%s)", result.action)
        self.desk.monitor.count("dsr_mails_received", action=result.action, source="smtp")
        return _per_recipient(server, envelope, QUEUED)

    async def handle_exception(self, error: Exception) -> str:
        logger.error("smtp: session error %s; answered 451", type(error).__name__)
        return RETRY_LATER


def _per_recipient(server: SMTP, envelope: Envelope, status: str) -> str:
    """LMTP answers DATA once per accepted recipient (RFC 2033 section 4.2); the mail is
    stored once for all of them, so each gets the same answer."""
    if not isinstance(server, LMTP):
        return status
    return "\r\n".join([status] * max(len(envelope.rcpt_tos), 1))


def _with_return_path(raw: bytes, mail_from: str) -> bytes:
    """As the final delivery we record the reverse-path (RFC 5321 section 4.4); an empty one
    (`<>`) is how bounces and auto-replies are sent, and intake reads it."""
    path = mail_from.replace("\r", "").replace("\n", "").strip("<> ")
    return f"Return-Path: <{path}>\r\n".encode() + raw


class IntakeSMTP(SMTP):
    """aiosmtpd's server with long lines allowed and size refusals as RFC 3463 5.3.4."""

    line_length_limit = 1 << 20

    async def push(self, status: Any) -> None:
        text = status.decode() if isinstance(status, bytes) else str(status)
        if text.startswith("552 Error"):
            text = f"552 5.3.4 Message too big; the limit is {self.data_size_limit} bytes"
        await super().push(text)


class IntakeLMTP(IntakeSMTP, LMTP):
    """The same listener speaking LMTP (LHLO, one DATA answer per recipient), for an MTA
    such as Postfix that delivers into us with `lmtp:` (DSR_SMTP_PROTOCOL=lmtp)."""


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


async def start_listener(
    desk: Desk,
    *,
    host: str,
    port: int,
    clock: Callable[[], datetime] = utcnow,
    intake: Intake = process_message,
) -> asyncio.Server:
    """Listen in the running loop; port 0 picks a free port (see `bound_port`)."""
    # aiosmtpd logs every command, addresses included, at INFO; ours log references only.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = IntakeHandler(desk, clock=clock, intake=intake)
    loop = asyncio.get_running_loop()
    protocol = IntakeLMTP if desk.settings.smtp_protocol == "lmtp" else IntakeSMTP
    server = await loop.create_server(
        lambda: protocol(
            handler,
            data_size_limit=desk.settings.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=socket.gethostname(),
            ident="dsr",
            loop=loop,
        ),
        host=host,
        port=port,
    )
    logger.info(
        "smtp: listening on %s:%d (%s)", host, bound_port(server), desk.settings.smtp_protocol
    )
    return server


def bound_port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


async def close_listener(server: asyncio.Server) -> None:
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), timeout=CLOSE_SECONDS)


def smtp_listener(desk: Desk, *, clock: Callable[[], datetime] = utcnow) -> Subsystem:
    """`Subsystem("smtp")` on DSR_SMTP_LISTEN, sharing the loop of `dsr serve`."""
    host, port = parse_listen(desk.settings.smtp_listen)

    async def run(stop: asyncio.Event) -> None:
        server = await start_listener(desk, host=host, port=port, clock=clock)
        try:
            await stop.wait()
        finally:
            await close_listener(server)

    return Subsystem("smtp", run)
