"""`dsr doctor`: every check against the real thing (files, SQLite/PostgreSQL, Dovecot, an
aiosmtpd relay with a login, the Slack stub), each in its passing and its failing case."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from bot.settings import Settings
from handlers.cli import main
from handlers.doctor.run import Servers, examine
from handlers.health.readiness import Check
from handlers.runtime import build_desk
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.sealing import generate_key
from tests.dovecot import PASSWORD, Dovecot
from tests.factories import make_settings
from tests.slack_stub import SlackStub

CHANNEL = "C0DESK0001"
RELAY_USER, RELAY_PASSWORD = "desk", "relay-secret"
NAMES = ["settings", "database", "key", "inventory", "imap", "relay", "slack", "disk", "files"]


def installed(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of an installation that has run once (database, keys, var dir made)."""
    settings = make_settings(db_url, tmp_path, db_auto_upgrade=True, **overrides)
    build_desk(settings).engine.dispose()
    return settings


async def doctor(settings: Settings, **kwargs: Any) -> dict[str, Check]:
    checks = await examine(settings, min_free=kwargs.pop("min_free", 0), **kwargs)
    assert [c.name for c in checks] == NAMES
    return {c.name: c for c in checks}


class Relay:
    """An SMTP relay on loopback that wants a login and records any mail it is given."""

    def __init__(self) -> None:
        self.mails: list[bytes] = []
        self.port = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mails.append(envelope.original_content or b"")
        return "250 OK"

    @staticmethod
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        given = (_text(data.login), _text(data.password)) if isinstance(data, LoginPassword) else ()
        # handled=False: aiosmtpd answers 235 or 535 itself.
        return AuthResult(success=given == (RELAY_USER, RELAY_PASSWORD), handled=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    handler = Relay()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, authenticator=Relay.authenticate, auth_require_tls=False, loop=loop),
        host="127.0.0.1",
        port=0,
    )
    handler.port = server.sockets[0].getsockname()[1]
    yield handler
    server.close()
    await server.wait_closed()


@pytest.fixture
async def stub() -> AsyncIterator[SlackStub]:
    server = SlackStub(joined={CHANNEL})
    await server.start()
    yield server
    await server.stop()


def servers_of(
    db_url: str, tmp_path: Path, dovecot: Dovecot, relay: Relay, stub: SlackStub
) -> dict[str, Any]:
    return {
        "imap_url": dovecot.url(),
        "imap_password": PASSWORD,
        "smtp_relay": f"smtp://127.0.0.1:{relay.port}",
        "smtp_user": RELAY_USER,
        "smtp_password": RELAY_PASSWORD,
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": "s",
        "slack_api_url": stub.api_url,
        "slack_channel": CHANNEL,
    }


async def test_a_healthy_installation_passes_every_check_and_sends_nothing(
    db_url: str, tmp_path: Path, dovecot: Dovecot, relay: Relay, stub: SlackStub
) -> None:
    settings = installed(db_url, tmp_path, **servers_of(db_url, tmp_path, dovecot, relay, stub))
    found = await doctor(settings, servers=Servers(imap_ssl=dovecot.ssl_context()))
    assert all(c.ok for c in found.values()), found
    assert "at migration" in found["database"].detail
    assert "opens" in found["key"].detail
    assert f"logged in as {RELAY_USER}" in found["relay"].detail
    assert relay.mails == []
    assert {c.method for c in stub.calls} == {"auth.test", "conversations.info"}


async def test_remote_checks_fail_on_a_wrong_password_token_or_channel(
    sqlite_url: str, tmp_path: Path, dovecot: Dovecot, relay: Relay, stub: SlackStub
) -> None:
    values = servers_of(sqlite_url, tmp_path, dovecot, relay, stub)
    values.update(imap_password="wrong", smtp_password="wrong")
    settings = installed(sqlite_url, tmp_path, **values)
    stub.errors["auth.test"] = "invalid_auth"
    found = await doctor(settings, servers=Servers(imap_ssl=dovecot.ssl_context()))
    assert not found["imap"].ok and "DSR_IMAP_PASSWORD" in found["imap"].detail
    assert not found["relay"].ok and "535" in found["relay"].detail
    assert not found["slack"].ok and "invalid_auth" in found["slack"].detail

    stub.errors.clear()
    stub.joined.clear()
    found = await doctor(settings, servers=Servers(imap_ssl=dovecot.ssl_context()))
    assert not found["slack"].ok and "/invite" in found["slack"].detail
    stub.errors["conversations.info"] = "channel_not_found"
    found = await doctor(settings, servers=Servers(imap_ssl=dovecot.ssl_context()))
    assert not found["slack"].ok and "channel_not_found" in found["slack"].detail


async def test_unreachable_servers_fail_with_what_to_check(sqlite_url: str, tmp_path: Path) -> None:
    settings = installed(
        sqlite_url,
        tmp_path,
        imap_url="imap://desk@127.0.0.1:1/INBOX",
        smtp_relay="smtp://127.0.0.1:1",
        slack_bot_token="xoxb-test",
        slack_signing_secret="s",
        slack_api_url="http://127.0.0.1:1/api/",
    )
    found = await doctor(settings)
    assert not found["imap"].ok and "cannot log in at 127.0.0.1:1" in found["imap"].detail
    assert not found["relay"].ok and "unreachable" in found["relay"].detail
    assert not found["slack"].ok and "cannot reach" in found["slack"].detail


