"""Which keys seal the data and key the audit chain, kept in private files or settings, and
making sure the sealing key is the one the database was written with."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from bot.settings import Settings
from storage.audit import chain_head, key_legacy_chain, read_head, record_head
from storage.engine import AuditChain, engine_audit, transaction
from storage.sealing import FernetSealer, SealingError, generate_key

logger = logging.getLogger("dsr.keys")
KEY_FILE = "encryption.key"
AUDIT_KEY_FILE = "audit.key"
AUDIT_HEAD_FILE = "audit.head"
CANARY_NAME = "key_check"
CANARY = b"dsr-key-check-v1"


class EncryptionKeyError(Exception):
    """The key setting cannot be used; the message says what to do."""


def load_sealer(settings: Settings) -> FernetSealer:
    """DSR_ENCRYPTION_KEY (newest first), or on the embedded default a key kept in ./var."""
    keys = [k.strip() for k in settings.encryption_key.get_secret_value().split(",") if k.strip()]
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
    private_var_dir(var_dir)
    path = var_dir / KEY_FILE
    key = _read_or_create(path, generate_key)
    if key is None:
        logger.warning(
            "encryption: generated a new key at %s (mode 0600); back it up: without it the "
            "stored mail cannot be read",
            path,
        )
        return _read_key(path)
    return key


def load_audit_chain(settings: Settings) -> AuditChain:
    """The audit chain's HMAC key (DSR_AUDIT_KEY, else a key kept in ./var, made on first run)
    and the head file beside it. Instances sharing a PostgreSQL database share DSR_AUDIT_KEY."""
    private_var_dir(settings.var_dir)
    key = settings.audit_key.get_secret_value().strip()
    if not key:
        path = settings.var_dir / AUDIT_KEY_FILE
        found = _read_or_create(path, lambda: secrets.token_hex(32))
        if found is None:
            logger.warning(
                "audit: generated a new audit chain key at %s (mode 0600); back it up with "
                "the database: without it the audit trail cannot be verified",
                path,
            )
        key = found or _read_key(path)
    return AuditChain(key=key.encode(), head_file=settings.var_dir / AUDIT_HEAD_FILE)


def private_var_dir(var_dir: Path) -> None:
    """./var holds the database, keys and outbox: mode 0700, whatever the umask."""
    var_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = var_dir.stat().st_mode & 0o777
    if mode & 0o077:
        var_dir.chmod(mode & 0o700)


def _read_or_create(path: Path, make: Callable[[], str]) -> str | None:
    """The key in `path`; None after creating the file (mode 0600) with a new key."""
    if path.exists():
        return _read_key(path)
    private_var_dir(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _read_key(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(make() + "\n")
    return None


def _read_key(path: Path) -> str:
    """A key file that others can read is refused: the key is what keeps the data private."""
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise EncryptionKeyError(
            f"key file {path} can be read by other users (mode {mode:04o}); "
            f"run `chmod 600 {path}` and start again"
        )
    return path.read_text(encoding="ascii").strip()


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


def key_old_audit_trail(engine: Engine) -> None:
    """Once, on the first start after the upgrade that keyed the audit chain: rewrite the trail
    written before as a keyed chain and record its head. Skipped as soon as a head is
    recorded: from then on an unkeyed trail is not an old one."""
    chain = engine_audit(engine)
    if chain.head_file is None or read_head(chain.head_file) is not None:
        return
    with transaction(engine) as session:
        count = key_legacy_chain(session=session)
        head = chain_head(session=session) if count else None
    if head is not None:
        record_head(chain.head_file, head)
        logger.warning("audit: %d event(s) written before the chain was keyed now keyed", count)
