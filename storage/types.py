"""Column types shared by the tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and returns them aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value)!r}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sealer(dialect: Dialect) -> Any:
    sealer = getattr(dialect, "dsr_sealer", None)
    if sealer is None:
        # Never write plaintext by accident: an engine without a sealer cannot store these.
        raise RuntimeError("engine has no sealer; build it with storage.engine.make_engine")
    return sealer


class SealedBytes(TypeDecorator[bytes]):
    """Bytes sealed by the engine's sealer (Fernet in service)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return bytes(_sealer(dialect).seal(bytes(value)))

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return bytes(_sealer(dialect).open(bytes(value)))


class SealedText(TypeDecorator[str]):
    """Text sealed by the engine's sealer; stored as the token's ASCII text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return bytes(_sealer(dialect).seal(value.encode())).decode("utf-8")

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return bytes(_sealer(dialect).open(str(value).encode("utf-8"))).decode("utf-8")


class SealedJSON(TypeDecorator[Any]):
    """A JSON value (a list of words, say) sealed like SealedText: stored as the token's text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return bytes(_sealer(dialect).seal(data)).decode("utf-8")

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(bytes(_sealer(dialect).open(str(value).encode("utf-8"))))


SEALED_TYPES = (SealedBytes, SealedText, SealedJSON)
