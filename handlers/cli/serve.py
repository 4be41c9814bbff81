"""`dsr serve`: run the assistant."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.desk import Desk
from bot.intake import warm_up
from bot.inventory import InventoryError
from bot.inventory_source import inventory_source
from handlers.cli.common import settings
from handlers.runtime import (
    StartupError,
    build_desk,
    configure_logging,
    single_instance,
    utcnow,
)
from handlers.service import install_signal_handlers, run_plan
from handlers.wiring import plan_for
from storage.outbox import release_claims

# A part stopped on its own (sysexits' EX_SOFTWARE): a supervisor should start the desk again.
EX_PART_FAILED = 70

logger = logging.getLogger("dsr.serve")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve", help="run everything that is configured / de assistent starten"
    )
    parser.set_defaults(func=run)


def run(_args: argparse.Namespace) -> int:
    config = settings()
    configure_logging(config)
    try:
        inventory_source(config.inventory_file).reload()
    except InventoryError as exc:
        raise StartupError(f"inventory: {exc}") from None
    with single_instance(config):
        desk = build_desk(config)
        warm_up(desk, now=utcnow())
        if config.is_sqlite:
            # We hold the only-instance lock: claims left by a killed run are nobody's now.
            with desk.transaction() as session:
                released = release_claims(session=session)
            if released:
                logger.info("outbox: %d claim(s) of a previous run released", released)
        return _serve(desk)


def _reload_inventory(path: Path) -> None:
    """SIGHUP: read the inventory again; a broken file is logged and the last good one stays."""
    try:
        inventory_source(path).reload()
    except InventoryError as exc:
        logger.error("inventory: %s; the previous inventory stays in use", exc)


class _Workers(ThreadPoolExecutor):
    """The loop's worker threads (`asyncio.to_thread`), counting the work still running."""

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="dsr-work")
        self.running: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        self.running.add(future)
        future.add_done_callback(self.running.discard)
        return future


def _serve(desk: Desk) -> int:
    async def main() -> bool:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, _reload_inventory, desk.settings.inventory_file
        )
        return await run_plan(plan_for(desk), stop, monitor=desk.monitor)

    workers = _Workers()
    loop = asyncio.new_event_loop()
    loop.set_default_executor(workers)
    try:
        failed = loop.run_until_complete(main())
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    if workers.running:
        # Work still running after the grace time is a mail not yet answered with 250 (the
        # sender keeps it and retries) or a read; waiting for it would let one slow mail hold
        # the service past its stop. Exit now, logs flushed.
        logger.warning("stopped with %d unfinished task(s) abandoned", len(workers.running))
        logging.shutdown()
        os._exit(EX_PART_FAILED if failed else 0)
    return EX_PART_FAILED if failed else 0
