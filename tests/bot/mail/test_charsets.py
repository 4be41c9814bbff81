from email.utils import getaddresses

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail.charsets import (
    Headers,
    _address_pairs,
    addresses,
    decode_bytes,
    decode_words,
    header_text,
    lookup,
)


def test_lookup_aliases_and_unknowns() -> None:
    assert lookup("UTF8") == "utf-8"
    assert lookup("ks_c_5601-1987") == "cp949"
    assert lookup("x-unknown") is None
    assert lookup("no-such-charset") is None


def test_wrong_charset_falls_back_to_cp1252_then_latin1() -> None:
    assert decode_bytes("€".encode("cp1252"), "utf-8") == (
        "€",
        "charset 'utf-8' does not fit the bytes; decoded as cp1252",
    )
    text, problem = decode_bytes(b"\x81\x8d", "utf-8")
    assert problem is not None and "latin-1" in problem
    assert len(text) == 2


def test_unknown_label_is_reported() -> None:
    text, problem = decode_bytes("café".encode(), "utf-8x")
    assert text == "café"
    assert problem == "unknown charset 'utf-8x'; decoded as utf-8"


def test_encoded_words_split_inside_a_character_are_joined() -> None:
    # "é" is c3 a9 in UTF-8; senders split it over two encoded-words.
    assert decode_words("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?= ok") == "café ok"
    assert decode_words("=?utf-8?B?44G+44G/?=") == "まみ"
    assert decode_words("=?NONE?B?VEVTVA=?=") == "TEST"


def test_raw_8bit_headers_and_folding() -> None:
    raw = "Caf\udcc3\udca9\r\n =?iso-8859-1?q?=E9?="
    assert header_text(raw) == "Café é"


ADDRESS_PIECES = ["a", "Jan", "j.de.vries", "@", "example.nl", "<", ">", " ", "\t", '"', ".", ",",
                  "(", ")", "\\", ":", ";", "[", "]", "é", "\xa0", "\r\n"]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(ADDRESS_PIECES), max_size=14).map("".join))
def test_the_short_way_to_addresses_answers_as_getaddresses(value: str) -> None:
    assert _address_pairs(value) == getaddresses([value])


def test_everyday_addresses() -> None:
    heads = Headers([("From", '"J. van  Dijk" <J.Dijk@Example.nl>'), ("To", " a@b.nl ")])
    assert addresses(heads, "From") == [("J. van Dijk", "j.dijk@example.nl")]
    assert addresses(heads, "To") == [("", "a@b.nl")]
