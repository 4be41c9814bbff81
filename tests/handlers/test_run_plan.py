"""The service's exit status: a part that stops on its own makes `dsr serve` exit non-zero,
so a supervisor (systemd's Restart=on-failure) starts it again; a requested stop is clean."""

from __future__ import annotations

import asyncio
import logging

import pytest

from handlers.service import Subsystem, run_plan


async def _steady(stop: asyncio.Event) -> None:
    await stop.wait()


async def _broken(stop: asyncio.Event) -> None:
    raise ConnectionError("listener lost its socket")


async def _returns(stop: asyncio.Event) -> None:
    return None


async def test_a_part_that_fails_makes_the_plan_report_failure() -> None:
    stop = asyncio.Event()
    failed = await run_plan([Subsystem("smtp", _steady), Subsystem("imap", _broken)], stop)
    assert failed and stop.is_set()


async def test_a_part_that_returns_unasked_is_a_failure_too() -> None:
    stop = asyncio.Event()
    assert await run_plan([Subsystem("smtp", _steady), Subsystem("outbox", _returns)], stop)


async def test_a_requested_stop_is_not_a_failure() -> None:
    stop = asyncio.Event()
    stop.set()
    assert not await run_plan([Subsystem("smtp", _steady)], stop)


async def test_a_requested_stop_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    stop.set()
    with caplog.at_level(logging.INFO, logger="dsr.serve"):
        await run_plan([Subsystem("smtp", _steady), Subsystem("health", _steady)], stop)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "stopped" in caplog.messages


async def test_a_part_that_returns_unasked_is_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO, logger="dsr.serve"):
        await run_plan([Subsystem("smtp", _steady), Subsystem("outbox", _returns)], stop)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["outbox: stopped on its own; shutting down"]
