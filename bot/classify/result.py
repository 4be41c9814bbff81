"""The classifier's answer: what `dsr classify --json` prints and what intake acts on."""

from dataclasses import dataclass
from typing import Literal

__all__ = ["ROUTES", "Classification", "Route", "for_a_person"]

Route = Literal["case", "review", "ignore", "breach"]
ROUTES: tuple[Route, ...] = ("case", "review", "ignore", "breach")


@dataclass(frozen=True)
class Classification:
    """`route` is what intake does with a person's mail:

    - `case`: a data-subject request whose kind is known with confidence; a case is opened
      and acknowledged (GDPR art. 12(3): the month runs from receipt);
    - `review`: it might be a request; a person looks first, no case is opened and nothing is
      sent until they do (`needs_triage` is true exactly then);
    - `ignore`: ordinary or machine mail, left alone for the people reading the mailbox;
    - `breach`: a personal data breach notice (bot/classify/breach.py): a breach record with
      its 72-hour clock, no acknowledgement and no identity check.

    `reason` says in a few words why the route was chosen (never the mail's text).
    """

    category: str
    confidence: float
    also: tuple[str, ...]
    language: str
    auto_reply: bool
    needs_triage: bool
    evidence: tuple[str, ...]
    route: Route
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "also": list(self.also),
            "language": self.language,
            "auto_reply": self.auto_reply,
            "needs_triage": self.needs_triage,
            "evidence": list(self.evidence),
            "route": self.route,
            "reason": self.reason,
        }


def for_a_person(reason: str) -> Classification:
    """The answer when recognition could not read the mail (out of time, or it failed):
    review, so a person looks and nothing is lost or sent."""
    return Classification(
        category="other",
        confidence=0.0,
        also=(),
        language="nl",
        auto_reply=False,
        needs_triage=True,
        evidence=(reason,),
        route="review",
        reason=reason,
    )
