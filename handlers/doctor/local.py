"""Checks on this machine: the database and its migrations, the key, the inventory, free disk
space and the modes of the private files. None of them writes anything."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.inventory import InventoryError, load_inventory
from bot.keys import AUDIT_KEY_FILE, CANARY, CANARY_NAME, KEY_FILE, EncryptionKeyError, load_sealer
from bot.settings import Settings
from handlers.health.readiness import Check, database_check
from storage.migrate import current_revision
from storage.sealing import SealingError

MIN_FREE_BYTES = 1 << 30  # 1 GiB: mail, the database and its WAL grow on this disk


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database file; None on PostgreSQL."""
    if not settings.is_sqlite:
        return None
    return Path(make_url(settings.database_url).database or "dsr.db")


def database(settings: Settings, engine: Engine | None) -> Check:
    if engine is None:
        return Check(
            "database",
            False,
            f"no database file at {sqlite_path(settings)}; start `dsr serve` once (it creates "
            "it) or run `dsr db upgrade`, or restore a backup with `dsr restore DIR`",
        )
    found = database_check(engine)
    if not found.ok:
        return found
    return Check("database", True, f"reachable, at migration {current_revision(engine)}")


def stored_canary(engine: Engine) -> str | None:
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT value FROM app_secret WHERE name = :n"), {"n": CANARY_NAME}
        ).first()
    return None if row is None else str(row[0])


def key(settings: Settings, engine: Engine | None) -> Check:
    """The key loads, and opens the canary the database was sealed with (bot/keys.check_key)."""
    canary = _canary(engine)
    embedded = settings.var_dir / KEY_FILE
    if settings.is_sqlite and not settings.encryption_key.get_secret_value().strip():
        if not embedded.exists():
            if canary is not None:
                return Check(
                    "key",
                    False,
                    f"the key file {embedded} is missing and the database was sealed with a key; "
                    "restore the key file from your backup (a new key cannot read the data)",
                )
            return Check("key", True, f"none yet; the first `dsr serve` makes {embedded}")
    try:
        sealer = load_sealer(settings)
    except EncryptionKeyError as exc:
        return Check("key", False, str(exc))
    if canary is None:
        return Check("key", True, "loads; nothing sealed in the database yet")
    try:
        opened = sealer.open(canary.encode("ascii")) == CANARY
    except SealingError:
        opened = False
    if not opened:
        return Check(
            "key",
            False,
            "the key cannot read this database (it was written with another key); set the "
            "original DSR_ENCRYPTION_KEY, or list it after the new one to rotate",
        )
    return Check("key", True, "opens the database's key check")


def _canary(engine: Engine | None) -> str | None:
    if engine is None:
        return None
    try:
        return stored_canary(engine)
    except SQLAlchemyError:
        return None  # no tables yet: the database check says what to do


def inventory(settings: Settings) -> Check:
    path = settings.inventory_file
    if not path.exists():
        return Check("inventory", True, f"none at {path} (optional: no tasks per system)")
    try:
        found = load_inventory(path)
    except InventoryError as exc:
        return Check("inventory", False, f"{exc}; fix the file and run `dsr inventory check`")
    return Check("inventory", True, f"{path}: {len(found.system)} system(s)")


def disk(settings: Settings, *, min_free: int = MIN_FREE_BYTES) -> Check:
    where = settings.var_dir if settings.var_dir.exists() else Path.cwd()
    free = shutil.disk_usage(where).free
    if free < min_free:
        return Check(
            "disk",
            False,
            f"only {free // (1 << 20)} MiB free under {where}; free space there (at least "
            f"{min_free // (1 << 20)} MiB): mail is refused with 451 when the disk is full",
        )
    return Check("disk", True, f"{free // (1 << 20)} MiB free under {where}")


def file_modes(settings: Settings) -> Check:
    """The var dir is for this user only (0700), the key and database files 0600."""
    var_dir = settings.var_dir
    if not var_dir.exists():
        return Check("files", True, f"{var_dir} does not exist yet")
    wrong = []
    mode = var_dir.stat().st_mode & 0o777
    if mode & 0o077:
        wrong.append(f"chmod 700 {var_dir} (mode {mode:04o})")
    database = sqlite_path(settings)
    private = [var_dir / KEY_FILE, var_dir / AUDIT_KEY_FILE]
    if database is not None:
        private += [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in private:
        if path.exists() and path.stat().st_mode & 0o077:
            wrong.append(f"chmod 600 {path} (mode {path.stat().st_mode & 0o777:04o})")
    if wrong:
        return Check("files", False, "others can read private files: " + "; ".join(wrong))
    return Check("files", True, f"{var_dir} and the key and database files are private")
