"""The `dsr` command line, run in-process through its real argument parser."""

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.desk import Desk
from bot.settings import load_settings
from handlers.cli import COMMANDS, main
from handlers.runtime import build_desk
from storage.sealing import generate_key
from tests.factories import make_settings, new_case


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_DATABASE_URL", db_url)
    monkeypatch.setenv("DSR_DB_AUTO_UPGRADE", "true")
    monkeypatch.setenv("DSR_ENCRYPTION_KEY", generate_key())
    return db_url


def test_deadline_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    # 31 Jan -> 28 Feb 2026 (no 31 Feb), a Saturday -> Monday 2 March.
    # Extended: earlier of 30 Apr (receipt + 3 months) and 28 Apr (28 Feb + 2) -> 28 Apr.
    code, out, _ = run_cli(
        ["deadline", "--received", "2026-01-31T10:00:00+01:00", "--json"], capsys
    )
    assert code == 0
    assert json.loads(out) == {
        "received": "2026-01-31T10:00:00+01:00",
        "due": "2026-03-02",
        "extended_due": "2026-04-28",
    }


def test_deadline_of_a_receipt_given_in_utc_uses_the_amsterdam_date(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 2026-03-31 22:30Z is 1 April 00:30 CEST: due 1 May 2026 (Friday, a working day).
    code, out, _ = run_cli(["deadline", "--received", "2026-03-31T22:30:00Z", "--json"], capsys)
    result = json.loads(out)
    assert code == 0
    assert result["received"] == "2026-04-01T00:30:00+02:00"
    assert result["due"] == "2026-05-01"


def test_deadline_refuses_a_time_without_offset(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["deadline", "--received", "2026-03-01T10:00:00", "--json"], capsys)
    assert code == 2
    assert "no UTC offset" in err


def test_bad_setting_stops_with_the_setting_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSR_DATABASE_URL", "mysql://root@localhost/dsr")
    code, _, err = run_cli(["cases", "list", "--json"], capsys)
    assert code == 78
    assert "DSR_DATABASE_URL: unsupported scheme 'mysql'; use sqlite:/// or postgresql" in err


def test_cases_list_and_show_print_contract_json(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk_ = _desk(env, tmp_path)
    case = new_case(desk_, requester="jan.jansen@example.nl")
    code, out, _ = run_cli(["cases", "list", "--json"], capsys)
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1
    expected_keys = {
        "reference",
        "state",
        "category",
        "also",
        "language",
        "requester",
        "received_at",
        "due",
        "extended_due",
        "verified",
        "assignee",
    }
    assert expected_keys <= rows[0].keys()
    assert rows[0]["requester"] == "j***@example.nl"
    code, out, _ = run_cli(["cases", "show", case.reference, "--json"], capsys)
    detail = json.loads(out)
    assert detail["reference"] == case.reference
    assert [e["action"] for e in detail["events"]] == ["case_opened"]
    assert "messages" in detail


def test_cases_actions_record_the_os_user(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = new_case(_desk(env, tmp_path))
    code, _, _ = run_cli(["cases", "verify", case.reference, "--note", "ID at desk"], capsys)
    assert code == 0
    code, out, _ = run_cli(["cases", "show", case.reference, "--json"], capsys)
    events = json.loads(out)["events"]
    assert events[-1]["action"] == "verified"
    assert events[-1]["actor"].startswith("cli:")


def test_unknown_reference_is_a_clear_error(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["cases", "assign", "DSR-2026-0099", "anna"], capsys)
    assert code == 1
    assert "unknown case DSR-2026-0099" in err


def test_missing_arguments_give_usage(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["cases", "close", "DSR-2026-0001", "done"], capsys)
    assert code == 2
    assert "--note" in err


def _desk(url: str, tmp_path: Path) -> Desk:
    """The desk the CLI itself builds from the environment (same key, same database)."""
    return build_desk(load_settings())


def test_serve_starts_logs_each_subsystem_and_stops_on_sigterm(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "SLACK_"))}
    environment["DSR_SMTP_LISTEN"] = "127.0.0.1:0"
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "serve"],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(Path.cwd())},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "scheduler: on" in line:
            break
    process.send_signal(signal.SIGTERM)
    remaining = process.communicate(timeout=5)[1]
    log = "".join(seen) + remaining
    assert process.returncode == 0, log
    assert "ERROR" not in log
    assert "slack: off (no SLACK_BOT_TOKEN)" in log
    assert "database: sqlite" in log
    assert "stopped" in log
    assert (tmp_path / "var" / "dsr.db").exists()


