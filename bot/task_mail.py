"""The secretariat's mail to a processor or recipient that has a task: what to do, for whom,
and by when."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.categories import plain_words
from bot.desk import Desk
from bot.inventory import System
from bot.notices import code_address
from bot.outbox import queue_mail
from bot.wording import long_date
from storage.models import Case, Task


def ask_by(case: Case, *, today: date) -> date:
    """The answer date asked of a processor: a week before the case's due date, so that the
    secretariat can still answer in time; never before today."""
    return max((case.extended_due or case.due) - timedelta(days=7), today)


def queue_request_mail(
    desk: Desk, *, session: Session, case: Case, task: Task, system: System, now: datetime
) -> bool:
    """The secretariat's mail asking a processor or recipient to act (art. 28(3)(e), art. 19),
    in the system's language (Dutch by default), threaded to the case."""
    by = ask_by(case, today=now.astimezone(desk.tz).date())
    context = {
        "system": system.name,
        "action": task.action,
        "by": long_date(by, system.language),
        "person": code_address(session, case),
        "instructions": " ".join(system.instructions.split()),
        "kind_words": plain_words(case.category, system.language),
    }
    return queue_mail(
        desk,
        session=session,
        case=case,
        template="processor_request",
        to=system.contact or "",
        now=now,
        context=context,
        dedupe_key=f"mail:task:{task.id}",
        automatic=False,
        language=system.language,
    )
