"""Builders for test data; every test makes its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.cases import NewCase, open_case
from bot.desk import Desk
from bot.settings import Settings
from storage.models import Case

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # Monday 2 March 2026, 10:30 in Amsterdam


def make_settings(db_url: str, tmp_path: object, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DSR_DATABASE_URL": db_url,
        "DSR_OUTBOX_DIR": f"{tmp_path}/outbox",
        "DSR_VAR_DIR": f"{tmp_path}/var",
        "DSR_SMTP_LISTEN": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def new_case(
    desk: Desk,
    *,
    requester: str = "jan.jansen@example.nl",
    received_at: datetime = T0,
    category: str = "access",
    needs_triage: bool = False,
    language: str = "nl",
    now: datetime | None = None,
) -> Case:
    with desk.transaction() as session:
        return open_case(
            desk,
            session=session,
            new=NewCase(
                requester=requester,
                received_at=received_at,
                category=category,
                needs_triage=needs_triage,
                language=language,
            ),
            now=now or received_at,
        )
