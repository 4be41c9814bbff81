"""Tolerant decoding of mail bytes and header fields (RFC 2045, RFC 2047, RFC 5322, RFC 6532).

Hand-written fallbacks because 20 of the 1,762 mails of the shared corpora declare a charset
their bytes do not fit: the stdlib's decoding shows U+FFFD where cp1252 gives the text.

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
    text = _utf8_cut(data) or _fallback(data)[0]
    # RFC 5322 section 2.2.3: unfolding removes the CRLF before folding white space.
    return re.sub(r"\r?\n(?=[ \t])", "", text).replace("\r", "").replace("\n", " ")


def _utf8_cut(data: bytes) -> str | None:
    """UTF-8 whose only fault is a character cut off near the end (a header shortened by a
    client), with U+FFFD for the cut character; None for anything else, and for text whose
    only non-ASCII byte is the faulty one (that is as likely windows-1252)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        near_end = exc.start >= len(data) - 4
        before = data[: exc.start]
        if near_end and not before.isascii() and _decodes(before) and _decodes(data[exc.end :]):
            return data.decode("utf-8", errors="replace")
    return None


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_MSG_ID = re.compile(r"<[^<>\s]+>")
# An addr-spec: a local part without specials, a domain of letters, digits and hyphens
# (RFC 5321 section 4.1.2; non-ASCII letters for RFC 6532 and IDN), never an encoded-word's
# "?=".
_ADDRESS = re.compile(r"[^\s<>@,;:\"()\[\]\\\x00-\x1f\x7f]+@[\w-]+(?:\.[\w-]+)*")
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


# The longest address header handed to getaddresses. The stdlib's address parser recurses
# once per group ("name:"), so a long header of colons ends in RecursionError; a header longer
# than this is scanned for addresses instead (what 100 recipients need is well under 10 KB).
ADDRESS_HEADER_LIMIT = 32 * 1024


def addresses(values: tuple[str, ...]) -> tuple[list[tuple[str, str]], str | None]:
    """(display name, lowercased addr-spec) pairs from raw address header values, and a defect.

    The values must still hold their RFC 2047 encoded-words: only the display name is decoded,
    after the address is found, so that `=?utf-8?q?a@b.nl?= <c@d.nl>` is c@d.nl and never a@b.nl
    (RFC 2047 section 5: an encoded-word never stands in an addr-spec). Entries without a usable
    address are dropped; never raises.
    """
    found: list[tuple[str, str]] = []
    defect: str | None = None
    for value in values:
        if len(value) > ADDRESS_HEADER_LIMIT:
            defect = f"address header of {len(value)} characters; addresses scanned instead"
            found.extend(_scanned(value))
            continue
        try:
            pairs = getaddresses([value])
        except RecursionError:
            defect = "address header nested too deep; addresses scanned instead"
            found.extend(_scanned(value))
            continue
        good = [
            (one_line(decode_words(n)), a.strip().lower())
            for n, a in pairs
            if _ADDRESS.fullmatch(a.strip())
        ]
        angled = _one_angle_addr(value)
        if angled is not None and len(good) > 1:
            # "victim@x.nl <attacker@evil.test>": an unquoted display name that looks like an
            # address; the mailbox is the angle-addr (RFC 5322 3.4), never the name.
            good = [(one_line(decode_words(value.split("<", 1)[0])), angled)]
        # "Big Bug bb@bug.com" and other syntax errors: take what looks like an address.
        found.extend(good or _scanned(value)[:1])
    return found, defect


_ANGLE_ADDR = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")


def _one_angle_addr(value: str) -> str | None:
    """The address of a one-mailbox value written `name <addr>` (no comma outside the
    angle brackets), lowercased; None for anything else."""
    found = _ANGLE_ADDR.findall(value)
    if len(found) != 1 or "," in _ANGLE_ADDR.sub("", value):
        return None
    address = found[0].strip().lower()
    return address if _ADDRESS.fullmatch(address) else None


def _scanned(value: str) -> list[tuple[str, str]]:
    """Whatever looks like an address outside the encoded-words, in linear time."""
    return [("", a.lower()) for a in _ADDRESS.findall(_ENCODED_WORD.sub(" ", value))]


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
