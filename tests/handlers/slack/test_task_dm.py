"""A task owner in Slack gets a direct message with the result buttons and a line in the case
thread; a press records the result through the core (as `dsr tasks done` does), updates the
direct message and the case message. Signed requests against the Slack stub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot import cases as core
from bot import tasks as work
from bot.desk import Desk
from bot.intake import process_message
from handlers.slack.texts import NOT_AUTHORISED
from tests.factories import EXAMPLE_INVENTORY, make_settings
from tests.handlers.slack.harness import (
    CHANNEL,
    SECRET,
    STRANGER,
    Harness,
    actions_block,
    open_case_as_intake,
)
from tests.mailbuilder import build_mail, outbound
from tests.slack_stub import SlackStub

OWNER = "U0CRMOWNER"


@pytest.fixture
def slack_desk(engine: Engine, db_url: str, tmp_path: Path, stub: SlackStub) -> Desk:
    inventory = tmp_path / "inventory.toml"
    inventory.write_text(EXAMPLE_INVENTORY.read_text(encoding="utf-8"), encoding="utf-8")
    settings = make_settings(
        db_url,
        tmp_path,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=stub.api_url,
        slack_channel=CHANNEL,
        inventory_file=inventory,
    )
    return Desk(settings=settings, engine=engine)


def _to(stub: SlackStub, channel: str) -> list[dict[str, Any]]:
    return [m for m in stub.messages().values() if m.get("channel") == channel]


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = message["blocks"]
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


async def _verified_erasure(slack: Harness) -> str:
    reference = open_case_as_intake(slack.desk, category="erasure")
    await slack.deliver()
    core.verify_by_hand(
        slack.desk, reference=reference, note="paspoort gezien", actor="t", now=slack.clock()
    )
    await slack.deliver()
    return reference


def _crm_task(desk: Desk, reference: str) -> int:
    row = next(r for r in work.list_tasks(desk, reference=reference) if r.task.system == "crm")
    assert row.task.id is not None
    return row.task.id


async def test_the_owner_gets_a_dm_and_a_press_records_the_result(slack: Harness) -> None:
    reference = await _verified_erasure(slack)
    task_id = _crm_task(slack.desk, reference)
    [dm] = _to(slack.stub, OWNER)
    text = json.dumps(_blocks(dm))
    assert f"Task / Taak #{task_id}" in text and "Relaties > Zoeken" in text
    assert "j***@example.nl" in text and "jan.jansen" not in text  # masked by default
    buttons = [e["action_id"] for e in actions_block(dm)["elements"]]
    assert buttons == ["task_result:erased", "task_result:kept", "task_result:nothing_found"]
    thread = [
        c.args["text"] for c in slack.stub.ok_calls("chat.postMessage") if c.args.get("thread_ts")
    ]
    assert any(f"Task #{task_id} crm" in t and f"<@{OWNER}>" in t for t in thread)

    answer = await slack.press("task_result:erased", actions_block(dm), user=OWNER)
    assert answer == f"Task / Taak #{task_id}: Erased / Verwijderd."
    done = next(
        r.task for r in work.list_tasks(slack.desk, reference=reference) if r.task.id == task_id
    )
    assert (done.state, done.result, done.done_by) == ("done", "erased", f"slack:{OWNER}")
    [event] = slack.audit("task_done")
    assert event.actor == f"slack:{OWNER}" and event.details["result"] == "erased"

    await slack.deliver()
    [dm] = _to(slack.stub, OWNER)
    assert not any(b["type"] == "actions" for b in _blocks(dm))
    assert "Recorded / Vastgelegd: Erased / Verwijderd" in json.dumps(_blocks(dm))
    [case_message] = _to(slack.stub, CHANNEL)
    assert "1 of 7 answered / 1 van 7 beantwoord" in json.dumps(_blocks(case_message))


async def test_a_stranger_cannot_press_and_a_second_press_changes_nothing(
    slack: Harness,
) -> None:
    reference = await _verified_erasure(slack)
    task_id = _crm_task(slack.desk, reference)
    [dm] = _to(slack.stub, OWNER)
    assert await slack.press("task_result:kept", actions_block(dm), user=STRANGER) == (
        NOT_AUTHORISED
    )
    assert slack.audit("task_done") == [] and len(slack.audit("unauthorised")) == 1
    await slack.press("task_result:nothing_found", actions_block(dm), user=OWNER)
    again = await slack.press("task_result:erased", actions_block(dm), user=OWNER)
    assert f"task {task_id} is done" in again
    [event] = slack.audit("task_done")
    assert event.details["result"] == "nothing_found"


async def test_done_from_the_terminal_updates_the_dm_too(slack: Harness) -> None:
    reference = await _verified_erasure(slack)
    task_id = _crm_task(slack.desk, reference)
    work.task_done(
        slack.desk, task_id=task_id, result="kept", note=None, actor="cli:anna", now=slack.clock()
    )
    await slack.deliver()
    [dm] = _to(slack.stub, OWNER)
    assert "Recorded / Vastgelegd: Kept by law / Bewaard (wet) (cli:anna)" in json.dumps(
        _blocks(dm), ensure_ascii=False
    )


async def test_a_reassigned_task_moves_its_dm(slack: Harness) -> None:
    reference = await _verified_erasure(slack)
    task_id = _crm_task(slack.desk, reference)
    work.task_reassign(
        slack.desk, task_id=task_id, assignee="slack:UNEWOWNER", actor="cli:anna", now=slack.clock()
    )
    await slack.deliver()
    [old] = _to(slack.stub, OWNER)
    assert "Now with / Nu bij <@UNEWOWNER>" in json.dumps(_blocks(old))
    [new] = _to(slack.stub, "UNEWOWNER")
    assert [e["value"] for e in actions_block(new)["elements"]][0] == f"{task_id}|erased"


async def test_a_processors_reply_asks_for_confirmation_in_the_case_thread(
    slack: Harness,
) -> None:
    reference = await _verified_erasure(slack)
    [asked] = [m for _, m in outbound(slack.desk) if m["To"] == "privacy@specialisten.example"]
    reply = build_mail(
        sender="privacy@specialisten.example",
        subject=f"Re: {asked['Subject']}",
        body="Niets gevonden.",
        in_reply_to=str(asked["Message-ID"]),
    )
    process_message(slack.desk, reply, now=slack.clock(), source="t")
    await slack.deliver()
    task = next(
        r.task
        for r in work.list_tasks(slack.desk, reference=reference)
        if r.task.system == "specialisten"
    )
    thread = [
        c.args["text"] for c in slack.stub.ok_calls("chat.postMessage") if c.args.get("thread_ts")
    ]
    assert any(
        f"Reply received from Ingehuurde financiële specialisten to task #{task.id}" in t
        and f"dsr tasks done {task.id}" in t
        for t in thread
    )
    assert task.state == "open" and task.reply_at is not None


async def test_an_owners_reply_by_mail_is_told_in_the_case_thread(slack: Harness) -> None:
    """The financial administration's owner is reached by mail; their answer threads to the
    task and the case thread asks a person to record the result (no mail to the secretariat)."""
    reference = await _verified_erasure(slack)
    [task] = [
        r.task
        for r in work.list_tasks(slack.desk, reference=reference)
        if r.task.system == "financien"
    ]
    [asked] = [m for _, m in outbound(slack.desk) if m["To"] == "financien@proambt.nl"]
    reply = build_mail(
        sender="Financiën <financien@proambt.nl>",
        subject=f"Re: {asked['Subject']}",
        body="Debiteur geblokkeerd.",
        in_reply_to=str(asked["Message-ID"]),
    )
    result = process_message(slack.desk, reply, now=slack.clock(), source="test")
    assert result.reason == f"reply from the owner of financien to task {task.id}"
    await slack.deliver()
    thread = [
        c.args["text"] for c in slack.stub.ok_calls("chat.postMessage") if c.args.get("thread_ts")
    ]
    assert (
        f"{reference}: Reply received from Financiële administratie to task #{task.id}: read "
        f"it and record the result (dsr tasks done {task.id} --result R) / Antwoord ontvangen "
        f"van Financiële administratie op taak #{task.id}: lees het en leg het resultaat vast"
    ) in thread
    assert not [m for _, m in outbound(slack.desk) if "Antwoord ontvangen" in str(m["Subject"])]
    [row] = [r for r in work.list_tasks(slack.desk, reference=reference) if r.task.id == task.id]
    assert work.task_json(row)["reply_received"] is True and row.task.state == "open"
