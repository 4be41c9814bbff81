"""The loop header (X-DSR-Loop) carries the keyed hash of the mail's own Message-ID, never the
installation's secret; only that mark makes an inbound mail our own mail come back."""

from datetime import UTC, datetime
from email.message import EmailMessage

from bot.compose import compose, loop_mark
from bot.mail.machine import classify_sender
from bot.mail.parse import parse_message
from bot.templates import RenderedMail

LOOP_SECRET = "installation-secret"
OURS = ("example.org",)  # not the domain of these Message-IDs: the loop header alone decides


def _mail_with_loop_header(value: str | None, message_id: str = "<m1@dsr.proambt.nl>") -> bytes:
    mail = EmailMessage()
    mail["From"] = "secretariaat@proambt.nl"
    mail["To"] = "secretariaat@proambt.nl"
    mail["Subject"] = "Uw verzoek DSR-2026-0042"
    mail["Message-ID"] = message_id
    if value is not None:
        mail["X-DSR-Loop"] = value
    mail.set_content("Kopie.\n")
    return mail.as_bytes()


def _verdict(raw: bytes) -> str:
    return classify_sender(parse_message(raw), own_domains=OURS, own_loop_token=LOOP_SECRET).kind


def test_our_mark_of_the_mails_own_message_id_is_a_loop() -> None:
    assert _verdict(_mail_with_loop_header(loop_mark(LOOP_SECRET, "<m1@dsr.proambt.nl>"))) == "loop"


def test_the_secret_itself_in_the_loop_header_proves_nothing() -> None:
    assert _verdict(_mail_with_loop_header(LOOP_SECRET)) == "person"


def test_a_mark_copied_from_another_mail_proves_nothing() -> None:
    copied = loop_mark(LOOP_SECRET, "<ack-to-mallory@dsr.proambt.nl>")
    assert _verdict(_mail_with_loop_header(copied, "<mallory-1@example.net>")) == "person"
    assert _verdict(_mail_with_loop_header(None)) == "person"


def test_a_mail_we_composed_comes_back_as_a_loop() -> None:
    rendered = RenderedMail(subject="Uw verzoek DSR-2026-0042", text="x\n", html="<p>x</p>\n")
    mail = compose(
        rendered,
        sender="secretariaat@proambt.nl",
        to="secretariaat@proambt.nl",
        now=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        own_domain="proambt.nl",
        loop_secret=LOOP_SECRET,
        language="nl",
    )
    assert _verdict(mail.raw) == "loop"
    verdict = classify_sender(parse_message(mail.raw), own_domains=OURS, own_loop_token="other")
    assert verdict.kind == "auto_reply"  # still machine mail, by its Auto-Submitted
