"""The parsing policy gives the same header values as `policy.default`, only with less work."""

from email import policy

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mail.mimepolicy import ParseOnce, Registry, plain_text

NAMES = ["Content-Type", "content-disposition", "Content-Transfer-Encoding"]
PIECES = ["text", "/", "plain", ";", " ", "\t", "=", '"', "charset", "utf-8", "*", "'", "%",
          "=?", "?=", "(", ")", "\\", ",", "a b", "é", "boundary", "----=_Part_1.2",
          "name*0"]  # fmt: skip

values = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=12).map("".join)


@settings(max_examples=2000, deadline=None)
@given(name=st.sampled_from(NAMES), value=values)
def test_plain_text_is_the_registry_text_or_nothing(name: str, value: str) -> None:
    text = plain_text(name, value)
    if text is not None:
        assert text == str(policy.default.header_factory(name, value))


def test_everyday_values_take_the_short_way() -> None:
    assert plain_text("Content-Type", "text/plain;\tcharset=UTF-8") == 'text/plain; charset="UTF-8"'
    disposition = plain_text("Content-Disposition", 'attachment;\tfilename="ID  kopie\tLinda.pdf"')
    assert disposition == 'attachment; filename="ID  kopie\tLinda.pdf"'  # quoted white space kept
    assert plain_text("Content-Type", 'text/plain; name="=?utf-8?q?x?="') is None
    assert plain_text("Content-Type", "text/plain; a=1; A=2") is None
    assert plain_text("Subject", "text/plain") is None


def test_a_deferred_header_parses_when_more_than_its_text_is_read() -> None:
    once = ParseOnce(header_factory=Registry()).clone(parsed={})  # type: ignore[call-arg]
    value = 'multipart/mixed; boundary="b1"; report-type=x'
    header = once.header_fetch_parse("Content-Type", value)
    real = policy.default.header_fetch_parse("Content-Type", value)
    assert str(header) == str(real)
    assert (header.content_type, dict(header.params)) == (real.content_type, dict(real.params))
    assert once.header_fetch_parse("Content-Type", value) is header  # parsed once per message


def test_the_registry_makes_one_class_per_kind_of_header() -> None:
    registry = Registry()
    assert registry["Content-Type"] is registry["content-type"]
    assert registry["X-One"] is registry["X-Two"]
    assert registry["Subject"] is not registry["Content-Type"]
