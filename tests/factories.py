"""Builders for test data; every test makes its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cases import NewCase, open_case
from bot.desk import Desk
from bot.settings import Settings
from storage.models import Case

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # Monday 2 March 2026, 10:30 in Amsterdam


def make_settings(db_url: str, tmp_path: object, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "outbox_dir": f"{tmp_path}/outbox",
        "var_dir": f"{tmp_path}/var",
        "smtp_listen": "",
    }
    unknown = set(overrides) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"make_settings: no such setting {sorted(unknown)}; use field names")
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


def new_review_item(
    desk: Desk,
    *,
    raw: bytes | None = None,
    sender: str = "h.bosman@example.nl",
    category: str = "other",
    also: tuple[str, ...] = ("complaint",),
    received_at: datetime = T0,
    language: str = "nl",
) -> int:
    """A stored mail waiting for review, as intake leaves it; returns the item id."""
    from email.utils import make_msgid

    from bot.mail.parse import parse_message
    from storage.messages import add_message
    from storage.reviews import add_review_item
    from tests.mailbuilder import build_mail

    body = raw or build_mail(sender=f"Herman Bosman <{sender}>", subject="klacht over advies")
    mail = parse_message(body)
    key = mail.message_id or make_msgid()
    with desk.transaction() as session:
        add_message(
            session=session,
            direction="in",
            dedupe_key=key,
            message_id=mail.message_id,
            at=received_at,
            subject=mail.subject,
            sender=mail.sender,
            size=len(body),
            raw=body,
            action="review",
        )
        stored = find_stored_id(session, key)
        return add_review_item(
            session=session,
            message_row_id=stored,
            category=category,
            also=also,
            confidence=0.6,
            evidence=("wil ik een klacht",),
            language=language,
            reason="a request phrase in a mail that reads as ordinary",
            received_at=received_at,
            now=received_at,
        )


def find_stored_id(session: Any, key: str) -> int:
    from storage.messages import find_stored

    found = find_stored(session=session, direction="in", dedupe_key=key)
    if found is None:
        raise LookupError(key)
    return found.id


EXAMPLE_INVENTORY = Path(__file__).resolve().parents[1] / "inventory.example.toml"


def inventory_desk(desk: Desk, tmp_path: Path, text: str | None = None) -> Desk:
    """The same database with an inventory file (the shipped example unless `text`)."""
    path = tmp_path / "inventory.toml"
    path.write_text(text if text is not None else EXAMPLE_INVENTORY.read_text(encoding="utf-8"))
    settings = desk.settings.model_copy(update={"inventory_file": path})
    return Desk(settings=settings, engine=desk.engine)
