"""Recognise data-subject requests (GDPR/AVG) in Dutch and English mail, with evidence.

`classify(text=..., subject=..., headers=...)` is pure: no database, no network. The phrases
it looks for live in `bot/classify/vocabulary/*.toml`, for the privacy officer to review.
"""

from .engine import classify
from .result import Classification
from .vocabulary import CATEGORIES, REQUEST_CATEGORIES

__all__ = ["CATEGORIES", "REQUEST_CATEGORIES", "Classification", "classify"]
