import pytest

from bot.mail.machine import auto_reply_reason, is_noreply


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"auto-submitted": "auto-replied"}, "", "Auto-Submitted: auto-replied"),
        ({"Auto-Submitted": "no"}, "", None),
        ({"Auto-Submitted": "No; comment"}, "", None),
        ({"Precedence": "Bulk"}, "", "Precedence: bulk"),
        ({"Precedence": "first-class"}, "", None),
        ({"X-Autoreply": "yes"}, "", "x-autoreply: yes"),
        ({"X-Auto-Response-Suppress": "DR, RN"}, "", "X-Auto-Response-Suppress: DR, RN"),
        ({"X-Auto-Response-Suppress": "RN, NRN"}, "", None),
        ({"Return-Path": "<>"}, "", "empty Return-Path (null reverse-path)"),
        ({"List-Unsubscribe": "<mailto:u@x>"}, "", "list-unsubscribe: <mailto:u@x>"),
        ({}, "MAILER-DAEMON@mx.example.com", "sender is MAILER-DAEMON@mx.example.com"),
        ({}, "postmaster@example.com", "sender is postmaster@example.com"),
        ({"Subject": "Out of Office"}, "jan@example.nl", None),
    ],
)
def test_auto_reply_reason(headers: dict[str, str], sender: str, reason: str | None) -> None:
    assert auto_reply_reason(headers, sender) == reason


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("noreply@x.nl", True),
        ("no-reply@x.nl", True),
        ("do_not_reply@x.nl", True),
        ("donotreply@x.nl", True),
        ("ne-pas-repondre@x.fr", True),
        ("niet-beantwoorden@x.nl", True),
        ("nora@x.nl", False),
        ("noreen@x.nl", False),
        ("jan@noreply.nl", False),
    ],
)
def test_is_noreply(address: str, expected: bool) -> None:
    assert is_noreply(address) is expected
