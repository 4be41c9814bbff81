"""Mails that follow a secretariat action, in the requester's language (both databases)."""

from datetime import timedelta

from bot import cases as core
from bot.desk import Desk
from bot.intake import process_message
from tests.factories import T0, new_case
from tests.mailbuilder import build_mail, outbound, text_of

LATER = T0 + timedelta(hours=2)


def _case_from_mail(desk: Desk, **kwargs: str) -> str:
    result = process_message(desk, build_mail(**kwargs), now=T0, source="test")
    assert result.case is not None
    return result.case


def test_extension_notice_gives_reasons_new_date_and_the_authority(desk: Desk) -> None:
    reference = _case_from_mail(desk)
    core.extend(
        desk,
        reference=reference,
        reasons="wij moeten drie archieven doorzoeken",
        actor="t",
        now=LATER,
    )
    item, mail = outbound(desk)[-1]
    text = " ".join(text_of(mail).split())
    assert item.kind == "extension_notice"
    assert "wij moeten drie archieven doorzoeken" in text
    # Received Mon 2 March: due Thu 2 April; extended: earlier of 2 June and 2 April + 2 months.
    assert "dinsdag 2 juni 2026" in text
    assert "Autoriteit Persoonsgegevens" in text


def test_refusal_states_reasons_and_the_rights_to_complain_and_go_to_court(desk: Desk) -> None:
    reference = _case_from_mail(
        desk, body="Dear team, please send me a copy of all personal data you hold on me."
    )
    core.close(
        desk,
        reference=reference,
        outcome="refused",
        note="we could not confirm your identity",
        actor="t",
        now=LATER,
    )
    _, mail = outbound(desk)[-1]
    text = " ".join(text_of(mail).split())
    assert str(mail["Subject"]).endswith("We cannot carry out your request")
    assert "we could not confirm your identity" in text
    assert "Autoriteit Persoonsgegevens" in text and "go to court" in text


def test_done_goes_to_the_verified_address_without_the_internal_note(desk: Desk) -> None:
    reference = _case_from_mail(desk)
    core.verify_by_hand(desk, reference=reference, note="called back", actor="t", now=LATER)
    core.close(
        desk,
        reference=reference,
        outcome="done",
        note="internal: sent via portal",
        actor="t",
        now=LATER,
    )
    item, mail = outbound(desk)[-1]
    assert item.kind == "outcome_done"
    assert str(mail["To"]) == "jan.jansen@example.nl"
    assert "internal" not in text_of(mail)


def test_case_without_reply_address_gets_no_outcome_mail(desk: Desk) -> None:
    case = new_case(desk)
    before = len(outbound(desk))
    with desk.transaction() as session:
        stored = session.merge(case)
        stored.flags = ["no_reply_address"]
    core.close(desk, reference=case.reference, outcome="withdrawn", note="n", actor="t", now=LATER)
    assert len(outbound(desk)) == before
