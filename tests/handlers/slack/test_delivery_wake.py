"""The Slack worker posts a case once the commit that queued it is in, not at its next look."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Engine, event

from handlers.slack.delivery import SlackDelivery
from tests.handlers.slack.harness import Harness, open_case_as_intake

NEVER = 3600.0  # the worker's interval: far longer than the test may take
BOUND = 20.0  # upper bound on waiting for what should come at once


class Commits:
    """An event set by every commit on the engine (from any thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_commit(_connection: Any) -> None:
            loop.call_soon_threadsafe(self.seen.set)

        self.on_commit = on_commit
        event.listen(engine, "commit", on_commit)

    def close(self) -> None:
        event.remove(self.engine, "commit", self.on_commit)


async def test_a_queued_post_wakes_the_slack_worker(slack: Harness) -> None:
    commits = Commits(slack.desk.engine)
    stop = asyncio.Event()
    task = asyncio.create_task(SlackDelivery(slack.deps).run(stop, idle_seconds=NEVER))
    try:
        # The worker's first pass ends with a commit; the case is queued after it, so the
        # worker has looked, found nothing, and waits for its next look.
        await asyncio.wait_for(commits.seen.wait(), BOUND)
        reference = await asyncio.to_thread(open_case_as_intake, slack.desk)
        while True:
            commits.seen.clear()
            if slack.stub.ok_calls("chat.postMessage"):
                break
            await asyncio.wait_for(commits.seen.wait(), BOUND)
        [post] = slack.stub.ok_calls("chat.postMessage")
        assert reference in str(post.args)
    finally:
        commits.close()
        stop.set()
        await asyncio.wait_for(task, BOUND)
