"""Settings: where the embedded default's files go, and how a bad value is reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.keys import load_audit_chain, load_sealer
from bot.settings import SettingsError, load_settings


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DSR_/SLACK_ settings from the caller's environment, and no .env file."""
    for name in list(os.environ):
        if name.startswith(("DSR_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_defaults_are_the_documented_ones(no_env: Path) -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./var/dsr.db"
    assert settings.outbox_dir == Path("./var/outbox")
    assert settings.var_dir == Path("./var")


def test_var_dir_alone_moves_database_outbox_and_keys(
    no_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var = no_env / "state"
    monkeypatch.setenv("DSR_VAR_DIR", str(var))
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{var}/dsr.db"
    assert settings.outbox_dir == var / "outbox"
    load_sealer(settings)
    assert load_audit_chain(settings).head_file == var / "audit.head"
    assert sorted(p.name for p in var.iterdir()) == ["audit.key", "encryption.key"]
    assert not (no_env / "var").exists()


def test_an_explicit_database_and_outbox_win_over_the_var_dir(
    no_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSR_VAR_DIR", str(no_env / "state"))
    monkeypatch.setenv("DSR_DATABASE_URL", "sqlite:///./elsewhere/dsr.db")
    monkeypatch.setenv("DSR_OUTBOX_DIR", "./mail-out")
    settings = load_settings()
    assert settings.database_url == "sqlite:///./elsewhere/dsr.db"
    assert settings.outbox_dir == Path("./mail-out")


def test_the_var_dir_from_a_dotenv_file_moves_them_too(no_env: Path) -> None:
    (no_env / ".env").write_text("DSR_VAR_DIR=./state\n", encoding="utf-8")
    settings = load_settings()
    assert settings.database_url == "sqlite:///state/dsr.db"
    assert settings.outbox_dir == Path("state/outbox")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("DSR_HOLIDAY_PROFILE", "foo", "DSR_HOLIDAY_PROFILE: Input should be 'strict' or 'atw'"),
        ("DSR_OTP_MAX_ATTEMPTS", "0", "DSR_OTP_MAX_ATTEMPTS: Input should be greater than"),
        ("DSR_OTP_MAX_ATTEMPTS", "many", "DSR_OTP_MAX_ATTEMPTS: Input should be a valid integer"),
        ("DSR_DIGEST_TIME", "25:99", "DSR_DIGEST_TIME: Input should be in a valid time format"),
        ("DSR_SLACK_SHOW_BODY", "maybe", "DSR_SLACK_SHOW_BODY: Input should be a valid boolean"),
        ("DSR_FROM_ADDRESS", "nobody", "DSR_FROM_ADDRESS: mail address 'nobody' has no @"),
        ("SLACK_BOT_TOKEN", "xoxb-1", "SLACK_SIGNING_SECRET: required in HTTP mode"),
    ],
)
def test_a_bad_setting_is_reported_by_the_name_an_operator_sets(
    no_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert str(refused.value).startswith(named)


def test_a_bad_slack_token_is_reported_by_slacks_name(no_env: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(SLACK_APP_TOKEN=["not", "a", "token"])
    assert str(refused.value).startswith("SLACK_APP_TOKEN: Input should be a valid string")
