"""Block Kit of the breach track (pure): the `/dsr datalek` form for a breach reported by
phone, and reading it back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.breach_facts import ITEMS, LABELS, YES_NO

MODAL_BREACH_NEW = "breach_new"
Block = dict[str, Any]


def _plain(value: str) -> Block:
    return {"type": "plain_text", "text": value[:150], "emoji": True}


def _input(block_id: str, label: str, *, optional: bool, multiline: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label),
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": multiline},
    }


def _yes_no(block_id: str, label: str) -> Block:
    options = [("ja / yes", "yes"), ("nee / no", "no")]
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label),
        "element": {
            "type": "static_select",
            "action_id": "value",
            "options": [{"text": _plain(text), "value": value} for text, value in options],
        },
    }


def build_breach_modal(*, channel: str) -> Block:
    """Who reported it, then the checklist (the nature required, the rest when known)."""
    blocks = [
        _input("reporter", "Gemeld door (naam of e-mailadres) / Reported by", optional=False),
        _input("nature", LABELS["nl"]["nature"].capitalize(), optional=False, multiline=True),
    ]
    for item in ITEMS[1:]:
        label = LABELS["nl"][item].capitalize()
        blocks.append(
            _yes_no(item, label) if item in YES_NO else _input(item, label, optional=True)
        )
    return {
        "type": "modal",
        "callback_id": MODAL_BREACH_NEW,
        "title": _plain("Datalek melden"),
        "submit": _plain("Vastleggen / Record"),
        "close": _plain("Annuleren / Cancel"),
        "private_metadata": json.dumps({"channel": channel}),
        "blocks": blocks,
    }


def breach_items(values: Mapping[str, str]) -> dict[str, str]:
    """The checklist items filled in the submitted form."""
    return {item: values[item] for item in ITEMS if values.get(item)}


def recorded_text(reference: str) -> str:
    return (
        f"Datalek {reference} vastgelegd; de termijn van 72 uur loopt vanaf nu. Beslis met "
        f"`dsr breaches decide {reference}`. / Breach {reference} recorded; the 72-hour clock "
        "runs from now."
    )


ACTION_BREACH_ASK = "breach_send_request"
ACTION_BREACH_DECIDE = "breach_decide"
MODAL_BREACH_DECIDE = "breach_decide_submit"


def _text(value: str) -> Block:
    return {"type": "mrkdwn", "text": value}


def build_breach_message(summary: Mapping[str, Any]) -> tuple[str, list[Block]]:
    """The channel message of a new breach: the clock, which checklist items are known (never
    their text: Slack is a third party), and the buttons. `summary`: `bot.breaches.summary`."""
    reference = str(summary["reference"])
    missing = set(summary["missing"])
    lines = [f"{'❌' if item in missing else '✅'} {LABELS['nl'][item]}" for item in ITEMS]
    head = (
        f"*Datalek {reference}* gemeld door {summary['reporter'] or 'onbekend'}"
        + (f" (verwerker {summary['processor']})" if summary["processor"] else "")
        + f"\nBekend sinds {str(summary['aware_at'])[:16].replace('T', ' ')}; "
        f"melden bij de AP uiterlijk *{str(summary['due'])[:16].replace('T', ' ')}*"
    )
    ask: Block = {
        "type": "button",
        "action_id": ACTION_BREACH_ASK,
        "value": reference,
        "text": _plain("Ontbrekende gegevens opvragen"),
        "confirm": {
            "title": _plain("Mail versturen?"),
            "text": _text(
                f"De melder krijgt een mail met de vraag naar {len(missing)} ontbrekende "
                "punten (tekst: `dsr breaches show " + reference + "`)."
            ),
            "confirm": _plain("Versturen"),
            "deny": _plain("Nog niet"),
        },
    }
    decide: Block = {
        "type": "button",
        "action_id": ACTION_BREACH_DECIDE,
        "value": reference,
        "style": "primary",
        "text": _plain("Besluit vastleggen"),
    }
    buttons = [ask, decide] if missing else [decide]
    blocks: list[Block] = [
        {"type": "section", "text": _text(head)},
        {"type": "section", "text": _text("\n".join(lines))},
        {"type": "actions", "block_id": f"breach:{reference}", "elements": buttons},
    ]
    return f"Datalek {reference}: melden bij de AP uiterlijk {summary['due']}", blocks


def build_decide_modal(reference: str, *, channel: str) -> Block:
    """The decision: notify the AP, tell the people, the risk assessment in words."""
    blocks = [
        _yes_no("ap", "Melden bij de AP? / Notify the AP?"),
        _yes_no("subjects", "Betrokkenen informeren? / Tell the people concerned?"),
        _input(
            "reasons",
            "Risicobeoordeling en redenen / Risk assessment and reasons",
            optional=False,
            multiline=True,
        ),
        _input("ap_number", "Meldingsnummer AP (als gemeld)", optional=True),
    ]
    for block in blocks[:2]:
        block["optional"] = False
    return {
        "type": "modal",
        "callback_id": MODAL_BREACH_DECIDE,
        "title": _plain(f"Besluit {reference}"[:24]),
        "submit": _plain("Vastleggen / Record"),
        "close": _plain("Annuleren / Cancel"),
        "private_metadata": json.dumps({"reference": reference, "channel": channel}),
        "blocks": blocks,
    }
