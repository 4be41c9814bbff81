import importlib.util
import warnings

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from storage.engine import make_engine
from storage.migrate import (
    MIGRATIONS,
    current_revision,
    head_revision,
    is_up_to_date,
    upgrade,
)


def test_upgrade_reaches_head_and_creates_every_table(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"dsr_case", "message", "audit_event", "outbox", "reference_counter"} <= tables


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    assert is_up_to_date(engine)


def test_a_fresh_upgrade_says_nothing_on_stderr(sqlite_url: str) -> None:
    """The SQLite table copy of batch migrations cannot reflect dsr_case's expression index
    (a later migration makes it again); an operator's first `dsr ingest` must not print
    SQLAlchemy's warning about it."""
    fresh = make_engine(sqlite_url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        upgrade(fresh)
    fresh.dispose()
    assert [str(w.message) for w in caught] == []


def test_fresh_database_is_not_up_to_date(db_url: str) -> None:
    fresh = make_engine(db_url)
    assert not is_up_to_date(fresh)
    fresh.dispose()


def test_the_newest_numbered_script_is_alembics_head() -> None:
    """`is_up_to_date` answers from the version row when it names the newest numbered script;
    that is only right while the history is one numbered line."""
    from storage.migrate import head_revision, newest_numbered_revision

    assert newest_numbered_revision() == head_revision()


def test_the_active_case_index_knows_every_closed_state() -> None:
    from bot.states import CLOSED
    from storage.models import ACTIVE_CASE_SQL, CLOSED_STATES

    assert set(CLOSED_STATES) == {state.value for state in CLOSED}
    assert all(f"'{state}'" in ACTIVE_CASE_SQL for state in CLOSED_STATES)
    for number in ("0004", "0012"):
        _assert_same_active_sql(number, ACTIVE_CASE_SQL)


def _assert_same_active_sql(number: str, expected: str) -> None:
    script = next(MIGRATIONS.glob(f"versions/{number}_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0004", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ACTIVE == expected


def test_the_active_case_index_exists_after_upgrade(engine: Engine) -> None:
    """SQLite's batch copy of dsr_case (0005) once dropped the sweep's index silently;
    alembic cannot compare expression indexes on SQLite, so ask the database itself."""
    names = {index["name"] for index in inspect(engine).get_indexes("dsr_case")}
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            names |= set(
                connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'index'")
                ).scalars()
            )
    assert "ix_dsr_case_active_effective_due" in names
