"""Building an outbound mail (pure): headers that keep us out of loops, text and HTML parts.

The mail is an `email.message.EmailMessage` written by the standard library's generator. Its
policy refuses a header value holding CR or LF (header injection), folds and, where needed,
encodes headers (RFC 5322, RFC 2047) and writes the quoted-printable parts (RFC 2045). Lines
end in LF, as the outbox stores them and a Maildir wants them; the SMTP client sends CRLF.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import AddressHeader, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy, Policy, default
from email.utils import make_msgid, parseaddr
from typing import Any, ClassVar, Literal

from bot.templates import RenderedMail

LOOP_HEADER = "X-DSR-Loop"
# RFC 5322 section 3.6.4 lets a long References field be trimmed; we keep the thread's first
# id and its last nine, so a mail that arrives with thousands of ids is not copied whole.
MAX_REFERENCES = 10
# A msg-id we repeat: `<left@right>` in printable ASCII without space, `<`, `>` or a second
# `@`, short enough that `In-Reply-To: ` and the id fit the 998-character line (RFC 5322
# sections 2.1.1 and 3.6.4). Control characters, NUL included, never reach our headers.
MAX_ID_LENGTH = 998 - len("In-Reply-To: ")
QP_LINE = 76
_SANE_ID = re.compile(r"<[!-;=?A-~]+@[!-;=?A-~]+>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class MsgIdListHeader(UnstructuredHeader, BaseHeader):
    """In-Reply-To and References: msg-ids apart by single spaces, folded only between two
    ids. (The default unstructured header would RFC 2047-encode an id longer than a line,
    and a msg-id is compared as it is written.)"""

    max_count: ClassVar[Literal[1] | None] = 1

    @classmethod
    def parse(cls, value: str, kwds: dict[str, Any]) -> None:
        super().parse(value, kwds)
        kwds["decoded"] = " ".join(value.split())

    def fold(self, *, policy: Policy) -> str:
        head = f"{self.name}:"
        limit = policy.max_line_length or 998
        lines = [head]
        for msg_id in str(self).split():
            if lines[-1] != head and len(lines[-1]) + 1 + len(msg_id) > limit:
                lines.append("")
            lines[-1] += " " + msg_id
        return policy.linesep.join(lines) + policy.linesep


class _Headers(HeaderRegistry):
    """The standard header classes, each made once: `HeaderRegistry` builds a new class for
    every header it is asked for, about a third of the time composing a mail takes."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def map_to_type(self, name: str, cls: type[BaseHeader]) -> None:
        super().map_to_type(name, cls)
        self._made.pop(name.lower(), None)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(key)
        return made


def _policy(*, utf8: bool) -> EmailPolicy[EmailMessage]:
    headers = _Headers()
    headers.map_to_type("in-reply-to", MsgIdListHeader)
    headers.map_to_type("references", MsgIdListHeader)
    # 76: the generator folds headers and breaks quoted-printable lines at the policy's one
    # length, and RFC 2045 section 6.7 allows encoded lines of at most 76 characters.
    return default.clone(header_factory=headers, utf8=utf8, max_line_length=QP_LINE)


# An address that is not ASCII (EAI, RFC 6532) is written as UTF-8, never RFC 2047-encoded;
# such a mail can only travel with SMTPUTF8 (RFC 6531), which the delivery checks.
ASCII_POLICY = _policy(utf8=False)
UTF8_POLICY = _policy(utf8=True)


@functools.lru_cache(maxsize=1024)
def _header(utf8: bool, name: str, value: str) -> BaseHeader:
    """The header the policy makes of `value` (refusing a line break, as assigning it would),
    made once per value: parsing an address takes the email package about 0.1 ms, and our
    sender, and a requester's address, recur in mail after mail."""
    policy = UTF8_POLICY if utf8 else ASCII_POLICY
    header: BaseHeader = policy.header_store_parse(name, value)[1]
    return header


@dataclass(frozen=True, slots=True)
class ComposedMail:
    """A mail as it goes into the outbox: its bytes and the Message-ID written in them."""

    raw: bytes
    message_id: str


def message_id_domain(own_domain: str) -> str:
    """Our Message-IDs use a subdomain of our own, so colleagues' mail is never taken for ours."""
    return f"dsr.{own_domain}"


def loop_mark(secret: str, message_id: str) -> str:
    """The loop header's value for the mail with this Message-ID: its HMAC-SHA256 (RFC 2104)
    keyed with the installation's secret. Only we can make it, and it gives the secret away to
    no one who reads our mail."""
    return hmac.new(secret.encode(), message_id.encode(), hashlib.sha256).hexdigest()


