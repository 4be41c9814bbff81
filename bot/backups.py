"""Backups: a consistent copy of the embedded database with a manifest that names the keys it
needs by fingerprint (SHA-256 of the key, never the key), and the restore that puts one back
into an empty place and proves it: the key opens it and the audit chain is whole.

The keys are not in a backup: a backup that holds its own key protects nothing. Keep them
apart (a password manager, a safe), as docs/health.md says.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.keys import (
    AUDIT_HEAD_FILE,
    AUDIT_KEY_FILE,
    KEY_FILE,
    check_key,
    load_audit_chain,
    load_sealer,
)
from bot.settings import Settings
from storage.audit import ChainHead, chain_head, record_head, verify_chain
from storage.backup import copy_sqlite, file_sha256
from storage.engine import make_engine, reading
from storage.migrate import current_revision

MANIFEST = "manifest.json"
DATABASE = "dsr.db"
FORMAT = 1
# What may already be in the var dir a backup is restored into: the keys, put back first.
KEY_FILES = frozenset({KEY_FILE, AUDIT_KEY_FILE})


class BackupError(Exception):
    """The backup or restore cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    backend: str  # sqlite | postgresql
    key_fingerprints: list[str]
    audit_key_fingerprint: str
    database: str | None = None
    database_sha256: str | None = None
    revision: str | None = None
    audit_head: str | None = None
    audit_events: int = 0
    format: int = FORMAT
    notes: list[str] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        path = folder / MANIFEST
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise BackupError(f"{folder} holds no readable {MANIFEST} ({exc})") from None


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.strip().encode()).hexdigest()


def sealing_keys(settings: Settings) -> list[str]:
    """The configured sealing keys, newest first; on the embedded default the key file."""
    keys = [k.strip() for k in settings.encryption_key.get_secret_value().split(",") if k.strip()]
    path = settings.var_dir / KEY_FILE
    if not keys and settings.is_sqlite and path.exists():
        keys = [path.read_text(encoding="ascii").strip()]
    return keys


def audit_key(settings: Settings) -> str:
    key = settings.audit_key.get_secret_value().strip()
    path = settings.var_dir / AUDIT_KEY_FILE
    if not key and path.exists():
        key = path.read_text(encoding="ascii").strip()
    return key


def database_path(settings: Settings) -> Path:
    return Path(make_url(settings.database_url).database or DATABASE)


def take_backup(settings: Settings, output: Path, *, now: datetime) -> Manifest:
    """SQLite: copy the database into `output` (new or empty) with its manifest. PostgreSQL:
    the manifest only (the database is pg_dump's job); the key is checked either way."""
    keys = sealing_keys(settings)
    if not keys:
        raise BackupError("no encryption key is configured or kept in the var dir; nothing to do")
    _check_key(settings)
    _empty_folder(output)
    base = Manifest(
        created_at=now.isoformat(),
        backend="sqlite" if settings.is_sqlite else "postgresql",
        key_fingerprints=[fingerprint(k) for k in keys],
        audit_key_fingerprint=fingerprint(audit_key(settings)),
    )
    if not settings.is_sqlite:
        manifest = replace(
            base, notes=["back up the database itself with pg_dump (see docs/health.md)"]
        )
        manifest.write(output)
        return manifest
    target = output / DATABASE
    copy_sqlite(database_path(settings), target)
    revision, head, events = _inspect_copy(settings, target)
    manifest = replace(
        base,
        database=DATABASE,
        database_sha256=file_sha256(target),
        revision=revision,
        audit_head=head.line() if head else None,
        audit_events=events,
    )
    manifest.write(output)
    return manifest


def _check_key(settings: Settings) -> None:
    """The key opens what the database holds (bot/keys.check_key)."""
    sealer = load_sealer(settings)
    engine = make_engine(settings.database_url, sealer=sealer, pool_size=1)
    try:
        check_key(engine, sealer)
    except SQLAlchemyError as exc:
        raise BackupError(
            f"the database cannot be read ({type(exc).__name__}); run `dsr doctor`"
        ) from None
    finally:
        engine.dispose()


def _inspect_copy(settings: Settings, copy: Path) -> tuple[str | None, ChainHead | None, int]:
    """The copy's migration, audit chain head and number of events, read from the copy."""
    engine = make_engine(f"sqlite:///{copy}", audit=load_audit_chain(settings), pool_size=1)
    try:
        with reading(engine) as session:
            head = chain_head(session=session)
            count, broken = verify_chain(session=session)
        if broken is not None:
            raise BackupError(
                f"the audit trail in the copy is broken at event {broken.event_id} "
                f"({broken.problem}); run `dsr audit verify` on the live database"
            )
        return current_revision(engine), head, count
    finally:
        engine.dispose()


def _empty_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty; give a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)


@dataclass(frozen=True)
class Restored:
    database: Path
    audit_events: int
    audit_head: str | None


def restore_backup(settings: Settings, source: Path) -> Restored:
    manifest = Manifest.read(source)
    if manifest.backend != "sqlite" or not settings.is_sqlite:
        raise BackupError(
            "this restores the embedded SQLite database; for PostgreSQL restore the pg_dump "
            "with pg_restore and run `dsr doctor`"
        )
    _match_keys(settings, manifest)
    copy = source / (manifest.database or DATABASE)
    if not copy.exists() or file_sha256(copy) != manifest.database_sha256:
        raise BackupError(f"{copy} is missing or differs from the manifest; use another backup")
    target = database_path(settings)
    _empty_target(settings, target)
    copy_sqlite(copy, target)
    head = ChainHead.parse(manifest.audit_head) if manifest.audit_head else None
    if head is not None:
        record_head(settings.var_dir / AUDIT_HEAD_FILE, head)
    sealer = load_sealer(settings)
    engine = make_engine(settings.database_url, sealer=sealer, audit=load_audit_chain(settings))
    try:
        check_key(engine, sealer)
        with reading(engine) as session:
            count, broken = verify_chain(session=session, head=head)
    finally:
        engine.dispose()
    if broken is not None:
        raise BackupError(
            f"restored, but the audit trail is broken at event {broken.event_id} "
            f"({broken.problem}); keep this copy for inspection and try an older backup"
        )
    return Restored(database=target, audit_events=count, audit_head=manifest.audit_head)


def _match_keys(settings: Settings, manifest: Manifest) -> None:
    configured = {fingerprint(k) for k in sealing_keys(settings)}
    missing = [f[:12] for f in manifest.key_fingerprints if f not in configured]
    if missing:
        raise BackupError(
            f"the configured key is not the one this backup was written with (missing key "
            f"fingerprint {', '.join(missing)}); set DSR_ENCRYPTION_KEY or put the key file "
            f"{settings.var_dir / KEY_FILE} back first"
        )
    if fingerprint(audit_key(settings)) != manifest.audit_key_fingerprint:
        raise BackupError(
            "the audit chain key differs from the backup's; set DSR_AUDIT_KEY or put the "
            f"key file {settings.var_dir / AUDIT_KEY_FILE} back first"
        )


def _empty_target(settings: Settings, database: Path) -> None:
    taken = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
    if settings.var_dir.exists():
        taken += [p for p in settings.var_dir.iterdir() if p.name not in KEY_FILES]
    if taken:
        names = ", ".join(str(p) for p in sorted(set(taken))[:3])
        raise BackupError(
            f"the target is not empty ({names}); restore into an empty var dir and database "
            "path (only the key files may be there)"
        )
    settings.var_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
