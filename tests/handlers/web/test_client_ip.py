"""The address the per-IP limit counts: an IPv6 /64 counts as one (walking through the block a
subscriber gets gains nothing); X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

from unittest.mock import Mock

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.desk import Desk
from handlers.web.context import SETTINGS
from handlers.web.security import client_ip


def _request(desk: Desk, peer: str, forwarded: str | None = None, proxies: str = "") -> str:
    app = web.Application()
    app[SETTINGS] = desk.settings.model_copy(update={"web_trusted_proxies": proxies})
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    transport = Mock()
    transport.get_extra_info.return_value = (peer, 40000)  # the peer, as a socket names it
    request = make_mocked_request("POST", "/status", headers=headers, app=app, transport=transport)
    return client_ip(request)


def test_an_ipv6_block_counts_as_one_address(desk: Desk) -> None:
    first = _request(desk, "2001:db8:1:2:aaaa::1")
    assert first == _request(desk, "2001:db8:1:2:ffff:ffff:ffff:fffe") == "2001:db8:1:2::/64"
    assert _request(desk, "2001:db8:1:3::1") != first
    assert _request(desk, "::ffff:192.0.2.7") == "192.0.2.7"
    assert _request(desk, "192.0.2.7") == "192.0.2.7"


def test_forwarded_for_counts_only_behind_a_trusted_proxy(desk: Desk) -> None:
    spoofed = "203.0.113.9"
    assert _request(desk, "192.0.2.7", forwarded=spoofed) == "192.0.2.7"
    behind = _request(desk, "10.0.0.2", forwarded=f"1.2.3.4, {spoofed}", proxies="10.0.0.2")
    assert behind == spoofed
    walked = _request(desk, "10.0.0.2", forwarded="2001:db8::99", proxies="10.0.0.2")
    assert walked == "2001:db8::/64"
