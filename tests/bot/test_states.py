import pytest

from bot.states import CLOSED, TRANSITIONS, IllegalTransition, State, check_transition


@pytest.mark.parametrize(
    ("current", "wanted"),
    [(c, w) for c, targets in TRANSITIONS.items() for w in targets],
)
def test_allowed_transitions_pass(current: State, wanted: State) -> None:
    assert check_transition("DSR-2026-0001", current, wanted) == wanted


def test_closed_states_are_final() -> None:
    for state in CLOSED:
        assert TRANSITIONS[state] == frozenset()


def test_illegal_transition_names_case_current_state_and_allowed_next() -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition("DSR-2026-0042", "extended", "awaiting_identity")
    message = str(caught.value)
    assert "DSR-2026-0042" in message
    assert "is extended" in message
    assert "done, refused, withdrawn" in message


def test_closed_case_says_nothing_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match="none \\(the case is closed\\)"):
        check_transition("DSR-2026-0042", "done", "open")


def test_unverified_case_cannot_skip_to_done() -> None:
    with pytest.raises(IllegalTransition):
        check_transition("DSR-2026-0001", "awaiting_identity", "done")
