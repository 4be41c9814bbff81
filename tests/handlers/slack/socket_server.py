"""A local stand-in for Slack's Socket Mode WebSocket (aiohttp on 127.0.0.1, port 0).

It behaves like Slack: on every connection it says `hello`, then sends every envelope not yet
acknowledged (Slack re-sends what got no ack, with the same envelope id), records the acks,
and can close a connection or lose the next ack of an envelope, as a network cut would, or
go away (refuse new connections) until told to come back, as an outage would."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

Envelope = dict[str, Any]


@dataclass
class SocketStandIn:
    port: int = 0
    sent: list[Envelope] = field(default_factory=list)  # every envelope sent, re-sends included
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)  # envelope id -> the ack
    answers: list[dict[str, Any]] = field(default_factory=list)  # every ack, lost ones too
    connections: int = 0
    refused: int = 0  # connection attempts refused while away
    away: bool = False
    _pending: dict[str, Envelope] = field(default_factory=dict)  # not acknowledged yet
    _lose_ack: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _socket: web.WebSocketResponse | None = None
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket=test"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, check: Callable[[SocketStandIn], bool], timeout: float = 10) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: check(self)), timeout)

    async def send(self, kind: str, payload: dict[str, Any], *, lose_ack: bool = False) -> str:
        """Send an envelope now (or on the next connection); returns its id."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind in {"slash_commands", "interactive"},
        }
        self._pending[envelope_id] = envelope
        if lose_ack:
            self._lose_ack.add(envelope_id)
        if self._socket is not None and not self._socket.closed:
            await self._deliver(self._socket, envelope)
        return envelope_id

    async def drop(self) -> None:
        """Close the current connection, as Slack does when it moves a socket."""
        if self._socket is not None:
            await self._socket.close()

    async def go_away(self) -> None:
        """Close the connection and refuse new ones (503) until `come_back`."""
        self.away = True
        await self.drop()

    def come_back(self) -> None:
        self.away = False

    async def ack(self, envelope_id: str) -> dict[str, Any]:
        await self.wait_for(lambda s: envelope_id in s.acks)
        return self.acks[envelope_id]

    def times_sent(self, envelope_id: str) -> int:
        return sum(1 for e in self.sent if e["envelope_id"] == envelope_id)

    async def _deliver(self, socket: web.WebSocketResponse, envelope: Envelope) -> None:
        self.sent.append(envelope)
        await socket.send_json(envelope)

    async def _link(self, request: web.Request) -> web.StreamResponse:
        if self.away:
            self.refused += 1
            await self._notify()
            return web.Response(status=503)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._socket = socket
        await self._notify(connections=1)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
        )
        for envelope in list(self._pending.values()):
            await self._deliver(socket, envelope)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await self._received(json.loads(message.data))
        return socket

    async def _received(self, answer: dict[str, Any]) -> None:
        envelope_id = str(answer.get("envelope_id"))
        self.answers.append(answer)
        if envelope_id in self._lose_ack:
            self._lose_ack.discard(envelope_id)  # lost on the way: Slack will send it again
        else:
            self.acks[envelope_id] = answer
            self._pending.pop(envelope_id, None)
        await self._notify()

    async def _notify(self, *, connections: int = 0) -> None:
        async with self._changed:
            self.connections += connections
            self._changed.notify_all()
