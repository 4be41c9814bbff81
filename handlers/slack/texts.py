"""Words shown in Slack, English and Dutch in one line (the desk works in both)."""

from __future__ import annotations

from bot.categories import ALL_CATEGORIES, SHORT_NAMES, plain_words
from bot.states import CLOSED, State

KIND_LABELS: dict[str, str] = {
    kind: f"{SHORT_NAMES['en'][kind].capitalize()} / {SHORT_NAMES['nl'][kind].capitalize()}"
    for kind in ALL_CATEGORIES
}

STATE_LABELS: dict[str, str] = {
    "awaiting_identity": "Awaiting identity / Wacht op identiteit",
    "needs_triage": "Needs triage / Soort bepalen",
    "open": "Open",
    "extended": "Extended / Verlengd",
    "done": "Done / Afgehandeld",
    "refused": "Refused / Geweigerd",
    "withdrawn": "Withdrawn / Ingetrokken",
}

OUTCOMES: tuple[str, ...] = tuple(str(state) for state in State if state in CLOSED)

NOT_AUTHORISED = (
    "Not authorised: only the secretariat may do this. / "
    "Niet bevoegd: alleen het secretariaat mag dit doen."
)
SOMETHING_WENT_WRONG = (
    "Something went wrong on our side; nothing was changed. Try again in a minute. / "
    "Er ging bij ons iets mis; er is niets gewijzigd. Probeer het over een minuut opnieuw."
)

THREAD_NOTES: dict[str, str] = {
    "reply": "Reply received from the requester / Antwoord van de aanvrager ontvangen",
    "bounce": "Our mail to the requester bounced / Onze mail aan de aanvrager kwam terug",
    "reminder": "Reminder: the deadline is near / Herinnering: de termijn loopt bijna af",
    "verified": "Identity verified / Identiteit bevestigd",
    "identity_locked": (
        "Too many wrong codes: confirm the identity another way, then verify by hand / "
        "Te veel onjuiste codes: bevestig de identiteit op een andere manier en daarna handmatig"
    ),
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def kind_words(kind: str, language: str) -> str:
    """The kind as the requester would read it, in the case's language."""
    return plain_words(kind, language)


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def person(assignee: str | None) -> str:
    """`slack:U123` -> a Slack mention; other names (from the terminal) as they are."""
    if not assignee:
        return "nobody / niemand"
    if assignee.startswith("slack:"):
        return f"<@{assignee.removeprefix('slack:')}>"
    return assignee


def thread_note(note: str, *, closed: bool = False, other_sender: bool = False) -> str:
    text = THREAD_NOTES.get(note, note)
    extras = []
    if other_sender:
        extras.append("from another address / van een ander adres")
    if closed:
        extras.append("the case is closed / de zaak is gesloten")
    return text + (" (" + "; ".join(extras) + ")" if extras else "")


# Flags that tell the secretariat to look twice before trusting who wrote (bot/intake.py).
FLAG_WARNINGS: dict[str, str] = {
    "reply_to_differs": "Reply-To differs from From / Reply-To wijkt af van afzender",
    "code_sent_to_record": "code sent to the address on record / code naar bekend adres",
    "code_sent_to_from": "code sent to From, not Reply-To / code naar afzender, niet Reply-To",
    "name_on_record": "name known at another address / naam bekend bij ander adres",
    "unsendable_address": "address cannot be written to / adres onbruikbaar",
    "unknown_requester": "not in the register / niet in het register",
    "no_reply_address": "no address to answer / geen antwoordadres",
    "identity_locked": "code self-service locked / code geblokkeerd",
    "auth_dkim_failed": "DKIM failed / DKIM mislukt",
    "auth_spf_failed": "SPF failed / SPF mislukt",
    "auth_dmarc_failed": "DMARC failed / DMARC mislukt",
    "bounced": "our mail bounced / onze mail kwam terug",
}


def flag_warnings(flags: list[str]) -> list[str]:
    return [FLAG_WARNINGS[f] for f in flags if f in FLAG_WARNINGS]
