"""The read-only `/dsr` subcommands: list, show, stats (sync; run in a thread)."""

from __future__ import annotations

from bot import cases as core
from bot.mail.parse import parse_message
from bot.states import ACTIVE
from bot.views import case_detail, case_summary
from handlers.slack.blocks import Block, build_case_detail, build_case_list, build_stats
from handlers.slack.deps import LIST_LIMIT, SlackDeps
from handlers.slack.store import count_overdue, first_request_raw
from storage.cases import count_by_state, get_case_by_reference

BODY_LINES = 6
LIST_TITLES = {
    "open": "Open cases / Open zaken",
    "overdue": "Overdue / Te laat",
    "due-soon": "Due within 7 days / Binnen 7 dagen",
    "triage": "Needs triage / Soort bepalen",
    "mine": "Assigned to you / Aan jou toegewezen",
}


def query_for(word: str, *, user_id: str) -> core.CaseQuery:
    limit = LIST_LIMIT + 1
    match word:
        case "overdue":
            return core.CaseQuery(overdue=True, limit=limit)
        case "due-soon":
            return core.CaseQuery(due_within_days=7, limit=limit)
        case "triage":
            return core.CaseQuery(triage=True, limit=limit)
        case "mine":
            return core.CaseQuery(assignee=f"slack:{user_id}", limit=limit)
        case _:
            return core.CaseQuery(limit=limit)


def list_blocks(deps: SlackDeps, word: str, *, user_id: str) -> tuple[str, list[Block]]:
    now = deps.clock()
    found = core.list_cases(deps.desk, query=query_for(word, user_id=user_id), now=now)
    summaries = [case_summary(c, now=now, tz=deps.desk.tz) for c in found[:LIST_LIMIT]]
    return build_case_list(summaries, title=LIST_TITLES[word], more=len(found) > LIST_LIMIT)


def show_blocks(deps: SlackDeps, reference: str) -> tuple[str, list[Block]] | None:
    now, desk = deps.clock(), deps.desk
    with desk.reading() as session:
        case = get_case_by_reference(session=session, reference=reference)
        if case is None or case.id is None:
            return None
        detail = case_detail(case, session=session, now=now, tz=desk.tz)
        raw = first_request_raw(session=session, case_id=case.id) if deps.show_body else None
    lines: list[str] = []
    if raw is not None:
        text = parse_message(raw).text
        lines = [line for line in text.splitlines() if line.strip()][:BODY_LINES]
    return build_case_detail(detail, body_lines=lines)


def stats_text(deps: SlackDeps) -> str:
    today = deps.clock().astimezone(deps.desk.tz).date()
    with deps.desk.reading() as session:
        counts = count_by_state(session=session)
        overdue = count_overdue(session=session, states=sorted(ACTIVE), today=today)
    return build_stats(counts, overdue=overdue)
