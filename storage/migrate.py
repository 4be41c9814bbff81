"""Alembic, driven from code: `dsr db upgrade` and the embedded default's self-upgrade.

Alembic is imported only when it has work to do: a process that finds the database at the
newest revision (`dsr ingest`, one process per mail) reads one row instead of importing
Alembic and parsing every migration script (about 0.2 s of its start).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, SAWarning

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with warnings.catch_warnings():
        # Alembic's batch mode (the SQLite table copy of some migrations) reflects dsr_case,
        # whose expression index SQLAlchemy cannot reflect and says so on stderr; the index is
        # made again by a later migration (0012), so the warning would only alarm an operator.
        warnings.filterwarnings(
            "ignore", "Skipped unsupported reflection of expression-based index", SAWarning
        )
        command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def newest_numbered_revision() -> str:
    """The highest revision of the numbered scripts (`0007_tasks.py` is revision "0007"):
    the head of our linear history."""
    numbers = (p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    return max(numbers, default="")


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database is at the head revision; a database at the newest numbered
    revision is answered from its version row alone, anything else by Alembic."""
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        stored = []
    if len(stored) == 1 and stored[0][0] == newest_numbered_revision():
        return True
    return current_revision(engine) == head_revision()
