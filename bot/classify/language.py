"""Tell Dutch from English by function-word frequencies; a hint, then Dutch, when unsure."""

from .vocabulary import load_vocabulary

__all__ = ["detect_language"]


def detect_language(words: list[str], *, hint: str | None = None) -> str:
    """Return "en" when English function words clearly outnumber Dutch ones, "nl" when Dutch
    ones outnumber English ones; otherwise the `hint` (from the mail's headers and subject,
    bot.mail.language) when there is one, and Dutch, the firm's language, when there is none."""
    lists = load_vocabulary().function_words
    dutch = sum(map(lists["nl"].__contains__, words))
    english = sum(map(lists["en"].__contains__, words))
    if english >= 3 and english > 1.3 * dutch:
        return "en"
    if dutch > english or hint not in {"nl", "en"}:
        return "nl"
    return str(hint)
