"""The real HTTP endpoint: signed requests pass, bad signatures and old timestamps do not."""

from __future__ import annotations

import time

import aiohttp

from tests.handlers.slack.harness import Harness, sign


async def _raw_post(slack: Harness, body: str, headers: dict[str, str]) -> int:
    sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    async with (
        aiohttp.ClientSession() as session,
        session.post(slack.url, data=body.encode(), headers=sent) as response,
    ):
        return response.status


async def test_signed_command_is_acknowledged(slack: Harness) -> None:
    answer = await slack.command("help")
    assert "/dsr list" in answer


async def test_bad_signature_is_rejected(slack: Harness) -> None:
    body = slack.command_body("list")
    assert await _raw_post(slack, body, sign(body, secret="not-the-secret")) == 401
    assert slack.stub.responses == []


async def test_old_timestamp_is_rejected(slack: Harness) -> None:
    body = slack.command_body("list")
    old = int(time.time()) - 10 * 60
    assert await _raw_post(slack, body, sign(body, timestamp=old)) == 401


async def test_unsigned_request_is_rejected(slack: Harness) -> None:
    assert await _raw_post(slack, slack.command_body("list"), {}) == 401
