"""What a message showed of a case, carried in its buttons, to tell a stale press (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.slack.texts import kind_label, person, state_label
from storage.models import Case

SEP = "|"


@dataclass(frozen=True)
class CaseStamp:
    reference: str
    version: int
    state: str
    category: str
    assignee: str
    verified: bool

    @classmethod
    def of(cls, case: Case) -> CaseStamp:
        return cls(
            reference=case.reference,
            version=case.version,
            state=case.state,
            category=case.category,
            assignee=case.assignee or "",
            verified=case.verified_at is not None,
        )

    def encode(self) -> str:
        fields = (self.reference, str(self.version), self.state, self.category, self.assignee)
        return SEP.join((*fields, "1" if self.verified else "0"))

    @classmethod
    def decode(cls, value: str) -> CaseStamp | None:
        parts = value.split(SEP)
        if len(parts) != 6 or not parts[1].isdigit():
            return None
        reference, version, state, category, assignee, verified = parts
        return cls(reference, int(version), state, category, assignee, verified == "1")


def what_changed(shown: CaseStamp, case: Case) -> list[str]:
    """The differences between what the message showed and the case as it is now."""
    if shown.version == case.version:
        return []
    now = CaseStamp.of(case)
    changes = []
    if shown.state != now.state:
        changes.append(f"state {state_label(shown.state)} -> {state_label(now.state)}")
    if shown.category != now.category:
        changes.append(f"kind {kind_label(shown.category)} -> {kind_label(now.category)}")
    if shown.assignee != now.assignee:
        changes.append(
            f"assignee {person(shown.assignee or None)} -> {person(now.assignee or None)}"
        )
    if shown.verified != now.verified:
        changes.append("identity verified / identiteit bevestigd")
    if not changes:
        changes.append("details (e.g. deadline or notes) / details (bijv. termijn of notities)")
    return changes


def stale_notice(shown: CaseStamp, case: Case) -> str:
    changes = what_changed(shown, case)
    if not changes:
        return ""
    return (
        f"This message was out of date; {case.reference} changed since / "
        f"dit bericht was verouderd; sindsdien gewijzigd: " + "; ".join(changes) + "."
    )
