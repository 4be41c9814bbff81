"""`dsr db upgrade`: apply the migrations."""

from __future__ import annotations

import argparse
from typing import Any

from bot.keys import load_sealer
from handlers.cli.common import fail, settings
from storage.engine import make_engine
from storage.migrate import current_revision, upgrade


def register(commands: Any) -> None:
    parser = commands.add_parser("db", help="database maintenance / databasebeheer")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = sub.add_parser("upgrade", help="apply migrations / migraties toepassen")
    up.set_defaults(func=run_upgrade)
    copy = sub.add_parser(
        "copy",
        help="copy every table into an empty database (SQLite to PostgreSQL) / "
        "alle tabellen naar een lege database kopiëren",
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="target, e.g. postgresql+psycopg://dsr@db/dsr / doel-database",
    )
    copy.set_defaults(func=run_copy)


def run_upgrade(_args: argparse.Namespace) -> int:
    # The sealing key too: a migration that seals existing values (0005) seals with it.
    config = settings()
    engine = make_engine(config.database_url, sealer=load_sealer(config))
    upgrade(engine)
    print(f"database at revision {current_revision(engine)}")
    return 0


def run_copy(args: argparse.Namespace) -> int:
    """Copy into an empty database under the same key, then check row counts and the audit
    chain there. Stop `dsr serve` first: what arrives during the copy is not copied."""
    from sqlalchemy.engine import make_url

    from bot.keys import load_audit_chain
    from bot.settings import SettingsError, load_settings
    from storage.audit import chain_head, verify_chain
    from storage.copy import TargetNotEmpty, copy_tables, non_empty_tables
    from storage.engine import DeskSession
    from storage.migrate import is_up_to_date

    config = settings()
    try:
        to_url = load_settings(database_url=args.to).database_url
    except SettingsError as exc:
        return fail(str(exc), 2)
    shown = make_url(to_url).render_as_string(hide_password=True)
    if to_url == config.database_url:
        return fail("the target is the configured database; give another URL with --to", 2)
    sealer, chain = load_sealer(config), load_audit_chain(config)
    source = make_engine(config.database_url, sealer=sealer, audit=chain)
    target = make_engine(to_url, sealer=sealer, audit=chain)
    if not is_up_to_date(source):
        return fail("the source database is not at the latest migration; run `dsr db upgrade`")
    if busy := non_empty_tables(target):
        return fail(f"{shown} is not empty ({', '.join(busy)}); copy only into an empty database")
    upgrade(target)
    try:
        report = copy_tables(source, target)
    except TargetNotEmpty as exc:
        return fail(f"{shown} is not empty ({exc}); copy only into an empty database")
    for table, rows in report.rows.items():
        print(f"{table}: {rows} row(s)")
    if report.mismatched:
        return fail(f"row counts differ after the copy (source, target): {report.mismatched}")
    with DeskSession(source) as session:
        head = chain_head(session=session)
    with DeskSession(target) as session:
        count, broken = verify_chain(session=session, head=head)
    if broken is not None:
        return fail(f"audit trail in the copy broken at event {broken.event_id}: {broken.problem}")
    print(f"copied to {shown}: {sum(report.rows.values())} row(s); audit trail intact: {count}")
    print("next: set DSR_DATABASE_URL to the target and DSR_ENCRYPTION_KEY to the same key")
    return 0
