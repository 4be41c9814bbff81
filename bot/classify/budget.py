"""Bounds on one recognition: how much text it reads and how long it may take."""

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BUDGET_S", "MAX_TEXT", "Budget", "BudgetExceeded"]

MAX_TEXT = 65_536
"""Characters of a mail's new text that recognition reads; the rest is not read. A request
is written at the top of a mail: 64 KB is some forty pages of plain text."""
BUDGET_S = 2.0
"""Seconds one recognition may take before it gives the mail to a person (route review)."""


class BudgetExceeded(Exception):
    """Raised by `Budget.check` once the time is spent."""


@dataclass(frozen=True)
class Budget:
    """A deadline on `clock` (seconds, monotonic), checked between recognition's steps."""

    clock: Callable[[], float]
    deadline: float

    def check(self) -> None:
        if self.clock() > self.deadline:
            raise BudgetExceeded
