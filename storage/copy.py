"""Copy every table from one database to another (SQLite to PostgreSQL, say), as stored.

Sealed columns are read and written as their stored tokens, never opened: the target needs
the same DSR_ENCRYPTION_KEY. Tables go in foreign-key order inside one target transaction;
PostgreSQL's id sequences are moved past the copied ids afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables in SQLModel.metadata)
from storage.types import SEALED_TYPES

BATCH_ROWS = 1000


class TargetNotEmpty(Exception):
    """The target already holds rows; copying into it would mix two installations."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    mismatched: dict[str, tuple[int, int]] = field(default_factory=dict)  # source, target


def raw_tables() -> list[Table]:
    """The tables in foreign-key order, with sealed columns typed as what they store."""
    metadata = MetaData()
    tables = []
    for table in SQLModel.metadata.sorted_tables:
        raw = table.to_metadata(metadata)
        for column in raw.columns:
            if isinstance(column.type, SEALED_TYPES):
                column.type = column.type.impl_instance
        tables.append(raw)
    return tables


def count_rows(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def non_empty_tables(engine: Engine) -> list[str]:
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return [t.name for t in raw_tables() if t.name in present and count_rows(connection, t)]


def copy_tables(source: Engine, target: Engine) -> CopyReport:
    """Copy every row; refuses a target that holds any. Both must be at the same migration."""
    if busy := non_empty_tables(target):
        raise TargetNotEmpty(", ".join(busy))
    report = CopyReport()
    with source.connect() as reader, target.begin() as writer:
        for table in raw_tables():
            report.rows[table.name] = sum(_copy(reader, writer, table))
            if writer.dialect.name == "postgresql":
                _move_sequences(writer, table)
    with source.connect() as reader, target.connect() as writer:
        for table in raw_tables():
            counts = count_rows(reader, table), count_rows(writer, table)
            if counts[0] != counts[1]:
                report.mismatched[table.name] = counts
    return report


def _copy(reader: Connection, writer: Connection, table: Table) -> Iterator[int]:
    order = list(table.primary_key.columns)
    result = reader.execution_options(stream_results=True).execute(select(table).order_by(*order))
    for batch in result.mappings().partitions(BATCH_ROWS):
        writer.execute(table.insert(), [dict(row) for row in batch])
        yield len(batch)


def _move_sequences(writer: Connection, table: Table) -> None:
    """Set each id sequence to the highest copied id, so the next insert does not collide."""
    for column in table.primary_key.columns:
        sequence = writer.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        ).scalar()
        top = writer.execute(select(func.max(column))).scalar() if sequence else None
        if top is not None:
            writer.execute(
                text("SELECT setval(:sequence, :top)"), {"sequence": sequence, "top": top}
            )
