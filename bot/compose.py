"""Building an outbound mail (pure): headers that keep us out of loops, text and HTML parts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.templates import RenderedMail

LOOP_HEADER = "X-DSR-Loop"


def message_id_domain(own_domain: str) -> str:
    """Our Message-IDs use a subdomain of our own, so colleagues' mail is never taken for ours."""
    return f"dsr.{own_domain}"


def compose(
    rendered: RenderedMail,
    *,
    sender: str,
    to: str,
    now: datetime,
    own_domain: str,
    loop_token: str,
    language: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    automatic: bool = True,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = rendered.subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=message_id_domain(own_domain))
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    chain = [r for r in (*references, in_reply_to) if r]
    if chain:
        mail["References"] = " ".join(dict.fromkeys(chain))
    # RFC 3834: mark what we send so that well-behaved responders do not answer it.
    mail["Auto-Submitted"] = "auto-replied" if automatic and in_reply_to else "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["Precedence"] = "auto_reply" if automatic else "bulk"
    mail[LOOP_HEADER] = loop_token
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    # After the body: set_content() drops Content-* headers already present (RFC 3282).
    mail["Content-Language"] = language
    return mail
