"""Attacks by an outsider who can only send mail, through the real intake path.

Each test names the attack and asserts the safe behaviour. They were written by a reviewer
who attacked the desk; the ones that got through at first (a mail bomb past the daily limit,
probing the register by Reply-To or display name, unsendable or control-character addresses,
a References header of 300,000 ids, a forged From failing DMARC, a forged bounce) are fixed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from bot.intake import process_message
from bot.privacy import normalise_address
from bot.register import import_register
from storage.models import IdentityCheck, OutboxItem
from tests.factories import T0, make_settings
from tests.mailbuilder import build_mail, code_in, outbound

REQUESTER = "Jan Jansen <jan.jansen@example.nl>"
ATTACKER = "mallory@evil.test"
ANNA = "anna@victim.nl"
REGISTER = f"name,email\nAnna de Vries,{ANNA}\n"


def _raw_mail(*, sender: bytes, reply_to: bytes | None = None) -> bytes:
    """A request written byte by byte, so no library rewrites the hostile header."""
    head = [
        b"From: " + sender,
        b"To: secretariaat@proambt.nl",
        b"Subject: Inzageverzoek",
        b"Message-ID: " + make_msgid(domain="example.nl").encode(),
    ]
    if reply_to is not None:
        head.append(b"Reply-To: " + reply_to)
    body = b"Ik wil graag inzage in alle persoonsgegevens die u over mij heeft.\r\n"
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _request(desk: Desk, raw: bytes, *, minutes: int = 0) -> str:
    result = process_message(desk, raw, now=T0 + timedelta(minutes=minutes), source="test")
    assert result.action == "created" and result.case, result
    return result.case


def _code_for(desk: Desk, address: str) -> str | None:
    for _, mail in outbound(desk):
        if str(mail["To"]) == address:
            code = code_in(mail)
            if code is not None:
                return code
    return None


def _codes_to(desk: Desk) -> list[str]:
    return [str(mail["To"]) for _, mail in outbound(desk) if code_in(mail) is not None]


def _reply(
    desk: Desk,
    reference: str,
    body: str,
    *,
    sender: str = REQUESTER,
    minutes: int = 5,
    subject: str | None = None,
    headers: dict[str, str] | None = None,
    in_reply_to: str | None = None,
) -> str:
    raw = build_mail(
        sender=sender,
        subject=subject if subject is not None else f"Re: [{reference}] Uw code",
        body=body,
        headers=headers,
        in_reply_to=in_reply_to,
    )
    return process_message(desk, raw, now=T0 + timedelta(minutes=minutes), source="test").reason


def _check(desk: Desk) -> IdentityCheck:
    with desk.transaction() as session:
        return session.exec(select(IdentityCheck)).one()


def _wrong(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 1_000_000:06d}"


# --- (a) verification without the code at the legitimate address ---------------------------


@pytest.mark.parametrize(
    "disguise",
    [
        "JAN.JANSEN@EXAMPLE.NL",  # case
        "jan.jansen+x@example.nl",  # +tag: same person, but the attacker does not get the code
        "jan.jansen@examp1e.nl",  # look-alike domain
        "jan.jansen@еxample.nl",  # Cyrillic e in the domain
        "jаn.jansen@example.nl",  # Cyrillic a in the local part
        '"jan.jansen@example.nl"@evil.test',  # quoted local part
        "jan.jansen@example.nl@evil.test",  # two at-signs
        "mallory@evil.test (jan.jansen@example.nl)",  # address in a comment
        "jan.jansen@example.nl <mallory@evil.test>",  # address as a bare display name
    ],
)
def test_disguised_sender_cannot_get_the_code_of_a_case(desk: Desk, disguise: str) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    code = _code_for(desk, "jan.jansen@example.nl")
    assert code is not None
    _reply(desk, reference, "Graag een nieuwe code", sender=disguise, minutes=1)
    # every code mail only ever went to the requester's own address
    assert {normalise_address(to) for to in _codes_to(desk)} == {"jan.jansen@example.nl"}


def test_code_only_in_the_subject_does_not_verify(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    code = _code_for(desk, "jan.jansen@example.nl") or ""
    _reply(desk, reference, "Zie onderwerp", subject=f"Re: [{reference}] {code}")
    assert core.get_case(desk, reference=reference).verified_at is None


def test_code_only_in_an_unchosen_html_alternative_does_not_count(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    code = _code_for(desk, "jan.jansen@example.nl") or ""
    mail = EmailMessage()
    mail["From"] = REQUESTER
    mail["To"] = "secretariaat@proambt.nl"
    mail["Subject"] = f"Re: [{reference}] Uw code"
    mail["Message-ID"] = make_msgid(domain="example.nl")
    mail.set_content("Hierbij.")
    mail.add_alternative(f"<p>{_wrong(code)}</p>", subtype="html")
    process_message(desk, mail.as_bytes(), now=T0 + timedelta(minutes=3), source="test")
    # the plain part was read: no code there, so no attempt was used up
    assert _check(desk).wrong_attempts == 0
    assert core.get_case(desk, reference=reference).verified_at is None


def test_right_code_split_over_two_lines_is_not_read_as_a_code(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    code = _code_for(desk, "jan.jansen@example.nl") or ""
    _reply(desk, reference, f"{code[:3]}\n{code[3:]}")
    assert _check(desk).wrong_attempts == 0


def test_a_registered_name_from_another_address_gets_no_redirect_and_is_flagged(
    desk: Desk,
) -> None:
    """Name match: the code is not redirected to the register (that would tell the writer
    the name is known); the case is flagged for the secretariat, and Anna gets nothing."""
    import_register(desk, text=REGISTER, actor="t", now=T0)
    reference = _request(desk, build_mail(sender=f"Anna de Vries <{ATTACKER}>"))
    assert _codes_to(desk) == [ATTACKER]
    assert "name_on_record" in core.get_case(desk, reference=reference).flags
    assert ANNA not in {str(m["To"]) for _, m in outbound(desk)}


def test_reply_threaded_by_references_only_from_a_stranger_is_not_obeyed(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    code_mail = next(m for _, m in outbound(desk) if code_in(m) is not None)
    reason = _reply(
        desk,
        reference,
        "123456",
        sender=ATTACKER,
        subject="Re: Uw code",
        in_reply_to=str(code_mail["Message-ID"]),
    )
    assert "not acted on" in reason
    assert _check(desk).wrong_attempts == 0


def test_a_no_reply_from_with_a_registered_reply_to_sends_the_code_to_the_record(
    desk: Desk,
) -> None:
    import_register(desk, text=REGISTER, actor="t", now=T0)
    raw = build_mail(
        sender="Website <noreply@evil.test>", headers={"Reply-To": f"{ANNA}, {ATTACKER}"}
    )
    _request(desk, raw)
    assert _codes_to(desk) == [ANNA]


def test_reply_to_with_several_addresses_gets_the_ack_at_the_first_only(desk: Desk) -> None:
    raw = build_mail(sender=REQUESTER, headers={"Reply-To": f"{ATTACKER}, other@evil.test"})
    _request(desk, raw)
    recipients = [str(m["To"]) for _, m in outbound(desk)]
    assert "other@evil.test" not in recipients
    assert _codes_to(desk) == ["jan.jansen@example.nl"]


# --- (b) receiving what is meant for someone else ------------------------------------------


def test_a_sender_header_does_not_redirect_anything(desk: Desk) -> None:
    raw = build_mail(sender=REQUESTER, headers={"Sender": ATTACKER})
    _request(desk, raw)
    assert ATTACKER not in [str(m["To"]) for _, m in outbound(desk)]


def test_multiple_from_addresses_answer_only_the_first(desk: Desk) -> None:
    raw = build_mail(sender=f"jan.jansen@example.nl, {ATTACKER}")
    _request(desk, raw)
    assert ATTACKER not in [str(m["To"]) for _, m in outbound(desk)]


def test_review_item_opened_later_still_sends_the_code_to_the_record(desk: Desk) -> None:
    from bot.review import open_review
    from storage.models import ReviewItem

    import_register(desk, text=REGISTER, actor="t", now=T0)
    raw = build_mail(
        sender=f"Anna de Vries <{ANNA}>",
        headers={"Reply-To": ATTACKER},
        subject="Vraag",
        body="Hallo, kunt u mij bellen over mijn gegevens?\n",
    )
    result = process_message(desk, raw, now=T0, source="test")
    if result.action != "review":
        pytest.skip(f"the recogniser routed this mail to {result.action}")
    with desk.transaction() as session:
        item_id = session.exec(select(ReviewItem)).one().id or 0
    open_review(desk, item_id=item_id, kind="access", actor="t", now=T0 + timedelta(hours=30))
    assert _codes_to(desk) == [ANNA]


# --- (c) acting on another person's case ---------------------------------------------------


@pytest.fixture
def desk_with_trusted_authserv(engine: Engine, db_url: str, tmp_path: object) -> Desk:
    settings = make_settings(db_url, tmp_path, trusted_authserv_id="mx.proambt.nl")
    return Desk(settings=settings, engine=engine)


def test_forged_requester_from_failing_dmarc_cannot_lock_the_case(
    desk_with_trusted_authserv: Desk,
) -> None:
    desk = desk_with_trusted_authserv
    reference = _request(desk, build_mail(sender=REQUESTER))
    code = _code_for(desk, "jan.jansen@example.nl") or ""
    forged = {
        "Authentication-Results": "mx.proambt.nl; spf=fail smtp.mailfrom=evil.test; "
        "dkim=none; dmarc=fail header.from=example.nl"
    }
    for minute in range(1, 7):
        _reply(desk, reference, _wrong(code, minute), headers=forged, minutes=minute)
    assert not _check(desk).locked
    assert "verified" in _reply(desk, reference, code, minutes=9)


def test_forged_bounce_with_a_reference_does_not_mark_a_case_bounced(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    raw = build_mail(
        sender="MAILER-DAEMON@evil.test",
        subject=f"Undelivered Mail Returned to Sender [{reference}]",
        body="This is the mail system.\n",
    )
    result = process_message(desk, raw, now=T0 + timedelta(minutes=2), source="test")
    case = core.get_case(desk, reference=reference)
    assert "bounced" not in case.flags
    assert result.action != "threaded"


def test_machine_mail_with_a_reference_changes_nothing_on_the_case(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    before = core.get_case(desk, reference=reference)
    raw = build_mail(
        sender="jan.jansen@example.nl",
        subject=f"Re: [{reference}] Uw code",
        body="123456",
        headers={"Auto-Submitted": "auto-replied"},
    )
    process_message(desk, raw, now=T0 + timedelta(minutes=2), source="test")
    after = core.get_case(desk, reference=reference)
    assert after.flags == before.flags and after.state == before.state
    assert _check(desk).wrong_attempts == 0


def test_new_request_carrying_someone_elses_reference_does_not_touch_their_case(
    desk: Desk,
) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    raw = build_mail(sender=ATTACKER, subject=f"Inzageverzoek [{reference}]")
    result = process_message(desk, raw, now=T0 + timedelta(minutes=2), source="test")
    assert "not acted on" in result.reason
    assert ATTACKER not in [str(m["To"]) for _, m in outbound(desk)]


# --- (d) learning whether a person is in the register --------------------------------------


def _attacker_got_a_code(desk: Desk, raw: bytes) -> bool:
    with desk.transaction() as session:
        for item in session.exec(select(OutboxItem)).all():
            session.delete(item)
    _request(desk, raw)
    return _code_for(desk, ATTACKER) is not None


def test_display_name_probe_does_not_tell_whether_the_register_knows_a_name(
    desk: Desk,
) -> None:
    import_register(desk, text=REGISTER, actor="t", now=T0)
    known = _attacker_got_a_code(desk, build_mail(sender=f"Anna de Vries <{ATTACKER}>"))
    unknown = _attacker_got_a_code(desk, build_mail(sender=f"Nobody Known <{ATTACKER}>"))
    assert known == unknown


def test_reply_to_probe_does_not_tell_whether_the_register_knows_an_address(
    desk: Desk,
) -> None:
    import_register(desk, text=REGISTER, actor="t", now=T0)
    known = _attacker_got_a_code(desk, build_mail(sender=ATTACKER, headers={"Reply-To": ANNA}))
    unknown = _attacker_got_a_code(
        desk, build_mail(sender=ATTACKER, headers={"Reply-To": "nobody@victim.nl"})
    )
    assert known == unknown


def test_forged_from_with_own_reply_to_does_not_tell_the_register(desk: Desk) -> None:
    import_register(desk, text=REGISTER, actor="t", now=T0)
    known = _attacker_got_a_code(desk, build_mail(sender=ANNA, headers={"Reply-To": ATTACKER}))
    unknown = _attacker_got_a_code(
        desk, build_mail(sender="nobody@victim.nl", headers={"Reply-To": ATTACKER})
    )
    assert known == unknown is False


# --- (e) stalling intake or losing mail ----------------------------------------------------


@pytest.mark.parametrize("where", ["From", "Reply-To"])
@pytest.mark.parametrize("weird", [b"=?utf-8?q?x?=@evil.test", b"back\\slash@evil.test"])
def test_an_unsendable_address_does_not_make_intake_raise(
    desk: Desk, where: str, weird: bytes
) -> None:
    raw = (
        _raw_mail(sender=weird)
        if where == "From"
        else _raw_mail(sender=b"jan.jansen@example.nl", reply_to=weird)
    )
    result = process_message(desk, raw, now=T0, source="test")
    assert result.action in {"created", "review"}
    # the next mail is handled as usual
    assert process_message(desk, build_mail(), now=T0, source="test").action == "created"


@pytest.mark.xfail(
    strict=True,
    reason="known limit: the same Message-ID is one mail (RFC 5322 3.6.4), so a different mail "
    "sent earlier under a Message-ID an attacker knows in advance makes the real one a duplicate",
)
def test_a_different_mail_reusing_a_message_id_is_not_dropped(desk: Desk) -> None:
    mid = "<victims-next-mail@example.nl>"
    first = build_mail(sender=ATTACKER, subject="hallo", body="niets\n", headers={})
    first = re.sub(rb"Message-ID: <[^>]+>", f"Message-ID: {mid}".encode(), first)
    process_message(desk, first, now=T0, source="test")
    real = re.sub(rb"Message-ID: <[^>]+>", f"Message-ID: {mid}".encode(), build_mail())
    result = process_message(desk, real, now=T0 + timedelta(minutes=1), source="test")
    assert result.action == "created"


def test_a_huge_references_header_does_not_make_intake_fail(desk: Desk) -> None:
    ids = " ".join(f"<{n}@x>" for n in range(300_000))
    raw = _raw_mail(sender=b"jan.jansen@example.nl").replace(
        b"\r\nSubject:", b"\r\nReferences: " + ids.encode() + b"\r\nSubject:", 1
    )
    result = process_message(desk, raw, now=T0, source="test")
    assert result.action in {"created", "review"}


def test_unparseable_from_header_still_stores_and_routes(desk: Desk) -> None:
    raw = b"From: <<<@@@>>> (((\r\nTo: secretariaat@proambt.nl\r\nSubject: Inzage\r\n\r\n"
    raw += b"Ik wil graag inzage in alle persoonsgegevens die u over mij heeft.\r\n"
    result = process_message(desk, raw, now=T0, source="test")
    assert result.action in {"created", "review", "ignored"}
    assert process_message(desk, build_mail(), now=T0, source="test").action == "created"


# --- (f) mail bombing an address beyond the daily limit ------------------------------------


def _mails_to(desk: Desk, address: str) -> int:
    """Automatic replies to the address, an acknowledgement and its code counting as one (all
    these mails are the first reply to a new case: one reply per case)."""
    return len(
        {item.case_id for item, _ in outbound(desk) if normalise_address(item.recipient) == address}
    )


def test_forged_from_victim_cannot_exceed_the_daily_limit(desk: Desk) -> None:
    for n in range(12):
        process_message(
            desk, build_mail(sender="victim@example.nl"), now=T0 + timedelta(minutes=n), source="t"
        )
    acks = [i for i, _ in outbound(desk) if i.kind.startswith("auto.")]
    assert len(acks) <= desk.settings.max_auto_replies_per_day


@pytest.mark.parametrize(
    "variant",
    ["Victim@Example.NL", "victim+{n}@example.nl", "VICTIM+{n}@example.nl"],
)
def test_case_and_tag_variants_share_the_daily_limit(desk: Desk, variant: str) -> None:
    for n in range(12):
        process_message(
            desk,
            build_mail(sender=ATTACKER, headers={"Reply-To": variant.format(n=n)}),
            now=T0 + timedelta(minutes=n),
            source="t",
        )
    acks = [
        i
        for i, _ in outbound(desk)
        if normalise_address(i.recipient) == "victim@example.nl" and "ack" in i.kind
    ]
    assert len(acks) <= desk.settings.max_auto_replies_per_day


def test_forged_from_with_rotating_reply_to_cannot_bomb_the_from_address(desk: Desk) -> None:
    for n in range(12):
        raw = build_mail(sender="victim@example.nl", headers={"Reply-To": f"r{n}@evil.test"})
        process_message(desk, raw, now=T0 + timedelta(minutes=n), source="t")
    assert _mails_to(desk, "victim@example.nl") <= desk.settings.max_auto_replies_per_day


def test_registered_name_cannot_be_used_to_bomb_the_record_address(desk: Desk) -> None:
    import_register(desk, text=REGISTER, actor="t", now=T0)
    for n in range(12):
        raw = build_mail(sender=f"Anna de Vries <m{n}@evil.test>")
        process_message(desk, raw, now=T0 + timedelta(minutes=n), source="t")
    assert _mails_to(desk, ANNA) <= desk.settings.max_auto_replies_per_day


def test_new_code_requests_are_bounded_per_case(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    for minute in range(1, 20):
        _reply(desk, reference, "nieuwe code", minutes=minute)
    assert len(_codes_to(desk)) <= 3


# --- (g) control characters or extra headers in outbound mail ------------------------------


def _header_section(payload: bytes) -> bytes:
    return re.split(rb"\r?\n\r?\n", payload, maxsplit=1)[0]


@pytest.mark.parametrize("control", [b"\x01", b"\x7f", b"\x00"])
def test_control_characters_in_a_sender_never_reach_our_headers(desk: Desk, control: bytes) -> None:
    raw = _raw_mail(sender=b"jan" + control + b"jansen@example.nl")
    process_message(desk, raw, now=T0, source="test")
    for item, _ in outbound(desk):
        head = _header_section(item.payload)
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", head), head


@pytest.mark.parametrize(
    "value",
    [
        "<a@b>\r\nBcc: victim@example.nl",
        "<a@b>\nX-Injected: yes",
        "<a\x00@b>",
        "<a@b>\u2028Bcc: v@example.nl",
    ],
)
def test_header_injection_via_message_id_or_references_is_refused(desk: Desk, value: str) -> None:
    raw = build_mail().replace(b"\nTo:", f"\nReferences: {value}\nTo:".encode(), 1)
    raw = raw.replace(b"Message-ID:", f"X-Old: 1\nMessage-ID: {value}\nX-Old2:".encode(), 1)
    process_message(desk, raw, now=T0, source="test")
    for item, _ in outbound(desk):
        head = _header_section(item.payload)
        assert b"Bcc" not in head and b"X-Injected" not in head and b"\x00" not in head


def test_display_name_with_line_breaks_stays_in_the_body(desk: Desk) -> None:
    sender = b"=?utf-8?q?Jan=0D=0ABcc:_victim@example.nl?= <jan.jansen@example.nl>"
    process_message(desk, _raw_mail(sender=sender), now=T0, source="test")
    for item, _ in outbound(desk):
        assert b"Bcc" not in _header_section(item.payload)


# --- more attacks that the desk resists ----------------------------------------------------


def test_code_only_in_quoted_history_is_not_an_attempt(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    code = _code_for(desk, "jan.jansen@example.nl") or ""
    body = f"Dank u.\n\nOp 2 maart schreef het secretariaat:\n> Uw code:\n>     {_wrong(code)}\n"
    _reply(desk, reference, body)
    assert _check(desk).wrong_attempts == 0


def test_a_code_from_the_reply_to_when_it_went_to_the_from_is_refused(desk: Desk) -> None:
    """The code goes to the From; the Reply-To address gets the acknowledgement only, and a
    code sent back from it is neither accepted nor counted."""
    raw = build_mail(sender="Jan Jansen <jan@home.nl>", headers={"Reply-To": "jan@other.nl"})
    reference = _request(desk, raw)
    code = _code_for(desk, "jan@home.nl")
    assert code is not None and _codes_to(desk) == ["jan@home.nl"]
    reason = _reply(desk, reference, code, sender="jan@other.nl")
    assert "not acted on" in reason
    assert core.get_case(desk, reference=reference).verified_at is None
    assert _check(desk).wrong_attempts == 0
    assert "verified" in _reply(desk, reference, code, sender="jan@home.nl", minutes=7)


def test_markup_in_a_display_name_is_escaped_in_the_html_ack(desk: Desk) -> None:
    sender = '"<a href=//evil.test>klik</a>" <jan.jansen@example.nl>'
    process_message(desk, build_mail(sender=sender), now=T0, source="test")
    for _, mail in outbound(desk):
        html = mail.get_body(preferencelist=("html",))
        assert html is not None
        assert "<a href=//evil.test>" not in html.get_content()


def test_a_form_mail_with_a_victims_address_in_the_body_respects_the_limit(desk: Desk) -> None:
    for n in range(12):
        raw = build_mail(
            sender=f"noreply-{n}@evil.test",
            subject="Contactformulier",
            body="Naam: Vic\nE-mail: victim@example.nl\nBericht: ik wil inzage in mijn "
            "persoonsgegevens.\n",
        )
        process_message(desk, raw, now=T0 + timedelta(minutes=n), source="t")
    assert _mails_to(desk, "victim@example.nl") <= desk.settings.max_auto_replies_per_day


def test_a_stranger_cannot_withdraw_or_close_a_case(desk: Desk) -> None:
    reference = _request(desk, build_mail(sender=REQUESTER))
    _reply(desk, reference, "Ik trek mijn verzoek in. Sluit de zaak.", sender=ATTACKER)
    case = core.get_case(desk, reference=reference)
    assert case.state == "awaiting_identity" and case.closed_at is None
