"""The register of known persons: idempotent CSV import by e-mail, audited reads."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from bot.desk import Desk
from bot.lookup import name_key, person_key
from storage.audit import append_event
from storage.models import KnownPerson
from storage.persons import find_by_email_key

COLUMNS = ("name", "email", "employee_number", "organisation", "date_of_birth")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _row_error(row: dict[str, str | None]) -> str | None:
    email = (row.get("email") or "").strip()
    if "@" not in email or " " in email or email.startswith("@") or email.endswith("@"):
        return f"email {email!r} is not an address"
    if not (row.get("name") or "").strip():
        return "name is empty"
    birth = (row.get("date_of_birth") or "").strip()
    if birth:
        try:
            date.fromisoformat(birth)
        except ValueError:
            return f"date_of_birth {birth!r} is not YYYY-MM-DD"
    return None


def import_register(desk: Desk, *, text: str, actor: str, now: datetime) -> ImportReport:
    """Load or update persons by e-mail; bad rows are reported by line, good rows still load."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("name", "email") if c not in (reader.fieldnames or [])]
    if missing:
        report.errors.append(
            f"line 1: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"
        )
        return report
    with desk.transaction() as session:
        for row in reader:
            line = reader.line_num
            error = _row_error(row)
            if error is not None:
                report.errors.append(f"line {line}: {error}")
                continue
            _upsert(desk, session, row, now=now, report=report)
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="register_imported",
            details={
                "created": report.created,
                "updated": report.updated,
                "rejected": len(report.errors),
            },
        )
    return report


def _upsert(
    desk: Desk, session: Session, row: dict[str, str | None], *, now: datetime, report: ImportReport
) -> None:
    email = (row.get("email") or "").strip()
    birth = (row.get("date_of_birth") or "").strip()
    values = {
        "email": email,
        "name": " ".join((row.get("name") or "").split()),
        "employee_number": (row.get("employee_number") or "").strip() or None,
        "organisation": (row.get("organisation") or "").strip(),
        "date_of_birth": date.fromisoformat(birth).isoformat() if birth else None,
    }
    key = person_key(desk, email)
    person = find_by_email_key(session=session, email_key=key)
    if person is None:
        person = KnownPerson(email_key=key, email=email, updated_at=now)
        report.created += 1
    elif all(getattr(person, name) == value for name, value in values.items()):
        report.unchanged += 1
        return
    else:
        report.updated += 1
    for name, value in values.items():
        setattr(person, name, value)
    person.name_key = name_key(desk, person.name) or ""
    person.updated_at = now
    session.add(person)


def look_up(desk: Desk, *, address: str, actor: str, now: datetime) -> KnownPerson | None:
    """A person reading the register is an audited event."""
    with desk.transaction() as session:
        person = find_by_email_key(session=session, email_key=person_key(desk, address))
        append_event(
            session=session,
            at=now,
            actor=actor,
            action="register_viewed",
            details={"found": person is not None},
        )
        return person
