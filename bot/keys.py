"""Which key seals the data, and making sure it is the key the database was written with."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy import Engine, text

from bot.settings import Settings
from storage.sealing import FernetSealer, SealingError, generate_key

logger = logging.getLogger("dsr.keys")
KEY_FILE = "encryption.key"
CANARY_NAME = "key_check"
CANARY = b"dsr-key-check-v1"


class EncryptionKeyError(Exception):
    """The key setting cannot be used; the message says what to do."""


def load_sealer(settings: Settings) -> FernetSealer:
    """DSR_ENCRYPTION_KEY (newest first), or on the embedded default a key kept in ./var."""
    keys = [k.strip() for k in settings.encryption_key.split(",") if k.strip()]
    if not keys:
        if not settings.is_sqlite:
            raise EncryptionKeyError(
                "DSR_ENCRYPTION_KEY is required with PostgreSQL; make one with "
                "`dsr keys generate` and keep it safe (without it the data cannot be read)"
            )
        keys = [_embedded_key(settings.var_dir)]
    try:
        return FernetSealer(keys)
    except SealingError as exc:
        raise EncryptionKeyError(str(exc)) from None


def _embedded_key(var_dir: Path) -> str:
    path = var_dir / KEY_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    logger.warning(
        "encryption: generated a new key at %s (mode 0600); back it up: without it the "
        "stored mail cannot be read",
        path,
    )
    return key


def check_key(engine: Engine, sealer: FernetSealer) -> None:
    """Refuse to start when the key cannot open what the database holds."""
    with engine.begin() as connection:
        row = connection.execute(
            text("SELECT value FROM app_secret WHERE name = :n"), {"n": CANARY_NAME}
        ).first()
        if row is None:
            token = sealer.seal(CANARY).decode("ascii")
            connection.execute(
                text(
                    "INSERT INTO app_secret (name, value) VALUES (:n, :v) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                {"n": CANARY_NAME, "v": token},
            )
            return
        try:
            ok = sealer.open(str(row[0]).encode("ascii")) == CANARY
        except SealingError:
            ok = False
    if not ok:
        raise EncryptionKeyError(
            "DSR_ENCRYPTION_KEY cannot read this database: it was written with another key. "
            "Set the original key (or list it after the new one to rotate)"
        )
