"""Tell Dutch from English by function-word frequencies; Dutch when unsure."""

from .vocabulary import load_vocabulary

__all__ = ["detect_language"]


def detect_language(words: list[str]) -> str:
    """Return "en" only when English function words clearly outnumber Dutch ones."""
    lists = load_vocabulary().function_words
    dutch = sum(1 for w in words if w in lists["nl"])
    english = sum(1 for w in words if w in lists["en"])
    if english >= 3 and english > 1.3 * dutch:
        return "en"
    return "nl"
