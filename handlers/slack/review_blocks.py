"""Block Kit for review items, built by pure functions (tested offline).

Slack is a third party: a review item shows its number, the suggested kind, dates and the
masked sender, never the subject, the body or the words that made it look like a request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.categories import ALL_CATEGORIES
from bot.review import ReviewView
from handlers.slack.blocks import Block
from handlers.slack.texts import kind_label, person

ACTION_REVIEW_OPEN, ACTION_REVIEW_DISMISS = "review_open", "review_dismiss"
MODAL_REVIEW_OPEN, MODAL_REVIEW_DISMISS = "review_open_modal", "review_dismiss_modal"
BLOCK_PREFIX = "review:"
NOTHING_SENT = (
    "No case yet and nothing sent; if this is a request, its legal month runs from receipt. / "
    "Nog geen zaak en niets verstuurd; is dit een verzoek, dan loopt de termijn vanaf ontvangst."
)


def _text(value: str) -> Block:
    return {"type": "mrkdwn", "text": value[:3000]}


def _plain(value: str) -> Block:
    return {"type": "plain_text", "text": value[:75], "emoji": True}


def _option(label: str, value: str) -> Block:
    return {"text": _plain(label), "value": value}


def _modal(
    callback_id: str, title: str, submit: str, meta: dict[str, str], blocks: list[Block]
) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title[:24]),
        "submit": _plain(submit),
        "close": _plain("Cancel / Annuleren"),
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def item_of(value: str) -> int | None:
    """The review item a button or modal carries (its id as text)."""
    return int(value) if value.isdigit() else None


def _received(view: ReviewView, tz: ZoneInfo) -> str:
    return view.received_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _suggested(view: ReviewView) -> str:
    return kind_label(view.suggested_kind) if view.suggested_kind else "none / geen"


def state_text(view: ReviewView) -> str:
    who = person(view.decided_by) if view.decided_by else ""
    if view.state == "opened":
        return f"Opened as / Geopend als {view.case} ({who})"
    if view.state == "dismissed":
        return f"Not a request / Geen verzoek ({who})"
    return "Waiting for a person / Wacht op een besluit"


def build_review_message(view: ReviewView, *, tz: ZoneInfo) -> tuple[str, list[Block]]:
    """The item's message in the channel, with the two decisions while it waits."""
    fields = [
        f"*Suggested kind / Voorgestelde soort*\n{_suggested(view)}",
        f"*Language / Taal*\n{view.language.upper()}",
        f"*From / Van*\n{view.sender}",
        f"*Received / Ontvangen*\n{_received(view, tz)}",
        f"*State / Status*\n{state_text(view)}",
    ]
    blocks: list[Block] = [
        {"type": "header", "text": _plain(f"Review / Beoordelen {view.id}")},
        {"type": "section", "fields": [_text(f) for f in fields]},
        {"type": "context", "elements": [_text(f"_{view.reason}_ · {NOTHING_SENT}")]},
    ]
    if view.state == "waiting":
        blocks.append(build_review_actions(view))
    fallback = f"Review {view.id}: might be a request ({_suggested(view)}); {state_text(view)}"
    return fallback, blocks


def build_review_actions(view: ReviewView) -> Block:
    value = str(view.id)
    return {
        "type": "actions",
        "block_id": f"{BLOCK_PREFIX}{view.id}",
        "elements": [
            {
                "type": "button",
                "text": _plain("Open a case / Zaak openen"),
                "action_id": ACTION_REVIEW_OPEN,
                "value": value,
                "style": "primary",
            },
            {
                "type": "button",
                "text": _plain("Not a request / Geen verzoek"),
                "action_id": ACTION_REVIEW_DISMISS,
                "value": value,
            },
        ],
    }


def review_line(view: ReviewView, *, tz: ZoneInfo) -> str:
    return (
        f"*Review {view.id}* · {_suggested(view)} · {view.sender} · received / ontvangen "
        f"{_received(view, tz)} · {view.waiting_days} working day(s) / werkdag(en)"
    )


def build_review_list(
    views: Sequence[ReviewView], *, tz: ZoneInfo, more: bool
) -> tuple[str, list[Block]]:
    """`/dsr review`: the waiting items, the longest waiting first, each with its buttons."""
    title = "Waiting for review / Wacht op beoordeling"
    if not views:
        text = f"{title}: nothing / niets"
        return text, [{"type": "section", "text": _text(text)}]
    blocks: list[Block] = [
        {"type": "section", "text": _text(f"*{title}* ({len(views)}{'+' if more else ''})")}
    ]
    for view in views:
        blocks.append({"type": "section", "text": _text(review_line(view, tz=tz))})
        blocks.append(build_review_actions(view))
    if more:
        note = f"_… more; showing the first {len(views)} / meer; eerste getoond_"
        blocks.append({"type": "context", "elements": [_text(note)]})
    return f"{title}: {len(views)}", blocks


def build_review_open_modal(view: ReviewView, *, channel: str, tz: ZoneInfo) -> dict[str, Any]:
    """Kind preselected (the suggestion) and editable; the case is opened on submit."""
    select: Block = {
        "type": "static_select",
        "action_id": "value",
        "options": [_option(kind_label(k), k) for k in ALL_CATEGORIES],
    }
    if view.suggested_kind:
        select["initial_option"] = _option(kind_label(view.suggested_kind), view.suggested_kind)
    kind: Block = {
        "type": "input",
        "block_id": "kind",
        "label": _plain("Kind of request / Soort verzoek"),
        "element": select,
    }
    explain = (
        f"The deadline counts from receipt ({_received(view, tz)}). The acknowledgement and "
        "the identity code go to the sender now. / De termijn telt vanaf ontvangst. De "
        "ontvangstbevestiging en de code gaan nu naar de afzender."
    )
    meta = {"review": str(view.id), "channel": channel}
    blocks = [kind, {"type": "context", "elements": [_text(explain)]}]
    return _modal(MODAL_REVIEW_OPEN, f"Open a case: {view.id}", "Open", meta, blocks)


def build_review_dismiss_modal(item_id: int, *, channel: str) -> dict[str, Any]:
    note: Block = {
        "type": "input",
        "block_id": "note",
        "optional": True,
        "label": _plain("Note (optional) / Notitie (optioneel)"),
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
    }
    meta = {"review": str(item_id), "channel": channel}
    return _modal(MODAL_REVIEW_DISMISS, "Not a request", "Confirm", meta, [note])


def review_reminder_text(item_id: int, waiting_days: int) -> str:
    return (
        f"Review {item_id} has waited {waiting_days} working day(s) for a decision; if it is a "
        "request, its legal month is running. / Beoordeling "
        f"{item_id} wacht al {waiting_days} werkdag(en) op een besluit; is het een verzoek, "
        "dan loopt de wettelijke termijn al. `/dsr review`"
    )


def modal_item(view: dict[str, Any]) -> int | None:
    meta = json.loads(view.get("private_metadata") or "{}")
    return item_of(str(meta.get("review", "")))
