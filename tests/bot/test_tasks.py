"""Tasks per system: planned when a case is verified or its kind changes (idempotent), done and
reassigned through the case's change path, and closing waits for them (both databases)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import cases as core
from bot import tasks as work
from bot.desk import Desk
from bot.fulfilment import Planned, outcome_of, plan_case_tasks, plan_tasks
from bot.intake import process_message
from bot.inventory import load_inventory
from bot.retention import purge
from storage.models import AuditEvent, Case, Task
from tests.factories import EXAMPLE_INVENTORY, T0, inventory_desk, new_case
from tests.mailbuilder import build_mail, code_in, outbound, text_of

LATER = T0 + timedelta(days=2)


def _tasks(desk: Desk, reference: str) -> dict[str, tuple[str, str]]:
    """system -> (action, state), for the tasks of one case that are not not_applicable."""
    return {
        row.task.system: (row.task.action, row.task.state)
        for row in work.list_tasks(desk, reference=reference)
        if row.task.state != "not_applicable"
    }


def _verified(desk: Desk, *, category: str = "erasure", language: str = "nl") -> str:
    case = new_case(desk, category=category, language=language)
    core.verify_by_hand(desk, reference=case.reference, note="paspoort gezien", actor="t", now=T0)
    return case.reference


def test_the_rules_per_kind_on_the_example_inventory() -> None:
    inventory = load_inventory(EXAMPLE_INVENTORY)
    erasure = {p.system: p.action for p in plan_tasks(inventory, "erasure")}
    assert erasure == {
        "crm": "erase",
        "financien": "restrict",  # keep_years: the fiscal seven years
        "mailarchief": "erase",
        "salaris": "restrict",
        "specialisten": "erase",
        "groep": "erase",
        "incasso": "notify",  # a recipient is told (art. 19)
    }
    access = {p.system: p.action for p in plan_tasks(inventory, "access")}
    assert set(access.values()) == {"search_export"} and "incasso" not in access
    assert plan_tasks(inventory, "complaint") == []
    assert {p.action for p in plan_tasks(inventory, "objection")} == {"stop_processing"}
    salaris = next(p for p in plan_tasks(inventory, "access") if p.system == "salaris")
    assert salaris.assignee == "privacy@salariskantoor.example"


def test_verification_plans_one_task_per_system_once(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    planned = _tasks(desk, reference)
    assert planned["crm"] == ("erase", "open") and planned["financien"] == ("restrict", "open")
    assert len(planned) == 7
    with desk.transaction() as session:
        case = session.exec(select(Case).where(Case.reference == reference)).one()
        again = plan_case_tasks(desk, session=session, case=case, now=LATER)
    assert again == Planned()
    assert len(work.list_tasks(desk, reference=reference)) == 7


def test_a_kind_change_adds_the_missing_and_drops_the_old_open_tasks(
    desk: Desk, tmp_path: Path
) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    crm = next(r.task for r in work.list_tasks(desk, reference=reference) if r.task.system == "crm")
    assert crm.id is not None
    work.task_done(desk, task_id=crm.id, result="erased", note=None, actor="t", now=LATER)
    core.change_kind(desk, reference=reference, kind="access", actor="t", now=LATER)
    states = {
        (r.task.system, r.task.action): r.task.state
        for r in work.list_tasks(desk, reference=reference)
    }
    assert states[("crm", "erase")] == "done"  # what was done stays on file
    assert states[("financien", "restrict")] == "not_applicable"
    assert states[("incasso", "notify")] == "not_applicable"
    assert states[("crm", "search_export")] == "open"
    core.change_kind(desk, reference=reference, kind="erasure", actor="t", now=LATER)
    states = {
        (r.task.system, r.task.action): r.task.state
        for r in work.list_tasks(desk, reference=reference)
    }
    assert states[("financien", "restrict")] == "open"  # reopened, not duplicated
    assert states[("crm", "search_export")] == "not_applicable"
    assert len(states) == 13


def test_no_tasks_before_verification_in_triage_or_without_inventory(
    desk: Desk, tmp_path: Path
) -> None:
    with_inventory = inventory_desk(desk, tmp_path)
    case = new_case(with_inventory, category="erasure")
    core.change_kind(with_inventory, reference=case.reference, kind="access", actor="t", now=T0)
    assert _tasks(with_inventory, case.reference) == {}
    unsure = new_case(with_inventory, needs_triage=True)
    core.verify_by_hand(with_inventory, reference=unsure.reference, note="n", actor="t", now=T0)
    assert _tasks(with_inventory, unsure.reference) == {}
    core.change_kind(with_inventory, reference=unsure.reference, kind="access", actor="t", now=T0)
    assert len(_tasks(with_inventory, unsure.reference)) == 6
    missing = desk.settings.model_copy(update={"inventory_file": tmp_path / "none.toml"})
    bare = Desk(settings=missing, engine=desk.engine)
    assert _tasks(bare, _verified(bare)) == {}


def test_done_and_reassign_refuse_what_does_not_fit(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    rows = {r.task.system: r.task for r in work.list_tasks(desk, reference=reference)}
    crm_id = rows["crm"].id
    assert crm_id is not None
    with pytest.raises(core.ActionRefused, match="does not fit erase"):
        work.task_done(desk, task_id=crm_id, result="exported", note=None, actor="t", now=LATER)
    with pytest.raises(core.ActionRefused, match="not slack"):
        work.task_reassign(desk, task_id=crm_id, assignee="piet", actor="t", now=LATER)
    with pytest.raises(work.UnknownTask):
        work.task_done(desk, task_id=99999, result="erased", note=None, actor="t", now=LATER)
    moved = work.task_reassign(desk, task_id=crm_id, assignee="slack:U0OTHER", actor="t", now=LATER)
    assert moved.assignee == "slack:U0OTHER"
    done = work.task_done(
        desk, task_id=crm_id, result="erased", note="BSN 123 gewist", actor="t", now=LATER
    )
    assert (done.state, done.result, done.done_by) == ("done", "erased", "t")
    with pytest.raises(core.ActionRefused, match="only an open task"):
        work.task_done(desk, task_id=crm_id, result="erased", note=None, actor="t", now=LATER)
    with desk.reading() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "task_done")).all()
    assert len(events) == 1 and "BSN" not in str(events[0].details)
    assert events[0].note == "BSN 123 gewist"  # the note is sealed, in the event's note


def test_closing_as_done_waits_for_every_task_unless_forced(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk, category="access")
    with pytest.raises(core.ActionRefused, match=r"open tasks: #\d+ crm search_export"):
        core.close(desk, reference=reference, outcome="done", note="klaar", actor="t", now=LATER)
    assert core.get_case(desk, reference=reference).state == "open"
    closed = core.close(
        desk,
        reference=reference,
        outcome="done",
        note="salariskantoor reageert niet; apart nagestuurd",
        actor="t",
        now=LATER,
        force=True,
    )
    assert closed.state == "done"
    assert all(r.task.state == "not_applicable" for r in work.list_tasks(desk, reference=reference))
    with desk.reading() as session:
        left = session.exec(select(AuditEvent).where(AuditEvent.action == "tasks_left_open")).one()
    assert left.details["forced"] is True and len(left.details["tasks"]) == 6


def test_withdrawal_needs_no_force_and_closes_the_tasks(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk)
    core.close(
        desk, reference=reference, outcome="withdrawn", note="ingetrokken", actor="t", now=LATER
    )
    assert {r.task.state for r in work.list_tasks(desk, reference=reference)} == {"not_applicable"}
    assert work.list_tasks(desk, open_only=True) == []


def test_the_outcome_mail_says_what_was_done_where_in_english(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk, language="en")
    results = {"financien": "kept", "salaris": "restricted", "incasso": "told"}
    for row in work.list_tasks(desk, reference=reference):
        assert row.task.id is not None
        result = results.get(row.task.system, "erased")
        work.task_done(desk, task_id=row.task.id, result=result, note=None, actor="t", now=LATER)
    core.close(desk, reference=reference, outcome="done", note="klaar", actor="t", now=LATER)
    mail = next(m for _, m in outbound(desk) if "has been handled" in str(m["Subject"]))
    text = " ".join(text_of(mail).split())
    assert "CRM (relatiebeheer): we erased your data." in text
    assert "Financiële administratie: we still keep your data. Dutch law requires" in text
    assert "Algemene wet inzake rijksbelastingen" in text
    assert "(GDPR article 19): Incassobureau (bij onbetaalde facturen)." in text
    assert "Autoriteit Persoonsgegevens" in text


def test_outcome_facts_without_an_inventory_use_the_system_ids() -> None:
    task = Task(
        case_id=1, system="crm", action="erase", state="done", result="erased", created_at=T0
    )
    assert outcome_of([task], None).work == ({"system": "crm", "result": "erased", "law": ""},)


def test_tasks_of_all_active_cases_are_listed_by_case(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    first, second = _verified(desk), _verified(desk, category="access")
    rows = work.list_tasks(desk, open_only=True)
    assert [r.reference for r in rows] == [first] * 7 + [second] * 6
    assert rows[0].task.id is not None
    assert work.task_json(rows[0]) == {
        "id": rows[0].task.id,
        "case": first,
        "system": "crm",
        "action": "erase",
        "state": "open",
        "assignee": "slack:U0CRMOWNER",
        "result": None,
        "reply_received": False,
    }
    with pytest.raises(core.UnknownCase):
        work.list_tasks(desk, reference="DSR-2026-9999")


ERASURE = (
    "Beste secretariaat,\n\nIk verzoek u om al mijn persoonsgegevens te verwijderen (recht op "
    "vergetelheid, artikel 17 AVG).\n\nMet vriendelijke groet,\nJan Jansen\n"
)


def test_an_erasure_request_end_to_end_through_intake(desk: Desk, tmp_path: Path) -> None:
    """Mail in, code back, tasks per system (the fiscal records restricted and kept), every
    system answers, the case closes and the outcome mail explains it in Dutch."""
    desk = inventory_desk(desk, tmp_path)
    created = process_message(
        desk, build_mail(subject="Verwijderen", body=ERASURE), now=T0, source="test"
    )
    assert created.action == "created" and created.category == "erasure" and created.case
    reference = created.case
    assert _tasks(desk, reference) == {}  # nothing before the identity is confirmed
    ack = outbound(desk)[-1][1]
    code = code_in(ack)
    assert code is not None
    reply = build_mail(
        subject=f"Re: [{reference}] Wij hebben uw verzoek ontvangen",
        body=f"Mijn code is {code}",
        in_reply_to=str(ack["Message-ID"]),
    )
    verified = process_message(desk, reply, now=T0 + timedelta(minutes=5), source="test")
    assert "identity: verified" in verified.reason
    planned = _tasks(desk, reference)
    assert planned["crm"] == ("erase", "open")
    assert planned["financien"] == ("restrict", "open")
    assert planned["incasso"] == ("notify", "open")
    with pytest.raises(core.ActionRefused, match="open tasks"):
        core.close(desk, reference=reference, outcome="done", note="klaar", actor="t", now=LATER)
    results = {"financien": "kept", "salaris": "kept", "specialisten": "nothing_found"}
    results["incasso"] = "told"
    for row in work.list_tasks(desk, reference=reference, open_only=True):
        assert row.task.id is not None
        result = results.get(row.task.system, "erased")
        work.task_done(desk, task_id=row.task.id, result=result, note=None, actor="t", now=LATER)
    core.close(desk, reference=reference, outcome="done", note="klaar", actor="t", now=LATER)
    outcome = next(m for _, m in outbound(desk) if "afgehandeld" in str(m["Subject"]))
    assert outcome["To"] == "jan.jansen@example.nl"
    text = " ".join(text_of(outcome).split())
    assert "CRM (relatiebeheer): wij hebben uw gegevens verwijderd." in text
    assert "Ingehuurde financiële specialisten: wij hebben geen gegevens over u gevonden." in text
    assert (
        "Financiële administratie: wij bewaren uw gegevens nog. Wij moeten deze gegevens "
        "bewaren op grond van artikel 52 Algemene wet inzake rijksbelastingen" in text
    )
    assert "(artikel 19 AVG): Groepsmaatschappijen" not in text
    assert "(artikel 19 AVG): Incassobureau (bij onbetaalde facturen)." in text
    assert "klacht indienen bij de Autoriteit Persoonsgegevens" in text


def test_processors_and_recipients_get_a_dutch_mail_once(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk, language="en")
    asked = {
        str(m["To"]): m
        for _, m in outbound(desk)
        if "Verzoek van een betrokkene" in str(m["Subject"])
    }
    assert set(asked) == {
        "privacy@salariskantoor.example",
        "privacy@specialisten.example",
        "privacy@incasso.example",
    }
    salaris = asked["privacy@salariskantoor.example"]
    assert str(salaris["Subject"]) == f"[{reference}] Verzoek van een betrokkene: actie nodig"
    text = " ".join(text_of(salaris).split())
    assert "beperk het gebruik van de persoonsgegevens" in text  # keep_years: restrict
    assert "jan.jansen@example.nl" in text and "verwijdering van uw" in text
    # Due Thursday 2 April 2026; a week before that, whatever the requester's language.
    assert "uiterlijk donderdag 26 maart 2026 op deze e-mail antwoorden" in text
    assert "(artikel 19 AVG)" in " ".join(text_of(asked["privacy@incasso.example"]).split())
    core.change_kind(desk, reference=reference, kind="erasure", actor="t", now=LATER)
    again = [m for _, m in outbound(desk) if "Verzoek van een betrokkene" in str(m["Subject"])]
    assert len(again) == 3


def test_the_purge_clears_task_notes_and_keeps_the_results(desk: Desk, tmp_path: Path) -> None:
    desk = inventory_desk(desk, tmp_path)
    reference = _verified(desk, category="access")
    for row in work.list_tasks(desk, reference=reference):
        assert row.task.id is not None
        work.task_done(
            desk, task_id=row.task.id, result="found", note="BSN 1234", actor="t", now=LATER
        )
    core.close(desk, reference=reference, outcome="done", note="klaar", actor="t", now=LATER)
    assert purge(desk, now=LATER + timedelta(days=731)).cases == (reference,)
    with desk.reading() as session:
        tasks = session.exec(select(Task)).all()
    assert len(tasks) == 6
    assert all(t.note is None and t.result == "found" for t in tasks)
