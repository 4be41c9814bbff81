from bot.mail.charsets import (
    ADDRESS_HEADER_LIMIT,
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


def test_everyday_addresses() -> None:
    assert addresses(('"J. van  Dijk" <J.Dijk@Example.nl>',)) == (
        [("J. van Dijk", "j.dijk@example.nl")],
        None,
    )
    assert addresses((" a@b.nl ", "c@d.nl, Eva <e@f.nl>")) == (
        [("", "a@b.nl"), ("", "c@d.nl"), ("Eva", "e@f.nl")],
        None,
    )


def test_encoded_display_names_are_decoded_after_the_address_is_found() -> None:
    value = "=?utf-8?q?de_Boer=2C_Tom?= <tom@example.nl>"
    assert addresses((value,)) == ([("de Boer, Tom", "tom@example.nl")], None)


def test_an_address_in_an_encoded_display_name_is_never_the_address() -> None:
    for value in (
        "=?utf-8?q?m1@victim.nl?= <attacker@evil.test>",
        "=?utf-8?q?=3Cm1@victim.nl=3E?= <attacker@evil.test>",
        "=?utf-8?b?bTFAdmljdGltLm5s?= <attacker@evil.test>",
        "=?utf-8?q?m1@victim.nl?= attacker@evil.test",
    ):
        found, _ = addresses((value,))
        assert [a for _, a in found] == ["attacker@evil.test"], value


def test_deeply_nested_groups_are_scanned_not_recursed() -> None:
    # email._parseaddr recurses once per group ("name:"): 2,710 folded lines raised
    # RecursionError; under the size limit the recursion itself is caught.
    deep = " ".join(f"=?utf-8?q?Aw:_{i}?=" for i in range(1500)) + " <x@example.nl>"
    assert len(deep) <= ADDRESS_HEADER_LIMIT
    found, defect = addresses((deep,))
    assert found == [("", "x@example.nl")]
    assert defect is not None and "too deep" in defect
    huge = ", ".join(f"p{i}@example.nl" for i in range(3000))
    found, defect = addresses((huge,))
    assert len(found) == 3000
    assert defect is not None and "scanned" in defect
