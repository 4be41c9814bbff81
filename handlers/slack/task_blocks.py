"""Block Kit of a task owner's direct message (pure): what to do, and one button per result
that fits the action; once recorded, the result instead of the buttons."""

from __future__ import annotations

from typing import Any

from bot.task_view import TaskView
from handlers.slack.texts import person

Block = dict[str, Any]
ACTION_PREFIX = "task_result:"
SEP = "|"

ACTION_WORDS: dict[str, str] = {
    "search_export": "search and export / zoeken en exporteren",
    "correct": "correct / corrigeren",
    "erase": "erase / verwijderen",
    "restrict": "restrict / beperken",
    "stop_processing": "stop processing / verwerking stoppen",
    "notify": "take note (art. 19) / kennisnemen (art. 19)",
}
RESULT_WORDS: dict[str, str] = {
    "found": "Found / Gevonden",
    "nothing_found": "Nothing found / Niets gevonden",
    "exported": "Exported / Geëxporteerd",
    "corrected": "Corrected / Gecorrigeerd",
    "erased": "Erased / Verwijderd",
    "restricted": "Restricted / Beperkt",
    "kept": "Kept by law / Bewaard (wet)",
    "stopped": "Stopped / Gestopt",
    "told": "Told / Gemeld",
}


def task_button_value(task_id: int, result: str) -> str:
    return f"{task_id}{SEP}{result}"


def read_button_value(value: str) -> tuple[int, str] | None:
    task_id, sep, result = value.partition(SEP)
    return (int(task_id), result) if sep and task_id.isdigit() and result in RESULT_WORDS else None


def build_task_dm(view: TaskView, *, user: str) -> tuple[str, list[Block]]:
    """The direct message to `user` (a Slack user id) about `view`; buttons only while the
    task is open and still theirs."""
    lines = [
        f"*Task / Taak #{view.id}* · {view.reference} · {view.system}",
        f"*Action / Actie:* {ACTION_WORDS.get(view.action, view.action)}",
        f"*Person / Persoon:* {view.person}",
        f"*Answer by / Antwoord vóór:* {view.by.isoformat()}",
    ]
    if view.instructions:
        lines.append(f"*How / Werkwijze:* {view.instructions}")
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn("\n".join(lines))}]
    if view.state == "open" and view.assignee == f"slack:{user}":
        blocks.append(
            {
                "type": "actions",
                "block_id": f"task:{view.id}",
                "elements": [_button(view.id, result) for result in view.results],
            }
        )
    else:
        blocks.append({"type": "context", "elements": [_mrkdwn(status_line(view, user=user))]})
    fallback = f"{view.reference}: task #{view.id} {view.system} / taak #{view.id}"
    return fallback, blocks


def status_line(view: TaskView, *, user: str) -> str:
    if view.state == "done":
        result = RESULT_WORDS.get(view.result or "", view.result or "")
        return f"Recorded / Vastgelegd: {result} ({person(view.done_by)})"
    if view.state == "open":
        return f"Now with / Nu bij {person(view.assignee)}"
    return "No longer needed / Niet meer nodig"


def _button(task_id: int, result: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": RESULT_WORDS.get(result, result)[:75]},
        "action_id": f"{ACTION_PREFIX}{result}",
        "value": task_button_value(task_id, result),
    }


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text[:3000]}
