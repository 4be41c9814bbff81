"""Recognise mail sent by machines (RFC 3834 auto-replies, bounces, lists, loops).

Placeholder interface; the mail-understanding work fills it in.
"""

from collections.abc import Mapping


def auto_reply_reason(headers: Mapping[str, str], sender: str = "") -> str | None:
    """Return why a mail with these headers is machine-sent, or None for a person's mail."""
    auto = headers.get("Auto-Submitted", "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    return None
