"""The SQL a piece of work sends, without its values: two paths that must not be told apart
from outside (a reference that exists and one that does not) must send the same statements.
This is the deterministic form of "they take as long"; the times themselves are figures in
benchmarks/web_oracle.py, not assertions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

_SPACE = re.compile(r"\s+")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Collect each statement's text (whitespace folded) sent on `engine` inside the block."""
    seen: list[str] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        seen.append(_SPACE.sub(" ", statement).strip())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
