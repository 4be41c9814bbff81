"""What the requester's web front is built on (pure, or one transaction): unguessable tokens
stored only as hashes, six-digit codes compared in constant time, and rate limits counted in
the database, so that several instances of `dsr serve` agree on them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.desk import Desk
from bot.privacy import normalise_address
from storage.web import add_hit, count_hits

CODE_MINUTES = 15  # a code typed later than this is refused; a fresh one can be asked for
SESSION_MINUTES = 30  # how long a right code opens the download or the status page
MAX_WRONG_CODES = 5


def new_token() -> str:
    """32 random bytes, URL-safe: the only secret a download link carries."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token (a SHA-256 of 256 random bits cannot be reversed)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def same_code(expected: str | None, given: str) -> bool:
    """`123 456` and `123-456` count as `123456`; compared in constant time."""
    typed = "".join(ch for ch in given if ch not in " -\t")[:12]
    if expected is None:
        hmac.compare_digest("000000", typed)
        return False
    return hmac.compare_digest(expected.encode(), typed.encode())


@dataclass(frozen=True)
class Limit:
    """At most `count` counted requests per `window` for one subject (an IP, an address)."""

    name: str
    count: int
    window: timedelta


# Any form sent from one IP address (a person needs a handful).
POSTS_PER_IP = Limit("ip", 30, timedelta(minutes=10))
# Codes asked for one address on the status page, whether or not it has a request with us.
CODES_PER_ADDRESS = Limit("address", 5, timedelta(hours=1))
# Codes asked for one download link.
CODES_PER_LINK = Limit("link", 5, timedelta(hours=1))
# Views put into the audit trail: one per download link and state (per status access) an
# hour; the reloads in between are not rows of the trail.
LINK_VIEWS_AUDITED = Limit("view", 1, timedelta(hours=1))
STATUS_VIEWS_AUDITED = Limit("status-view", 1, timedelta(hours=1))


def _bucket(desk: Desk, limit: Limit, subject: str) -> str:
    """A keyed hash: the table holds no IP or mail address."""
    if limit is CODES_PER_ADDRESS:
        subject = normalise_address(subject)
    return f"{limit.name}:{desk.sealer.lookup_key(f'web-{limit.name}:{subject}')}"


def take(desk: Desk, *, checks: Sequence[tuple[Limit, str]], now: datetime) -> bool:
    """Count one request against every (limit, subject); False (and nothing counted) when any
    of them is used up. One transaction: on PostgreSQL two instances can let a request or two
    past a limit at the same instant, never more."""
    with desk.transaction() as session:
        return take_in(session, desk, checks=checks, now=now)


def take_in(
    session: Session, desk: Desk, *, checks: Sequence[tuple[Limit, str]], now: datetime
) -> bool:
    """`take` inside the caller's transaction: under a row lock the caller holds, instances
    decide one after the other, so none lets a request past the limit."""
    buckets = [(limit, _bucket(desk, limit, subject)) for limit, subject in checks]
    for limit, bucket in buckets:
        if count_hits(session=session, bucket=bucket, since=now - limit.window) >= limit.count:
            return False
    for _, bucket in buckets:
        add_hit(session=session, bucket=bucket, at=now)
    return True