async def test_servers_not_configured_are_reported_off(sqlite_url: str, tmp_path: Path) -> None:
    found = await doctor(installed(sqlite_url, tmp_path))
    assert found["imap"].ok and "off" in found["imap"].detail
    assert found["relay"].ok and "outbox" in found["relay"].detail
    assert found["slack"].ok and "off" in found["slack"].detail


async def test_database_missing_old_or_unreachable_fails(tmp_path: Path) -> None:
    missing = make_settings(f"sqlite:///{tmp_path}/none.db", tmp_path)
    found = await doctor(missing)
    assert not found["database"].ok and "dsr serve" in found["database"].detail
    assert not (tmp_path / "none.db").exists()

    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(make_engine(url), "0006")
    found = await doctor(make_settings(url, tmp_path))
    assert not found["database"].ok and "dsr db upgrade" in found["database"].detail

    nowhere = "postgresql+psycopg://dsr@127.0.0.1:1/none?connect_timeout=2"
    found = await doctor(make_settings(nowhere, tmp_path))
    assert not found["database"].ok and "unreachable" in found["database"].detail


async def test_a_key_that_cannot_read_the_database_fails(db_url: str, tmp_path: Path) -> None:
    settings = installed(db_url, tmp_path)
    other = settings.model_copy(update={"encryption_key": SecretStr(generate_key())})
    found = await doctor(other)
    assert not found["key"].ok and "another key" in found["key"].detail
    found = await doctor(settings.model_copy(update={"encryption_key": SecretStr("not-a-key")}))
    assert not found["key"].ok


async def test_a_lost_embedded_key_file_fails_and_a_fresh_install_is_fine(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/dsr.db"
    fresh = make_settings(url, tmp_path, encryption_key="")
    found = await doctor(fresh)
    assert found["key"].ok and "none yet" in found["key"].detail
    settings = installed(url, tmp_path, encryption_key="")
    assert (await doctor(settings))["key"].ok
    (settings.var_dir / "encryption.key").unlink()
    found = await doctor(settings)
    assert not found["key"].ok and "restore the key file" in found["key"].detail


async def test_the_inventory_is_checked_when_present(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "inventory.toml"
    settings = installed(sqlite_url, tmp_path, inventory_file=str(path))
    found = await doctor(settings)
    assert found["inventory"].ok and "optional" in found["inventory"].detail
    example = Path(__file__).resolve().parents[2] / "inventory.example.toml"
    path.write_text(example.read_text(encoding="utf-8"))
    found = await doctor(settings)
    assert found["inventory"].ok and "system(s)" in found["inventory"].detail
    path.write_text('[[system]]\nid = "crm"\n')
    found = await doctor(settings)
    assert not found["inventory"].ok and "dsr inventory check" in found["inventory"].detail


async def test_low_disk_space_fails(sqlite_url: str, tmp_path: Path) -> None:
    settings = installed(sqlite_url, tmp_path)
    assert (await doctor(settings, min_free=1))["disk"].ok
    found = await doctor(settings, min_free=1 << 60)
    assert not found["disk"].ok and "MiB free" in found["disk"].detail


async def test_readable_keys_database_or_var_dir_fail(sqlite_url: str, tmp_path: Path) -> None:
    settings = installed(sqlite_url, tmp_path)
    assert (await doctor(settings))["files"].ok
    key = settings.var_dir / "audit.key"
    key.chmod(0o644)
    found = await doctor(settings)
    assert not found["files"].ok and f"chmod 600 {key}" in found["files"].detail
    key.chmod(0o600)
    (tmp_path / "dsr.db").chmod(0o640)
    assert not (await doctor(settings))["files"].ok
    (tmp_path / "dsr.db").chmod(0o600)
    settings.var_dir.chmod(0o755)
    found = await doctor(settings)
    assert not found["files"].ok and f"chmod 700 {settings.var_dir}" in found["files"].detail


def run_doctor(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(["doctor", *args])
    return int(exit_.value.code or 0), capsys.readouterr().out


def test_the_command_prints_a_line_per_check_and_exits_non_zero_on_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DSR_SMTP_LISTEN", "")
    installed("sqlite:///./var/dsr.db", tmp_path, var_dir="./var", outbox_dir="./var/outbox")
    code, out = run_doctor([], capsys)
    lines = out.splitlines()
    assert code == 0, out
    assert [line.split()[1] for line in lines] == NAMES
    assert all(line.startswith("ok ") for line in lines)

    (tmp_path / "var" / "audit.key").chmod(0o644)
    code, out = run_doctor(["--json"], capsys)
    assert code == 1
    checks = json.loads(out)
    assert [c["name"] for c in checks if not c["ok"]] == ["files"]

    monkeypatch.setenv("DSR_DATABASE_URL", "mysql://db/dsr")
    code, out = run_doctor([], capsys)
    assert code == 1 and out.startswith("FAIL  settings") and "DSR_DATABASE_URL" in out
