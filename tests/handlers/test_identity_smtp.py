"""Identity end to end on the embedded defaults, with real SMTP conversations into our
listener and the codes read from what the outbox queued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiosmtplib
import pytest

from bot import cases as core
from bot.desk import Desk
from bot.register import import_register
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener
from handlers.runtime import build_desk
from tests.factories import T0, make_settings
from tests.mailbuilder import build_mail, code_in, outbound, text_of

MAILBOX = "secretariaat@proambt.nl"


class Conversation:
    """A listener on a free loopback port and a clock the test moves."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.now = T0
        self.port = 0

    def clock(self) -> datetime:
        return self.now

    async def send(self, raw: bytes, *, sender: str = "jan.jansen@example.nl") -> None:
        errors, _ = await aiosmtplib.send(
            raw, sender=sender, recipients=[MAILBOX], hostname="127.0.0.1", port=self.port
        )
        assert errors == {}

    async def request(self, **kwargs: str) -> tuple[str, str, str]:
        before = len(outbound(self.desk))
        await self.send(build_mail(**kwargs))
        item, ack = outbound(self.desk)[before + 1]  # the acknowledgement, then the code
        code = code_in(ack)
        assert item.case_id is not None and code is not None
        case = next(
            c
            for c in core.list_cases(self.desk, query=core.CaseQuery(), now=self.now)
            if c.id == item.case_id
        )
        return case.reference, code, str(ack["Message-ID"])

    async def reply(self, reference: str, body: str, ack_id: str, **headers: str) -> None:
        self.now += timedelta(minutes=1)
        await self.send(
            build_mail(
                subject=f"Re: [{reference}] Uw verzoek",
                body=body,
                in_reply_to=ack_id,
                headers=headers or None,
            )
        )


@pytest.fixture
async def smtp(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Conversation]:
    desk = build_desk(make_settings(sqlite_url, tmp_path))  # the real sealer and migrations
    conversation = Conversation(desk)
    server = await start_listener(desk, host="127.0.0.1", port=0, clock=conversation.clock)
    conversation.port = bound_port(server)
    try:
        yield conversation
    finally:
        await close_listener(server)


def state(smtp: Conversation, reference: str) -> tuple[str, bool]:
    case = core.get_case(smtp.desk, reference=reference)
    return case.state, case.verified_at is not None


async def test_wrong_code_five_times_locks_then_the_right_code_is_refused(
    smtp: Conversation,
) -> None:
    reference, code, ack_id = await smtp.request()
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for _ in range(5):
        await smtp.reply(reference, f"Mijn code: {wrong}", ack_id)
    await smtp.reply(reference, code, ack_id)
    assert state(smtp, reference) == ("awaiting_identity", False)
    locked = [m for _, m in outbound(smtp.desk) if "secretariaat" in str(m["Subject"])]
    assert len(locked) == 1 and "DSR-" in str(locked[0]["Subject"])


async def test_right_code_in_a_reply_that_quotes_the_original_verifies(
    smtp: Conversation,
) -> None:
    reference, code, ack_id = await smtp.request()
    quoted = "\n".join(f"> {line}" for line in "Ik wil inzage.\nMet groet, Jan".splitlines())
    await smtp.reply(
        reference,
        f"Hier is de code: {code[:3]}-{code[3:]}\n\nOp 2 mrt 2026 schreef Jan Jansen:\n{quoted}\n",
        ack_id,
    )
    assert state(smtp, reference) == ("open", True)


async def test_a_code_inside_an_out_of_office_reply_is_ignored(smtp: Conversation) -> None:
    reference, code, ack_id = await smtp.request()
    await smtp.reply(
        reference,
        f"Ik ben afwezig tot maandag. {code}",
        ack_id,
        **{"Auto-Submitted": "auto-replied"},
    )
    assert state(smtp, reference) == ("awaiting_identity", False)


async def test_an_expired_code_is_replaced_and_the_new_one_works(smtp: Conversation) -> None:
    reference, code, ack_id = await smtp.request()
    smtp.now += timedelta(hours=25)
    await smtp.reply(reference, code, ack_id)
    fresh = code_in(outbound(smtp.desk)[-1][1])
    assert fresh is not None and fresh != code
    await smtp.reply(reference, fresh, ack_id)
    assert state(smtp, reference) == ("open", True)


async def test_a_registered_address_written_another_way_gets_the_code_on_record(
    smtp: Conversation,
) -> None:
    import_register(
        smtp.desk, text="name,email\nJan Jansen,jan.jansen@werk.example\n", actor="t", now=T0
    )
    await smtp.send(
        build_mail(sender="Jan <Jan.Jansen+dsr@Werk.example>"), sender="jan.jansen@werk.example"
    )
    mails = {str(m["To"]): m for _, m in outbound(smtp.desk)}
    assert code_in(mails["jan.jansen+dsr@werk.example"]) is None
    assert "bekend is" not in " ".join(text_of(mails["jan.jansen+dsr@werk.example"]).split())
    assert code_in(mails["jan.jansen@werk.example"]) is not None
