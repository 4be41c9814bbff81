"""The client's consent: whether the client organisation (opdrachtgever) may be told of the
request. The acknowledgement asks it; the requester answers "ja"/"yes" or "nee"/"no" from
their own address, or the secretariat records it. Until it is yes, nothing goes to a group
entity (bot.task_mail.may_contact); a yes sends what was held back."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from bot.cases import ActionRefused, UnknownCase, record_change
from bot.desk import Desk
from bot.states import CLOSED
from bot.task_mail import release_held
from storage.cases import lock_case
from storage.models import Case

ANSWERS: dict[str, bool] = {"ja": True, "yes": True, "nee": False, "no": False}
CHOICES: dict[str, bool | None] = {"yes": True, "no": False, "unknown": None}
_WORD = re.compile(r"[^\W\d_]+")
LINES_READ = 20


def consent_in(new_text: str) -> bool | None:
    """The answer in the new text of a reply: a line whose only word is ja/yes or nee/no (a
    code on the same line is fine: "123456 ja"). A longer sentence ("ja, ik wil dat u alles
    verwijdert") is not read as consent; two different answers are no answer."""
    found: set[bool] = set()
    for line in new_text.splitlines()[:LINES_READ]:
        words = _WORD.findall(line.lower())
        if len(words) == 1 and words[0] in ANSWERS:
            found.add(ANSWERS[words[0]])
    return found.pop() if len(found) == 1 else None


def consent_word(value: bool | None) -> str:
    """`yes`, `no` or `unknown`: how the CLI and Slack show the consent."""
    return next(word for word, v in CHOICES.items() if v is value)


def apply_consent(
    desk: Desk,
    *,
    session: Session,
    case: Case,
    value: bool | None,
    actor: str,
    how: str,
    now: datetime,
    note: str | None = None,
) -> bool:
    """Record the consent on the case (in the caller's transaction, the case loaded for
    change); False when it was already so. A yes releases the mail held for group entities."""
    if case.client_may_be_informed is value:
        return False
    before, case.client_may_be_informed = case.client_may_be_informed, value
    details: dict[str, object] = {
        "from": consent_word(before),
        "to": consent_word(value),
        "how": how,
    }
    if note:
        details["note"] = note
    record_change(
        desk,
        session=session,
        case=case,
        now=now,
        actor=actor,
        action="client_consent",
        details=details,
    )
    if value is True:
        release_held(desk, session=session, case=case, now=now)
    return True


def set_consent(
    desk: Desk, *, reference: str, value: str, note: str | None, actor: str, now: datetime
) -> Case:
    """The secretariat records the consent (`dsr cases consent REF yes|no|unknown`)."""
    if value not in CHOICES:
        raise ActionRefused(f"unknown answer {value!r}; use yes, no or unknown")
    with desk.transaction() as session:
        case = lock_case(session=session, reference=reference)
        if case is None:
            raise UnknownCase(reference)
        if case.state in CLOSED:
            raise ActionRefused(
                f"case {case.reference} is closed ({case.state}); nothing to change"
            )
        apply_consent(
            desk,
            session=session,
            case=case,
            value=CHOICES[value],
            actor=actor,
            how="secretariat",
            now=now,
            note=(note or "").strip() or None,
        )
        return case
