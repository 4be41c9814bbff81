"""Statements of the intake path, compiled once per database and run on the driver's cursor.

SQLAlchemy builds the SQL and converts every value (the sealed columns seal, dates and JSON
are encoded) exactly as for any other statement: this module asks it for the compiled
statement and each bind's type processor once, and then, for each run, converts the values
and hands them to the driver in the session's own transaction. What it leaves out is the
per-run work of a Core execution (cache keys, execution contexts, result objects), several
times the cost of the statement itself on SQLite: intake runs about ten of them per mail.

Driver errors are raised as SQLAlchemy's (IntegrityError for a duplicate key, and so on), so
callers handle them as they handle any other statement's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Session

Processor = Callable[[Any], Any]
Row = tuple[Any, ...]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # bind names in order; None for named parameters
    defaults: dict[str, Any]  # binds whose value the statement itself holds
    generated: tuple[tuple[str, Column[Any]], ...]  # columns whose Python default applies
    processors: dict[str, Processor]
    results: tuple[Processor | None, ...]


class Prepared:
    """One statement, built once at import; compiled for each engine (and, for an INSERT, each
    set of columns given) on first use."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        # Per dialect object, not per database kind: the type processors are bound to it, and
        # each engine's dialect carries that engine's sealer (key rotation opens two at once).
        self._compiled: WeakKeyDictionary[Dialect, dict[frozenset[str], _Compiled]] = (
            WeakKeyDictionary()
        )

    def rows(self, session: Session, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run it and return every row, each value converted as its column's type says."""
        cursor, compiled = self._run(session, params or {})
        fetched = cursor.fetchall() if cursor.description else []
        if not any(compiled.results):
            return [tuple(row) for row in fetched]
        return [
            tuple(p(v) if p else v for p, v in zip(compiled.results, row, strict=False))
            for row in fetched
        ]

    def scalar(self, session: Session, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self.rows(session, params)
        return found[0][0] if found else None

    def run(self, session: Session, params: Mapping[str, Any]) -> int:
        """Run it for its effect; returns the driver's count of rows changed."""
        cursor, _ = self._run(session, params)
        count: int = cursor.rowcount
        return count

    def run_many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run it once per row (all rows with the same keys), in one driver call."""
        if not rows:
            return
        driver = _driver(session)
        compiled = self._for(driver.dialect, rows[0])
        values = [_values(compiled, row) for row in rows]
        driver.call("executemany", compiled.sql, values)

    def _run(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, _Compiled]:
        driver = _driver(session)
        compiled = self._for(driver.dialect, params)
        return driver.call("execute", compiled.sql, _values(compiled, params)), compiled

    def _for(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        by_keys = self._compiled.get(dialect)
        if by_keys is None:
            by_keys = self._compiled[dialect] = {}
        keys = frozenset(params)
        compiled = by_keys.get(keys)
        if compiled is None:
            compiled = by_keys[keys] = _compile(self.statement, dialect, list(params))
        return compiled


def _compile(statement: ClauseElement, dialect: Dialect, keys: list[str]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    if not isinstance(compiled, SQLCompiler):
        raise TypeError(f"not a SQL statement: {statement!r}")
    if getattr(compiled, "update_prefetch", None):
        raise ValueError("a prepared statement must not need values computed for an UPDATE")
    generated = tuple((c.key, c) for c in getattr(compiled, "insert_prefetch", ()))
    for _, column in generated:
        if column.default is None or not (column.default.is_scalar or column.default.is_callable):
            raise ValueError(f"column {column.key} has a default that needs the database")
    binds = compiled.binds
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("a prepared statement takes no lists (IN with expanding values)")
    processors: dict[str, Processor] = {}
    for name, bind in binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    defaults = {
        name: bind.effective_value
        for name, bind in binds.items()
        if name not in keys and (bind.value is not None or bind.callable is not None)
    }
    results: list[Processor | None] = []
    for column in getattr(statement, "selected_columns", ()):
        results.append(column.type.dialect_impl(dialect).result_processor(dialect, None))
    positional = tuple(compiled.positiontup or ()) if compiled.positional else None
    return _Compiled(compiled.string, positional, defaults, generated, processors, tuple(results))


def _values(compiled: _Compiled, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
    merged = {**compiled.defaults, **params} if compiled.defaults else dict(params)
    for name, column in compiled.generated:
        default = column.default
        merged[name] = default.arg(None) if default.is_callable else default.arg  # type: ignore[union-attr]
    for name, processor in compiled.processors.items():
        if name in merged:
            merged[name] = processor(merged[name])
    if compiled.positional is None:
        return merged
    return [merged[name] for name in compiled.positional]


@dataclass(frozen=True)
class _Driver:
    """The driver's connection of one transaction of a session."""

    transaction: object
    dialect: Dialect
    connection: Any

    def call(self, method: str, sql: str, values: Any) -> Any:
        """The driver's cursor, after running `sql` in the open transaction."""
        cursor = self.connection.cursor()
        driver_error = self.dialect.loaded_dbapi.Error
        try:
            getattr(cursor, method)(sql, values)
        except driver_error as exc:
            raise DBAPIError.instance(sql, values, exc, driver_error) from exc
        return cursor


_DRIVER = "dsr_prepared_driver"


def _driver(session: Session) -> _Driver:
    """Looked up once per transaction (the session begins it on the first statement)."""
    held: _Driver | None = session.info.get(_DRIVER)
    transaction = session.get_transaction()
    if held is None or transaction is None or held.transaction is not transaction:
        connection = session.connection()
        driver_connection = connection.connection.driver_connection
        held = _Driver(session.get_transaction(), connection.dialect, driver_connection)
        session.info[_DRIVER] = held
    return held
