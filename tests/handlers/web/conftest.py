"""Fixtures of the web front's tests: a desk with the example inventory, a clock, a client
that keeps cookies for 127.0.0.1 and sends the form token as a browser would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.desk import Desk
from storage.engine import make_engine
from storage.sealing import FernetSealer, generate_key
from tests.factories import inventory_desk
from tests.handlers.web.site import LATER, Clock

FORM_TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def web_desk(desk: Desk, db_url: str, tmp_path: Path) -> Iterator[Desk]:
    """The example inventory, and an engine that seals with Fernet as `dsr serve` does."""
    engine = make_engine(db_url, sealer=FernetSealer([generate_key()]))
    yield Desk(settings=inventory_desk(desk, tmp_path).settings, engine=engine)
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(LATER.replace(hour=12))


class Browser:
    """An HTTP client that behaves like a browser without JavaScript: cookies, and forms sent
    with the token the page carried."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base
        self.token = ""

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(self._url(path), allow_redirects=True) as response:
            body = await response.text()
        found = FORM_TOKEN.search(body)
        if found:
            self.token = found.group(1)
        return response.status, body

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, follow: bool = True
    ) -> aiohttp.ClientResponse:
        form = {"csrf": self.token, **(data or {})}
        response = await self.session.post(self._url(path), data=form, allow_redirects=follow)
        body = await response.read()
        if follow and response.content_type == "text/html":
            found = FORM_TOKEN.search(body.decode())
            if found:
                self.token = found.group(1)
        return response

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session
