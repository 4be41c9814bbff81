"""Recognise data-subject requests (GDPR/AVG) in Dutch and English mail, with evidence.

`classify(text=..., subject=..., headers=...)` is pure: no database, no network. The phrases
it looks for live in `bot/classify/vocabulary/*.toml`, for the privacy officer to review. Its
answer carries a `route` (case, review, ignore or breach: see `Classification`); it reads at most
`MAX_TEXT` characters of new text and gives up to a person after `BUDGET_S` seconds.
"""

from .budget import BUDGET_S, MAX_TEXT
from .engine import classify
from .result import ROUTES, Classification, Route
from .vocabulary import CATEGORIES, REQUEST_CATEGORIES

__all__ = [
    "BUDGET_S",
    "CATEGORIES",
    "MAX_TEXT",
    "REQUEST_CATEGORIES",
    "ROUTES",
    "Classification",
    "Route",
    "classify",
]
