"""Block Kit, built by pure functions from cases as the core shows them (tested offline)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.categories import ALL_CATEGORIES
from bot.package import is_package_case
from bot.states import CLOSED
from bot.views import case_summary
from handlers.slack.parse import USAGE
from handlers.slack.stamp import CaseStamp
from handlers.slack.texts import (
    OUTCOMES,
    flag_warnings,
    kind_label,
    kind_words,
    person,
    state_label,
)
from storage.models import Case

Block = dict[str, Any]
DUE_SOON_DAYS = 7
ACTION_ASSIGN_ME, ACTION_KIND = "case_assign_me", "case_kind"
ACTION_VERIFY, ACTION_EXTEND, ACTION_CLOSE = "case_verify", "case_extend", "case_close"
ACTION_PACKAGE = "case_package"
MODAL_VERIFY, MODAL_EXTEND, MODAL_CLOSE = "verify_modal", "extend_modal", "close_modal"


def _text(value: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": value[:3000]}


def _plain(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value[:75], "emoji": True}


def due_marker(summary: Mapping[str, Any]) -> str:
    left = summary.get("days_left")
    if left is None:
        return ""
    if summary.get("overdue"):
        return ":red_circle: OVERDUE / TE LAAT "
    return ":large_orange_circle: " if left <= DUE_SOON_DAYS else ""


def due_text(summary: Mapping[str, Any]) -> str:
    due = summary["extended_due"] or summary["due"]
    left = summary.get("days_left")
    extended = " (extended / verlengd)" if summary["extended_due"] else ""
    if left is None:
        return f"{due}{extended}"
    return f"{due}{extended}, {left} day(s) left / dag(en) over"


def build_case_message(
    case: Case,
    *,
    now: datetime,
    tz: ZoneInfo,
    answered: tuple[int, int] = (0, 0),
    download: str | None = None,
) -> tuple[str, list[Block]]:
    """The case's message in the channel: what the secretariat needs, no body, masked address.
    `download`: the line about the answer's download link ("downloaded on ...").
    `answered`: (systems that answered, systems asked) once the case has tasks."""
    s = case_summary(case, now=now, tz=tz)
    received = case.received_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    identity = "verified / bevestigd" if s["verified"] else "not verified / niet bevestigd"
    fields = [
        f"*Kind / Soort*\n{kind_label(case.category)}",
        f"*Language / Taal*\n{case.language.upper()}",
        f"*Requester / Aanvrager*\n{s['requester']}",
        f"*Received / Ontvangen*\n{received}",
        f"*Due / Termijn*\n{due_marker(s)}{due_text(s)}",
        f"*Identity / Identiteit*\n{identity}",
        f"*Assignee / Behandelaar*\n{person(case.assignee)}",
        f"*State / Status*\n{state_label(case.state)}",
    ]
    fields.append(f"*Client may be told / Opdrachtgever informeren*\n{consent_label(case)}")
    if answered[1]:
        done, asked = answered
        fields.append(
            f"*Systems / Systemen*\n{done} of {asked} answered / {done} van {asked} beantwoord"
        )
    blocks: list[Block] = [
        {"type": "header", "text": _plain(f"{case.reference} · {kind_label(case.category)}")},
        {"type": "section", "fields": [_text(f) for f in fields]},
        {
            "type": "context",
            "elements": [_text(f"_{kind_words(case.category, case.language)}_")],
        },
    ]
    warnings = flag_warnings(list(case.flags))
    if warnings:
        line = " · ".join(warnings)
        blocks.append({"type": "context", "elements": [_text(f":warning: {line}")]})
    if download:
        blocks.append({"type": "context", "elements": [_text(f":inbox_tray: {download}")]})
    if case.state not in CLOSED:
        blocks.append(build_case_actions(case, now=now, tz=tz))
    fallback = f"{case.reference}: {kind_label(case.category)}, due {s['extended_due'] or s['due']}"
    return fallback, blocks


def consent_label(case: Case) -> str:
    """The requester's answer to "may your client organisation be told?"."""
    if case.client_may_be_informed is None:
        return "unknown / onbekend"
    return "yes / ja" if case.client_may_be_informed else "no / nee"


