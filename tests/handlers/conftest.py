"""Fixtures for the edge tests: one private Dovecot per session, one fresh account per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tests.dovecot import Dovecot, DovecotServer, running_dovecot

_accounts = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: DovecotServer) -> Dovecot:
    """An account with an empty mailbox, used by this test alone."""
    return dovecot_server.account(f"desk{next(_accounts)}")
