"""`dsr serve`: run the assistant."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from bot.desk import Desk
from bot.intake import warm_up
from handlers.cli.common import settings
from handlers.runtime import build_desk, configure_logging, single_instance, utcnow
from handlers.service import install_signal_handlers, run_plan
from handlers.wiring import plan_for
from storage.outbox import release_claims

logger = logging.getLogger("dsr.serve")


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve", help="run everything that is configured / de assistent starten"
    )
    parser.set_defaults(func=run)


def run(_args: argparse.Namespace) -> int:
    config = settings()
    configure_logging(config)
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


def _serve(desk: Desk) -> int:
    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run_plan(plan_for(desk), stop)

    asyncio.run(main())
    return 0
