"""Where the IMAP poller logs in (`DSR_IMAP_URL`) and when it may send the password in clear."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit


class InsecureImapError(ValueError):
    """The password would cross the network unencrypted; we refuse to log in."""


@dataclass(frozen=True)
class ImapTarget:
    tls: Literal["imaps", "starttls"]
    host: str
    port: int
    user: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> ImapTarget:
        """`imaps://user@host:993/INBOX` (TLS) or `imap://user@host:143/INBOX` (STARTTLS)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("imaps", "imap"):
            raise ValueError(
                "IMAP URL: use imaps://user@host:993/INBOX or imap://user@host:143/INBOX"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError("IMAP URL: the port must be a number from 1 to 65535") from None
        if not parts.hostname or not parts.username:
            raise ValueError("IMAP URL: give a user and a host, as in imaps://user@host:993/INBOX")
        if parts.password is not None:
            raise ValueError("IMAP URL: put the password in DSR_IMAP_PASSWORD, not in the URL")
        tls: Literal["imaps", "starttls"] = "imaps" if parts.scheme == "imaps" else "starttls"
        return cls(
            tls=tls,
            host=parts.hostname,
            port=port or (993 if tls == "imaps" else 143),
            user=unquote(parts.username),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    @property
    def mailbox_key(self) -> str:
        """The cursor's key: one row per account and folder, whichever port or TLS mode."""
        return f"{self.user}@{self.host}/{self.folder}"


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address.lower() == "localhost"


def require_secure_login(*, target: ImapTarget, peer: str, tls_active: bool) -> None:
    """Plain-text login only when the password never leaves this machine."""
    if tls_active or is_loopback(peer):
        return
    raise InsecureImapError(
        f"refusing to log in to {target.host}:{target.port} without TLS: the server offers no "
        "STARTTLS and is not on this machine; use imaps://HOST:993 or enable STARTTLS"
    )
