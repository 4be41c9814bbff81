"""Attacks on the identity check through the real intake path (both databases).

Each test is an attack an outside review carried out; each must fail to get through.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from bot.intake import process_message
from bot.register import import_register
from storage.models import IdentityCheck
from tests.factories import T0
from tests.mailbuilder import build_mail, code_in, outbound, text_of

REQUESTER = "Jan Jansen <jan.jansen@example.nl>"
ATTACKER = "Mallory <mallory@evil.test>"


def _request(desk: Desk, **kwargs: object) -> tuple[str, str, str]:
    """A request; returns (reference, code, Message-ID of the mail that carried the code)."""
    result = process_message(desk, build_mail(**kwargs), now=T0, source="test")  # type: ignore[arg-type]
    assert result.action == "created" and result.case
    for _, mail in outbound(desk):
        code = code_in(mail)
        if code is not None:
            return result.case, code, str(mail["Message-ID"])
    raise AssertionError("no code was sent")


def _reply(
    desk: Desk, reference: str, body: str, *, sender: str = REQUESTER, minutes: int = 5
) -> str:
    raw = build_mail(sender=sender, subject=f"Re: [{reference}] Uw code", body=body)
    return process_message(desk, raw, now=T0 + timedelta(minutes=minutes), source="test").reason


def _check(desk: Desk) -> IdentityCheck:
    with desk.transaction() as session:
        return session.exec(select(IdentityCheck)).one()


def test_one_reply_listing_every_code_verifies_nothing_and_costs_a_try(desk: Desk) -> None:
    reference, code, _ = _request(desk)
    every_code = "\r\n".join(f"{n:06d}" for n in range(1_000_000))
    reason = _reply(desk, reference, every_code)
    case = core.get_case(desk, reference=reference)
    assert case.verified_at is None and case.state == "awaiting_identity"
    assert "several_codes" in reason
    assert _check(desk).wrong_attempts == 1
    # the right code alone still works afterwards: the list was one failed attempt
    assert "verified" in _reply(desk, reference, code, minutes=6)


def test_only_the_first_code_in_a_reply_is_judged(desk: Desk) -> None:
    reference, code, _ = _request(desk)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    _reply(desk, reference, f"Mijn code is {wrong}, of anders {code}")
    assert core.get_case(desk, reference=reference).verified_at is None
    assert _check(desk).wrong_attempts == 1


def test_every_reply_with_a_wrong_code_counts_until_the_lock(desk: Desk) -> None:
    reference, code, _ = _request(desk)
    for minute in range(1, 6):
        _reply(desk, reference, f"{(int(code) + minute) % 1_000_000:06d}", minutes=minute)
    assert _check(desk).locked
    assert "locked" in _reply(desk, reference, code, minutes=7)


def test_a_stranger_who_knows_the_reference_cannot_lock_the_requester_out(desk: Desk) -> None:
    reference, code, _ = _request(desk, sender=REQUESTER)
    for minute in range(1, 8):
        reason = _reply(desk, reference, "123456", sender=ATTACKER, minutes=minute)
        assert "not acted on" in reason
    check = _check(desk)
    assert check.wrong_attempts == 0 and not check.locked
    assert "verified" in _reply(desk, reference, code, minutes=9)


def test_a_stranger_cannot_verify_with_the_right_code(desk: Desk) -> None:
    reference, code, _ = _request(desk, sender=REQUESTER)
    _reply(desk, reference, code, sender=ATTACKER)
    assert core.get_case(desk, reference=reference).verified_at is None


@pytest.mark.parametrize(
    "disguise",
    [
        b"=?utf-8?q?jan.jansen@example.nl?= <mallory@evil.test>",  # encoded-word display name
        b"jan.jansen@example.nl <mallory@evil.test>",  # unquoted display name
    ],
)
def test_an_address_in_a_display_name_is_not_the_sender(desk: Desk, disguise: bytes) -> None:
    reference, code, _ = _request(desk, sender=REQUESTER)

    def reply(body: str, minute: int) -> None:
        raw = build_mail(sender=ATTACKER, subject=f"Re: [{reference}] Uw code", body=body)
        raw = raw.replace(b"From: Mallory <mallory@evil.test>", b"From: " + disguise, 1)
        assert b"From: " + disguise in raw
        process_message(desk, raw, now=T0 + timedelta(minutes=minute), source="test")

    for minute in range(1, 7):
        reply("654321", minute)
    assert _check(desk).wrong_attempts == 0
    reply(code, 8)
    assert core.get_case(desk, reference=reference).verified_at is None


def test_a_stranger_cannot_ask_for_new_codes(desk: Desk) -> None:
    reference, _, _ = _request(desk, sender=REQUESTER)
    before = len(outbound(desk))
    _reply(desk, reference, "Graag een nieuwe code", sender=ATTACKER)
    assert len(outbound(desk)) == before


def test_reply_to_cannot_redirect_the_code_of_a_known_person(desk: Desk) -> None:
    import_register(desk, text="name,email\nAnna de Vries,anna@victim.nl\n", actor="t", now=T0)
    raw = build_mail(
        sender="Anna de Vries <anna@victim.nl>", headers={"Reply-To": "attacker@evil.test"}
    )
    result = process_message(desk, raw, now=T0, source="test")
    reference = result.case or ""
    sent = [(str(m["To"]), m) for _, m in outbound(desk)]
    codes = {to: code_in(m) for to, m in sent if code_in(m) is not None}
    assert list(codes) == ["anna@victim.nl"]
    assert all(code_in(m) is None for to, m in sent if to == "attacker@evil.test")
    case = core.get_case(desk, reference=reference)
    assert "reply_to_differs" in case.flags
    # the attacker replies with the code it would have needed: refused, not even counted
    _reply(desk, reference, codes["anna@victim.nl"], sender="attacker@evil.test")
    assert core.get_case(desk, reference=reference).verified_at is None
    # Anna verifies; the outcome goes to Anna only
    assert "verified" in _reply(
        desk, reference, codes["anna@victim.nl"], sender="Anna <anna@victim.nl>", minutes=9
    )
    core.close(desk, reference=reference, outcome="done", note="sent", actor="t", now=T0)
    outcome = [to for item, m in outbound(desk) for to in [str(m["To"])] if "outcome" in item.kind]
    assert outcome == ["anna@victim.nl"]


def test_reply_to_cannot_redirect_the_code_of_an_unknown_person(desk: Desk) -> None:
    raw = build_mail(sender=REQUESTER, headers={"Reply-To": "attacker@evil.test"})
    process_message(desk, raw, now=T0, source="test")
    codes = [str(m["To"]) for _, m in outbound(desk) if code_in(m) is not None]
    assert codes == ["jan.jansen@example.nl"]


def test_a_contact_form_with_a_no_reply_sender_sends_the_code_to_the_reply_to(
    desk: Desk,
) -> None:
    raw = build_mail(sender="Website <noreply@proambt.nl>", headers={"Reply-To": "piet@example.nl"})
    process_message(desk, raw, now=T0, source="test")
    codes = [str(m["To"]) for _, m in outbound(desk) if code_in(m) is not None]
    assert codes == ["piet@example.nl"]


def _ack_words(desk: Desk) -> str:
    ack = next(m for item, m in outbound(desk) if item.kind.endswith("ack"))
    text = re.sub(r"DSR-\d{4}-\d+", "REF", text_of(ack))
    return re.sub(r"^Beste .*,$", "Beste X,", text, flags=re.MULTILINE)


def test_the_acknowledgement_does_not_tell_whether_the_register_knows_someone(
    desk: Desk,
) -> None:
    import_register(desk, text="name,email\nAnna de Vries,anna@victim.nl\n", actor="t", now=T0)
    # by name: an attacker writes under Anna's name from its own address
    process_message(
        desk, build_mail(sender="Anna de Vries <anna@evil.test>"), now=T0, source="test"
    )
    known = _ack_words(desk)
    with desk.transaction() as session:
        for item in session.exec(select(__import__("storage.models").models.OutboxItem)).all():
            session.delete(item)
    process_message(
        desk, build_mail(sender="Nobody Known <nobody@evil.test>"), now=T0, source="test"
    )
    assert _ack_words(desk) == known
