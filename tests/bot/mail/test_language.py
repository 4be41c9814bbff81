"""language_hint: the writer's language from headers, subject and sender."""

import pytest

from bot.mail.language import LanguageHint, language_hint
from bot.mail.parse import parse_message


@pytest.mark.parametrize(
    ("headers", "subject", "sender", "language", "strength"),
    [
        ({"Content-Language": "en-US"}, "Inzage", "jan@example.nl", "en", "strong"),
        ({"content-language": "nl-NL"}, "Request", "jane@example.co.uk", "nl", "strong"),
        ({"Content-Language": "de-DE"}, "", "", "en", "weak"),
        ({}, "Please send me my personal data", "jan@example.nl", "en", "medium"),
        ({}, "Verzoek om inzage in mijn gegevens", "jane@example.co.uk", "nl", "medium"),
        ({}, "Antw: DSR-2026-0042", "jane@example.com", "nl", "medium"),
        ({"Accept-Language": "en-GB, nl-NL"}, "DSR-2026-0042", "j@x.nl", "en", "medium"),
        ({"X-Accept-Language": "nl"}, "", "j@x.com", "nl", "medium"),
        ({}, "", "jane@example.co.uk", "en", "weak"),
        ({}, "", "jan@example.nl", "nl", "weak"),
    ],
)
def test_signals_in_order_of_strength(
    headers: dict[str, str], subject: str, sender: str, language: str, strength: str
) -> None:
    hint = language_hint(headers, subject, sender)
    assert (hint.language, hint.strength) == (language, strength)
    assert hint.reason


@pytest.mark.parametrize(
    ("headers", "subject", "sender"),
    [
        ({}, "", "jan@example.com"),
        ({}, "Re: DSR-2026-0042", ""),
        ({"Content-Language": "x-klingon"}, "", "j@example.org"),
        ({"Content-Language": ";;"}, "", "j@example.be"),
    ],
)
def test_no_signal(headers: dict[str, str], subject: str, sender: str) -> None:
    assert language_hint(headers, subject, sender).language is None


def test_from_a_parsed_mail() -> None:
    raw = (
        b"From: Jane <jane@example.com>\r\nSubject: Re: your letter\r\n"
        b"Content-Language: en-US\r\nAccept-Language: nl-NL\r\n\r\nYes please.\r\n"
    )
    mail = parse_message(raw)
    hint = language_hint(mail.headers, mail.subject, mail.sender)
    assert hint == LanguageHint("en", "strong", "Content-Language: en-us")
