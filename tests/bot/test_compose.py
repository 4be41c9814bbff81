"""compose writes, byte for byte, what the standard library's compat32 MIME classes and
generator make of the same mail; and what it writes reads back as the mail we meant."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.policy import compat32, default
from email.quoprimime import body_encode
from email.utils import format_datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.compose import LOOP_HEADER, compose
from bot.templates import RenderedMail

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
IDS = ["<CAF=abc123@mail.gmail.com>", "<r1@example.nl>", "<" + "x" * 70 + "@long.example.com>"]
ADDRESSES = [
    "secretariaat@proambt.nl",
    "Privacybureau Zoëterwoude <privacy@zoeterwoude.example>",
    "Het secretariaat van de functionaris gegevensbescherming <fg@example-gemeente.nl>",
]
BOUNDARY = re.compile(rb'boundary="([^"]+)"')
# What render_mail gives as a subject: words apart by single spaces.
subjects = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=120).map(
    lambda s: " ".join(s.split())
)
bodies = st.text(max_size=600)


def stdlib_bytes(
    rendered: RenderedMail,
    *,
    boundary: str,
    message_id: str,
    sender: str,
    to: str,
    in_reply_to: str | None,
    references: Sequence[str],
    automatic: bool,
) -> bytes:
    """The mail built with MIMEMultipart and written by the generic generator."""
    mail = MIMEMultipart("alternative", boundary=boundary, policy=compat32)
    subject = rendered.subject
    mail["From"], mail["To"] = sender, to
    mail["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    mail["Date"], mail["Message-ID"] = format_datetime(NOW), message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    chain = [r for r in (*references, in_reply_to) if r]
    if chain:
        mail["References"] = " ".join(dict.fromkeys(chain))
    mail["Auto-Submitted"] = "auto-replied" if automatic and in_reply_to else "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["Precedence"] = "auto_reply" if automatic else "bulk"
    mail[LOOP_HEADER], mail["Content-Language"] = "token", "nl"
    for text, subtype in ((rendered.text, "plain"), (rendered.html, "html")):
        part = Message(policy=compat32)
        part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
        part["MIME-Version"] = "1.0"
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(body_encode(text.encode("utf-8").decode("latin-1")))
        mail.attach(part)
    return mail.as_bytes()


@settings(max_examples=300)
@given(
    subject=subjects,
    text=bodies,
    html=bodies,
    sender=st.sampled_from(ADDRESSES),
    to=st.sampled_from(ADDRESSES),
    in_reply_to=st.none() | st.sampled_from(IDS),
    references=st.lists(st.sampled_from(IDS), max_size=30),
    automatic=st.booleans(),
)
def test_compose_writes_the_bytes_of_the_standard_library_generator(
    subject: str,
    text: str,
    html: str,
    sender: str,
    to: str,
    in_reply_to: str | None,
    references: list[str],
    automatic: bool,
) -> None:
    rendered = RenderedMail(subject=subject, text=text, html=html)
    facts = {"sender": sender, "to": to, "in_reply_to": in_reply_to, "automatic": automatic}
    mail = compose(
        rendered,
        now=NOW,
        own_domain="proambt.nl",
        loop_token="token",
        language="nl",
        references=references,
        **facts,  # type: ignore[arg-type]
    )
    found = BOUNDARY.search(mail.raw)
    assert found is not None
    expected = stdlib_bytes(
        rendered,
        boundary=found.group(1).decode(),
        message_id=mail.message_id,
        references=references,
        **facts,  # type: ignore[arg-type]
    )
    assert mail.raw == expected


def test_the_mail_reads_back_as_written() -> None:
    rendered = RenderedMail(
        subject="[DSR-2026-0042] Wij hebben uw verzoek ontvangen, José",
        text="Beste José Müller,\n\n" + "Uw verzoek over inzage, vóór 2 april. " * 5 + "\n",
        html='<p style="color: #222;">Beste José Müller,</p>\n',
    )
    mail = compose(
        rendered,
        sender="secretariaat@proambt.nl",
        to="jose@example.es",
        now=NOW,
        own_domain="proambt.nl",
        loop_token="token",
        language="nl",
        in_reply_to="<CAF=abc123@mail.gmail.com>",
        references=("<r1@example.nl>",),
    )
    parsed = message_from_bytes(mail.raw, policy=default)
    # compat32 starts a non-ASCII subject's encoded words on a continuation line, which
    # unfolds to a leading space.
    assert parsed["Subject"].lstrip() == rendered.subject
    assert parsed["Message-ID"] == mail.message_id
    assert mail.message_id.endswith("@dsr.proambt.nl>")
    assert parsed["References"] == "<r1@example.nl> <CAF=abc123@mail.gmail.com>"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed[LOOP_HEADER] == "token"
    assert all(len(line) <= 78 for line in mail.raw.splitlines())
    parts = [part.get_payload(decode=True) for part in parsed.walk() if not part.is_multipart()]
    assert parts == [rendered.text.encode(), rendered.html.encode()]