def extension_offered(case: Case, *, now: datetime, tz: ZoneInfo) -> bool:
    """Only while the original deadline has not passed, and only once (GDPR art. 12(3))."""
    active = case.state not in CLOSED and case.extended_due is None
    return active and now.astimezone(tz).date() <= case.due


def build_case_actions(case: Case, *, now: datetime, tz: ZoneInfo) -> Block:
    stamp = CaseStamp.of(case).encode()
    elements: list[Block] = [
        _button("Assign to me / Aan mij", ACTION_ASSIGN_ME, stamp, style="primary"),
        {
            "type": "static_select",
            "action_id": ACTION_KIND,
            "placeholder": _plain("Change kind / Soort wijzigen"),
            "options": [_option(kind_label(k), k) for k in ALL_CATEGORIES],
        },
    ]
    if case.verified_at is None:
        elements.append(_button("Verify by hand / Handmatig bevestigen", ACTION_VERIFY, stamp))
    if extension_offered(case, now=now, tz=tz):
        elements.append(_button("Extend / Verlengen", ACTION_EXTEND, stamp))
    if case.verified_at is not None and is_package_case(case):
        label = "Build answer package / Antwoordpakket maken"
        elements.append(_button(label, ACTION_PACKAGE, stamp))
    elements.append(_button("Close / Sluiten", ACTION_CLOSE, stamp, style="danger"))
    return {"type": "actions", "block_id": stamp, "elements": elements}


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": _plain(label), "action_id": action_id}
    button["value"] = value
    if style:
        button["style"] = style
    return button


def _option(label: str, value: str) -> Block:
    return {"text": _plain(label), "value": value}


def build_case_line(summary: Mapping[str, Any]) -> str:
    return (
        f"{due_marker(summary)}*{summary['reference']}* · {kind_label(summary['category'])} · "
        f"due {summary['extended_due'] or summary['due']} · {state_label(summary['state'])} · "
        f"{person(summary['assignee'])}"
    )


def build_case_list(
    summaries: Sequence[Mapping[str, Any]], *, title: str, more: bool
) -> tuple[str, list[Block]]:
    if not summaries:
        text = f"{title}: no cases / geen zaken"
        return text, [{"type": "section", "text": _text(text)}]
    lines = [build_case_line(s) for s in summaries]
    if more:
        lines.append(f"_… more; showing the first {len(summaries)} / meer; eerste getoond_")
    header = f"*{title}* ({len(summaries)}{'+' if more else ''})"
    blocks = [{"type": "section", "text": _text(header)}]
    blocks += [{"type": "section", "text": _text(line)} for line in lines]
    return f"{title}: {len(summaries)} case(s)", blocks


def _failure_reason(event: Mapping[str, Any]) -> str:
    """Why the desk refused to send a mail (our own words, no address), after its event."""
    reason = (event.get("details") or {}).get("reason") if event["action"] == "mail_failed" else ""
    return f": {reason}" if reason else ""


def build_case_detail(
    detail: Mapping[str, Any], *, body_lines: Sequence[str] = ()
) -> tuple[str, list[Block]]:
    """`/dsr show`: the summary, the last events and, only when allowed, a few body lines."""
    lines = [
        build_case_line(detail),
        f"Requester / Aanvrager: {detail['requester']} · language / taal: "
        f"{str(detail['language']).upper()} · verified / bevestigd: "
        f"{'yes / ja' if detail['verified'] else 'no / nee'}",
        f"Due / Termijn: {due_text(detail)}",
        f"Messages / Berichten: {len(detail.get('messages', []))}",
    ]
    events = [
        f"• {e['at'][:16]} {e['action']} by {e['actor']}{_failure_reason(e)}"
        for e in detail.get("events", [])[-8:]
    ]
    blocks: list[Block] = [{"type": "section", "text": _text("\n".join(lines))}]
    if events:
        blocks.append({"type": "section", "text": _text("*Audit trail*\n" + "\n".join(events))})
    if body_lines:
        quoted = "\n".join(f"> {line}" for line in body_lines)
        blocks.append({"type": "section", "text": _text(f"*Request / Verzoek*\n{quoted}")})
    return f"{detail['reference']}: {state_label(detail['state'])}", blocks


