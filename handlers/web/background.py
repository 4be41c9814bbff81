"""Work done after the answer has gone out (the status page's code mail: the answer must not
take longer when a reference exists). The tasks are kept, so that none is lost to the garbage
collector, and awaited when the web front stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

logger = logging.getLogger("dsr.web")
TASKS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("background_tasks")


def setup(app: web.Application) -> None:
    app[TASKS] = set()
    app.on_cleanup.append(_finish)


def later(request: web.Request, work: Callable[..., Any], /, **kwargs: Any) -> None:
    """Run `work(**kwargs)` in a worker thread once this handler has returned."""

    async def run() -> None:
        await asyncio.sleep(0)  # let the answer be written first
        try:
            await asyncio.to_thread(work, **kwargs)
        except Exception:
            logger.exception("web: work after the answer failed")

    tasks = request.app[TASKS]
    task = asyncio.create_task(run())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _finish(app: web.Application) -> None:
    if app[TASKS]:
        await asyncio.gather(*app[TASKS], return_exceptions=True)
