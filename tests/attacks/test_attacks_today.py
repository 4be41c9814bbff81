"""Attacks on the day's changes: intake storing and routing in one transaction, an owner's
reply threading to its task, and the CSV cells a spreadsheet opens.

Each test names the attack and asserts the safe behaviour; each failed on the code it was
written against (both databases unless it says otherwise).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import DataError
from sqlmodel import col, select

from bot import cases as core
from bot import tasks as work
from bot.csv_cells import FORMULA_STARTS, safe_cell, safe_row
from bot.desk import Desk
from bot.intake import TemporaryIntakeError, process_message
from storage.models import AuditEvent, Message, Task
from tests.factories import T0, inventory_desk, new_case
from tests.mailbuilder import build_mail, outbound

OWNER = "financien@proambt.nl"  # the financial administration's owner in the example inventory
REQUESTER = "Jan Jansen <jan.jansen@example.nl>"
LATER = T0 + timedelta(hours=3)


def _inbound(desk: Desk) -> list[Message]:
    with desk.transaction() as session:
        statement = select(Message).where(Message.direction == "in").order_by(col(Message.id))
        return list(session.exec(statement).all())


def _events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.transaction() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- intake: one transaction stores and routes ------------------------------------------------


@pytest.mark.parametrize(
    "header", ["X-Loop", "Auto-Submitted", "List-Id", "List-Unsubscribe", "X-Autoreply"]
)
def test_a_machine_header_hiding_a_nul_is_stored_and_recorded_not_refused_forever(
    desk: Desk, header: str
) -> None:
    """An encoded-word NUL in a header whose value the routing reason quoted: PostgreSQL
    refused the unsealed reason (DataError), so the mail was answered 451 on every delivery
    and never stored (through IMAP it stopped `dsr serve`). Now it is recorded as machine mail
    with the NUL left out of the reason."""
    raw = build_mail().replace(b"Subject:", f"{header}: =?utf-8?q?a=00b?=\r\nSubject:".encode(), 1)

    result = process_message(desk, raw, now=T0, source="t")

    assert result.action == "ignored" and "\x00" not in result.reason
    [stored] = _inbound(desk)
    assert stored.action == "ignored" and "\x00" not in stored.reason


def test_a_database_refusal_while_routing_leaves_the_mail_stored_for_its_next_delivery(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A routing failure that is the database refusing a value of this mail (DataError), not
    the database being away, is a routing failure like any other: the mail is stored, not yet
    routed, before the server hears 451, and its next delivery routes it."""
    raw = build_mail(sender=REQUESTER)

    def refused(*_: object, **__: object) -> None:
        raise DataError("UPDATE message ...", {}, Exception("invalid byte sequence"))

    with monkeypatch.context() as patched:
        patched.setattr("bot.intake._route", refused)
        with pytest.raises(TemporaryIntakeError):
            process_message(desk, raw, now=T0, source="t")
    assert [m.action for m in _inbound(desk)] == ["received"]

    assert process_message(desk, raw, now=T0 + timedelta(minutes=5), source="t").action == (
        "created"
    )
    assert [m.action for m in _inbound(desk)] == ["created"]


# --- a forged From that names the owner, or the requester, first ------------------------------


def _trusted(desk: Desk, tmp_path: Path) -> Desk:
    settings = desk.settings.model_copy(update={"trusted_authserv_id": "mx.proambt.nl"})
    return inventory_desk(Desk(settings=settings, engine=desk.engine), tmp_path)


# DMARC evaluates one From domain: with two mailboxes a receiver may check the second (the
# attacker's, which passes), or none (CVE-2019-16378: OpenDMARC <= 1.3.2); either way "none"
# or "pass" is what our server can write, never "fail".
TWO_FROM = [
    f"{OWNER}, Mallory <mallory@evil.test>",
    f"Financien <{OWNER}>, mallory@evil.test",
]


@pytest.mark.parametrize("sender", TWO_FROM)
def test_a_from_naming_the_owner_and_a_second_mailbox_is_not_the_owners_reply(
    desk: Desk, tmp_path: Path, sender: str
) -> None:
    desk = _trusted(desk, tmp_path)
    case = new_case(desk, category="erasure")
    core.verify_by_hand(desk, reference=case.reference, note="paspoort", actor="t", now=T0)
    task = next(
        r.task
        for r in work.list_tasks(desk, reference=case.reference)
        if r.task.system == "financien"
    )
    [asked] = [m for _, m in outbound(desk) if m["To"] == OWNER]
    raw = build_mail(
        sender=sender,
        subject=f"Re: {asked['Subject']}",
        body="Alles verwijderd.",
        in_reply_to=str(asked["Message-ID"]),
        headers={"Authentication-Results": "mx.proambt.nl; dkim=pass; dmarc=none"},
    )

    result = process_message(desk, raw, now=LATER, source="t")

    assert "not acted on" in result.reason
    assert "task_reply_other_sender" in _inbound(desk)[-1].flags
    with desk.transaction() as session:
        assert session.get(Task, task.id).reply_at is None  # type: ignore[union-attr]
    assert _events(desk, "task_reply_received") == []


def test_a_from_naming_the_requester_and_a_second_mailbox_sets_no_consent(
    desk: Desk, tmp_path: Path
) -> None:
    """The same forged From on the case's thread: the requester's "nee" to informing the
    client organisation is the requester's alone to give."""
    desk = _trusted(desk, tmp_path)
    created = process_message(desk, build_mail(sender=REQUESTER), now=T0, source="t")
    assert created.case is not None
    raw = build_mail(
        sender="jan.jansen@example.nl, mallory@evil.test",
        subject=f"Re: [{created.case}] Ontvangstbevestiging",
        body="nee\n",
        headers={"Authentication-Results": "mx.proambt.nl; dkim=pass; dmarc=none"},
    )

    result = process_message(desk, raw, now=LATER, source="t")

    assert "not acted on" in result.reason
    assert core.get_case(desk, reference=created.case).client_may_be_informed is None
    assert _events(desk, "client_consent") == []


# --- CSV: a spreadsheet whose list separator is ";" -------------------------------------------


def _cells_seen_by(separator: str, text: str) -> list[str]:
    """The cells a spreadsheet that splits on `separator` makes of a CSV file (Excel opens a
    .csv with the system's list separator: `;` in a Dutch Windows)."""
    return [cell for row in csv.reader(io.StringIO(text), delimiter=separator) for cell in row]


def _runs(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS) and safe_cell(cell) != cell


PAYLOADS = (
    "Loonstroken naar de verkeerde klant gemaild;=cmd|' /C calc'!A0;",
    "zie bijlage;@SUM(1+1)*cmd|' /C calc'!A0",
    "a;+1+1;b",
)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_cell_of_a_semicolon_spreadsheet_starts_a_formula(payload: str) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["reference", "nature"])
    writer.writerow(safe_row({"reference": "DL-2026-0001", "nature": payload}))
    text = out.getvalue()

    for separator in (",", ";"):
        assert [c for c in _cells_seen_by(separator, text) if _runs(c)] == []
    # read back with the comma, the text is the reporter's, apostrophes aside
    [[_, nature]] = list(csv.reader(io.StringIO(text)))
    assert nature.replace("'", "") == payload.replace("'", "")


@pytest.mark.parametrize("text", ["a;-5", "kosten;-0.25;euro", "a;b", "x;'=1"])
def test_a_semicolon_before_a_plain_number_or_plain_text_is_left_alone(text: str) -> None:
    assert safe_cell(text) is text
