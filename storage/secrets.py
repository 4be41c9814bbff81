"""Per-installation secrets kept in the database, so every instance shares them."""

from __future__ import annotations

import secrets

from sqlalchemy import text
from sqlmodel import Session

from storage.models import AppSecret


def get_or_create_secret(*, session: Session, name: str) -> str:
    session.connection().execute(
        text("INSERT INTO app_secret (name, value) VALUES (:n, :v) ON CONFLICT (name) DO NOTHING"),
        {"n": name, "v": secrets.token_hex(16)},
    )
    secret = session.get(AppSecret, name)
    if secret is None:
        raise LookupError(f"secret {name} could not be created")
    return secret.value