def test_a_second_serve_on_the_same_sqlite_file_says_so_and_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from handlers.runtime import single_instance

    url = f"sqlite:///{tmp_path}/dsr.db"
    monkeypatch.setenv("DSR_DATABASE_URL", url)
    with single_instance(make_settings(url, tmp_path)):
        code, _, err = run_cli(["serve"], capsys)
    assert code == 78
    assert "another dsr serve already runs" in err and "PostgreSQL" in err


# What a command that needs no database must start without (each costs a noticeable part of a
# second to import, and `dsr --help` or `dsr classify` has no use for it).
APPLICATION_LIBRARIES = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "slack_bolt",
    "aiohttp",
    "cryptography",
)
ROOT = Path(__file__).resolve().parents[2]


def run_probe(probe: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`python -c PROBE` in a fresh process with the project importable and no DSR_ or
    SLACK_ settings from the caller's environment."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "SLACK_"))}
    environment["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def modules_loaded_by(args: list[str], tmp_path: Path) -> set[str]:
    """The top-level packages a fresh `dsr ARGS` process has imported when it exits."""
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted({m.partition('.')[0]"
        " for m in sys.modules})), file=sys.stderr))\n"
        "from handlers.cli import main\n"
        f"main({args!r})\n"
    )
    done = run_probe(probe, tmp_path)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return set(loaded)


def test_help_starts_without_the_application_libraries(tmp_path: Path) -> None:
    loaded = modules_loaded_by(["--help"], tmp_path)
    assert "handlers" in loaded  # the probe did run the command line
    assert loaded.isdisjoint(APPLICATION_LIBRARIES), loaded & set(APPLICATION_LIBRARIES)
    assert "bot" not in loaded and "storage" not in loaded


def test_classify_starts_without_the_database_or_slack_libraries(tmp_path: Path) -> None:
    mail = tmp_path / "request.eml"
    mail.write_text(
        "From: jan@example.nl\r\nSubject: Inzage\r\n\r\nIk wil inzage in mijn gegevens.\r\n"
    )
    loaded = modules_loaded_by(["classify", str(mail), "--json"], tmp_path)
    assert "bot" in loaded
    assert loaded.isdisjoint(APPLICATION_LIBRARIES), loaded & set(APPLICATION_LIBRARIES)


def test_deadline_starts_without_the_database_libraries(tmp_path: Path) -> None:
    loaded = modules_loaded_by(["deadline", "--received", "2026-01-31T10:00:00+01:00"], tmp_path)
    assert "bot" in loaded
    assert loaded.isdisjoint(APPLICATION_LIBRARIES), loaded & set(APPLICATION_LIBRARIES)


@pytest.mark.parametrize(
    "args", [["deadline", "--received", "2026-01-31T10:00:00+01:00"], ["no-such-command"]]
)
def test_the_executable_leaves_the_collector_on_with_its_imports_frozen(
    args: list[str], tmp_path: Path
) -> None:
    """`dsr` loads its modules with the cyclic collector off; after the parse, failed or
    not, it must be on again (a `dsr serve` without it would keep every cycle it makes)."""
    probe = (
        "import gc, sys\n"
        f"sys.argv = ['dsr', *{args!r}]\n"
        "from handlers.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(gc.isenabled(), gc.get_freeze_count())\n"
    )
    enabled, frozen = run_probe(probe, tmp_path).stdout.splitlines()[-1].split()
    assert enabled == "True"
    assert int(frozen) > 1000


class Recorder:
    """Stands in for argparse's subparsers: records what a module registers."""

    def __init__(self) -> None:
        self.helps: dict[str, str] = {}

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        self.helps[name] = kwargs["help"]
        return argparse.ArgumentParser(prog=f"dsr {name}")


def test_every_module_registers_the_commands_listed_for_it_with_the_same_help() -> None:
    for module in {entry.module for entry in COMMANDS.values()}:
        recorder = Recorder()
        importlib.import_module(module).register(recorder)
        listed = {name: entry.help for name, entry in COMMANDS.items() if entry.module == module}
        assert recorder.helps == listed, module


def test_a_command_of_a_module_with_several_commands_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["purge", "--help"], capsys)
    assert code == 0
    assert "--dry-run" in out


def test_an_unknown_command_is_refused_with_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(["nonsense"], capsys)
    assert code == 2
    assert "invalid choice: 'nonsense'" in err and "'classify'" in err
