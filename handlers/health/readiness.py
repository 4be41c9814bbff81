"""`/readyz`: is this instance doing its work? The database answers and is at the latest
migration, every part `dsr serve` started is running without trouble, and the outbox is not
holding mail back (its oldest waiting mail is younger than `OUTBOX_STALE`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot.desk import Desk
from storage.figures import oldest_pending
from storage.migrate import is_up_to_date

OUTBOX_STALE = timedelta(minutes=15)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def database_check(engine: Engine) -> Check:
    """The database answers a query and is at the newest migration."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = is_up_to_date(engine)
    except SQLAlchemyError as exc:
        return Check("database", False, f"unreachable ({type(exc).__name__}); check it runs")
    if not current:
        return Check("database", False, "not at the latest migration; run `dsr db upgrade`")
    return Check("database", True)


def outbox_check(desk: Desk, *, now: datetime) -> Check:
    with desk.reading() as session:
        oldest = oldest_pending(session=session, channel="mail")
    if oldest is not None and now - oldest >= OUTBOX_STALE:
        minutes = int((now - oldest).total_seconds() // 60)
        return Check(
            "outbox-age",
            False,
            f"the oldest waiting mail was queued {minutes} min ago; check the relay "
            "(DSR_SMTP_RELAY) and the log",
        )
    return Check("outbox-age", True)


def readiness(desk: Desk, *, now: datetime) -> list[Check]:
    checks = [database_check(desk.engine)]
    for part, state in sorted(desk.monitor.parts().items()):
        checks.append(Check(part, state.healthy, state.trouble))
    if checks[0].ok:
        checks.append(outbox_check(desk, now=now))
    return checks
