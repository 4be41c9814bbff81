"""`dsr keys rotate`: re-seal every sealed column under the newest key, recompute lookups."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Table, select, type_coerce, update
from sqlmodel import Session, SQLModel
from sqlmodel import select as model_select

from bot.desk import Desk
from bot.keys import CANARY, CANARY_NAME
from bot.lookup import name_key, person_key
from storage.models import AppSecret, Case, KnownPerson, OutboxItem
from storage.sealing import FernetSealer
from storage.types import SEALED_TYPES

logger = logging.getLogger("dsr.keys")


@dataclass(frozen=True)
class RotationReport:
    values: int
    lookups: int


def _sealed_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, SEALED_TYPES)]


def rotate_keys(desk: Desk) -> RotationReport:
    """Open with any listed key, seal with the first; one transaction, so all or nothing."""
    sealer = desk.sealer
    if not isinstance(sealer, FernetSealer):
        raise TypeError("key rotation needs the Fernet sealer of `dsr serve`")
    values = lookups = 0
    with desk.transaction() as session:
        connection = session.connection()
        for table in SQLModel.metadata.sorted_tables:
            names = _sealed_columns(table)
            if not names:
                continue
            (key,) = table.primary_key.columns
            # type_coerce to the stored type: read and write the ciphertext, not through the
            # sealer (MultiFernet.rotate re-seals the token itself, whatever it holds).
            stored_types = {n: table.c[n].type.impl for n in names}  # type: ignore[attr-defined]
            raw_columns = [type_coerce(table.c[n], stored_types[n]) for n in names]
            for row in connection.execute(select(key, *raw_columns)).all():
                changes = {}
                for name, stored in zip(names, row[1:], strict=True):
                    if stored is None:
                        continue
                    as_bytes = isinstance(stored, bytes)
                    token = sealer.rotate(stored if as_bytes else str(stored).encode())
                    changes[name] = type_coerce(
                        token if as_bytes else token.decode(), stored_types[name]
                    )
                    values += 1
                if changes:
                    connection.execute(update(table).where(key == row[0]).values(**changes))
        lookups += _recompute_lookups(desk, session)
        canary = session.get(AppSecret, CANARY_NAME)
        if canary is not None:
            canary.value = sealer.seal(CANARY).decode("ascii")
            session.add(canary)
    logger.info("keys rotated: %d sealed values, %d lookup keys", values, lookups)
    return RotationReport(values=values, lookups=lookups)


def _recompute_lookups(desk: Desk, session: Session) -> int:
    count = 0
    for case in session.exec(model_select(Case)).all():
        case.requester_key = person_key(desk, case.requester) if case.requester else ""
        session.add(case)
        count += 1
    for person in session.exec(model_select(KnownPerson)).all():
        person.email_key = person_key(desk, person.email)
        person.name_key = name_key(desk, person.name) or ""
        session.add(person)
        count += 1
    for item in session.exec(model_select(OutboxItem)).all():
        item.recipient_key = person_key(desk, item.recipient) if item.recipient else ""
        session.add(item)
        count += 1
    return count
