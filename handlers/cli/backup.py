"""`dsr backup --output DIR` and `dsr restore DIR`: a consistent copy while the service runs,
and putting one back into an empty var dir (docs/health.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.backups import BackupError, restore_backup, take_backup
from handlers.cli.common import fail, settings
from handlers.runtime import utcnow

BACKUP_HELP = "consistent copy while running / reservekopie maken"
RESTORE_HELP = "put a backup back into an empty var dir / reservekopie terugzetten"


def register(commands: Any) -> None:
    backup = commands.add_parser("backup", help=BACKUP_HELP)
    backup.add_argument("--output", type=Path, required=True, help="a new or empty folder")
    backup.set_defaults(func=run_backup)
    restore = commands.add_parser("restore", help=RESTORE_HELP)
    restore.add_argument("source", type=Path, help="the folder `dsr backup` wrote")
    restore.set_defaults(func=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    config = settings()
    try:
        manifest = take_backup(config, args.output, now=utcnow())
    except BackupError as exc:
        return fail(str(exc))
    keys = ", ".join(f[:12] for f in manifest.key_fingerprints)
    if manifest.backend == "postgresql":
        print(
            "PostgreSQL: this command checked the key and wrote its fingerprint only; back up "
            "the database with pg_dump, e.g. `pg_dump --format=custom --file=dsr.dump DBNAME`, "
            f"and keep it with {args.output / 'manifest.json'}"
        )
    else:
        print(
            f"backup in {args.output}: database at migration {manifest.revision}, "
            f"{manifest.audit_events} audit event(s)"
        )
    print(f"key fingerprint(s) {keys}: keep the key itself apart from the backup")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    config = settings()
    try:
        restored = restore_backup(config, args.source)
    except BackupError as exc:
        return fail(str(exc))
    print(
        f"restored into {restored.database}: the key opens it and the audit trail is intact "
        f"({restored.audit_events} event(s))"
    )
    return 0
