"""App Home: published on open, once per delivery, refreshed when cases change."""

from __future__ import annotations

import asyncio
import json

from bot import cases as core
from tests.factories import new_case
from tests.handlers.slack.harness import DESK_USER, STRANGER, Harness, open_case_as_intake

JSON = "application/json"


def home_event(user: str) -> dict[str, str]:
    return {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}


async def test_home_is_published_once_even_when_slack_retries(slack: Harness) -> None:
    case = new_case(slack.desk)
    body = slack.event_body(home_event(DESK_USER), event_id="Ev1")
    assert await slack.post(body, content_type=JSON) == 200
    await slack.stub.wait_for(lambda s: len(s.ok_calls("views.publish")) == 1)
    assert await slack.post(body, content_type=JSON, headers={"X-Slack-Retry-Num": "1"}) == 200
    await asyncio.sleep(0.3)
    [publish] = slack.stub.ok_calls("views.publish")
    assert publish.args["user_id"] == DESK_USER
    assert case.reference in json.dumps(publish.args["view"])


async def test_home_is_refreshed_when_a_case_changes(slack: Harness) -> None:
    reference = open_case_as_intake(slack.desk)
    body = slack.event_body(home_event(DESK_USER), event_id="Ev2")
    assert await slack.post(body, content_type=JSON) == 200
    await slack.stub.wait_for(lambda s: len(s.ok_calls("views.publish")) == 1)
    core.assign(
        slack.desk, reference=reference, assignee="slack:UANNA", actor="cli:x", now=slack.clock()
    )
    await slack.deliver()
    latest = slack.stub.ok_calls("views.publish")[-1]
    assert "<@UANNA>" in json.dumps(latest.args["view"])


async def test_stranger_sees_no_queue(slack: Harness) -> None:
    case = new_case(slack.desk)
    body = slack.event_body(home_event(STRANGER), event_id="Ev3")
    assert await slack.post(body, content_type=JSON) == 200
    await slack.stub.wait_for(lambda s: len(s.ok_calls("views.publish")) == 1)
    shown = json.dumps(slack.stub.ok_calls("views.publish")[0].args["view"])
    assert case.reference not in shown and "Only the secretariat" in shown
    assert len(slack.audit("unauthorised")) == 1
