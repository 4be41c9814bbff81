"""parse_message on hostile headers, and the mbox envelope line."""

import pytest

from bot.mail.parse import parse_message, strip_envelope


def _mail(*headers: str, body: str = "Graag inzage.") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


@pytest.mark.parametrize(
    "value",
    [
        "=?utf-8?q?m1@victim.nl?= <attacker@evil.test>",
        "=?utf-8?q?m1@victim.nl_?= <attacker@evil.test>",
        "=?utf-8?q?=3Cm1@victim.nl=3E?= <attacker@evil.test>",
        "=?utf-8?b?PG0xQHZpY3RpbS5ubD4=?= <attacker@evil.test>",
        '"m1@victim.nl" <attacker@evil.test>',
        "=?utf-8?q?m1@victim.nl?= attacker@evil.test",
    ],
)
def test_sender_and_reply_to_are_the_addr_spec_never_the_display_name(value: str) -> None:
    mail = parse_message(_mail(f"From: {value}", f"Reply-To: {value}", f"To: {value}"))
    assert mail.sender == "attacker@evil.test"
    assert mail.reply_to == "attacker@evil.test"
    assert mail.recipients == ("attacker@evil.test",)


def test_encoded_display_name_is_still_read() -> None:
    mail = parse_message(_mail("From: =?iso-8859-1?q?Ren=E9e_M=FCller?= <renee@example.de>"))
    assert (mail.sender, mail.sender_name) == ("renee@example.de", "Renée Müller")


@pytest.mark.parametrize("lines", [800, 2710])
def test_a_huge_folded_to_header_is_read_without_recursion(lines: int) -> None:
    # Each encoded-word holds a colon, which the stdlib's address parser takes for a group and
    # recurses into; 2,710 such lines raised RecursionError out of parse_message.
    words = "\r\n ".join("=?utf-8?q?Aw:_Die_hei=C3=9Fe_Zypernsonne?=" for _ in range(lines))
    raw = _mail("From: Jan <jan@example.nl>", f"To: {words} <desk@example.nl>", "Subject: x")
    mail = parse_message(raw)
    assert mail.sender == "jan@example.nl"
    assert mail.recipients == ("desk@example.nl",)
    assert any(d.startswith("To: address header") for d in mail.defects)
    assert mail.text == "Graag inzage."


def test_many_recipients_past_the_limit_are_all_kept() -> None:
    to = ",\r\n ".join(f"=?utf-8?q?Naam_{i}?= <p{i}@example.nl>" for i in range(2710))
    mail = parse_message(_mail("From: jan@example.nl", f"To: {to}"))
    assert len(mail.recipients) == 2710
    assert mail.sender == "jan@example.nl"


@pytest.mark.parametrize(
    "envelope",
    [
        b"From user@host\n",
        b"From user@host Fri Dec  4 10:00:00 2026\r\n",
        b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n",
        b"From \r\n",
    ],
)
def test_envelope_line_is_stripped(envelope: bytes) -> None:
    rest = b"From: Jan <jan@example.nl>\r\nSubject: inzage\r\n\r\nGraag inzage.\r\n"
    assert strip_envelope(envelope + rest) == rest
    assert parse_message(envelope + rest).sender == "jan@example.nl"


@pytest.mark.parametrize(
    "raw",
    [
        b"From: jan@example.nl\r\n\r\nx",
        b"From : jan@example.nl\r\n\r\nx",
        b"Subject: x\r\nFrom user@host\r\n\r\nx",
        b"",
        b"Fromage: x\r\n\r\n",
    ],
)
def test_headers_are_not_taken_for_an_envelope(raw: bytes) -> None:
    assert strip_envelope(raw) == raw
