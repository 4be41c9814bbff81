"""`dsr inventory check|show` and `dsr tasks list|done|reassign`, and `dsr cases close` waiting
for the tasks, run in-process through the real parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.test_tasks import ERASURE
from tests.factories import EXAMPLE_INVENTORY
from tests.handlers.test_cli import env, run_cli  # noqa: F401  (the fixture is used by name)
from tests.mailbuilder import build_mail


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """The shipped example as ./inventory.toml (the default DSR_INVENTORY_FILE)."""
    path = tmp_path / "inventory.toml"
    path.write_text(EXAMPLE_INVENTORY.read_text(encoding="utf-8"))
    return path


def test_inventory_check_and_show(inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["inventory", "check", str(inventory)], capsys)
    assert code == 0 and "7 system(s), ok" in out
    broken = inventory.parent / "broken.toml"
    text = inventory.read_text().replace('recipients = ["incasso"]', 'recipients = ["inkasso"]')
    broken.write_text(text)
    line = text.splitlines().index('recipients = ["inkasso"]') + 1
    code, _, err = run_cli(["inventory", "check", str(broken)], capsys)
    assert code == 78
    assert f"broken.toml:{line}: system.recipients: unknown system id 'inkasso'" in err
    code, _, err = run_cli(["inventory", "check", str(inventory.parent / "none.toml")], capsys)
    assert code == 78 and "no inventory file" in err


def test_inventory_show_reads_the_configured_file(
    env: str,  # noqa: F811
    inventory: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["inventory", "show", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows][:2] == ["crm", "financien"]
    assert rows[1]["keep_years"] == 7 and rows[1]["assignee"] == "financien@proambt.nl"
    code, out, _ = run_cli(["inventory", "show"], capsys)
    assert code == 0 and "7 system(s)" in out


def _tasks(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    code, out, _ = run_cli(["tasks", "list", *args, "--json"], capsys)
    assert code == 0
    rows: list[dict[str, object]] = json.loads(out)
    return rows


def test_tasks_from_a_terminal_and_closing_waits_for_them(
    env: str,  # noqa: F811
    inventory: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mail = tmp_path / "erasure.eml"
    mail.write_bytes(build_mail(subject="Verwijderen", body=ERASURE))
    code, out, _ = run_cli(["ingest", str(mail)], capsys)
    reference = json.loads(out)["case"]
    assert code == 0 and _tasks(capsys, reference) == []
    code, _, _ = run_cli(["cases", "verify", reference, "--note", "paspoort gezien"], capsys)
    assert code == 0
    rows = _tasks(capsys, reference)
    assert len(rows) == 7
    crm = rows[0]
    assert set(crm) == {
        "id",
        "case",
        "system",
        "action",
        "state",
        "assignee",
        "result",
        "reply_received",
    }
    assert (crm["case"], crm["system"], crm["action"], crm["state"], crm["result"]) == (
        reference,
        "crm",
        "erase",
        "open",
        None,
    )
    crm_id = str(crm["id"])

    code, _, err = run_cli(["tasks", "done", crm_id, "--result", "exported"], capsys)
    assert code == 1 and "does not fit erase" in err
    code, _, err = run_cli(["tasks", "done", crm_id, "--result", "gewist"], capsys)
    assert code == 2 and "invalid choice" in err
    code, _, err = run_cli(["tasks", "reassign", crm_id, "piet"], capsys)
    assert code == 1 and "not slack" in err
    code, _, err = run_cli(["tasks", "done", "9999", "--result", "erased"], capsys)
    assert code == 1 and "unknown task 9999" in err
    code, out, _ = run_cli(["tasks", "reassign", crm_id, "anna@proambt.nl"], capsys)
    assert code == 0 and "now with anna@proambt.nl" in out
    code, out, _ = run_cli(["tasks", "done", crm_id, "--result", "erased", "--note", "ok"], capsys)
    assert code == 0 and "crm erase done (erased)" in out
    assert len(_tasks(capsys, reference, "--open")) == 6
    assert len(_tasks(capsys, "--open")) == 6
    code, out, _ = run_cli(["tasks", "list", reference], capsys)
    assert code == 0 and "7 task(s)" in out and "anna@proambt.nl" in out

    code, _, err = run_cli(["cases", "close", reference, "done", "--note", "klaar"], capsys)
    assert code == 1 and "open tasks: #" in err and "financien restrict" in err
    code, out, _ = run_cli(
        ["cases", "close", reference, "done", "--force", "--note", "rest loopt apart"], capsys
    )
    assert code == 0 and out.strip() == f"{reference}: done"
    assert _tasks(capsys, "--open") == []
    code, _, err = run_cli(["tasks", "list", "DSR-2026-9999"], capsys)
    assert code == 1 and "unknown case" in err


def test_serve_refuses_a_broken_inventory_at_start(
    env: str,  # noqa: F811
    inventory: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = inventory.read_text()
    inventory.write_text(text.replace("keep_years = 7", 'keep_years = "zeven"', 1))
    line = text.splitlines().index("keep_years = 7") + 1
    code, _, err = run_cli(["serve"], capsys)
    assert code == 78
    assert f"inventory.toml:{line}: system.keep_years: Input should be a valid integer" in err
