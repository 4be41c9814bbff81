"""compose builds the mail with the standard library's EmailMessage; what it writes reads back
as the mail we meant, and nothing from an inbound mail or a Slack input can add a header."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose import (
    LOOP_HEADER,
    MAX_ID_LENGTH,
    ComposedMail,
    compose,
    is_sane_id,
    loop_mark,
)
from bot.templates import RenderedMail

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SECRET = "installation-secret"
OUTLOOK_ID = "<AM0PR04MB1234567890ABCDEF0123456789ABCDEF@AM0PR04MB1234.eurprd04.prod.outlook.com>"
RENDERED = RenderedMail(
    subject="[DSR-2026-0042] Wij hebben uw verzoek ontvangen, José",
    text="Beste José Müller,\n\n" + "Uw verzoek over inzage, vóór 2 april. " * 5 + "\n",
    html='<p style="color: #222;">Beste José Müller,</p>\n',
)


def make(rendered: RenderedMail = RENDERED, **overrides: Any) -> ComposedMail:
    facts: dict[str, Any] = {
        "sender": "secretariaat@proambt.nl",
        "to": "jose@example.es",
        "now": NOW,
        "own_domain": "proambt.nl",
        "loop_secret": SECRET,
        "language": "nl",
        "in_reply_to": "<CAF=abc123@mail.gmail.com>",
        "references": ("<r1@example.nl>",),
    }
    return compose(rendered, **{**facts, **overrides})


def parsed(mail: ComposedMail) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(mail.raw, policy=default))


def written(mail: ComposedMail, name: str) -> bytes:
    """Header `name` as it is written, continuation lines included."""
    lines = mail.raw.partition(b"\n\n")[0].split(b"\n")
    start = next(n for n, line in enumerate(lines) if line.startswith(name.encode() + b":"))
    end = next((n for n in range(start + 1, len(lines)) if lines[n][:1] != b" "), len(lines))
    return b"\n".join(lines[start:end])


def test_the_mail_reads_back_as_written() -> None:
    mail = make()
    back = parsed(mail)
    assert back["Subject"] == RENDERED.subject
    assert back["Message-ID"] == mail.message_id
    assert mail.message_id.endswith("@dsr.proambt.nl>")
    assert back["In-Reply-To"] == "<CAF=abc123@mail.gmail.com>"
    assert back["References"] == "<r1@example.nl> <CAF=abc123@mail.gmail.com>"
    assert back["Auto-Submitted"] == "auto-replied"
    assert back["Precedence"] == "auto_reply"
    assert back["Content-Language"] == "nl"
    assert back.get_content_type() == "multipart/alternative"
    assert all(len(line) <= 76 for line in mail.raw.splitlines())  # RFC 2045 section 6.7
    parts = [part.get_payload(decode=True) for part in back.walk() if not part.is_multipart()]
    assert parts == [RENDERED.text.encode(), RENDERED.html.encode()]


# Any text a template may produce, and the odd characters a name or a Slack input may bring.
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=100)
@given(subject=texts, text=texts, html=texts, automatic=st.booleans())
def test_any_text_reads_back_and_the_headers_stay_ours(
    subject: str, text: str, html: str, automatic: bool
) -> None:
    rendered = RenderedMail(subject=subject, text=text, html=html)
    mail = make(rendered, automatic=automatic)
    back = parsed(mail)
    assert [name for name, _ in back.items()] == [
        "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
        "Auto-Submitted", "X-Auto-Response-Suppress", "Precedence", LOOP_HEADER,
        "MIME-Version", "Content-Type", "Content-Language",
    ]  # fmt: skip
    assert back["Subject"] == " ".join(subject.translate(CONTROLS).split())
    parts = [part.get_content() for part in back.walk() if not part.is_multipart()]
    assert [p.replace("\r\n", "\n").replace("\r", "\n") for p in parts] == [
        t.replace("\r\n", "\n").replace("\r", "\n") + ("" if t.endswith(("\n", "\r")) else "\n")
        for t in (text, html)
    ]


CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)], " ")


def test_a_text_made_of_boundary_lines_cannot_split_the_mail() -> None:
    """We choose the boundary (`=_` and a random token) instead of letting the generator
    search the parts for a free one: quoted-printable never writes `=_`, so no line a
    requester puts in a name or a note can end a part or start a new one."""
    mail = make()
    boundary = parsed(mail).get_boundary()
    assert boundary is not None and boundary.startswith("=_")
    hostile = f"--{boundary}\nContent-Type: text/html\n\n<b>x</b>\n--{boundary}--\n--=_\n"
    rendered = RenderedMail(subject="s", text=hostile, html=f"<p>{hostile}</p>")
    for _ in range(3):
        back = parsed(make(rendered))
        parts = [part.get_content() for part in back.walk() if not part.is_multipart()]
        assert parts == [hostile, f"<p>{hostile}</p>\n"]


def test_a_line_break_in_the_subject_cannot_add_a_header() -> None:
    rendered = RenderedMail(
        subject="Uw verzoek\r\nBcc: everyone@example.net\nX-Evil: 1", text="x\n", html="<p>x</p>"
    )
    back = parsed(make(rendered))
    assert back["Bcc"] is None and back["X-Evil"] is None
    assert back["Subject"] == "Uw verzoek Bcc: everyone@example.net X-Evil: 1"


@pytest.mark.parametrize(
    "to",
    [
        "jan@example.nl\r\nBcc: everyone@example.net",
        "jan@example.nl\nBcc: everyone@example.net",
        '"Jan\r\nBcc: everyone@example.net" <jan@example.nl>',
        "jan@example.nl, everyone@example.net",
        "Jan <jan@example.nl>",
        "not an address",
    ],
)
def test_a_recipient_that_is_not_one_bare_address_is_refused(to: str) -> None:
    with pytest.raises(ValueError, match="address|linefeed"):
        make(to=to)


def test_a_line_break_in_the_senders_display_name_is_refused() -> None:
    with pytest.raises(ValueError, match="linefeed"):
        make(sender="Secretariaat\r\nBcc: everyone@example.net <secretariaat@proambt.nl>")


@pytest.mark.parametrize(
    "bad",
    [
        "<nul\x00@example.nl>",
        "<bell\x07@example.nl>",
        "<del\x7f@example.nl>",
        "<cr\r@example.nl>",
        "<space inside@example.nl>",
        "<no-at-sign>",
        "<two@at@signs.nl>",
        "<zoë@example.nl>",
        "bare@example.nl",
        "<" + "x" * MAX_ID_LENGTH + "@example.nl>",
    ],
)
def test_inbound_ids_that_are_not_sane_are_dropped(bad: str) -> None:
    assert not is_sane_id(bad)
    mail = make(in_reply_to=bad, references=(bad, "<r1@example.nl>"))
    back = parsed(mail)
    assert back["In-Reply-To"] is None
    assert back["References"] == "<r1@example.nl>"
    assert bad.encode("utf-8", "replace") not in mail.raw
    assert back["Auto-Submitted"] == "auto-generated"  # no parent we can name


def test_a_long_id_is_written_as_it_is_never_encoded() -> None:
    mail = make(in_reply_to=OUTLOOK_ID, references=("<r1@example.nl>",) * 3 + (OUTLOOK_ID,))
    back = parsed(mail)
    assert back["In-Reply-To"] == OUTLOOK_ID
    assert back["References"] == f"<r1@example.nl> {OUTLOOK_ID}"
    assert written(mail, "In-Reply-To") == f"In-Reply-To: {OUTLOOK_ID}".encode()
    assert written(mail, "References") == f"References: <r1@example.nl>\n {OUTLOOK_ID}".encode()


def test_a_long_references_list_keeps_the_first_and_the_last_nine() -> None:
    ids = [f"<r{n}@example.nl>" for n in range(10_000)]
    mail = make(in_reply_to="<parent@example.nl>", references=ids)
    back = parsed(mail)
    kept = str(back["References"]).split()
    assert kept == [ids[0], *ids[-8:], "<parent@example.nl>"]
    assert len(mail.raw) < 4000


def test_the_loop_header_is_the_keyed_hash_of_the_message_id_not_the_secret() -> None:
    mail = make()
    assert parsed(mail)[LOOP_HEADER] == loop_mark(SECRET, mail.message_id)
    assert SECRET.encode() not in mail.raw
    assert loop_mark(SECRET, mail.message_id) != loop_mark("other", mail.message_id)


def test_an_eai_address_is_written_in_utf8_never_encoded() -> None:
    mail = make(to="jörg@example.de")
    assert written(mail, "To") == "To: jörg@example.de".encode()
    assert parsed(mail)["To"] == "jörg@example.de"


def test_an_ascii_mail_stays_seven_bit() -> None:
    assert make().raw.isascii()
