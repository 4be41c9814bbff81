"""Tell Dutch from English by function-word frequencies; Dutch when unsure."""

from .vocabulary import load_vocabulary

__all__ = ["detect_language"]


def detect_language(words: list[str]) -> str:
    """Return "en" only when English function words clearly outnumber Dutch ones."""
    lists = load_vocabulary().function_words
    dutch = sum(map(lists["nl"].__contains__, words))
    english = sum(map(lists["en"].__contains__, words))
    if english >= 3 and english > 1.3 * dutch:
        return "en"
    return "nl"
