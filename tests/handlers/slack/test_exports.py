"""Exports handed in as files in a case's Slack thread by the task's owner, and the button
that builds the answer package: signed requests against the real app and the Slack stub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot import cases as core
from bot import tasks as work
from bot.desk import Desk
from handlers.slack.blocks import ACTION_PACKAGE
from handlers.slack.exports import from_slack
from storage.models import Task, TaskExport
from tests.factories import inventory_desk
from tests.handlers.slack.harness import CHANNEL, DESK_USER, Harness, actions_block
from tests.handlers.slack.test_actions import posted

OWNER = "U0CRMOWNER"  # owner of the crm system in the example inventory
CSV = b"naam;plaats\nJan Jansen;Utrecht\n"


@pytest.fixture
def slack_desk(slack_desk: Desk, tmp_path: Path) -> Desk:
    """The Slack test desk with the example inventory, so a verified case has tasks."""
    return inventory_desk(slack_desk, tmp_path)


async def verified_case(slack: Harness) -> tuple[str, str]:
    """An access case posted in Slack and verified; returns its reference and thread ts."""
    reference = await posted(slack)
    core.verify_by_hand(
        slack.desk, reference=reference, note="paspoort", actor="t", now=slack.clock()
    )
    await slack.deliver()
    case = core.get_case(slack.desk, reference=reference)
    assert case.slack_ts is not None
    return reference, case.slack_ts


def crm_task(slack: Harness, reference: str) -> Task:
    rows = work.list_tasks(slack.desk, reference=reference)
    return next(r.task for r in rows if r.task.system == "crm")


def stored(slack: Harness) -> list[TaskExport]:
    with slack.desk.transaction() as session:
        return list(session.exec(select(TaskExport)).all())


async def share(
    slack: Harness,
    files: list[dict[str, Any]],
    *,
    user: str = OWNER,
    thread_ts: str | None,
    event_id: str,
    text: str = "export",
) -> str:
    """Deliver a `file_share` message event; returns the bot's reply in the thread."""
    before = len(slack.stub.ok_calls("chat.postMessage"))
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "file_share",
        "channel": CHANNEL,
        "user": user,
        "ts": f"1700000300.{next(slack.ids):06d}",
        "text": text,
        "files": files,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    body = slack.event_body(event, event_id=event_id)
    assert await slack.post(body, content_type="application/json") == 200
    await slack.stub.wait_for(lambda s: len(s.ok_calls("chat.postMessage")) > before)
    reply = slack.stub.ok_calls("chat.postMessage")[-1].args
    assert reply["thread_ts"] == (thread_ts or event["ts"])
    return str(reply["text"])


async def test_the_owner_shares_an_export_in_the_case_thread(slack: Harness) -> None:
    reference, thread = await verified_case(slack)
    file = slack.stub.add_file("relatie Jan.csv", CSV)
    reply = await share(slack, [file], thread_ts=thread, event_id="Ev1")
    assert "1 file(s) stored sealed" in reply and reference in reply
    assert slack.stub.downloads == ["Bearer xoxb-test"]
    [export] = stored(slack)
    assert (export.system, export.name, export.content, export.source) == (
        "crm",
        "relatie_Jan.csv",
        CSV,
        "slack",
    )
    task = crm_task(slack, reference)
    assert (task.state, task.result, task.done_by) == ("done", "exported", f"slack:{OWNER}")
    [event] = slack.audit("export_stored")
    assert event.actor == f"slack:{OWNER}" and "Jan" not in str(event.details)
    # Slack delivers the same event again: acted on once.
    body = slack.event_body(
        {"type": "message", "subtype": "file_share", "channel": CHANNEL, "user": OWNER,
         "ts": "1", "thread_ts": thread, "files": [file]},
        event_id="Ev1",
    )  # fmt: skip
    assert await slack.post(body, content_type="application/json") == 200
    await share(slack, [file], user=DESK_USER, thread_ts=thread, event_id="Ev1b")
    replies = [c.args["text"] for c in slack.stub.ok_calls("chat.postMessage")]
    assert sum("stored sealed" in r for r in replies) == 1
    assert len(stored(slack)) == 1 and slack.stub.downloads == ["Bearer xoxb-test"]


async def test_files_from_someone_else_or_outside_a_case_thread_are_refused(
    slack: Harness,
) -> None:
    reference, thread = await verified_case(slack)
    file = slack.stub.add_file("relatie.csv", CSV)
    reply = await share(slack, [file], user=DESK_USER, thread_ts=thread, event_id="Ev2")
    assert reply.startswith(f"{reference}: only the owner") and "niets opgeslagen" in reply
    reply = await share(slack, [file], thread_ts=None, event_id="Ev3")
    assert "only taken in a case's thread" in reply
    reply = await share(slack, [file], thread_ts="1600000000.000001", event_id="Ev4")
    assert "only taken in a case's thread" in reply
    assert stored(slack) == [] and slack.stub.downloads == []
    assert crm_task(slack, reference).state == "open"
    reasons = [e.details["reason"] for e in slack.audit("export_refused")]
    assert reasons == ["not_owner", "not_a_case_thread", "not_a_case_thread"]


