"""Identity confirmation with a one-time code, through the real intake path (both databases)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot import cases as core
from bot.desk import Desk
from bot.identity import find_codes
from bot.intake import process_message
from bot.outbox import UnverifiedDisclosure, queue_mail
from bot.register import import_register
from storage.models import AuditEvent, IdentityCheck
from tests.factories import T0
from tests.mailbuilder import build_mail, code_in, outbound, text_of


def _request(desk: Desk, **kwargs: object) -> tuple[str, str, str]:
    """Send a request; return (reference, code sent, Message-ID of our ack)."""
    result = process_message(desk, build_mail(**kwargs), now=T0, source="test")  # type: ignore[arg-type]
    assert result.action == "created" and result.case
    item, mail = outbound(desk)[-1]
    code = code_in(mail)
    assert code is not None, text_of(mail)
    return result.case, code, str(mail["Message-ID"])


def _reply(
    desk: Desk,
    reference: str,
    body: str,
    *,
    ack_id: str,
    minutes: int = 5,
    headers: dict[str, str] | None = None,
) -> str:
    raw = build_mail(
        subject=f"Re: [{reference}] Wij hebben uw verzoek ontvangen",
        body=body,
        in_reply_to=ack_id,
        headers=headers,
    )
    return process_message(desk, raw, now=T0 + timedelta(minutes=minutes), source="test").reason


def test_codes_are_found_with_spaces_and_dashes() -> None:
    assert find_codes("mijn code is 123 456") == ["123456"]
    assert find_codes("code: 123-456.") == ["123456"]
    assert find_codes("bel 06-12345678 of IBAN NL91 1234 5678 90") == []
    assert find_codes("op 2026-03-02 om 10.30") == []


def test_ack_carries_a_code_and_the_right_code_verifies(desk: Desk) -> None:
    reference, code, ack_id = _request(desk)
    reason = _reply(desk, reference, f"Hierbij de code: {code[:3]} {code[3:]}", ack_id=ack_id)
    assert "identity: verified" in reason
    case = core.get_case(desk, reference=reference)
    assert case.state == "open" and case.verified_at is not None
    confirmations = [m for _, m in outbound(desk) if "bevestigd" in str(m["Subject"])]
    assert len(confirmations) == 1


def test_code_in_a_reply_that_quotes_the_original_mail_verifies(desk: Desk) -> None:
    reference, code, ack_id = _request(desk)
    body = (
        f"{code}\n\nOp 2 mrt 2026 om 10:31 schreef Secretariaat:\n"
        "> Beantwoord deze e-mail daarom met de volgende code:\n> 000000\n"
    )
    assert "verified" in _reply(desk, reference, body, ack_id=ack_id)


def test_code_only_in_quoted_history_does_not_count(desk: Desk) -> None:
    reference, code, ack_id = _request(desk)
    body = f"Dank u.\n\nOp 2 mrt 2026 om 10:31 schreef Secretariaat:\n>     {code}\n"
    _reply(desk, reference, body, ack_id=ack_id)
    assert core.get_case(desk, reference=reference).verified_at is None


def test_code_in_an_out_of_office_reply_is_ignored(desk: Desk) -> None:
    reference, code, ack_id = _request(desk)
    _reply(
        desk,
        reference,
        f"Ik ben afwezig. {code}",
        ack_id=ack_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert core.get_case(desk, reference=reference).verified_at is None


def test_five_wrong_codes_lock_self_service_and_tell_both_sides(desk: Desk) -> None:
    reference, code, ack_id = _request(desk)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    reasons = [_reply(desk, reference, wrong, ack_id=ack_id, minutes=i) for i in range(1, 6)]
    assert "identity: wrong" in reasons[0] and "identity: locked" in reasons[4]
    assert "identity: locked" in _reply(desk, reference, code, ack_id=ack_id, minutes=7)
    case = core.get_case(desk, reference=reference)
    assert case.verified_at is None and "identity_locked" in case.flags
    assert sum("secretariaat" in str(m["Subject"]) for _, m in outbound(desk)) == 1


def test_expired_code_gets_a_fresh_one_that_works(desk: Desk) -> None:
    reference, code, ack_id = _request(desk)
    reason = _reply(desk, reference, code, ack_id=ack_id, minutes=25 * 60)
    assert "new_code_expired" in reason
    fresh = code_in(outbound(desk)[-1][1])
    assert fresh is not None and fresh != code
    assert "verified" in _reply(desk, reference, fresh, ack_id=ack_id, minutes=25 * 60 + 5)


def test_new_code_on_request_at_most_three_per_day(desk: Desk) -> None:
    reference, _, ack_id = _request(desk)
    reasons = [
        _reply(desk, reference, "Graag een nieuwe code", ack_id=ack_id, minutes=i)
        for i in range(1, 4)
    ]
    assert reasons[0].endswith("new_code_asked") and reasons[1].endswith("new_code_asked")
    assert reasons[2].endswith("code_limit")


def test_a_registered_name_at_another_address_is_flagged_and_not_redirected(
    desk: Desk,
) -> None:
    """Redirecting the code by a display name would tell the writer whether the register
    knows the name; the secretariat is told instead."""
    import_register(
        desk, text="name,email\nJan Jansen,jan.jansen@werk.example\n", actor="test", now=T0
    )
    result = process_message(
        desk, build_mail(sender="Jan Jansen <jan.jansen@elders.example>"), now=T0, source="test"
    )
    codes = [str(m["To"]) for _, m in outbound(desk) if code_in(m) is not None]
    assert codes == ["jan.jansen@elders.example"]
    case = core.get_case(desk, reference=result.case or "")
    assert {"name_on_record", "unknown_requester"} <= set(case.flags)


def test_a_registered_address_written_another_way_gets_the_code_at_the_address_on_record(
    desk: Desk,
) -> None:
    import_register(
        desk, text="name,email\nJan Jansen,jan.jansen@werk.example\n", actor="test", now=T0
    )
    process_message(
        desk, build_mail(sender="Jan <Jan.Jansen+dsr@Werk.example>"), now=T0, source="test"
    )
    codes = [str(m["To"]) for _, m in outbound(desk) if code_in(m) is not None]
    assert codes == ["jan.jansen@werk.example"]


def test_known_person_matches_case_insensitively_and_with_plus_tags(desk: Desk) -> None:
    import_register(desk, text="name,email\nAnna de Vries,anna@example.nl\n", actor="t", now=T0)
    result = process_message(
        desk, build_mail(sender="Anna <Anna+dsr@Example.NL>"), now=T0, source="test"
    )
    case = core.get_case(desk, reference=result.case or "")
    assert "unknown_requester" not in case.flags


def test_unknown_sender_gets_the_code_and_the_case_is_flagged(desk: Desk) -> None:
    reference, _, _ = _request(desk)
    assert "unknown_requester" in core.get_case(desk, reference=reference).flags


def test_codes_never_reach_audit_trail_or_logs(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reference, code, ack_id = _request(desk)
    _reply(desk, reference, code, ack_id=ack_id)
    with desk.transaction() as session:
        events = session.exec(select(AuditEvent)).all()
        check = session.exec(select(IdentityCheck)).one()
    assert all(code not in str(e.details) for e in events)
    assert code.encode() not in check.secret
    assert all(code not in record.getMessage() for record in caplog.records)


def test_no_outcome_mail_leaves_for_an_unverified_case(desk: Desk) -> None:
    reference, _, _ = _request(desk)
    case = core.get_case(desk, reference=reference)
    with desk.transaction() as session, pytest.raises(UnverifiedDisclosure, match=reference):
        queue_mail(
            desk,
            session=session,
            case=case,
            template="outcome_done",
            to=case.requester,
            now=T0,
            context={},
            dedupe_key="x",
            automatic=False,
        )


def test_failed_dmarc_from_our_trusted_server_is_flagged(desk: Desk) -> None:
    trusted = desk.settings.model_copy(update={"trusted_authserv_id": "mx.proambt.nl"})
    flagged = Desk(settings=trusted, engine=desk.engine)
    raw = build_mail(
        headers={
            "Authentication-Results": "mx.proambt.nl; dkim=fail header.d=example.nl; dmarc=fail",
        }
    )
    result = process_message(flagged, raw, now=T0, source="test")
    case = core.get_case(desk, reference=result.case or "")
    assert {"auth_dkim_failed", "auth_dmarc_failed"} <= set(case.flags)


def test_authentication_results_from_other_servers_are_not_trusted(desk: Desk) -> None:
    trusted = desk.settings.model_copy(update={"trusted_authserv_id": "mx.proambt.nl"})
    raw = build_mail(headers={"Authentication-Results": "evil.example; dmarc=fail"})
    result = process_message(Desk(settings=trusted, engine=desk.engine), raw, now=T0, source="test")
    assert not any(
        f.startswith("auth_") for f in core.get_case(desk, reference=result.case or "").flags
    )


def test_register_import_reports_bad_rows_and_is_idempotent(desk: Desk) -> None:
    text = (
        "name,email,employee_number,organisation,date_of_birth\n"
        "Jan Jansen,jan@example.nl,123,Acme,1970-01-31\n"
        "Geen Adres,not-an-address,,,\n"
        "Piet Bad,piet@example.nl,,,31-01-1970\n"
        "Anna,anna@example.nl,,,\n"
    )
    first = import_register(desk, text=text, actor="t", now=T0)
    assert (first.created, first.updated) == (2, 0)
    assert [e.split(":")[0] for e in first.errors] == ["line 3", "line 4"]
    again = import_register(desk, text=text, actor="t", now=T0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = import_register(
        desk, text="name,email\nJan J. Jansen,JAN@example.nl\n", actor="t", now=T0
    )
    assert (changed.created, changed.updated) == (0, 1)


def test_the_identity_reminder_goes_where_the_code_went(desk: Desk) -> None:
    from datetime import UTC, datetime

    from bot.sweep import run_sweep

    import_register(
        desk, text="name,email\nJan Jansen,jan.jansen@werk.example\n", actor="test", now=T0
    )
    process_message(
        desk, build_mail(sender="Jan <Jan.Jansen+dsr@Werk.example>"), now=T0, source="test"
    )
    before = len(outbound(desk))
    run_sweep(desk, now=datetime(2026, 3, 6, 9, 0, tzinfo=UTC))  # 4 working days later
    reminders = [
        m for item, m in outbound(desk)[before:] if item.kind.endswith("identity_reminder")
    ]
    assert [str(m["To"]) for m in reminders] == ["jan.jansen@werk.example"]


def test_verifying_by_code_updates_the_case_message_in_slack(desk: Desk) -> None:
    """Verification by code goes through the one change path, so the case's Slack message is
    updated like after any other change (it would otherwise keep saying "not verified")."""
    from storage.models import OutboxItem

    with_slack = Desk(
        settings=desk.settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-test")}),
        engine=desk.engine,
    )
    reference, code, ack_id = _request(with_slack)
    _reply(with_slack, reference, code, ack_id=ack_id)
    case = core.get_case(desk, reference=reference)
    with desk.transaction() as session:
        updates = session.exec(
            select(OutboxItem.dedupe_key).where(OutboxItem.kind == "case_updated")
        ).all()
    assert f"slack:update:{case.id}:{case.version}" in updates
