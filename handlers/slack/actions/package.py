"""Button "Build answer package": builds the package of an access or portability case (checked
and audited like every build) and posts what it holds, or why there is none yet, in the case's
thread. The file itself never goes to Slack: it reaches the requester through the web front."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.outbox import queue_slack
from bot.package import PackageError, PackageSummary, package_summary
from handlers.slack.actions.common import admitted, whisper
from handlers.slack.blocks import ACTION_PACKAGE
from handlers.slack.deps import SlackDeps
from handlers.slack.texts import SOMETHING_WENT_WRONG
from storage.cases import get_case_by_reference

logger = logging.getLogger("dsr.slack.package")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(ACTION_PACKAGE)
    async def build_package(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        found = await admitted(deps, body, respond, what="package")
        if found is None:
            return
        stamp, user = found
        reference = stamp.reference
        try:
            summary = await deps.db(
                package_summary, deps.desk, reference, now=deps.clock(), actor=f"slack:{user}"
            )
            text = ready_text(summary, user=user)
        except PackageError as exc:
            text = f"No answer package yet / Nog geen antwoordpakket: {exc}"
        except Exception:
            logger.exception("case=%s slack package failed", reference)
            await whisper(respond, SOMETHING_WENT_WRONG)
            return
        key = str((body.get("actions") or [{}])[0].get("action_ts") or deps.clock().timestamp())
        await deps.db(_post_in_thread, deps, reference, text, key)
        deps.poke()
        await whisper(respond, f"{reference}: {text}")


def ready_text(summary: PackageSummary, *, user: str) -> str:
    return (
        f"Answer package built by <@{user}> / Antwoordpakket gemaakt door <@{user}>: "
        f"{summary.exports} export(s) from {summary.systems} system(s) / systeem/systemen, "
        f"{summary.files} file(s) / bestanden, {summary.size:,} bytes, "
        f"SHA-256 {summary.sha256[:16]}…. It reaches the requester through the download link "
        "when the case is closed as done. / Het bereikt de aanvrager via de downloadlink als "
        "de zaak als afgehandeld wordt gesloten."
    )


def _post_in_thread(deps: SlackDeps, reference: str, text: str, key: str) -> None:
    now = deps.clock()
    with deps.desk.transaction() as session:
        case = get_case_by_reference(session=session, reference=reference)
        if case is None:
            return
        queue_slack(
            deps.desk,
            session=session,
            case=case,
            kind="thread_note",
            dedupe_key=f"slack:package:{case.id}:{key}",
            now=now,
            payload={"text": text},
        )
