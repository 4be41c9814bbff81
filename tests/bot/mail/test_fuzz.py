"""Property: no input bytes make parse_message or classify_sender raise.

The default run tries 500 examples per property; CI sets DSR_FUZZ_EXAMPLES=10000.
"""

import os
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mail.machine import MachineVerdict, classify_sender
from bot.mail.parse import Attachment, ParsedMail, parse_message
from tests.bot.mail.conftest import OWN_DOMAINS

EXAMPLES = int(os.environ.get("DSR_FUZZ_EXAMPLES", "500"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER_NAMES = [
    "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Return-Path", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
    "Auto-Submitted", "Precedence", "List-Id", "X-Auto-Response-Suppress", "X-Loop", "X-DSR-Loop",
    "MIME-Version", "Delivered-To", "Authentication-Results", "X-Garbage",
]  # fmt: skip
CHARSETS = ["utf-8", "utf8", "iso-8859-1", "windows-1252", "x-unknown", "ks_c_5601-1987",
            "iso-2022-jp", "utf-16", "bogus\x00", "", "shift_jis", "utf-7"]  # fmt: skip
ATOMS = [
    "=?utf-8?B?", "=?iso-8859-1?q?caf=E9?=", "=?x?Q?=ZZ?=", "?=", "<", ">", "@", ";", ",", ":",
    '"', "\\", "(", ")", "\r\n", "\r\n ", "\n", "\t", "charset=", "boundary=", "filename*0*=",
    "utf-8''%C3%A9", "multipart/mixed", "multipart/report", "message/rfc822", "text/html",
    "base64", "quoted-printable", "\x00", "\xff", "é", "日本", "noreply@x.nl", "<a@b>",
]  # fmt: skip

header_values = st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=20)), max_size=12).map(
    "".join
)
header_lines = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=10)), header_values),
    max_size=15,
)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


@st.composite
def header_soup(draw: st.DrawFn) -> bytes:
    lines = [f"{name}: {value}" for name, value in draw(header_lines)]
    body = draw(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(_encode)))
    return _encode("\r\n".join(lines)) + b"\r\n\r\n" + body


@st.composite
def mime_tree(draw: st.DrawFn, depth: int = 0) -> bytes:
    boundary = draw(st.sampled_from(["b", "", "a b", "--", "=_x", "b\x00", "é"]))
    kind = draw(
        st.sampled_from(
            [
                "multipart/mixed",
                "multipart/alternative",
                "multipart/report",
                "message/rfc822",
                "text/plain",
                "text/html",
                "message/delivery-status",
                "text/rfc822-headers",
            ]
        )
    )
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(["base64", "quoted-printable", "8bit", "x-uuencode", "bogus", ""]))
    head = (f"Content-Type: {kind}; charset={charset}; boundary=\"{boundary}\"\r\n"
            f"Content-Transfer-Encoding: {cte}\r\n\r\n")  # fmt: skip
    if depth >= 3 or not kind.startswith(("multipart", "message/rfc822")):
        return _encode(head) + draw(st.binary(max_size=200))
    children = draw(st.lists(mime_tree(depth + 1), max_size=3))
    sep = _encode(f"\r\n--{draw(st.sampled_from([boundary, 'wrong']))}\r\n")
    body = sep.join(children) + _encode(f"\r\n--{boundary}--\r\n")
    cut = draw(st.integers(min_value=0, max_value=len(body)))  # truncated multiparts
    return _encode(head) + body[:cut]


def _check(raw: bytes) -> None:
    mail = parse_message(raw, max_attachment_bytes=100)
    assert isinstance(mail, ParsedMail)
    for name in ("subject", "sender", "sender_name", "text", "content_type", "content_hash"):
        assert isinstance(getattr(mail, name), str), name
    for name in ("message_id", "in_reply_to", "reply_to", "return_path", "bounced_message_id"):
        assert getattr(mail, name) is None or isinstance(getattr(mail, name), str), name
    for name in ("references", "recipients", "bounced_recipients", "defects"):
        assert all(isinstance(v, str) for v in getattr(mail, name)), name
    assert all(isinstance(v, str) for v in mail.authentication_results)
    assert mail.date is None or (isinstance(mail.date, datetime) and mail.date.tzinfo)
    assert all(isinstance(a, Attachment) and isinstance(a.size, int) for a in mail.attachments)
    assert all(a.content is None or len(a.content) <= 100 for a in mail.attachments)
    assert isinstance(mail.is_delivery_report, bool)
    assert mail.size == len(raw)
    for key in mail.headers:
        assert isinstance(mail.headers[key], str)
    verdict = classify_sender(mail, own_domains=OWN_DOMAINS, own_loop_token="t")
    assert isinstance(verdict, MachineVerdict)
    assert verdict.answer_to is None or isinstance(verdict.answer_to, str)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(raw: bytes) -> None:
    _check(raw)


@FUZZ
@given(header_soup())
def test_header_soup(raw: bytes) -> None:
    _check(raw)


@FUZZ
@given(header_lines, mime_tree())
def test_mime_trees(lines: list[tuple[str, str]], tree: bytes) -> None:
    _check(_encode("".join(f"{n}: {v}\r\n" for n, v in lines)) + b"MIME-Version: 1.0\r\n" + tree)


def test_nesting_beyond_the_recursion_limit_keeps_the_headers() -> None:
    parts = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(2000)
    )
    mail = parse_message(b"From: Jan <jan@example.nl>\r\nSubject: diep\r\n" + parts)
    assert (mail.sender, mail.subject) == ("jan@example.nl", "diep")
    assert any("RecursionError" in d for d in mail.defects)
