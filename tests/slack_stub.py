"""A local stand-in for Slack's Web API and response URLs (aiohttp on 127.0.0.1, port 0).

It records every call, answers like Slack for the methods the app uses, and can be told to
answer 429 (with Retry-After) or a 5xx for the next N calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: int | None
    methods: frozenset[str] | None


@dataclass
class SlackStub:
    members: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    socket_url: str = ""  # what apps.connections.open hands out (Socket Mode)
    joined: set[str] = field(default_factory=set)  # channels the app is a member of
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error to answer
    files: dict[str, bytes] = field(default_factory=dict)  # file id -> content (url_private)
    downloads: list[str] = field(default_factory=list)  # Authorization header of each download
    _failures: list[_Failure] = field(default_factory=list)
    _messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    _replies: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # by parent
    _ts: int = 0
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    def fail_next(
        self,
        count: int,
        *,
        status: int = 500,
        retry_after: int | None = None,
        methods: set[str] | None = None,
    ) -> None:
        self._failures.append(
            _Failure(count, status, retry_after, frozenset(methods) if methods else None)
        )

    def ok_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.status == 200]

    def messages(self) -> dict[str, dict[str, Any]]:
        """The channel messages as they stand now, by ts (posts with updates applied)."""
        return self._messages

    def replies(self, thread_ts: str) -> dict[str, dict[str, Any]]:
        """The replies in a message's thread as they stand now, by ts."""
        return self._replies.setdefault(thread_ts, {})

    async def wait_for(self, check: Callable[[SlackStub], bool], timeout: float = 5.0) -> None:
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: check(self)), timeout)

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/files/{id}/{name}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def add_file(self, name: str, data: bytes, *, mimetype: str = "text/csv") -> dict[str, Any]:
        """A file as Slack describes it in a `file_share` message; served at url_private to a
        request with a bot token."""
        file_id = f"F{len(self.files) + 1:05d}"
        self.files[file_id] = data
        url = f"http://127.0.0.1:{self.port}/files/{file_id}/{name}"
        return {
            "id": file_id,
            "name": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private": url,
            "url_private_download": url,
        }

    async def _file(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        self.downloads.append(auth)
        data = self.files.get(request.match_info["id"])
        if not auth.startswith("Bearer xoxb-") or data is None:
            return web.Response(status=404, text="<html>not found</html>")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append({"url": request.match_info["name"], **await request.json()})
        await self._notify()
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        elif request.can_read_body:
            args.update(dict(await request.post()))
        failure = self._take_failure(method)
        if failure is not None:
            self.calls.append(Call(method, args, failure.status))
            await self._notify()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            body = {"ok": False, "error": "ratelimited" if failure.status == 429 else "oops"}
            return web.json_response(body, status=failure.status, headers=headers)
        self.calls.append(Call(method, args, 200))
        error = self.errors.get(method)
        answer = {"ok": False, "error": error} if error else self._answer(method, args)
        await self._notify()
        return web.json_response(answer)

    def _take_failure(self, method: str) -> _Failure | None:
        for failure in self._failures:
            if failure.remaining > 0 and (failure.methods is None or method in failure.methods):
                failure.remaining -= 1
                return failure
        return None

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        match method:
            case "apps.connections.open":
                return {"ok": True, "url": self.socket_url}
            case "auth.test":
                return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
            case "chat.postMessage":
                self._ts += 1
                ts = f"1700000000.{self._ts:06d}"
                if args.get("thread_ts"):
                    self.replies(str(args["thread_ts"]))[ts] = dict(args)
                else:
                    self._messages[ts] = dict(args)
                return {"ok": True, "channel": args.get("channel"), "ts": ts}
            case "chat.update":
                if args.get("ts") not in self._messages:
                    return {"ok": False, "error": "message_not_found"}
                self._messages[args["ts"]] = dict(args)
                return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
            case "usergroups.users.list":
                return {"ok": True, "users": sorted(self.members)}
            case "conversations.history":  # newest first, metadata included
                found = [{"ts": ts, **m} for ts, m in sorted(self._messages.items())[::-1]]
                return {"ok": True, "messages": found[: int(args.get("limit") or 100)]}
            case "conversations.replies":
                return self._thread(args)
            case "conversations.members":
                return {"ok": True, "members": sorted(self.members)}
            case "conversations.info":
                channel = args.get("channel")
                return {"ok": True, "channel": {"id": channel, "is_member": channel in self.joined}}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": "1700000000.999999"}
            case _:
                return {"ok": True}

    def _thread(self, args: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: the parent, then its replies oldest first, metadata
        included, in pages of `limit` with a cursor to the next."""
        parent = str(args.get("ts") or "")
        if parent not in self._messages:
            return {"ok": False, "error": "thread_not_found"}
        thread = [{"ts": parent, **self._messages[parent]}]
        thread += [{"ts": ts, **m} for ts, m in sorted(self.replies(parent).items())]
        start, size = int(args.get("cursor") or 0), int(args.get("limit") or 1000)
        page: dict[str, Any] = {"ok": True, "messages": thread[start : start + size]}
        if start + size < len(thread):
            page["response_metadata"] = {"next_cursor": str(start + size)}
        return page
