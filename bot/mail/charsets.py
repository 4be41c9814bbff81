"""Tolerant decoding of mail bytes and header fields (RFC 2045, RFC 2047, RFC 5322, RFC 6532).

Every function here returns text for any input and never raises: a label we cannot honour is
reported back as a defect string and the bytes are decoded by the fallback chain
utf-8 -> cp1252 -> latin-1 (the last one cannot fail).
"""

import base64
import binascii
import codecs
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

# Labels seen in the wild that Python does not know, or knows under another name.
_ALIASES = {
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "x-sjis": "shift_jis",
    "x-mac-roman": "mac_roman",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # superset: real-world "gb2312" mail uses GBK characters
    "gbk": "gb18030",
}
# Labels that say "we do not know"; RFC 1428 / RFC 6532 practice.
_UNKNOWN = {"", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default", "us-ascii"}


def lookup(label: str | None) -> str | None:
    """The Python codec name for a charset label, or None when unusable."""
    name = (label or "").strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    if name in _UNKNOWN:
        return None
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Decode body bytes declared as `label`; returns (text, defect or None).

    us-ascii is treated as "undeclared": RFC 2045 makes it the default, so 8-bit bytes under it
    are common and mean the sender did not say what they used.
    """
    codec = lookup(label)
    if codec is not None:
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError):
            text, used = _fallback(data)
            return text, f"charset {label!r} does not fit the bytes; decoded as {used}"
    text, used = _fallback(data)
    declared = (label or "").strip().lower()
    if declared and declared not in _UNKNOWN:
        return text, f"unknown charset {label!r}; decoded as {used}"
    return text, None


def _fallback(data: bytes) -> tuple[str, str]:
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1", errors="replace"), "latin-1"


def raw_header_text(value: str) -> str:
    """A raw header value from the parser (8-bit bytes as surrogates) as real text, unfolded."""
    if value.isascii() and "\r" not in value and "\n" not in value:
        return value  # what the round trip below gives for plain ASCII on one line
    try:
        data = value.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        data = value.encode("utf-8", errors="replace")
    text, _ = _fallback(data)
    # RFC 5322 section 2.2.3: unfolding removes the CRLF before folding white space.
    return re.sub(r"\r?\n(?=[ \t])", "", text).replace("\r", "").replace("\n", " ")


_MSG_ID = re.compile(r"<[^<>\s]+>")
_ADDRESS = re.compile(r"[^\s<>@,;:\"()\[\]]+@[^\s<>@,;:\"()\[\]]+")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"\s*")


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded-words in already unfolded text, tolerating broken ones.

    Adjacent encoded-words are joined without the white space between them (RFC 2047 section
    6.2); their bytes are joined before decoding when the charset is the same, because senders
    split multi-byte characters across words.
    """
    if "=?" not in text:  # no encoded-word can start
        return text
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[pos : match.start()]
        if not (pending and _BETWEEN_WORDS.fullmatch(gap)):
            _flush(pending, out)
            out.append(gap)
        label = match.group(1).split("*", 1)[0]  # RFC 2231 section 5: charset*language
        pending.append((label, _word_bytes(match.group(2), match.group(3))))
        pos = match.end()
    _flush(pending, out)
    out.append(text[pos:])
    return "".join(out)


def _word_bytes(kind: str, payload: str) -> bytes:
    if kind in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        if len(cleaned) % 4 == 1:  # one stray character can never be valid base64
            cleaned = cleaned[:-1]
        try:
            return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
        except (binascii.Error, ValueError):
            return payload.encode("ascii", errors="replace")
    data = payload.replace("_", " ").encode("ascii", errors="replace")
    try:
        return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        return data


def decode_transfer(data: bytes, encoding: str) -> bytes:
    """Undo a base64 or quoted-printable transfer encoding leniently; other values pass through."""
    kind = encoding.strip().lower()
    if kind == "base64":
        return _word_bytes("B", data.decode("ascii", errors="ignore"))
    if kind == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


def _flush(pending: list[tuple[str, bytes]], out: list[str]) -> None:
    while pending:
        label, data = pending.pop(0)
        while pending and pending[0][0].lower() == label.lower():
            data += pending.pop(0)[1]
        out.append(decode_bytes(data, label)[0])


def header_text(value: str) -> str:
    """A raw header value as display text: 8-bit decoded, unfolded, RFC 2047 decoded."""
    return decode_words(raw_header_text(value))


_CONTROLS = re.compile(r"[\s\x00-\x1f\x7f]+")


def one_line(text: str) -> str:
    """Collapse line breaks and control characters to single spaces."""
    return _CONTROLS.sub(" ", text).strip()


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only view: the first decoded value per header name."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._all: dict[str, tuple[str, ...]] = {}
        for name, value in items:
            key = name.strip().lower()
            self._all[key] = (*self._all.get(key, ()), value)

    def __getitem__(self, name: str) -> str:
        return self._all[name.lower()][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def __hash__(self) -> int:
        return hash(tuple(self._all.items()))

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of one header, in message order; () when absent."""
        return self._all.get(name.lower(), ())


def msg_ids(values: tuple[str, ...], *, loose: bool = False) -> tuple[str, ...]:
    """msg-ids (RFC 5322 section 3.6.4) found anywhere in the values, tolerant of garbage."""
    found = [m for value in values for m in _MSG_ID.findall(value)]
    if not found and loose:  # a bare id without brackets: keep it, in the bracketed form
        found = [f"<{tok}>" for v in values for tok in v.split()[:1] if "@" in tok]
    return tuple(dict.fromkeys(found))


# One address in the two everyday forms, `a@b.c` and `Some Name <a@b.c>`: atoms (RFC 5322
# section 3.2.3) without any white space in them, the name's words also quoted strings without
# backslashes; no comments, groups, routes or commas. For these the stdlib's getaddresses
# answers [(the words, unquoted, joined by one space, the address)]; anything else goes to
# getaddresses itself.
_WORD = r"[^()<>@,:;\"\[\]\s]+"  # a phrase word: an atom that may hold dots
_QUOTED_WORD = r'"[^"\\\r\n]*"'
_ATOM = r"[^()<>@,:;.\"\[\]\s]+"
_SPEC = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
# One way only to cut a name into words (an atom ends at white space or a quote), so that a
# long name that fails to match costs linear time, not exponential.
_NAME = rf"(?:{_WORD}|{_QUOTED_WORD})(?:[ \t]*{_QUOTED_WORD}|[ \t]+{_WORD}|(?<=\"){_WORD})*"
_PLAIN_ADDRESS = re.compile(rf"(?P<bare>{_SPEC})|(?P<name>{_NAME})?[ \t]*<(?P<addr>{_SPEC})>")
_NAME_WORD = re.compile(rf"{_WORD}|\"([^\"\\\r\n]*)\"")


def _address_pairs(value: str) -> list[tuple[str, str]]:
    plain = _PLAIN_ADDRESS.fullmatch(value.strip(" \t"))  # getaddresses skips these blanks
    if plain is None:
        return getaddresses([value])
    if plain["bare"] is not None:
        return [("", plain["bare"])]
    words = _NAME_WORD.finditer(plain["name"] or "")
    name = " ".join(w[0] if w[1] is None else w[1] for w in words)
    return [(name, plain["addr"])]


def addresses(heads: Headers, name: str) -> list[tuple[str, str]]:
    """(display name, lowercased bare address) pairs; entries without an address dropped."""
    found: list[tuple[str, str]] = []
    for value in heads.get_all(name):
        pairs = [(one_line(n), a.strip().lower()) for n, a in _address_pairs(value)]
        good = [(n, a) for n, a in pairs if _ADDRESS.fullmatch(a)]
        # "Big Bug bb@bug.com" and other syntax errors: take what looks like an address.
        found.extend(good or [("", a.lower()) for a in _ADDRESS.findall(value)[:1]])
    return found


def return_path(heads: Headers) -> str | None:
    values = heads.get_all("Return-Path")
    if not values:
        return None
    bare = values[0].strip().strip("<>").strip().lower()
    return bare  # "" for the null reverse-path "<>" (RFC 5321 section 4.5.5)


def parse_date(value: str) -> datetime | None:
    if not value.strip():
        return None
    parsed = parsedate_to_datetime(value)
    # RFC 5322 section 3.3: "-0000" is UTC with the local zone unknown.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
