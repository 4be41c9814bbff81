"""The classifier's answer, in the shape CONTRACT.md gives for `dsr classify --json`."""

from dataclasses import dataclass

__all__ = ["Classification"]


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float
    also: tuple[str, ...]
    language: str
    auto_reply: bool
    needs_triage: bool
    evidence: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "also": list(self.also),
            "language": self.language,
            "auto_reply": self.auto_reply,
            "needs_triage": self.needs_triage,
            "evidence": list(self.evidence),
        }
