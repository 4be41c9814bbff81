"""`dsr serve`: run the assistant."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.desk import Desk
from handlers.cli.common import settings
from handlers.runtime import build_desk, configure_logging, single_instance
from handlers.service import install_signal_handlers, run_plan
from handlers.wiring import plan_for


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "serve", help="run everything that is configured / de assistent starten"
    )
    parser.set_defaults(func=run)


def run(_args: argparse.Namespace) -> int:
    config = settings()
    configure_logging(config)
    with single_instance(config):
        return _serve(build_desk(config))


def _serve(desk: Desk) -> int:
    async def main() -> None:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        await run_plan(plan_for(desk), stop)

    asyncio.run(main())
    return 0
