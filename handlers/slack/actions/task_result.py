"""A result button in a task owner's direct message: recorded through the same core action
as `dsr tasks done`; the task's owner or one of the secretariat may press it."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import tasks as core
from bot.cases import ActionRefused, UnknownCase
from bot.task_view import task_assignee
from handlers.slack.actions.common import whisper
from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, admit, user_of
from handlers.slack.task_blocks import ACTION_PREFIX, RESULT_WORDS, read_button_value
from handlers.slack.texts import NOT_AUTHORISED, SOMETHING_WENT_WRONG

logger = logging.getLogger("dsr.slack.tasks")
REFUSALS = (core.UnknownTask, UnknownCase, ActionRefused)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(re.compile("^" + re.escape(ACTION_PREFIX)))
    async def task_result(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        found = read_button_value(str((body.get("actions") or [{}])[0].get("value") or ""))
        if found is None:
            return
        task_id, result = found
        owner = await deps.db(task_assignee, deps.desk, task_id=task_id)
        verdict = await admit(deps, body, what=f"task_result {task_id}", owner=owner)
        if verdict is Verdict.REFUSED:
            await whisper(respond, NOT_AUTHORISED)
        if verdict is not Verdict.ACT:
            return
        await whisper(respond, await _record(deps, task_id, result, user_of(body)))


async def _record(deps: SlackDeps, task_id: int, result: str, user: str) -> str:
    try:
        task = await deps.db(
            core.task_done,
            deps.desk,
            task_id=task_id,
            result=result,
            note=None,
            actor=f"slack:{user}",
            now=deps.clock(),
        )
    except REFUSALS as exc:
        return str(exc)
    except Exception:
        logger.exception("slack task_result failed for task %s", task_id)
        return SOMETHING_WENT_WRONG
    deps.poke()
    logger.info("task %s done by slack", task.id)
    return f"Task / Taak #{task.id}: {RESULT_WORDS.get(result, result)}."