def compose(
    rendered: RenderedMail,
    *,
    sender: str,
    to: str,
    now: datetime,
    own_domain: str,
    loop_secret: str,
    language: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    automatic: bool = True,
) -> ComposedMail:
    """multipart/alternative (text and HTML), UTF-8, with the headers that prevent loops.

    `to` is one bare address (it is also the envelope's); a value that is not, or a header
    value with a line break, raises ValueError. Inbound ids that are not sane are left out.
    """
    if _CONTROL_CHARS.search(to):
        raise ValueError("the recipient must be one bare address (local@domain)")
    utf8 = not (parseaddr(sender)[1].isascii() and to.isascii())
    mail = EmailMessage(policy=UTF8_POLICY if utf8 else ASCII_POLICY)
    mail["From"] = _header(utf8, "From", sender)
    mail["To"] = _header(utf8, "To", to)
    _require_one_address(mail, "From")
    if _require_one_address(mail, "To") != to:
        raise ValueError("the recipient must be one bare address (local@domain)")
    mail["Subject"] = _one_line(rendered.subject)
    mail["Date"] = now
    message_id = make_msgid(domain=message_id_domain(own_domain))
    mail["Message-ID"] = message_id
    parent, chain = thread_ids(in_reply_to, references)
    if parent:
        mail["In-Reply-To"] = parent
    if chain:
        mail["References"] = " ".join(chain)
    # RFC 3834: mark what we send so that well-behaved responders do not answer it.
    submitted = "auto-replied" if automatic and parent else "auto-generated"
    mail["Auto-Submitted"] = _header(utf8, "Auto-Submitted", submitted)
    mail["X-Auto-Response-Suppress"] = _header(utf8, "X-Auto-Response-Suppress", "All")
    mail["Precedence"] = _header(utf8, "Precedence", "auto_reply" if automatic else "bulk")
    mail[LOOP_HEADER] = loop_mark(loop_secret, message_id)
    # Quoted-printable keeps the text readable in a mail client's source view (RFC 2045 6.7).
    mail.set_content(rendered.text, cte="quoted-printable")
    mail.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    # Both parts are quoted-printable, where `=` is always followed by two hex digits or a line
    # end: a boundary starting `=_` cannot occur in them (RFC 2045 section 6.7, RFC 2046
    # section 5.1.1), so the generator need not search the parts for a free one.
    mail.set_boundary(f"=_{secrets.token_hex(16)}")
    # After the parts: set_content clears, and add_alternative moves, Content-* headers.
    mail["Content-Language"] = _header(utf8, "Content-Language", language)  # RFC 3282
    return ComposedMail(raw=mail.as_bytes(), message_id=message_id)


def thread_ids(in_reply_to: str | None, references: Sequence[str]) -> tuple[str | None, list[str]]:
    """In-Reply-To and References for a reply (RFC 5322 section 3.6.4): the parent's id, and
    the parent's references followed by its id, at most MAX_REFERENCES of them (the first and
    the latest); ids that are not sane are dropped."""
    parent = in_reply_to if in_reply_to and is_sane_id(in_reply_to) else None
    chain = list(dict.fromkeys(r for r in (*references, parent) if r and is_sane_id(r)))
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return parent, chain


def is_sane_id(msg_id: str) -> bool:
    """`<left@right>` in printable ASCII, at most MAX_ID_LENGTH characters."""
    return len(msg_id) <= MAX_ID_LENGTH and _SANE_ID.fullmatch(msg_id) is not None


def _one_line(text: str) -> str:
    """A subject on one line, whatever the template was given: control characters (line
    breaks included) and runs of white space made single spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def is_sendable(address: str) -> bool:
    """Whether `address` can stand alone in a To: header we write (one bare addr-spec, no
    control characters): what `compose` would accept as the recipient."""
    if not address or _CONTROL_CHARS.search(address):
        return False
    utf8 = not address.isascii()
    probe = EmailMessage(policy=UTF8_POLICY if utf8 else ASCII_POLICY)
    try:
        probe["To"] = _header(utf8, "To", address)
        return _require_one_address(probe, "To") == address
    except (ValueError, IndexError, TypeError):
        return False


_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _require_one_address(mail: EmailMessage, name: str) -> str:
    """The addr-spec of the single address in header `name`; ValueError otherwise."""
    header = mail[name]
    addresses = header.addresses if isinstance(header, AddressHeader) else ()
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise ValueError(f"{name} must hold exactly one address")
    return str(addresses[0].addr_spec)
