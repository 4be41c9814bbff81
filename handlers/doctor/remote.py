"""Checks against the servers the desk talks to: a login to the IMAP mailbox, EHLO and login
at the relay (nothing is sent), and Slack's `auth.test` and channel membership."""

from __future__ import annotations

import ssl

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.health.readiness import Check
from handlers.mail.delivery import PermanentDeliveryError, SmtpRelay, TemporaryDeliveryError
from handlers.mail.imap_session import CONNECTION_ERRORS, ImapSession
from handlers.mail.imap_target import ImapTarget, InsecureImapError

TIMEOUT_SECONDS = 15.0


def imap(settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> Check:
    """Blocking (imap-tools): run it in a thread."""
    if not settings.imap_url:
        return Check("imap", True, "off (no DSR_IMAP_URL)")
    target = ImapTarget.from_url(settings.imap_url)
    where = f"{target.host}:{target.port}"
    try:
        session = ImapSession.open(
            target,
            password=settings.imap_password.get_secret_value(),
            ssl_context=ssl_context or ssl.create_default_context(),
        )
    except InsecureImapError as exc:
        return Check("imap", False, str(exc))
    except CONNECTION_ERRORS as exc:
        return Check(
            "imap",
            False,
            f"cannot log in at {where} ({_short(exc)}); check DSR_IMAP_URL and DSR_IMAP_PASSWORD",
        )
    try:
        session.select(target.folder, readonly=True)
    except CONNECTION_ERRORS as exc:
        return Check(
            "imap",
            False,
            f"logged in, but the folder {target.folder!r} ({_short(exc)}) cannot "
            "be opened; check the folder in DSR_IMAP_URL",
        )
    finally:
        session.close()
    return Check("imap", True, f"logged in at {where}, folder {target.folder} opens")


async def relay(settings: Settings, *, tls_context: ssl.SSLContext | None = None) -> Check:
    if not settings.smtp_relay:
        return Check("relay", True, f"off: mail is written to {settings.outbox_dir}")
    client = SmtpRelay(
        settings.smtp_relay,
        user=settings.smtp_user,
        password=settings.smtp_password.get_secret_value(),
        timeout=TIMEOUT_SECONDS,
        tls_context=tls_context,
    )
    where = f"{client.host}:{client.port}"
    try:
        await client.verify()
    except (PermanentDeliveryError, TemporaryDeliveryError) as exc:
        return Check(
            "relay",
            False,
            f"{where}: {exc}; check DSR_SMTP_RELAY, DSR_SMTP_USER and DSR_SMTP_PASSWORD",
        )
    login = f", logged in as {settings.smtp_user}" if settings.smtp_user else ""
    return Check("relay", True, f"{where} answers EHLO{login} (nothing sent)")


async def slack(settings: Settings) -> Check:
    if not settings.slack_bot_token.get_secret_value():
        return Check("slack", True, "off (no SLACK_BOT_TOKEN)")
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(TIMEOUT_SECONDS),
    )
    try:
        who = await client.auth_test()
    except SlackApiError as exc:
        return Check(
            "slack", False, f"auth.test refused ({_slack_error(exc)}); check SLACK_BOT_TOKEN"
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return Check("slack", False, f"cannot reach {settings.slack_api_url} ({_short(exc)})")
    if not settings.slack_channel:
        return Check("slack", True, f"token works (team {who.get('team_id')}); no channel set")
    try:
        info = await client.conversations_info(channel=settings.slack_channel)
    except SlackApiError as exc:
        return Check(
            "slack",
            False,
            f"channel {settings.slack_channel}: {_slack_error(exc)}; check DSR_SLACK_CHANNEL "
            "(a channel ID such as C0123456789) and invite the app to it",
        )
    channel = info.get("channel") or {}
    if not channel.get("is_member"):
        return Check(
            "slack",
            False,
            f"the app is not a member of {settings.slack_channel}; invite it there "
            "(`/invite @app` in the channel)",
        )
    return Check("slack", True, f"token works, member of {settings.slack_channel}")


def _slack_error(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http {exc.response.status_code}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__
