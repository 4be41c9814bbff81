"""The one settings class: environment variables or `.env`, validated at start-up."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class SettingsError(Exception):
    """A setting has a value we cannot run with; the message names the setting."""


def _host_port(value: str, name: str) -> str:
    if not value:
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{name}: expected HOST:PORT such as 127.0.0.1:8025, got {value!r}")
    return value


class Settings(BaseSettings):
    """Everything an operator can set. Slack's own names are kept; ours start with DSR_."""

    model_config = SettingsConfigDict(
        env_prefix="DSR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = "sqlite:///./var/dsr.db"
    db_auto_upgrade: bool = False
    var_dir: Path = Path("./var")
    mailbox_addresses: str = "secretariaat@proambt.nl"
    from_address: str = ""
    secretariat_address: str = ""
    smtp_listen: str = "127.0.0.1:8025"
    smtp_protocol: Literal["smtp", "lmtp"] = "smtp"
    max_message_bytes: int = Field(25_000_000, gt=0)
    max_attachment_bytes: int = Field(10_000_000, gt=0)
    max_auto_replies_per_day: int = Field(5, ge=0)
    imap_url: str = ""
    imap_password: SecretStr = SecretStr("")
    imap_move_to: str = ""
    imap_poll_seconds: float = Field(60.0, gt=0)
    smtp_relay: str = ""
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    outbox_dir: Path = Path("./var/outbox")
    inventory_file: Path = Path("./inventory.toml")
    timezone: str = "Europe/Amsterdam"
    holiday_profile: Literal["strict", "atw"] = "strict"
    identity_clock: Literal["no_wait", "edpb"] = "no_wait"
    triage_threshold: float = Field(0.6, ge=0.0, le=1.0)
    otp_max_attempts: int = Field(5, ge=1)
    otp_ttl_hours: int = Field(24, ge=1)
    identity_give_up_days: int = Field(14, ge=1)
    trusted_authserv_id: str = ""
    scheduler_interval_seconds: float = Field(300.0, gt=0)
    slack_bot_token: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr = Field(
        SecretStr(""), validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_http_listen: str = "127.0.0.1:3000"
    slack_api_url: str = "https://slack.com/api/"
    slack_channel: str = ""
    slack_allowed_usergroup: str = ""
    slack_show_body: bool = False
    encryption_key: SecretStr = SecretStr("")
    audit_key: SecretStr = SecretStr("")
    retention_days: int = Field(730, ge=1)
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    reminder_days_before: int = Field(7, ge=1)
    reminder_working_days_before: int = Field(3, ge=1)
    digest_time: time = time(9, 0)
    identity_reminder_working_days: int = Field(3, ge=1)
    web_listen: str = "127.0.0.1:8080"
    public_url: str = ""
    download_days: int = Field(14, ge=1)
    download_max: int = Field(5, ge=1)
    web_trusted_proxies: str = ""
    http_listen: str = "127.0.0.1:9108"
    privacy_owner: str = ""
    export_max_bytes: int = Field(20_000_000, gt=0)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            scheme = value.split("://", 1)[0] if "://" in value else value
            raise ValueError(
                f"DSR_DATABASE_URL: unsupported scheme {scheme!r}; "
                "use sqlite:/// or postgresql+psycopg://"
            )
        return value

    @field_validator("smtp_listen")
    @classmethod
    def _smtp_listen(cls, value: str) -> str:
        return _host_port(value.strip(), "DSR_SMTP_LISTEN")

    @field_validator("slack_http_listen", "web_listen", "http_listen")
    @classmethod
    def _listen(cls, value: str, info: ValidationInfo) -> str:
        return _host_port(value.strip(), f"DSR_{str(info.field_name).upper()}")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"DSR_TIMEZONE: unknown time zone {value!r}; use an IANA name "
                "such as Europe/Amsterdam"
            ) from None
        return value

    @field_validator("imap_url")
    @classmethod
    def _imap_url(cls, value: str) -> str:
        if value and not value.startswith(("imaps://", "imap://")):
            raise ValueError(
                "DSR_IMAP_URL: use imaps://user@host:993/INBOX or imap://user@host:143/INBOX"
            )
        return value

    @field_validator("smtp_relay")
    @classmethod
    def _smtp_relay(cls, value: str) -> str:
        if value and not value.startswith(("smtps://", "smtp://")):
            raise ValueError("DSR_SMTP_RELAY: use smtps://host:465 or smtp://host:587")
        return value

    @model_validator(mode="after")
    def _addresses(self) -> Settings:
        if not self.mailboxes:
            raise ValueError("DSR_MAILBOX_ADDRESSES: give at least one address")
        named = (
            *(("DSR_MAILBOX_ADDRESSES", a) for a in self.mailboxes),
            ("DSR_FROM_ADDRESS", self.from_address),
            ("DSR_SECRETARIAT_ADDRESS", self.secretariat_address),
        )
        for name, address in named:
            if address and "@" not in address:
                raise ValueError(f"{name}: mail address {address!r} has no @")
        if self.slack_bot_token and not self.slack_app_token and not self.slack_signing_secret:
            raise ValueError(
                "SLACK_SIGNING_SECRET: required in HTTP mode (SLACK_BOT_TOKEN set, "
                "no SLACK_APP_TOKEN)"
            )
        return self

    @model_validator(mode="after")
    def _files_under_var_dir(self) -> Settings:
        """DSR_VAR_DIR holds the embedded default's files: the database and the outbox follow
        it unless DSR_DATABASE_URL or DSR_OUTBOX_DIR is set itself."""
        if "var_dir" in self.model_fields_set:
            if "database_url" not in self.model_fields_set:
                self.database_url = f"sqlite:///{self.var_dir.as_posix()}/dsr.db"
            if "outbox_dir" not in self.model_fields_set:
                self.outbox_dir = self.var_dir / "outbox"
        return self

    @property
    def mailboxes(self) -> tuple[str, ...]:
        parts = (a.strip().lower() for a in self.mailbox_addresses.split(","))
        return tuple(a for a in parts if a)

    @property
    def sender_address(self) -> str:
        return self.from_address or self.mailboxes[0]

    @property
    def alert_address(self) -> str:
        return self.secretariat_address or self.mailboxes[0]

    @property
    def own_domain(self) -> str:
        return self.sender_address.rpartition("@")[2]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read settings once at the edge; a bad value becomes one readable SettingsError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if message.startswith(("DSR_", "SLACK_")) or not error["loc"]:
                lines.append(message)
            else:
                lines.append(f"{setting_name(error['loc'])}: {message}")
        raise SettingsError("; ".join(lines)) from None


def setting_name(loc: tuple[int | str, ...]) -> str:
    """The name an operator sets for the field at `loc`: DSR_<FIELD>, or Slack's own name."""
    field = str(loc[0])
    info = Settings.model_fields.get(field)
    if info is None:  # reported under its alias (SLACK_BOT_TOKEN) or not a field at all
        return field.upper() if field.upper().startswith(("DSR_", "SLACK_")) else field
    alias = info.validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if isinstance(alias, str):
        return alias
    return f"DSR_{field.upper()}"
