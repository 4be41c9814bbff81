"""`dsr db upgrade`: apply the migrations."""

from __future__ import annotations

import argparse
from typing import Any

from bot.keys import load_sealer
from handlers.cli.common import settings
from storage.engine import make_engine
from storage.migrate import current_revision, upgrade


def register(commands: Any) -> None:
    parser = commands.add_parser("db", help="database maintenance / databasebeheer")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = sub.add_parser("upgrade", help="apply migrations / migraties toepassen")
    up.set_defaults(func=run_upgrade)


def run_upgrade(_args: argparse.Namespace) -> int:
    # The sealing key too: a migration that seals existing values (0005) seals with it.
    config = settings()
    engine = make_engine(config.database_url, sealer=load_sealer(config))
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0