def build_stats(counts: Mapping[str, int], *, overdue: int) -> str:
    parts = [f"{state_label(state)}: {n}" for state, n in sorted(counts.items())]
    return (
        "*Cases per state / Zaken per status*\n"
        + "\n".join(parts)
        + (f"\nOverdue / Te laat: {overdue}")
    )


def build_help() -> str:
    lines = "\n".join(f"`{line}`" for line in USAGE.values())
    kinds = ", ".join(ALL_CATEGORIES)
    return f"*/dsr* (privacy desk / AVG-balie)\n{lines}\nKinds / Soorten: {kinds}"


def build_home(
    summaries: Sequence[Mapping[str, Any]], *, counts: Mapping[str, int], more: bool
) -> dict[str, Any]:
    """App Home: the queue by due date, overdue and due-soon marked, counts per state."""
    count_line = " · ".join(f"{state_label(s)}: {n}" for s, n in sorted(counts.items()))
    blocks: list[Block] = [
        {"type": "header", "text": _plain("Privacy desk queue / AVG-wachtrij")},
        {"type": "context", "elements": [_text(count_line or "no cases / geen zaken")]},
        {"type": "divider"},
    ]
    blocks += [{"type": "section", "text": _text(build_case_line(s))} for s in summaries]
    if more:
        blocks.append({"type": "context", "elements": [_text("_more: use /dsr list_")]})
    return {"type": "home", "blocks": blocks[:100]}


def build_home_refused() -> dict[str, Any]:
    text = "Only the secretariat sees the queue. / Alleen het secretariaat ziet de wachtrij."
    return {"type": "home", "blocks": [{"type": "section", "text": _text(text)}]}


def _modal(
    callback_id: str, title: str, submit: str, meta: Mapping[str, str], blocks: list[Block]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title[:24]),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps(dict(meta)),
        "blocks": blocks,
    }


def _note_input(label: str, block_id: str = "note") -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {"type": "plain_text_input", "action_id": "value", "multiline": True},
    }


def build_verify_modal(stamp: str, *, channel: str) -> dict[str, Any]:
    meta = {"stamp": stamp, "channel": channel}
    note = _note_input("How was the identity checked? / Hoe is de identiteit gecontroleerd?")
    return _modal(MODAL_VERIFY, "Verify by hand", "Verify", meta, [note])


def build_extend_modal(stamp: str, *, channel: str) -> dict[str, Any]:
    meta = {"stamp": stamp, "channel": channel}
    reasons = _note_input("Reasons told to the requester / Redenen voor de aanvrager")
    return _modal(MODAL_EXTEND, "Extend by two months", "Extend", meta, [reasons])


def build_close_modal(stamp: str, *, channel: str) -> dict[str, Any]:
    meta = {"stamp": stamp, "channel": channel}
    outcome: Block = {
        "type": "input",
        "block_id": "outcome",
        "label": _plain("Outcome / Uitkomst"),
        "element": {
            "type": "static_select",
            "action_id": "value",
            "options": [_option(state_label(o), o) for o in OUTCOMES],
        },
    }
    return _modal(MODAL_CLOSE, "Close case", "Close", meta, [outcome, _note_input("Note")])


def read_modal(view: Mapping[str, Any]) -> dict[str, str]:
    """The submitted inputs by block id, plus the private metadata."""
    values: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        element = actions.get("value", {})
        selected = element.get("selected_option") or {}
        values[block_id] = str(element.get("value") or selected.get("value") or "").strip()
    meta = json.loads(view.get("private_metadata") or "{}")
    values.update({f"meta.{k}": str(v) for k, v in meta.items()})
    return values
