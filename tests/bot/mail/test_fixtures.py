"""Hand-written mails under tests/fixtures/mail/ against the table in expected.toml."""

import tomllib
from typing import Any

import pytest

from bot.mail.machine import MachineVerdict, classify_sender
from bot.mail.parse import ParsedMail, parse_message
from tests.bot.mail.conftest import FIXTURES, LOOP_TOKEN, OWN_DOMAINS

EXPECTED: dict[str, dict[str, Any]] = tomllib.loads((FIXTURES / "expected.toml").read_text())
VERDICT_FIELDS = {"kind", "answer_to"}


def _load(name: str) -> tuple[ParsedMail, MachineVerdict]:
    mail = parse_message((FIXTURES / f"{name}.eml").read_bytes(), max_attachment_bytes=10_000)
    verdict = classify_sender(mail, own_domains=OWN_DOMAINS, own_loop_token=LOOP_TOKEN)
    return mail, verdict


def _derived(mail: ParsedMail, verdict: MachineVerdict, key: str) -> object:
    derived: dict[str, object] = {
        "attachment_names": [a.filename for a in mail.attachments],
        "attachment_types": [a.content_type for a in mail.attachments],
        "attachment_sizes": [a.size for a in mail.attachments],
        "attachments_truncated": [a.content is None for a in mail.attachments],
    }
    if key in derived:
        return derived[key]
    value = getattr(verdict if key in VERDICT_FIELDS else mail, key)
    return list(value) if isinstance(value, tuple) else value


def test_every_fixture_has_an_expectation() -> None:
    names = {p.stem for p in FIXTURES.glob("*.eml")}
    assert names == set(EXPECTED)
    assert len(names) >= 25


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name: str) -> None:
    mail, verdict = _load(name)
    for key, want in EXPECTED[name].items():
        if key.endswith(("_contains", "_excludes")):
            field, _, how = key.rpartition("_")
            haystack = {"text": mail.text, "reason": verdict.reason}.get(field)
            if haystack is None:
                haystack = " | ".join(getattr(mail, field))
            for needle in want:
                assert (needle in haystack) == (how == "contains"), (key, needle, haystack)
        else:
            got = _derived(mail, verdict, key)
            assert got == (None if want == "none" else want), (key, got)


def test_eight_megabyte_attachment_over_a_small_limit_keeps_size_but_not_content() -> None:
    head = (FIXTURES / "attachment_over_limit.eml").read_bytes().split(b"base64\r\n\r\n")[0]
    line = b"QUFB" * 19 + b"\r\n"  # 57 decoded bytes per 76-character line (RFC 2045)
    body = line * (8 * 1024 * 1024 // 57 + 1) + b"--big--\r\n"
    mail = parse_message(head + b"base64\r\n\r\n" + body, max_attachment_bytes=1_000_000)
    (attachment,) = mail.attachments
    assert attachment.filename == "scan.jpg"
    assert attachment.size >= 8 * 1024 * 1024
    assert attachment.content is None
    assert mail.size == len(head) + len(b"base64\r\n\r\n") + len(body)


def test_attachment_under_the_limit_keeps_content() -> None:
    raw = (FIXTURES / "attachment_over_limit.eml").read_bytes()
    (attachment,) = parse_message(raw).attachments
    assert attachment.content == bytes(range(256)) * 256


def test_content_hash_and_headers_view() -> None:
    raw = (FIXTURES / "rfc2047_filename_refs.eml").read_bytes()
    mail = parse_message(raw)
    assert len(mail.content_hash) == 64
    assert mail.size == len(raw)
    assert mail.headers["message-id"].strip() == "<ref-test@example.nl>"
    assert mail.headers["MESSAGE-ID"] == mail.headers["Message-Id"]
    assert mail.headers.get_all("received")[0].startswith("from mx.example.nl")
    assert mail.headers.get_all("X-Absent") == ()
    assert mail.date is not None and mail.date.utcoffset() is not None


def test_loop_header_is_ignored_without_a_configured_token() -> None:
    mail, _ = _load("own_loop_token")
    verdict = classify_sender(mail, own_domains=OWN_DOMAINS, own_loop_token=None)
    assert verdict.kind == "person"
