"""`dsr cases consent REF yes|no|unknown` and how `dsr cases show` prints the consent."""

from __future__ import annotations

import json

import pytest

from bot.settings import load_settings
from handlers.runtime import build_desk
from tests.factories import new_case
from tests.handlers.test_cli import env, run_cli  # noqa: F401  (the fixture is used by name)


def test_the_secretariat_records_the_clients_consent(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = new_case(build_desk(load_settings())).reference
    code, out, _ = run_cli(["cases", "show", reference], capsys)
    assert code == 0 and "client_may_be_informed  unknown" in out
    code, out, _ = run_cli(["cases", "consent", reference, "yes", "--note", "telefonisch"], capsys)
    assert code == 0 and out.strip() == f"{reference}: awaiting_identity"
    code, out, _ = run_cli(["cases", "show", reference, "--json"], capsys)
    detail = json.loads(out)
    assert detail["client_may_be_informed"] is True
    [event] = [e for e in detail["events"] if e["action"] == "client_consent"]
    assert event["details"] == {"from": "unknown", "to": "yes", "how": "secretariat"}
    assert event["actor"].startswith("cli:")
    code, out, _ = run_cli(["cases", "consent", reference, "no"], capsys)
    code, out, _ = run_cli(["cases", "show", reference], capsys)
    assert "client_may_be_informed  no" in out
    code, _, err = run_cli(["cases", "consent", reference, "misschien"], capsys)
    assert code == 2 and "invalid choice" in err
    code, _, err = run_cli(["cases", "consent", "DSR-2026-9999", "yes"], capsys)
    assert code == 1 and "unknown case DSR-2026-9999" in err


def test_relink_refuses_an_open_case_and_needs_a_note(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = new_case(build_desk(load_settings())).reference
    code, _, err = run_cli(["cases", "relink", reference], capsys)
    assert code == 2 and "--note" in err
    code, _, err = run_cli(["cases", "relink", reference, "--note", "belde"], capsys)
    assert code == 1 and "not closed as done" in err
