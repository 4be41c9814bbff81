"""`dsr review list|open|dismiss`, run in-process through the real parser, after `dsr ingest`
left the mail waiting for a person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.test_review import COMPLAINT
from tests.handlers.test_cli import env, run_cli  # noqa: F401  (the fixture is used by name)
from tests.mailbuilder import build_mail


def ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    mail = tmp_path / f"{name}.eml"
    mail.write_bytes(
        build_mail(sender="Herman Bosman <h.bosman@example.nl>", subject="klacht", body=COMPLAINT)
    )
    code, out, _ = run_cli(["ingest", str(mail)], capsys)
    result = json.loads(out)
    if result["action"] != "review":
        pytest.skip(f"recognition routes the sample to {result['action']} now")
    assert code == 0 and result["case"] is None


def listed(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    code, out, _ = run_cli(["review", "list", "--json", *extra], capsys)
    assert code == 0
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_list_open_and_dismiss_from_a_terminal(
    env: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ingest(tmp_path, capsys, "first")
    ingest(tmp_path, capsys, "second")
    first, second = listed(capsys)
    assert first["state"] == "waiting" and first["sender"] == "h***@example.nl"
    assert first["subject"] == "klacht" and first["waiting_days"] == 0
    assert {"id", "received_at", "category", "confidence", "language"} <= set(first)

    code, _, err = run_cli(["review", "open", "99"], capsys)
    assert code == 1 and "unknown review item 99" in err
    code, _, err = run_cli(["review", "open", str(first["id"]), "--kind", "klachtje"], capsys)
    assert code == 1 and "unknown kind" in err
    code, out, _ = run_cli(["review", "open", str(first["id"]), "--kind", "complaint"], capsys)
    assert code == 0 and "case DSR-" in out
    code, out, _ = run_cli(["cases", "list", "--json"], capsys)
    [case] = json.loads(out)
    assert case["category"] == "complaint" and case["received_at"] == first["received_at"]

    code, out, _ = run_cli(["review", "dismiss", str(second["id"]), "--note", "advies"], capsys)
    assert code == 0 and "nothing sent" in out
    code, _, err = run_cli(["review", "dismiss", str(second["id"])], capsys)
    assert code == 1 and "already marked not a request" in err
    assert listed(capsys) == []
    states = {row["id"]: (row["state"], row["case"]) for row in listed(capsys, "--all")}
    assert states == {first["id"]: ("opened", case["reference"]), second["id"]: ("dismissed", None)}


def test_a_bad_item_number_is_a_usage_error(
    env: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(["review", "open", "DSR-2026-0001"], capsys)
    assert code == 2 and "not a review item number" in err
