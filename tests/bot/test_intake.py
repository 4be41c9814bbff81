"""`process_message` on SQLite and PostgreSQL: a table of odd real-world-shaped mails, the
mail-safety rules by name, and a property over malformed input."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import col, select

from bot import cases as core
from bot.classify.model import load_model
from bot.classify.vocabulary import load_vocabulary
from bot.desk import Desk
from bot.intake import IntakeResult, process_message, warm_up
from bot.templates import environment
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import AuditEvent, Case, Message, OutboxItem
from tests.factories import T0, make_settings

FIXTURES = Path(__file__).parent.parent / "fixtures" / "intake"
EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((FIXTURES / "expected.toml").read_text())
ACTIONS = {"created", "threaded", "review", "breach", "ignored", "duplicate", "quarantined"}
MAILBOX = "secretariaat@proambt.nl"


def test_every_fixture_has_an_expected_outcome_and_there_are_at_least_40() -> None:
    files = {p.stem for p in FIXTURES.glob("*.eml")}
    assert files == set(EXPECTED)
    assert len(files) >= 40


def _fixture_params() -> list[Any]:
    params = []
    for name in sorted(EXPECTED):
        gap = EXPECTED[name].get("known_gap")
        marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def inbound(desk: Desk) -> list[Message]:
    with desk.transaction() as session:
        query = select(Message).where(Message.direction == "in").order_by(col(Message.id))
        return list(session.exec(query).all())


def mail_outbox(desk: Desk) -> list[OutboxItem]:
    with desk.transaction() as session:
        query = select(OutboxItem).where(OutboxItem.channel == "mail").order_by(col(OutboxItem.id))
        return list(session.exec(query).all())


def all_cases(desk: Desk) -> list[Case]:
    with desk.transaction() as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


@pytest.mark.parametrize("name", _fixture_params())
def test_fixture_mail_gets_its_expected_outcome(desk: Desk, name: str) -> None:
    expected = EXPECTED[name]
    result = process_message(desk, (FIXTURES / f"{name}.eml").read_bytes(), now=T0, source="t")
    assert result.action == expected["action"], result.reason
    if "reason" in expected:
        assert expected["reason"].lower() in result.reason.lower()
    (stored,) = inbound(desk)
    assert (stored.action, stored.reason) == (result.action, result.reason)
    cases = all_cases(desk)
    if result.action == "created":
        (case,) = cases
        assert case.reference == result.case
        assert one_of(case.category, expected.get("category", case.category))
        assert set(expected.get("kinds", [])) <= {case.category, *case.also}
        assert case.needs_triage == expected.get("triage", case.needs_triage)
        assert case.needs_triage or case.category != "other"
        assert case.requester == expected.get("requester", case.requester)
    else:
        assert cases == []
        assert one_of(result.category, expected.get("category", result.category))
    acked = expected.get("acked", result.action == "created")
    # a breach alerts the secretariat by mail; the writer gets nothing
    assert bool([m for m in mail_outbox(desk) if m.kind != "breach_alert"]) == acked


def one_of(value: object, expected: object) -> bool:
    return value in expected if isinstance(expected, list) else value == expected


def request(
    *,
    message_id: str,
    sender: str = "Jan Jansen <jan.jansen@example.nl>",
    subject: str = "Inzageverzoek",
    body: str = "Geachte heer/mevrouw,\n\nIk wil graag inzage in mijn persoonsgegevens "
    "(artikel 15 AVG).\n\nMet vriendelijke groet,\nJan Jansen\n",
    headers: dict[str, str] | None = None,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = MAILBOX
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail["Date"] = "Mon, 02 Mar 2026 10:30:00 +0100"
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()


def opened(desk: Desk) -> tuple[IntakeResult, OutboxItem]:
    result = process_message(desk, request(message_id="<first@example.nl>"), now=T0, source="t")
    assert (result.action, result.case) == ("created", "DSR-2026-0001")
    ack, code = mail_outbox(desk)  # the acknowledgement, then the code in its own mail
    assert code.kind == "identity_code"
    return result, ack


def test_our_own_acknowledgement_fed_back_in_is_dropped(desk: Desk) -> None:
    _, ack = opened(desk)
    result = process_message(desk, ack.payload, now=T0, source="t")
    assert (result.action, result.case) == ("ignored", None)
    assert result.reason == "our own mail came back"
    assert len(all_cases(desk)) == 1
    assert len(mail_outbox(desk)) == 2


def test_an_out_of_office_quoting_our_mail_opens_nothing(desk: Desk) -> None:
    first, ack = opened(desk)
    quoted = "\n".join(f"> {line}" for line in ack.payload.decode().splitlines())
    ooo = request(
        message_id="<ooo-1@example.nl>",
        subject="Automatisch antwoord: Uw verzoek [DSR-2026-0001]",
        body="Ik ben afwezig tot 16 maart.\n\n" + quoted,
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": str(ack.message_id)},
    )
    result = process_message(desk, ooo, now=T0 + timedelta(minutes=5), source="t")
    assert result.action == "ignored"
    assert result.case == first.case  # recorded with the case, never answered
    assert len(all_cases(desk)) == 1
    assert len(mail_outbox(desk)) == 2


def test_the_sixth_automatic_reply_to_one_address_in_a_day_is_held_back(desk: Desk) -> None:
    for n in range(6):
        result = process_message(
            desk,
            request(message_id=f"<req-{n}@example.nl>", subject=f"Inzageverzoek {n}"),
            now=T0 + timedelta(minutes=n),
            source="t",
        )
        assert result.action == "created"
    assert len(all_cases(desk)) == 6
    assert len(mail_outbox(desk)) == 10  # five acknowledgements, each with its code
    with desk.transaction() as session:
        held = session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "auto_reply_held_back")
        ).one()
    assert held == 1


def test_the_same_message_id_twice_gives_one_record_and_one_case(desk: Desk) -> None:
    first, _ = opened(desk)
    again = process_message(
        desk, request(message_id="<first@example.nl>"), now=T0 + timedelta(hours=1), source="t"
    )
    assert (again.action, again.case) == ("duplicate", first.case)
    assert len(inbound(desk)) == 1
    assert len(all_cases(desk)) == 1


@pytest.mark.parametrize(
    "subject", ["Re: [DSR-2026-0001] Uw verzoek", "Re: AW: [ DSR-2026-0001 ] Ihre Anfrage"]
)
def test_a_reply_with_our_reference_threads(desk: Desk, subject: str) -> None:
    opened(desk)
    reply = request(message_id="<reply-1@example.nl>", subject=subject, body="Dank u wel.\n")
    result = process_message(desk, reply, now=T0 + timedelta(days=1), source="t")
    assert (result.action, result.case) == ("threaded", "DSR-2026-0001")
    assert len(all_cases(desk)) == 1
    assert inbound(desk)[-1].case_id == all_cases(desk)[0].id


def test_a_reply_from_another_address_is_attached_and_flagged(desk: Desk) -> None:
    opened(desk)
    reply = request(
        message_id="<reply-2@other.example>",
        sender="J. Jansen <jan@work.example>",
        subject="Re: [DSR-2026-0001] Uw verzoek",
        body="Ik stuur dit vanaf mijn werkadres.\n",
    )
    result = process_message(desk, reply, now=T0 + timedelta(days=1), source="t")
    assert (result.action, result.case) == ("threaded", "DSR-2026-0001")
    assert "another address" in result.reason
    assert "other_sender" in inbound(desk)[-1].flags


def test_mail_about_a_closed_case_reopens_nothing(desk: Desk) -> None:
    opened(desk)
    core.close(
        desk,
        reference="DSR-2026-0001",
        outcome="withdrawn",
        note="requester withdrew by phone",
        actor="test",
        now=T0 + timedelta(days=1),
    )
    queued = len(mail_outbox(desk))  # closing may have queued a notice of its own
    reply = request(
        message_id="<late@example.nl>",
        subject="Re: [DSR-2026-0001] Uw verzoek",
        body="Ik wil toch graag inzage in mijn persoonsgegevens.\n",
    )
    result = process_message(desk, reply, now=T0 + timedelta(days=2), source="t")
    assert (result.action, result.case) == ("threaded", "DSR-2026-0001")
    assert "closed" in result.reason
    (case,) = all_cases(desk)
    assert case.state == "withdrawn"
    assert len(mail_outbox(desk)) == queued


def bounce_of(message_id: str) -> bytes:
    return (
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.nl>\r\n"
        f"To: {MAILBOX}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.nl>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.nl"
        "\r\n\r\nFinal-Recipient: rfc822; jan.jansen@example.nl\r\nAction: failed\r\n"
        "Status: 5.1.1\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {MAILBOX}\r\nTo: jan.jansen@example.nl\r\nMessage-ID: {message_id}\r\n\r\n"
        "--b--\r\n"
    ).encode()


def test_a_bounce_of_our_ack_fails_the_outbox_row_and_flags_the_case(desk: Desk) -> None:
    _, ack = opened(desk)
    result = process_message(
        desk, bounce_of(str(ack.message_id)), now=T0 + timedelta(hours=1), source="t"
    )
    assert (result.action, result.case) == ("threaded", "DSR-2026-0001")
    row, _code = mail_outbox(desk)
    assert row.message_id == ack.message_id and row.state == "failed"
    (case,) = all_cases(desk)
    assert "bounced" in case.flags


# --- property: malformed input never escapes as an exception --------------------------------

EXAMPLES = int(os.environ.get("DSR_FUZZ_EXAMPLES", "300"))
SEEDS = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
HEADER_NAMES = ["From", "To", "Subject", "Message-ID", "Reply-To", "In-Reply-To", "References",
                "Content-Type", "Content-Transfer-Encoding", "Auto-Submitted", "Return-Path",
                "Precedence", "List-Id", "X-DSR-Loop", "MIME-Version", "Date"]  # fmt: skip
ATOMS = ["=?utf-8?B?", "=?x?Q?=ZZ?=", "<", ">", "@", "[DSR-2026-0001]", "multipart/report",
         "message/rfc822", "boundary=", "charset=utf-16", "base64", "\r\n", "\r\n ", "\x00",
         "é", "noreply@x.nl", "<>", "MAILER-DAEMON"]  # fmt: skip


@st.composite
def header_soup(draw: st.DrawFn) -> bytes:
    lines = draw(
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=8)),
                st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=12)), max_size=6),
            ),
            max_size=10,
        )
    )
    head = "\r\n".join(f"{name}: {''.join(parts)}" for name, parts in lines)
    body = draw(st.binary(max_size=200))
    return head.encode("utf-8", errors="surrogatepass") + b"\r\n\r\n" + body


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        choice = draw(st.integers(0, 2))
        if choice == 0:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif choice == 1:
            del data[at : at + draw(st.integers(1, 64))]
        else:
            data = data[:at]
    return bytes(data)


MALFORMED = st.one_of(header_soup(), mutated_fixture(), st.binary(max_size=300))


def test_malformed_mail_is_stored_or_quarantined_never_raised(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fuzz.db"
    engine = make_engine(url)
    upgrade(engine)
    desk = Desk(settings=make_settings(url, tmp_path), engine=engine)
    seen: set[bytes] = set()
    new_rows = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(raw=MALFORMED)
    def property_(raw: bytes) -> None:
        nonlocal new_rows
        before = inbound_count(desk)
        result = process_message(desk, raw, now=T0, source="fuzz")
        assert result.action in ACTIONS
        assert result.reason
        after = inbound_count(desk)
        if raw in seen:
            assert after == before
            return
        seen.add(raw)
        grew = 0 if result.action == "duplicate" else 1
        assert after - before == grew, result
        new_rows += grew

    property_()
    assert inbound_count(desk) == new_rows
    engine.dispose()


def inbound_count(desk: Desk) -> int:
    with desk.transaction() as session:
        query = select(func.count()).select_from(Message).where(Message.direction == "in")
        return int(session.exec(query).one())


def test_warm_up_loads_what_the_first_mail_would_load(desk: Desk) -> None:
    load_model.cache_clear()
    load_vocabulary.cache_clear()
    environment.cache_clear()
    warm_up(desk, now=T0)
    assert load_model.cache_info().currsize == 1
    assert all("regex" in vars(phrase) for phrase in load_vocabulary().phrases)
    loaded = environment().cache
    assert loaded is not None
    assert {name for (_, name) in loaded} >= {"nl/ack.txt", "en/ack.html"}
    assert desk.calendar.holidays_in(T0.year) == desk.calendar._by_year[T0.year]
    assert T0.year + 1 in desk.calendar._by_year


# --- inputs found by running other projects' mail through intake ---------------------------


@pytest.mark.parametrize(
    "envelope", [b"From user@host\n", b"From MAILER@x Mon Mar  2 10:30:00 2026\n"]
)
def test_an_mbox_envelope_line_before_the_mail_is_dropped_not_quarantined(
    desk: Desk, envelope: bytes
) -> None:
    raw = envelope + request(message_id="<mbox-1@example.nl>")
    result = process_message(desk, raw, now=T0, source="t")
    assert result.action == "created", result.reason


def test_a_to_header_of_thousands_of_folded_encoded_words_is_stored_and_routed(
    desk: Desk,
) -> None:
    """The stdlib's address parser recursed once per word of such a header (RecursionError):
    the mail was neither stored nor quarantined."""
    words = "\r\n ".join(f"=?utf-8?q?Persoon_{n}?= <p{n}@example.nl>," for n in range(2_710))
    raw = request(message_id="<wide-to@example.nl>").replace(
        f"To: {MAILBOX}".encode(), f"To: {words}\r\n {MAILBOX}".encode(), 1
    )
    result = process_message(desk, raw, now=T0, source="t")
    assert result.action in ACTIONS - {"quarantined"}, result.reason
    assert len(inbound(desk)) == 1


def test_a_mail_recognition_fails_on_is_stored_and_goes_to_a_person(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: object) -> None:
        raise ValueError("recogniser bug")

    monkeypatch.setattr("bot.intake.classify", broken)
    result = process_message(desk, request(message_id="<broken@example.nl>"), now=T0, source="t")
    assert result.action == "review" and "recognition failed" in result.reason
    assert [m.action for m in inbound(desk)] == ["review"]
    assert mail_outbox(desk) == []


def test_a_mail_routing_fails_on_is_stored_and_routed_at_its_next_delivery(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Store and route are one transaction; when routing fails (a fault of ours) the mail is
    stored alone before the caller hears of it, and the server's retry routes that row."""
    raw = request(message_id="<route-bug@example.nl>")

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("routing bug")

    with monkeypatch.context() as patched:
        patched.setattr("bot.intake._route", broken)
        with pytest.raises(RuntimeError):
            process_message(desk, raw, now=T0, source="t")
    assert [m.action for m in inbound(desk)] == ["received"]
    assert all_cases(desk) == [] and mail_outbox(desk) == []
    result = process_message(desk, raw, now=T0 + timedelta(minutes=5), source="t")
    assert result.action == "created"
    (stored,) = inbound(desk)
    assert stored.action == "created"
    (case,) = all_cases(desk)
    assert case.received_at == T0  # the clock runs from the first delivery, when it was stored
    assert process_message(desk, raw, now=T0, source="t").action == "duplicate"


def test_a_short_english_request_is_acknowledged_in_english_from_its_headers(desk: Desk) -> None:
    """Too few words to count ("Dutch when unsure"): the mail client's Content-Language and
    the subject decide, so the writer is not answered in Dutch."""
    raw = request(
        message_id="<short-en@example.org>",
        sender="J. Jansen <j.jansen@example.org>",
        subject="Subject access request",
        body="Subject access request under art. 15 GDPR.\n\nJ. Jansen\n",
        headers={"Content-Language": "en-GB"},
    )
    result = process_message(desk, raw, now=T0, source="t")
    assert result.action == "created"
    (case,) = all_cases(desk)
    assert case.language == "en"
    ack = mail_outbox(desk)[0]
    assert b"We have received your request" in ack.payload