async def test_a_refused_type_or_size_is_named_and_nothing_is_stored(slack: Harness) -> None:
    reference, thread = await verified_case(slack)
    fake = slack.stub.add_file("facturen.pdf", b"MZ\x90\x00", mimetype="application/pdf")
    good = slack.stub.add_file("relatie.csv", CSV)
    reply = await share(slack, [good, fake], thread_ts=thread, event_id="Ev5")
    assert "facturen.pdf: the content is not a .pdf file" in reply and "nothing was stored" in reply
    huge = slack.stub.add_file("groot.csv", CSV)
    huge["size"] = slack.desk.settings.export_max_bytes + 1
    reply = await share(slack, [huge], thread_ts=thread, event_id="Ev6")
    assert "groot.csv: 20,000,001 bytes is more than the limit" in reply
    assert len(slack.stub.downloads) == 2  # the refused size was not even fetched
    assert stored(slack) == [] and crm_task(slack, reference).state == "open"


async def test_an_owner_of_several_tasks_names_the_system(slack: Harness) -> None:
    reference, thread = await verified_case(slack)
    rows = work.list_tasks(slack.desk, reference=reference)
    mail = next(r.task for r in rows if r.task.system == "mailarchief")
    assert mail.id is not None
    work.task_reassign(
        slack.desk, task_id=mail.id, assignee=f"slack:{OWNER}", actor="t", now=slack.clock()
    )
    file = slack.stub.add_file("mails.eml", b"From: a@example.nl\r\n\r\nhallo")
    reply = await share(slack, [file], thread_ts=thread, event_id="Ev7", text="hier")
    assert "several systems (crm, mailarchief)" in reply and stored(slack) == []
    reply = await share(slack, [file], thread_ts=thread, event_id="Ev8", text="mailarchief")
    assert "task #" in reply and "mailarchief" in reply
    assert [e.system for e in stored(slack)] == ["mailarchief"]


def test_the_token_only_goes_to_slack() -> None:
    api = "https://slack.com/api/"
    assert from_slack("https://files.slack.com/files-pri/T1-F1/x.csv", api)
    assert not from_slack("http://files.slack.com/files-pri/T1-F1/x.csv", api)
    assert not from_slack("https://files.slack.com.evil.example/x.csv", api)
    assert not from_slack("https://evil.example/x.csv", api)
    assert not from_slack("", api)
    assert from_slack("http://127.0.0.1:5000/files/F1/x", "http://127.0.0.1:5000/api/")
    assert not from_slack("http://127.0.0.1:5001/files/F1/x", "http://127.0.0.1:5000/api/")


async def test_the_package_button_posts_the_result_in_the_thread(slack: Harness) -> None:
    reference, thread = await verified_case(slack)
    block = actions_block(slack.case_message(thread))
    assert ACTION_PACKAGE in {e["action_id"] for e in block["elements"]}
    answer = await slack.press(ACTION_PACKAGE, block)
    assert "No answer package yet" in answer and "open export tasks" in answer
    await slack.deliver()
    note = slack.stub.ok_calls("chat.postMessage")[-1].args
    assert note["thread_ts"] == thread and "Nog geen antwoordpakket" in note["text"]

    await share(slack, [slack.stub.add_file("relatie.csv", CSV)], thread_ts=thread, event_id="E9")
    for row in work.list_tasks(slack.desk, reference=reference):
        if row.task.state == "open" and row.task.id is not None:
            work.task_done(
                slack.desk,
                task_id=row.task.id,
                result="nothing_found",
                note=None,
                actor="t",
                now=slack.clock(),
            )
    await slack.deliver()
    answer = await slack.press(ACTION_PACKAGE, actions_block(slack.case_message(thread)))
    assert "Answer package built" in answer and "1 export(s) from 1 system(s)" in answer
    await slack.deliver()
    note = slack.stub.ok_calls("chat.postMessage")[-1].args
    assert note["thread_ts"] == thread and "SHA-256" in note["text"]
    assert "files" not in note  # the package itself never goes to Slack
    [built] = slack.audit("package_built")
    assert built.actor == f"slack:{DESK_USER}"


async def test_other_messages_in_the_channel_are_acknowledged_and_left_alone(
    slack: Harness,
) -> None:
    event = {"type": "message", "channel": CHANNEL, "user": OWNER, "ts": "1700000400.000001",
             "text": "goedemorgen"}  # fmt: skip
    body = slack.event_body(event, event_id="EvPlain")
    assert await slack.post(body, content_type="application/json") == 200
    assert slack.stub.ok_calls("chat.postMessage") == [] and stored(slack) == []
