"""The case state machine as plain rules; the state names are part of the JSON output of
`dsr cases` (see docs/cli.md)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    AWAITING_IDENTITY = "awaiting_identity"
    NEEDS_TRIAGE = "needs_triage"
    OPEN = "open"
    EXTENDED = "extended"
    DONE = "done"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


CLOSED = frozenset({State.DONE, State.REFUSED, State.WITHDRAWN})
ACTIVE = frozenset(State) - CLOSED

# Refusal and withdrawal are possible from every active state; `done` needs a verified,
# triaged case; identity comes first, triage (a human picks the kind) second.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.AWAITING_IDENTITY: frozenset(
        {State.OPEN, State.NEEDS_TRIAGE, State.EXTENDED, State.REFUSED, State.WITHDRAWN}
    ),
    State.NEEDS_TRIAGE: frozenset(
        {State.OPEN, State.EXTENDED, State.DONE, State.REFUSED, State.WITHDRAWN}
    ),
    State.OPEN: frozenset({State.EXTENDED, State.DONE, State.REFUSED, State.WITHDRAWN}),
    State.EXTENDED: frozenset({State.DONE, State.REFUSED, State.WITHDRAWN}),
    State.DONE: frozenset(),
    State.REFUSED: frozenset(),
    State.WITHDRAWN: frozenset(),
}


class IllegalTransition(Exception):
    """A state change the rules do not allow; the message says what is allowed instead."""

    def __init__(self, reference: str, current: State, wanted: State) -> None:
        allowed = sorted(TRANSITIONS[current])
        allowed_text = ", ".join(allowed) if allowed else "none (the case is closed)"
        super().__init__(
            f"case {reference} is {current}; it cannot become {wanted}. "
            f"Allowed next: {allowed_text}"
        )
        self.reference = reference
        self.current = current
        self.wanted = wanted


def check_transition(reference: str, current: str, wanted: str) -> State:
    """Return the new state, or raise IllegalTransition."""
    now_state, next_state = State(current), State(wanted)
    if next_state not in TRANSITIONS[now_state]:
        raise IllegalTransition(reference, now_state, next_state)
    return next_state
