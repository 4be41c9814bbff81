"""`/dsr` text parsing (pure)."""

from __future__ import annotations

import pytest

from handlers.slack.parse import Command, Usage, parse_command


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("list", Command("list", value="open")),
        ("LIST overdue", Command("list", value="overdue")),
        ("list due-soon", Command("list", value="due-soon")),
        ("list mine", Command("list", value="mine")),
        ("show dsr-2026-0042", Command("show", "DSR-2026-0042")),
        ("assign DSR-2026-0042 <@U123|marieke>", Command("assign", "DSR-2026-0042", "slack:U123")),
        ("assign DSR-2026-0042 <@U123>", Command("assign", "DSR-2026-0042", "slack:U123")),
        ("kind DSR-2026-0042 Erasure", Command("kind", "DSR-2026-0042", "erasure")),
        (
            "verify DSR-2026-0042 called back on the number  in the register",
            Command("verify", "DSR-2026-0042", note="called back on the number  in the register"),
        ),
        ("extend DSR-2026-0042 many files", Command("extend", "DSR-2026-0042", note="many files")),
        (
            "close DSR-2026-0042 withdrawn by phone",
            Command("close", "DSR-2026-0042", "withdrawn", note="by phone"),
        ),
        ("stats", Command("stats")),
    ],
)
def test_commands(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("list everything", "/dsr list [open|overdue|due-soon|triage|mine]"),
        ("show", "/dsr show REF"),
        ("show 42", "/dsr show REF"),
        ("show DSR-2026-0042 extra", "/dsr show REF"),
        ("assign DSR-2026-0042", "/dsr assign REF @user"),
        ("assign DSR-2026-0042 marieke", "/dsr assign REF @user"),
        ("kind DSR-2026-0042", "/dsr kind REF KIND"),
        ("verify DSR-2026-0042", "/dsr verify REF note"),
        ("extend DSR-2026-0042   ", "/dsr extend REF reasons"),
        ("close DSR-2026-0042 finished ok", "/dsr close REF done|refused|withdrawn note"),
        ("close DSR-2026-0042 done", "/dsr close REF done|refused|withdrawn note"),
        ("stats now", "/dsr stats"),
    ],
)
def test_wrong_arguments_give_the_usage_line(text: str, usage: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Usage)
    assert f"`{usage}`" in parsed.line


def test_unknown_subcommand_lists_every_usage() -> None:
    parsed = parse_command("frobnicate")
    assert isinstance(parsed, Usage)
    assert "/dsr list" in parsed.line and "/dsr close" in parsed.line
