"""`dsr serve`: every configured subsystem in one event loop until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bot.desk import Desk
from bot.monitor import Monitor

logger = logging.getLogger("dsr.serve")
SHUTDOWN_SECONDS = 4.0

Runner = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Subsystem:
    """A long-running part; `run(stop)` returns soon after `stop` is set."""

    name: str
    run: Runner


@dataclass(frozen=True)
class Skipped:
    name: str
    why: str


@dataclass(frozen=True)
class Note:
    """A part with nothing to run, only something to say at start-up."""

    name: str
    text: str


Plan = list[Subsystem | Skipped | Note]


def scheduler(desk: Desk, sweeps: list[Callable[[], Awaitable[None]]]) -> Subsystem:
    """Runs the periodic sweeps every DSR_SCHEDULER_INTERVAL_SECONDS."""
    interval = desk.settings.scheduler_interval_seconds

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            for sweep in sweeps:
                await _timed(desk.monitor, sweep)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    return Subsystem("scheduler", run)


async def _timed(monitor: Monitor, sweep: Callable[[], Awaitable[None]]) -> None:
    """One sweep, counted and timed under its function's name (`reminders`)."""
    name, started = getattr(sweep, "__name__", "sweep"), time.monotonic()
    try:
        await sweep()
    except Exception:
        logger.exception("scheduler: a sweep failed; it runs again next interval")
        monitor.count("dsr_sweeps", sweep=name, outcome="failed")
        monitor.trouble("scheduler", f"the {name} sweep failed; see the log")
    else:
        monitor.count("dsr_sweeps", sweep=name, outcome="ok")
        monitor.recovered("scheduler")
    monitor.observe("dsr_sweep_duration_seconds", time.monotonic() - started, sweep=name)


def _stopped(parts: Monitor, name: str, _task: asyncio.Task[Any]) -> None:
    parts.stopped(name)


async def run_plan(plan: Plan, stop: asyncio.Event, *, monitor: Monitor | None = None) -> bool:
    """Start what runs, say what is skipped, and shut everything down within the grace time;
    `monitor` is told which parts run (for `/readyz`). Returns whether a part stopped on its
    own before a stop was asked for, so that the service exits non-zero and a supervisor
    (systemd's Restart=on-failure) starts it again."""
    parts = monitor or Monitor()
    tasks: dict[asyncio.Task[Any], str] = {}
    for part in plan:
        if isinstance(part, Skipped):
            logger.info("%s: off (%s)", part.name, part.why)
            continue
        if isinstance(part, Note):
            logger.info("%s: %s", part.name, part.text)
            continue
        logger.info("%s: on", part.name)
        task = asyncio.create_task(part.run(stop), name=part.name)
        tasks[task] = part.name
        parts.started(part.name)
        task.add_done_callback(functools.partial(_stopped, parts, part.name))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({*tasks, stopper}, return_when=asyncio.FIRST_COMPLETED)
    # A part that returns after a stop was asked for does what it should: only one that ends
    # before it, or with an exception, is an error.
    asked = stop.is_set()
    failed = bool(done - {stopper}) and not asked
    for task in done - {stopper}:
        if task.exception() is not None:
            logger.error(
                "%s: stopped with an error; shutting down", tasks[task], exc_info=task.exception()
            )
        elif not asked:
            logger.error("%s: stopped on its own; shutting down", tasks[task])
    stop.set()
    _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS)
    for task in pending:
        logger.warning("%s: did not stop in time; cancelled", tasks[task])
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    stopper.cancel()
    logger.info("stopped")
    return failed


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
