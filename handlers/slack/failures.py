"""How a failed Slack call is handled: retry later (with Slack's Retry-After when given),
or give up when retrying cannot help (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

# Slack answers these for the content of the call itself; sending it again cannot succeed.
PERMANENT = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_arguments",
        "too_many_attachments",
    }
)
MAX_BACKOFF_SECONDS = 900


@dataclass(frozen=True)
class Failure:
    permanent: bool
    error: str
    retry_after: float | None = None


def slack_failure(exc: SlackApiError) -> Failure:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error") or f"http {status}")
    if status == 429 or error == "ratelimited":
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return Failure(False, "rate limited (429)", _seconds(headers.get("retry-after")))
    return Failure(error in PERMANENT and status < 500, error)


def _seconds(value: object) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(str(value))
    except ValueError:
        return None


def retry_at(now: datetime, attempts: int, *, retry_after: float | None = None) -> datetime:
    """Slack's Retry-After when given, else 5 s doubling per attempt, at most 15 minutes."""
    if retry_after is not None:
        return now + timedelta(seconds=max(1.0, retry_after))
    return now + timedelta(seconds=min(5 * 2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS))
