"""A consistent copy of a SQLite database while other processes write to it, through SQLite's
online backup API (`sqlite3.Connection.backup`): the copy is the database as of one commit."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from storage.engine import SQLITE_BUSY_TIMEOUT_MS

CHUNK = 1 << 20


class CopyError(Exception):
    """The copy could not be made or is not sound; the message says why."""


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy `source` into the new file `target` (mode 0600) in one step of the backup API,
    which reads one snapshot while writers go on (WAL); the copy is checked afterwards."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(descriptor)
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    reader = sqlite3.connect(source, timeout=timeout)
    writer = sqlite3.connect(target, timeout=timeout)
    try:
        reader.backup(writer, pages=-1)
        writer.execute("PRAGMA journal_mode=DELETE")
        result = writer.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as exc:
        raise CopyError(f"copying {source} failed: {exc}") from exc
    finally:
        reader.close()
        writer.close()
    if result is None or result[0] != "ok":
        raise CopyError(f"the copy of {source} fails SQLite's integrity check: {result}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
