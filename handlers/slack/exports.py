"""Files shared in a case's Slack thread by the owner of one of its export tasks: fetched with
the bot token (only from Slack's own file address) and stored through the same path as
`dsr tasks done --file` (bot.tasks.task_add_exports). Anything else is refused with a reply in
the thread, audited, and nothing is stored."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError

from bot import tasks as work
from bot.cases import ActionRefused
from bot.export_check import ExportFile, ExportRefused, check_size
from bot.exports import EXPORT_ACTION, EXPORTED
from handlers.slack.deps import SlackDeps
from storage.audit import append_event
from storage.exports import case_by_slack_thread
from storage.models import Case, Task
from storage.tasks import DONE, OPEN

logger = logging.getLogger("dsr.slack.exports")
SLACK_FILES_HOST = "files.slack.com"
DOWNLOAD_SECONDS = 60
CHUNK = 64 * 1024

NOT_A_CASE_THREAD = (
    "Files are only taken in a case's thread, from the owner of its export task; nothing was "
    "stored. / Bestanden worden alleen aangenomen in de draad van een zaak, van de eigenaar "
    "van de exporttaak; er is niets opgeslagen."
)
NOT_OWNER = (
    "only the owner of an open export task of this case can hand in files here; nothing was "
    "stored. / Alleen de eigenaar van een open exporttaak van deze zaak kan hier bestanden "
    "aanleveren; er is niets opgeslagen."
)
NOTHING_STORED = "nothing was stored. / Er is niets opgeslagen."


class DownloadFailed(Exception):
    """The file could not be fetched from Slack; the message says why (no address, no name)."""


@dataclass(frozen=True)
class Share:
    """A `message` event of subtype `file_share`."""

    channel: str
    ts: str
    thread_ts: str | None
    user: str
    text: str
    files: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Share:
        return cls(
            channel=str(event.get("channel") or ""),
            ts=str(event.get("ts") or ""),
            thread_ts=str(event["thread_ts"]) if event.get("thread_ts") else None,
            user=str(event.get("user") or ""),
            text=str(event.get("text") or ""),
            files=tuple(f for f in event.get("files") or () if isinstance(f, Mapping)),
        )


async def receive_share(deps: SlackDeps, share: Share) -> str:
    """Store the shared files on the sharer's export task; returns the reply, which is posted
    in the thread."""
    text = await _receive(deps, share)
    try:
        await deps.client.chat_postMessage(
            channel=share.channel, thread_ts=share.thread_ts or share.ts, text=text
        )
    except SlackApiError:
        logger.exception("slack: the reply to a shared file could not be posted")
    return text


async def _receive(deps: SlackDeps, share: Share) -> str:
    actor = f"slack:{share.user}"
    case = await deps.db(_case_of, deps, share) if share.thread_ts else None
    if case is None:
        await deps.db(_audit_refusal, deps, None, actor, "not_a_case_thread")
        return NOT_A_CASE_THREAD
    ref = case.reference
    tasks = await deps.db(_owned_export_tasks, deps, ref, actor)
    task = _pick(tasks, share.text)
    if task is None or task.id is None:
        await deps.db(_audit_refusal, deps, case, actor, "not_owner" if not tasks else "which")
        if not tasks:
            return f"{ref}: {NOT_OWNER}"
        ids = ", ".join(t.system for t in tasks)
        return (
            f"{ref}: you own export tasks for several systems ({ids}); share the file again "
            f"with the system's id in the message. / Je hebt exporttaken voor meerdere "
            f"systemen ({ids}); deel het bestand opnieuw met de id van het systeem erbij."
        )
    try:
        files = await _fetch_all(deps, share)
        await deps.db(
            work.task_add_exports,
            deps.desk,
            task_id=task.id,
            files=files,
            actor=actor,
            now=deps.clock(),
            source="slack",
        )
    except (ExportRefused, ActionRefused, work.UnknownTask) as exc:
        await deps.db(_audit_refusal, deps, case, actor, "refused")
        return f"{ref}: {exc}; {NOTHING_STORED}"
    except DownloadFailed as exc:
        logger.warning("case=%s slack file could not be fetched: %s", ref, exc)
        return (
            f"{ref}: the file could not be fetched from Slack ({exc}); try again. / Het bestand "
            f"kon niet uit Slack worden gehaald; probeer het opnieuw. {NOTHING_STORED}"
        )
    deps.poke()
    logger.info("case=%s %d file(s) from slack stored for task %d", ref, len(files), task.id)
    return (
        f"{ref}: {len(files)} file(s) stored sealed for task #{task.id} {task.system}; the task "
        f"is done (exported). You can delete the file from Slack now. / {len(files)} "
        f"bestand(en) versleuteld opgeslagen voor taak #{task.id} {task.system}; de taak is "
        "klaar (geëxporteerd). Je kunt het bestand nu uit Slack verwijderen."
    )


def _case_of(deps: SlackDeps, share: Share) -> Case | None:
    with deps.desk.reading() as session:
        return case_by_slack_thread(
            session=session, channel=share.channel, thread_ts=share.thread_ts or ""
        )


def _owned_export_tasks(deps: SlackDeps, reference: str, actor: str) -> list[Task]:
    """The export tasks of the case given to this Slack user that can still take files."""
    rows = work.list_tasks(deps.desk, reference=reference)
    return [
        r.task
        for r in rows
        if r.task.action == EXPORT_ACTION
        and r.task.assignee == actor
        and (r.task.state == OPEN or (r.task.state == DONE and r.task.result == EXPORTED))
    ]


def _pick(tasks: list[Task], text: str) -> Task | None:
    """The one task, or the one whose system id the message names."""
    if len(tasks) == 1:
        return tasks[0]
    words = set(re.findall(r"[a-z0-9_-]+", text.lower()))
    named = [t for t in tasks if t.system in words]
    return named[0] if len(named) == 1 else None


async def _fetch_all(deps: SlackDeps, share: Share) -> list[ExportFile]:
    limit = deps.desk.settings.export_max_bytes
    if not share.files:
        raise ExportRefused("the message carries no file")
    for file in share.files:  # refuse by the size Slack reports before fetching anything
        check_size(str(file.get("name") or "export"), int(file.get("size") or 0), max_bytes=limit)
    fetched = []
    for file in share.files:
        name = str(file.get("name") or "export")
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        data = await download(deps, url, limit=limit)
        if data is None:
            check_size(name, limit + 1, max_bytes=limit)
            continue
        fetched.append(ExportFile(name=name, data=data))
    return fetched


def from_slack(url: str, api_url: str) -> bool:
    """Only Slack's file host (or the configured Web API's own address, a local stand-in in
    tests) ever sees the bot token."""
    target, api = urlsplit(url), urlsplit(api_url)
    if target.scheme == "https" and target.hostname == SLACK_FILES_HOST:
        return True
    return bool(target.netloc) and (target.scheme, target.netloc) == (api.scheme, api.netloc)


async def download(deps: SlackDeps, url: str, *, limit: int) -> bytes | None:
    """The file's bytes, or None when it is larger than `limit`."""
    settings = deps.desk.settings
    if not from_slack(url, settings.slack_api_url):
        raise DownloadFailed("not a Slack file address")
    token = settings.slack_bot_token.get_secret_value()
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(
                url, headers={"Authorization": f"Bearer {token}"}, allow_redirects=False
            ) as response,
        ):
            if response.status != 200:
                raise DownloadFailed(f"HTTP {response.status}")
            chunks, total = [], 0
            async for chunk in response.content.iter_chunked(CHUNK):
                total += len(chunk)
                if total > limit:
                    return None
                chunks.append(chunk)
            return b"".join(chunks)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DownloadFailed(type(exc).__name__) from None


def _audit_refusal(deps: SlackDeps, case: Case | None, actor: str, reason: str) -> None:
    with deps.desk.transaction() as session:
        append_event(
            session=session,
            at=deps.clock(),
            actor=actor,
            action="export_refused",
            case_id=case.id if case else None,
            reference=case.reference if case else None,
            details={"reason": reason, "via": "slack"},
        )
