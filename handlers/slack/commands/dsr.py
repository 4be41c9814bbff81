"""`/dsr`: ack at once, then parse, check the user, call the core and answer ephemerally."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from handlers.slack.blocks import Block, build_help
from handlers.slack.breach_blocks import build_breach_modal
from handlers.slack.commands.queries import list_blocks, show_blocks, stats_text
from handlers.slack.deps import SlackDeps
from handlers.slack.guard import Verdict, admit
from handlers.slack.parse import Command, Usage, parse_command
from handlers.slack.reviews import review_list_blocks
from handlers.slack.texts import NOT_AUTHORISED, SOMETHING_WENT_WRONG
from handlers.slack.triage import run_action, unknown_case

logger = logging.getLogger("dsr.slack.commands")
Reply = tuple[str, list[Block] | None]


async def answer(deps: SlackDeps, command: Command, *, user_id: str) -> Reply:
    match command.name:
        case "help":
            return build_help(), None
        case "list":
            return await deps.db(list_blocks, deps, command.value or "open", user_id=user_id)
        case "stats":
            return await deps.db(stats_text, deps), None
        case "review":
            return await deps.db(review_list_blocks, deps)
        case "show":
            reference = command.reference or ""
            shown = await deps.db(show_blocks, deps, reference)
            return shown if shown is not None else (unknown_case(reference), None)
    outcome = await run_action(
        deps,
        command.name,
        reference=command.reference or "",
        user_id=user_id,
        arguments=_arguments(command),
    )
    return outcome.text, None


def _arguments(command: Command) -> dict[str, str]:
    match command.name:
        case "assign":
            return {"assignee": command.value or ""}
        case "kind":
            return {"kind": command.value or ""}
        case "verify":
            return {"note": command.note or ""}
        case "extend":
            return {"reasons": command.note or ""}
        case _:
            return {"outcome": command.value or "", "note": command.note or ""}


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.command("/dsr")
    async def dsr(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        parsed = parse_command(str(body.get("text", "")))
        if isinstance(parsed, Usage):
            await respond(text=parsed.line, response_type="ephemeral")
            return
        what = f"/dsr {parsed.name}" + (f" {parsed.reference}" if parsed.reference else "")
        if parsed.name != "help":
            verdict = await admit(deps, body, what=what)
            if verdict is Verdict.DUPLICATE:
                return
            if verdict is Verdict.REFUSED:
                await respond(text=NOT_AUTHORISED, response_type="ephemeral")
                return
        if parsed.name == "datalek":  # a form, not an answer: Slack wants it within 3 s
            modal = build_breach_modal(channel=str(body.get("channel_id") or deps.channel))
            await deps.client.views_open(trigger_id=body["trigger_id"], view=modal)
            return
        try:
            text, blocks = await answer(deps, parsed, user_id=str(body.get("user_id", "")))
        except Exception:
            logger.exception("slack: %s failed", what)
            text, blocks = SOMETHING_WENT_WRONG, None
        await respond(text=text, blocks=blocks, response_type="ephemeral")
