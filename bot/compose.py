"""Building an outbound mail (pure): headers that keep us out of loops, text and HTML parts."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.policy import compat32
from email.quoprimime import body_encode
from email.utils import format_datetime, make_msgid

from bot.templates import RenderedMail

LOOP_HEADER = "X-DSR-Loop"

# The line length beyond which compat32 folds a header (RFC 5322 section 2.1.1).
_MAX_LINE = compat32.max_line_length or 0
# Octets a quoted-printable body keeps as they are (RFC 2045 section 6.7): printable ASCII
# but `=`, space, tab and the line ends; each other one is written `=XX`.
_LITERAL = bytes(sorted({*range(0x20, 0x7F), 0x09, 0x0A, 0x0D} - {0x3D}))
_ESCAPES = [b"=%02X" % octet for octet in range(256)]
_EQUALS = 0x3D
_QP_LINE = 76


@dataclass(frozen=True, slots=True)
class ComposedMail:
    """A mail as it goes into the outbox: its bytes and the Message-ID written in them."""

    raw: bytes
    message_id: str


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
) -> ComposedMail:
    """multipart/alternative (text and HTML), UTF-8, with the headers that prevent loops.

    Written directly as the standard library's compat32 generator writes such a mail (the
    same bytes): the structure is fixed, so the generic Message and generator, most of the
    cost on the intake path (every new request queues one), are not needed.
    """
    boundary = _boundary()
    message_id = make_msgid(domain=message_id_domain(own_domain))
    headers = [
        ("From", sender),
        ("To", to),
        ("Subject", _header(rendered.subject)),
        ("Date", format_datetime(now)),
        ("Message-ID", message_id),
        *_thread_headers(in_reply_to, references),
        # RFC 3834: mark what we send so that well-behaved responders do not answer it.
        ("Auto-Submitted", "auto-replied" if automatic and in_reply_to else "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        ("Precedence", "auto_reply" if automatic else "bulk"),
        (LOOP_HEADER, loop_token),
        ("Content-Language", language),  # RFC 3282
    ]
    delimiter = f"\n--{boundary}"
    head = "".join(
        [
            # compat32 folds this line so; the boundary always has the same length.
            f'Content-Type: multipart/alternative;\n boundary="{boundary}"\nMIME-Version: 1.0\n',
            *(_folded(name, value) for name, value in headers),
            delimiter,
        ]
    )
    raw = b"\n".join(
        [
            head.encode("ascii", "surrogateescape"),
            _text_part(rendered.text, "plain") + delimiter.encode("ascii"),
            _text_part(rendered.html, "html") + delimiter.encode("ascii") + b"--\n",
        ]
    )
    return ComposedMail(raw=raw, message_id=message_id)


def _thread_headers(in_reply_to: str | None, references: Sequence[str]) -> list[tuple[str, str]]:
    """In-Reply-To and References (RFC 5322 section 3.6.4), each only when there is one."""
    headers = [("In-Reply-To", in_reply_to)] if in_reply_to else []
    chain = [r for r in (*references, in_reply_to) if r]
    if chain:
        headers.append(("References", " ".join(dict.fromkeys(chain))))
    return headers


def _folded(name: str, value: str) -> str:
    """The header line as compat32 writes it: a plain ASCII value that fits on its line as it
    is (what the Header class makes of it, at a fraction of the cost), others folded by it."""
    if (
        value.isascii()
        and len(name) + 2 + len(value) <= _MAX_LINE
        and "\r" not in value
        and "\n" not in value
    ):
        return f"{name}: {value}\n"
    return compat32.fold_binary(name, value).decode("ascii", "surrogateescape")


def _text_part(text: str, subtype: str) -> bytes:
    """What MIMEText makes of UTF-8 text with the quoted-printable body encoding (readable in
    a mail client's source view, unlike base64), without its rewriting of the headers."""
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        "MIME-Version: 1.0\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
    )
    return head.encode("ascii") + _quoted_printable(text.encode("utf-8"))


def _quoted_printable(data: bytes) -> bytes:
    """What `email.quoprimime.body_encode` makes of `data` (read as Latin-1), with the escaping
    done by a few byte replacements instead of a character map; lines ending in a space or a
    tab, and CR line ends, are rare enough to be left to it."""
    if b"\r" in data:
        return _stdlib_body(data)
    escaped = _escaped(data)
    lines = escaped.split(b"\n")
    if b" \n" in escaped or b"\t\n" in escaped or escaped.endswith((b" ", b"\t")):
        return _with_blank_ends(lines, originals=data.split(b"\n"))
    if max(map(len, lines)) <= _QP_LINE:
        return escaped
    return b"\n".join([_soft_broken(line) if len(line) > _QP_LINE else line for line in lines])


def _escaped(data: bytes) -> bytes:
    """Every octet not kept as it is written `=XX`; `=` itself first, as the escapes of the
    others start with it."""
    escaped = data
    unsafe = set(data.translate(None, _LITERAL))
    if _EQUALS in unsafe:
        unsafe.remove(_EQUALS)
        escaped = escaped.replace(b"=", _ESCAPES[_EQUALS])
    for octet in unsafe:
        escaped = escaped.replace(bytes((octet,)), _ESCAPES[octet])
    return escaped


def _with_blank_ends(lines: list[bytes], *, originals: list[bytes]) -> bytes:
    """The escaped lines, those ending in a space or a tab encoded by the standard library
    from the original (it escapes that last character or breaks the line before it)."""
    for n, line in enumerate(lines):
        if line.endswith((b" ", b"\t")):
            lines[n] = _stdlib_body(originals[n])
        elif len(line) > _QP_LINE:
            lines[n] = _soft_broken(line)
    return b"\n".join(lines)


def _soft_broken(line: bytes) -> bytes:
    """An escaped line cut into lines of at most 76 characters, each but the last ending in
    the soft line break `=`; a cut never falls inside an escape (RFC 2045 section 6.7, rule 5).
    """
    pieces = []
    start = 0
    while len(line) - start > _QP_LINE:
        cut = start + _QP_LINE - 1
        if line[cut - 2] == _EQUALS:
            cut -= 2
        elif line[cut - 1] == _EQUALS:
            cut -= 1
        pieces.append(line[start:cut] + b"=")
        start = cut
    pieces.append(line[start:])
    return b"\n".join(pieces)


def _stdlib_body(data: bytes) -> bytes:
    """`email.quoprimime.body_encode` of octets."""
    return body_encode(data.decode("latin-1")).encode("ascii")


def _boundary() -> str:
    """The standard library's boundary shape, chosen here so that the parts need not be
    searched for it: both are quoted-printable, where `=` starts only an escape or a soft line
    break (RFC 2045 section 6.7), so a run of fifteen `=` never occurs in them."""
    return "=" * 15 + f"{secrets.randbelow(10**19):019d}" + "=="


def _header(value: str) -> str:
    """RFC 2047 encoding only when the text is not plain ASCII."""
    return value if value.isascii() else Header(value, "utf-8").encode()
