from sqlalchemy import text

from storage.engine import make_engine


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        # FULL (2): a commit is durable before the mail is acknowledged to the sender.
        assert connection.execute(text("PRAGMA synchronous")).scalar_one() == 2
    engine.dispose()
