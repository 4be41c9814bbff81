"""OTP brute force: 10,000 wrong codes over 20 cases, with a restart (a new Desk on the same
database) in the middle, never verify anything; a locked case stays locked, even for the right
code, and after 5 wrong codes nothing more is counted as a try."""

from __future__ import annotations

import random
from collections import Counter

import pyotp
from sqlalchemy import func
from sqlmodel import select

from bot.desk import Desk
from bot.identity import handle_reply
from bot.intake import process_message
from storage.engine import make_engine
from storage.models import AuditEvent, Case, IdentityCheck
from tests.factories import T0
from tests.mailbuilder import build_mail

CASES, TRIES, SAMPLE_MAILS = 20, 10_000, 40


def current_code(check: IdentityCheck) -> str:
    return str(pyotp.HOTP(check.secret.decode()).at(len(check.issues) - 1))


def guess(desk: Desk, case_id: int, rng: random.Random, *, right: bool = False) -> str:
    with desk.transaction() as session:
        case, check = session.get(Case, case_id), session.get(IdentityCheck, case_id)
        assert case is not None and check is not None
        code = current_code(check)
        if not right:
            guesses = iter(lambda: f"{rng.randrange(10**6):06d}", "")
            code = next(g for g in guesses if g != code)
        text = f"Mijn code: {code}"
        return handle_reply(
            desk,
            session=session,
            case=case,
            new_text=text,
            sender=check.sent_to,
            now=T0,
            in_reply_to=None,
        )


def test_ten_thousand_wrong_codes_and_a_restart_verify_nothing(desk: Desk) -> None:
    rng = random.Random(20260302)
    ids = []
    for n in range(CASES):
        mail = build_mail(sender=f"Persoon {n} <p{n}@example.nl>")
        assert process_message(desk, mail, now=T0, source="test").action == "created"
    with desk.transaction() as session:
        ids = [int(i or 0) for i in session.exec(select(Case.id).order_by(Case.id)).all()]
    outcomes: Counter[str] = Counter()
    # Before the restart: half the cases are hammered, the other half get 3 wrong codes.
    first, second = ids[: CASES // 2], ids[CASES // 2 :]
    tries = 0
    for case_id in second:
        for _ in range(3):
            outcomes[guess(desk, case_id, rng)] += 1
            tries += 1
    while tries < TRIES // 2:
        outcomes[guess(desk, first[tries % len(first)], rng)] += 1
        tries += 1
    desk.engine.dispose()
    restarted = Desk(settings=desk.settings, engine=make_engine(desk.settings.database_url))
    try:
        while tries < TRIES:
            outcomes[guess(restarted, ids[tries % len(ids)], rng)] += 1
            tries += 1
        right_after_lock = Counter(guess(restarted, i, rng, right=True) for i in ids)
        sample: Counter[str] = Counter()
        for n in range(SAMPLE_MAILS):
            mail = build_mail(
                sender=f"Persoon {n % CASES} <p{n % CASES}@example.nl>",
                subject=f"Re: [{reference(restarted, ids[n % CASES])}] Inzageverzoek",
                body=f"Hier is de code: {rng.randrange(10**6):06d}\n",
            )
            sample[process_message(restarted, mail, now=T0, source="test").reason] += 1
        with restarted.transaction() as session:
            checks = session.exec(select(IdentityCheck)).all()
            verified = session.exec(
                select(func.count()).select_from(Case).where(Case.verified_at.is_not(None))  # type: ignore[union-attr]
            ).one()
            wrong_events = Counter(
                session.exec(
                    select(AuditEvent.case_id).where(AuditEvent.action == "code_wrong")
                ).all()
            )
    finally:
        restarted.engine.dispose()
    print(
        f"\nOTP brute force: {tries} wrong codes over {CASES} cases, restart after "
        f"{TRIES // 2}; outcomes {dict(outcomes)}; counted as tries "
        f"{sum(wrong_events.values())} (max {max(wrong_events.values())} per case); verified "
        f"{verified}; right code after the lock-out: {dict(right_after_lock)}; "
        f"{SAMPLE_MAILS} full mails with codes: {dict(sample)}"
    )
    assert verified == 0
    assert "verified" not in outcomes and "verified" not in right_after_lock
    assert right_after_lock == Counter({"locked": CASES})
    assert all(c.locked and c.wrong_attempts == 5 for c in checks)
    assert wrong_events == Counter(dict.fromkeys(ids, 5))
    assert outcomes["wrong"] == 4 * CASES and outcomes["locked"] == TRIES - 4 * CASES
    assert all("identity: locked" in reason for reason in sample)


def reference(desk: Desk, case_id: int) -> str:
    with desk.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.reference
