"""Understanding one raw mail: headers, readable text, attachments, delivery reports.

Hand-written around the stdlib's parser (`email.parser.BytesParser`, `compat32`) because
strangers' bytes make the stdlib raise: RecursionError on deep MIME nesting and on long address
headers, and `get_content()` on 2 of the 1,762 mails of the shared corpora.

`parse_message` never raises: every problem we meet becomes a string in `ParsedMail.defects`.
Addresses are addr-specs only, read before any RFC 2047 decoding, so a display name never
passes for an address. Message-IDs keep their RFC 5322 `<...>` form, stripped of white space,
so they compare equal to the ids we write into our own mail.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import TypeVar

from bot.mail.charsets import (
    Headers,
    addresses,
    decode_bytes,
    decode_transfer,
    decode_words,
    header_text,
    msg_ids,
    one_line,
    parse_date,
    raw_header_text,
    return_path,
)
from bot.mail.htmltext import html_to_text

_T = TypeVar("_T")
_MAX_DEPTH = 12
_FORWARD_MARK = "---------- Forwarded message ----------"
_Report = tuple[bool, str | None, tuple[str, ...]]
_NO_REPORT: _Report = (False, None, ())
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int
    content: bytes | None  # None when larger than the limit; never executed or opened
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    sender: str
    sender_name: str
    reply_to: str | None
    recipients: tuple[str, ...]
    return_path: str | None
    date: datetime | None
    headers: Headers
    text: str
    attachments: tuple[Attachment, ...]
    content_type: str
    is_delivery_report: bool
    bounced_message_id: str | None
    bounced_recipients: tuple[str, ...]
    authentication_results: tuple[str, ...]
    size: int
    content_hash: str
    defects: tuple[str, ...]
    # The From header's mailboxes after the first (RFC 5322 allows several): a mail whose From
    # names more than one is nobody's in particular, as DMARC checks one From domain at most.
    other_senders: tuple[str, ...] = ()


@dataclass
class _Walk:
    limit: int
    defects: list[str]
    texts: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)


def _safe(defects: list[str], what: str, fn: Callable[[], _T], default: _T) -> _T:
    # Untrusted input meets a large parser: any exception is recorded as the sender's defect.
    try:
        return fn()
    except Exception as exc:
        defects.append(f"{what}: {type(exc).__name__}: {exc}"[:300])
        return default


# An mbox envelope line (RFC 4155): "From " and the envelope sender, often a date; never a
# header field, which would have a colon after the name ("From:" or the obsolete "From :").
_ENVELOPE = re.compile(rb"\AFrom (?![ \t]*:)[^\r\n]*(?:\r\n|\r|\n|\Z)")


def strip_envelope(raw: bytes) -> bytes:
    """The mail without the mbox envelope line some exporters put first ("From user@host").

    Any first line that starts with "From " and is not a header field is dropped, with or
    without a date; the rest is returned unchanged, and `raw` itself when there is no such line.
    """
    return _ENVELOPE.sub(b"", raw, count=1)


def parse_message(raw: bytes, *, max_attachment_bytes: int = 10_000_000) -> ParsedMail:
    """Parse one RFC 5322 message from bytes; never raises."""
    defects: list[str] = []
    try:
        return _parse_message(raw, max_attachment_bytes, defects)
    except Exception as exc:  # a gap in the guards below must not lose the mail
        defects.append(f"unparseable: {type(exc).__name__}: {exc}"[:300])
        return _unreadable(raw, tuple(defects))


def _parse_message(raw: bytes, max_attachment_bytes: int, defects: list[str]) -> ParsedMail:
    data = strip_envelope(raw)
    msg = _safe(defects, "unparseable", lambda: _parse(data), None)
    if msg is None:  # e.g. MIME nested beyond the recursion limit: keep at least the headers
        msg = _safe(defects, "headers", lambda: _parse(data, headers_only=True), Message())
    no_headers: list[tuple[str, str]] = []
    raw_heads = _safe(defects, "headers", lambda: _raw_headers(msg), no_headers)
    heads = Headers([(name, decode_words(value)) for name, value in raw_heads])
    found = _Addresses(Headers(raw_heads), defects)
    senders = found("From")
    in_reply_to = msg_ids(heads.get_all("In-Reply-To"))
    walk = _Walk(limit=max_attachment_bytes, defects=defects)
    _safe(defects, "body", lambda: _walk(msg, walk, 0, text_ok=True), None)
    ctype = _safe(defects, "content-type", msg.get_content_type, "text/plain")
    report = _safe(defects, "report", lambda: _report(msg), _NO_REPORT)
    return ParsedMail(
        message_id=next(iter(msg_ids(heads.get_all("Message-ID"), loose=True)), None),
        in_reply_to=next(iter(in_reply_to), None),
        references=tuple(dict.fromkeys(msg_ids(heads.get_all("References")) + in_reply_to)),
        subject=one_line(heads.get("Subject", "")),
        sender=senders[0][1] if senders else "",
        sender_name=senders[0][0] if senders else "",
        other_senders=tuple(address for _, address in senders[1:]),
        reply_to=next((a for _, a in found("Reply-To")), None),
        recipients=tuple(dict.fromkeys(a for name in _RECIPIENTS for _, a in found(name))),
        return_path=return_path(heads),
        date=_safe(defects, "date", lambda: parse_date(heads.get("Date", "")), None),
        headers=heads,
        text=_BLANK_LINES.sub("\n\n", "\n\n".join(t for t in walk.texts if t.strip())).strip(),
        attachments=tuple(walk.attachments),
        content_type=ctype,
        is_delivery_report=report[0],
        bounced_message_id=report[1],
        bounced_recipients=report[2],
        authentication_results=heads.get_all("Authentication-Results"),
        size=len(raw),
        content_hash=hashlib.sha256(raw).hexdigest(),
        defects=tuple(dict.fromkeys(defects)) + _parser_defects(msg),
    )


def _unreadable(raw: bytes, defects: tuple[str, ...]) -> ParsedMail:
    """What is left of a mail nothing could be read from: its size, hash and the reason."""
    return ParsedMail(
        message_id=None,
        in_reply_to=None,
        references=(),
        subject="",
        sender="",
        sender_name="",
        reply_to=None,
        recipients=(),
        return_path=None,
        date=None,
        headers=Headers([]),
        text="",
        attachments=(),
        content_type="text/plain",
        is_delivery_report=False,
        bounced_message_id=None,
        bounced_recipients=(),
        authentication_results=(),
        size=len(raw),
        content_hash=hashlib.sha256(raw).hexdigest(),
        defects=defects,
    )


_RECIPIENTS = ("To", "Cc", "Delivered-To", "X-Original-To")


@dataclass(frozen=True)
class _Addresses:
    """Reads addr-specs from the raw (still RFC 2047 encoded) headers; notes what went wrong."""

    raw: Headers
    defects: list[str]

    def __call__(self, name: str) -> list[tuple[str, str]]:
        found, defect = addresses(self.raw.get_all(name))
        if defect:
            self.defects.append(f"{name}: {defect}")
        return found


# compat32 reads a header as its text: get_content_type and the other `Message` methods we call
# split the raw value, where policy.default builds a parsed header object on every read (1.9
# against 0.54 ms a mail over the 1,762 mails of the shared corpora), and it reads the text of
# 4 of them whose boundaries policy.default rejects. Header values are decoded here.
_PARSE = policy.compat32
# A part written back as it came: no refolding, no ">From" mangling, 8-bit kept.
_SERIALISE = policy.default.clone(linesep="\r\n", refold_source="none")


def _parse(raw: bytes, *, headers_only: bool = False) -> Message:
    return BytesParser(policy=_PARSE).parsebytes(raw, headersonly=headers_only)


def _parser_defects(msg: Message) -> tuple[str, ...]:
    found: list[str] = []
    for part in _safe(found, "walk", lambda: list(msg.walk()), [msg]):
        found.extend(type(d).__name__ for d in getattr(part, "defects", []))
    return tuple(dict.fromkeys(found))


def _raw_headers(msg: Message) -> list[tuple[str, str]]:
    """(name, value) in message order: 8-bit decoded and unfolded, encoded-words kept."""
    return [(name, raw_header_text(str(value))) for name, value in msg.raw_items()]


def _headers(msg: Message) -> Headers:
    return Headers([(name, header_text(str(value))) for name, value in msg.raw_items()])


# --- body ------------------------------------------------------------------------------------


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    if isinstance(payload, Message):
        return [payload]
    return []


def _walk(part: Message, walk: _Walk, depth: int, *, text_ok: bool) -> None:
    """One MIME part and what it holds; a broken part costs only itself (a defect)."""
    if depth > _MAX_DEPTH:
        walk.defects.append("MIME nesting too deep; rest skipped")
        return
    _safe(walk.defects, "MIME part", lambda: _walk_part(part, walk, depth, text_ok=text_ok), None)


def _walk_part(part: Message, walk: _Walk, depth: int, *, text_ok: bool) -> None:
    ctype = part.get_content_type()
    if ctype == "multipart/alternative":
        children = _children(part)
        chosen = _choose_alternative(children)
        for child in children:
            _walk(child, walk, depth + 1, text_ok=text_ok and child is chosen)
    elif ctype.startswith("multipart/"):
        for child in _children(part):
            _walk(child, walk, depth + 1, text_ok=text_ok)
    elif ctype in ("message/rfc822", "message/global"):
        _forwarded(part, walk, depth, text_ok=text_ok)
    elif ctype.startswith("message/"):  # delivery-status, disposition-notification, ...
        _attach(part, walk, content=_serialised(part))
    elif ctype in ("text/plain", "text/html") and _disposition(part) != "attachment":
        if text_ok:  # otherwise an alternative we did not choose: neither text nor attachment
            walk.texts.append(_part_text(part, walk.defects, html=ctype == "text/html"))
    else:
        _attach(part, walk)


def _serialised(part: Message) -> bytes:
    return part.as_bytes(policy=_SERIALISE)


def _choose_alternative(children: list[Message]) -> Message | None:
    """RFC 2046 section 5.1.4 orders by faithfulness; we prefer the plainest readable one."""
    for wanted in ("text/plain", "multipart/", "text/html"):
        for child in children:
            if child.get_content_type().startswith(wanted):
                return child
    return children[-1] if children else None


def _forwarded(part: Message, walk: _Walk, depth: int, *, text_ok: bool) -> None:
    raw = _serialised(part)
    inners = _children(part)[:1]
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if inners and encoding in ("base64", "quoted-printable"):
        # RFC 2046 section 5.2.1 forbids this, but some webmail encodes forwarded mail anyway.
        walk.defects.append(f"message/rfc822 part in {encoding}")
        body = re.sub(rb"\A(\r?\n)+", b"", inners[0].as_bytes())
        raw = decode_transfer(body, encoding)
        inners = [_parse(raw)]
    _attach(part, walk, content=raw)
    for inner in inners:
        if text_ok:
            heads = _headers(inner)
            summary = [
                f"{k}: {one_line(heads[k])}" for k in ("From", "Date", "Subject") if k in heads
            ]
            walk.texts.append("\n".join([_FORWARD_MARK, *summary]))
        _walk(inner, walk, depth + 1, text_ok=text_ok)


def _disposition(part: Message) -> str:
    return (part.get_content_disposition() or "").lower()


def _payload(part: Message, defects: list[str]) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        defects.append("undecodable payload kept as is")
        return payload.encode("utf-8", errors="surrogateescape")
    return b""


def _part_text(part: Message, defects: list[str], *, html: bool) -> str:
    text, problem = decode_bytes(_payload(part, defects), part.get_content_charset())
    if problem:
        defects.append(problem)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return html_to_text(text) if html else text


def _attach(part: Message, walk: _Walk, *, content: bytes | None = None) -> None:
    data = content if content is not None else _payload(part, walk.defects)
    walk.attachments.append(
        Attachment(
            filename=_safe(walk.defects, "filename", lambda: _filename(part), None),
            content_type=one_line(part.get_content_type()),
            size=len(data),
            content=data if len(data) <= walk.limit else None,
            inline=_disposition(part) == "inline",
        )
    )


def _filename(part: Message) -> str | None:
    """The file name (RFC 2231 via the parser, RFC 2047 by common practice), without paths."""
    # compat32 turns raw 8-bit bytes in a header into U+FFFD; read them as text first.
    heads = Message()
    for key, value in part.raw_items():
        if key.lower() in ("content-disposition", "content-type"):
            heads[key] = raw_header_text(str(value))
    name = heads.get_filename()
    if not name:
        return None
    text = one_line(header_text(raw_header_text(name)))
    return re.split(r"[/\\]", text)[-1].strip() or None


# --- delivery reports (RFC 3462 / RFC 6522, RFC 3464) -----------------------------------------


def _report(msg: Message) -> _Report:
    if msg.get_content_type() != "multipart/report":
        return False, None, ()
    parts = list(msg.walk())
    status = [p for p in parts if p.get_content_type() == "message/delivery-status"]
    kind = str(msg.get_param("report-type") or "").lower()
    is_dsn = kind == "delivery-status" or bool(status)
    recipients = tuple(dict.fromkeys(r for p in status for r in _status_recipients(p)))
    return is_dsn, _original_id(parts), recipients


def _status_recipients(part: Message) -> list[str]:
    blocks = _children(part)
    text = "\n".join(f"{k}: {v}" for b in blocks for k, v in b.raw_items())
    if not blocks:
        text = decode_bytes(_payload(part, []), "utf-8")[0]
    found = re.findall(r"(?im)^final-recipient:\s*[^;\n]*;\s*<?([^\s<>;]+@[^\s<>;]+)>?", text)
    if not found:
        found = re.findall(
            r"(?im)^original-recipient:\s*[^;\n]*;\s*<?([^\s<>;]+@[^\s<>;]+)>?", text
        )
    return [a.lower() for a in found]


def _original_id(parts: list[Message]) -> str | None:
    for part in parts:
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inners = _children(part)
            values = tuple(
                str(v) for i in inners[:1] for k, v in i.raw_items() if k.lower() == "message-id"
            )
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            values = tuple(_headers(_parse(_payload(part, []))).get_all("Message-ID"))
        else:
            continue
        ids = msg_ids(tuple(header_text(v) for v in values), loose=True)
        if ids:
            return ids[0]
    return None
