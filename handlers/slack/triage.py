"""One way to run a core triage action from Slack: in a thread, with refusals turned into
a sentence for the user and a stale message's differences named."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot import cases as core
from bot.categories import UnknownKind
from bot.deadline import ExtensionRefused
from bot.states import IllegalTransition
from handlers.slack.deps import SlackDeps
from handlers.slack.stamp import CaseStamp, stale_notice
from handlers.slack.texts import SOMETHING_WENT_WRONG, kind_label, person, state_label
from storage.models import Case

logger = logging.getLogger("dsr.slack.triage")
REFUSALS = (core.UnknownCase, core.ActionRefused, IllegalTransition, ExtensionRefused, UnknownKind)

ACTIONS: dict[str, Callable[..., Case]] = {
    "assign": core.assign,
    "kind": core.change_kind,
    "verify": core.verify_by_hand,
    "extend": core.extend,
    "close": core.close,
}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    text: str


def unknown_case(reference: str) -> str:
    return f"Unknown case / onbekende zaak {reference}; see / zie `/dsr list`."


def done_text(action: str, case: Case) -> str:
    ref = case.reference
    match action:
        case "assign":
            return f"{ref}: assigned to / toegewezen aan {person(case.assignee)}."
        case "kind":
            return f"{ref}: kind is now / soort is nu {kind_label(case.category)}."
        case "verify":
            return f"{ref}: identity verified by hand / identiteit handmatig bevestigd."
        case "extend":
            return f"{ref}: extended to / verlengd tot {case.extended_due}."
        case _:
            return f"{ref}: closed as / gesloten als {state_label(case.state)}."


async def run_action(
    deps: SlackDeps,
    action: str,
    *,
    reference: str,
    user_id: str,
    arguments: Mapping[str, str],
    shown: CaseStamp | None = None,
) -> Outcome:
    """Act on the case as it is now; when `shown` is out of date, say what had changed."""
    try:
        notice = await deps.db(_stale, deps, reference, shown)
        case = await deps.db(
            ACTIONS[action],
            deps.desk,
            reference=reference,
            actor=f"slack:{user_id}",
            now=deps.clock(),
            **arguments,
        )
    except core.UnknownCase:
        return Outcome(False, unknown_case(reference))
    except REFUSALS as exc:
        return Outcome(False, f"{notice} {exc}".strip())
    except Exception:
        logger.exception("case=%s slack %s failed", reference, action)
        return Outcome(False, SOMETHING_WENT_WRONG)
    deps.poke()
    logger.info("case=%s %s by slack", case.reference, action)
    return Outcome(True, f"{notice} {done_text(action, case)}".strip())


def _stale(deps: SlackDeps, reference: str, shown: CaseStamp | None) -> str:
    if shown is None:
        return ""
    return stale_notice(shown, core.get_case(deps.desk, reference=reference))
