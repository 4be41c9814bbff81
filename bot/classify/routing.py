"""Decide what intake does with a person's mail: open a case, ask a person, or leave it.

The mailbox is a general one (appointments, pension questions, invoices, newsletters): a
request is a small share of it. A case needs evidence a person can check: a reviewed phrase
of the request's kind, or the learned model sure of it in a mail long enough to judge (or
with a hint of that kind). A mail that might be a request (a reviewed phrase that the rest of
the mail outweighs, a phrase in its everyday sense about the writer's own data, an unsure
kind, a writer speaking of their own person or data while the model leans to a request) goes
to review; everything else is ordinary mail and left alone. A breach notice is routed after
this, in `breach.breach_route`.
"""

from dataclasses import replace

from .model import Prediction
from .result import Classification
from .scoring import OWN_WORDS, Hit
from .vocabulary import REQUEST_CATEGORIES

__all__ = ["MODEL_LEANS", "MODEL_SURE", "MODEL_WORDS", "route"]

MODEL_SURE = 0.1
"""The model alone may decide when its share for ordinary mail is below this."""
MODEL_WORDS = 12
"""Words of new text the model needs to decide alone (fewer: only with a hint of the kind;
"Please find the attachment. Regards, John" is too short to mean anything)."""
MODEL_LEANS = 0.6
"""In a mail where the writer speaks of their own person or data ("mijn", "my"), a model
share for ordinary mail below this sends the mail to review: a request in words of its own
that no reviewed phrase covers (one in 40 requests of a writer the model never saw)."""


def route(
    result: Classification, hits: list[Hit], prediction: Prediction, words: list[str]
) -> Classification:
    """`result` with its route, reason and `needs_triage` (true exactly for review)."""
    reviewed = {
        h.category
        for h in hits
        if h.category in REQUEST_CATEGORIES and h.tier != "weak" and not h.dampened
    }
    torn = any(h.dampened and h.signal for h in hits)
    # the reviewed vocabulary reads the mail as ordinary ("Wil je deze nieuwsbrief niet meer
    # ontvangen? Klik hier ..."): the model alone cannot make it a case
    ordinary = any(h.category == "other" and h.tier == "strong" for h in hits)
    p_other = prediction.probabilities.get("other", 1.0)
    long_enough = len(words) >= MODEL_WORDS

    def model_sure(category: str | None) -> bool:
        hinted = any(h.category == category for h in hits)
        return not ordinary and p_other < MODEL_SURE and (long_enough or hinted)

    any_hint = any(h.category in REQUEST_CATEGORIES for h in hits)
    leans = (
        not ordinary
        and p_other < MODEL_LEANS
        and (long_enough or any_hint)
        and not OWN_WORDS.isdisjoint(words)
    )

    category = result.category
    if category != "other":
        if not result.needs_triage and category in reviewed:
            return _as(result, "case", "a request phrase of its kind")
        if not result.needs_triage and model_sure(category):
            return _as(result, "case", "the learned model is sure of its kind")
        if reviewed or torn or model_sure(category):
            return _as(result, "review", "a request, kind uncertain")
        if leans:
            return _as(result, "review", "the writer's own data, and the model leans to a request")
        return _ignore(result)
    if result.needs_triage:
        if reviewed:
            return _as(result, "review", "a request phrase in a mail that reads as ordinary")
        if torn:
            return _as(result, "review", "a request phrase in its everyday sense")
        if model_sure(None):
            return _as(result, "review", "the learned model sees a request")
        if leans:
            return _as(result, "review", "the writer's own data, and the model leans to a request")
    return _ignore(result)


def _as(result: Classification, where: str, reason: str) -> Classification:
    if where == "case":
        return replace(result, needs_triage=False, route="case", reason=reason)
    return replace(result, needs_triage=True, route="review", reason=reason)


def _ignore(result: Classification) -> Classification:
    if result.category == "other":
        return replace(result, needs_triage=False, also=(), route="ignore", reason=_ORDINARY)
    # a request reading without evidence a person could check: ordinary mail
    return replace(
        result,
        category="other",
        confidence=round(1.0 - result.confidence, 3),
        also=(),
        needs_triage=False,
        route="ignore",
        reason=_ORDINARY,
    )


_ORDINARY = "no request recognised"
