"""Open tasks as the reminders and the digest name them (pure)."""

from __future__ import annotations

from dataclasses import dataclass

WORDS = {
    "nl": {"title": "Open taken per zaak", "with": "bij", "reply": "antwoord ontvangen"},
    "en": {"title": "Open tasks per case", "with": "assignee", "reply": "reply received"},
}


@dataclass(frozen=True)
class OpenTask:
    system: str  # the inventory's name
    assignee: str
    reply_received: bool


def task_line(task: OpenTask, *, language: str, slack: bool) -> str:
    """`CRM (relatiebeheer): open, bij <@U0CRM>` (a mention in Slack, the id in mail)."""
    words = WORDS.get(language, WORDS["nl"])
    who = task.assignee
    if slack and who.startswith("slack:"):
        who = f"<@{who.removeprefix('slack:')}>"
    reply = f", {words['reply']}" if task.reply_received else ""
    return f"{task.system}: open, {words['with']} {who}{reply}"
