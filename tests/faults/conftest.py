"""Fixtures for the fault tests: logging restored after a test reconfigures it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from handlers.logsetup import QUIET


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`configure_logging` replaces the root handlers; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in QUIET}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)
