"""All checks of `dsr doctor`, in the order an operator fixes things."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.settings import Settings
from handlers.doctor import local, remote
from handlers.health.readiness import Check
from storage.engine import make_engine


@dataclass(frozen=True)
class Servers:
    """TLS trust for the IMAP server and the relay (tests trust their own certificate)."""

    imap_ssl: ssl.SSLContext | None = None
    relay_tls: ssl.SSLContext | None = None


def open_engine(settings: Settings) -> Engine | None:
    """An engine that only reads; None when the SQLite file is not there (it is not made)."""
    path = local.sqlite_path(settings)
    if path is not None and not path.exists():
        return None
    return make_engine(settings.database_url, pool_size=1)


async def examine(
    settings: Settings, *, servers: Servers | None = None, min_free: int = local.MIN_FREE_BYTES
) -> list[Check]:
    servers = servers or Servers()
    backend = "SQLite" if settings.is_sqlite else "PostgreSQL"
    checks = [Check("settings", True, f"read; {backend}, state in {settings.var_dir}")]
    # Looked at first: opening the SQLite file and the embedded key makes them private.
    files = local.file_modes(settings)
    engine = open_engine(settings)
    try:
        checks += [
            local.database(settings, engine),
            local.key(settings, engine),
            local.inventory(settings),
        ]
    finally:
        if engine is not None:
            engine.dispose()
    checks += await asyncio.gather(
        asyncio.to_thread(remote.imap, settings, ssl_context=servers.imap_ssl),
        remote.relay(settings, tls_context=servers.relay_tls),
        remote.slack(settings),
    )
    checks += [local.disk(settings, min_free=min_free), files]
    return checks
