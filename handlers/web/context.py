"""What the web front's handlers get from the application (aiohttp app keys)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.desk import Desk
from bot.downloads import Packager
from bot.settings import Settings

DESK = web.AppKey("desk", Desk)
SETTINGS = web.AppKey("settings", Settings)
Clock = Callable[[], datetime]
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
PACKAGER = web.AppKey("packager", Packager)
