"""IMAP poller: hands every new mail in one folder of the shared mailbox to intake, once.

imaplib blocks, so each IMAP exchange runs in a worker thread (`asyncio.to_thread`); the
callbacks and the database cursor are driven from the event loop. The mailbox is shared with
people: mail is read with BODY.PEEK[] (RFC 3501 6.4.5, never sets \\Seen) and only mail the
callback took is moved, by UID, when `move_to` is set; nothing else is flagged or expunged.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import io
import ipaddress
import logging
import re
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, cast
from urllib.parse import unquote, urlsplit

from imap_tools.imap_utf7 import utf7_encode
from sqlalchemy import Engine

from storage.engine import transaction
from storage.imap_cursor import get_cursor, save_cursor

logger = logging.getLogger(__name__)

CONNECTION_ERRORS = (OSError, imaplib.IMAP4.error)  # ssl.SSLError is an OSError
IDLE_MAX_SECONDS = 25 * 60.0  # RFC 2177: re-issue IDLE at least every 29 minutes
SOCKET_TIMEOUT_SECONDS = 120.0
_IDLE_TAG = b"DSRIDLE"
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")


class InsecureImapError(ValueError):
    """The password would cross the network unencrypted; we refuse to log in."""


class Delivery(Protocol):
    async def __call__(self, raw: bytes, *, source: str) -> bool:
        """Store the mail durably (or quarantine it); True when taken (case created/threaded).

        Raise only for a temporary failure: the poller retries from this mail later.
        """
        ...


OnOversize = Callable[[int, int], Awaitable[None]]
Outcome = Literal["delivered", "skipped", "failed"]


@dataclass(frozen=True)
class ImapTarget:
    tls: Literal["imaps", "starttls"]
    host: str
    port: int
    user: str
    folder: str

    @classmethod
    def from_url(cls, url: str) -> ImapTarget:
        """`imaps://user@host:993/INBOX` (TLS) or `imap://user@host:143/INBOX` (STARTTLS)."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("imaps", "imap"):
            raise ValueError(
                "IMAP URL: use imaps://user@host:993/INBOX or imap://user@host:143/INBOX"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError("IMAP URL: the port must be a number from 1 to 65535") from None
        if not parts.hostname or not parts.username:
            raise ValueError("IMAP URL: give a user and a host, as in imaps://user@host:993/INBOX")
        if parts.password is not None:
            raise ValueError("IMAP URL: put the password in DSR_IMAP_PASSWORD, not in the URL")
        tls: Literal["imaps", "starttls"] = "imaps" if parts.scheme == "imaps" else "starttls"
        return cls(
            tls=tls,
            host=parts.hostname,
            port=port or (993 if tls == "imaps" else 143),
            user=unquote(parts.username),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
        )

    @property
    def mailbox_key(self) -> str:
        """The cursor's key: one row per account and folder, whichever port or TLS mode."""
        return f"{self.user}@{self.host}/{self.folder}"


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address.lower() == "localhost"


def require_secure_login(*, target: ImapTarget, peer: str, tls_active: bool) -> None:
    """Plain-text login only when the password never leaves this machine."""
    if tls_active or is_loopback(peer):
        return
    raise InsecureImapError(
        f"refusing to log in to {target.host}:{target.port} without TLS: the server offers no "
        "STARTTLS and is not on this machine; use imaps://HOST:993 or enable STARTTLS"
    )


@dataclass
class _Connection:
    imap: imaplib.IMAP4
    capabilities: frozenset[str]


@dataclass(frozen=True)
class _Round:
    delivered: int
    blocked: bool


class ImapPoller:
    def __init__(
        self,
        *,
        target: ImapTarget,
        password: str,
        engine: Engine,
        deliver: Delivery,
        on_oversize: OnOversize,
        max_message_bytes: int,
        poll_seconds: float,
        move_to: str = "",
        ssl_context: ssl.SSLContext | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
    ) -> None:
        self._target = target
        self._password = password
        self._engine = engine
        self._deliver = deliver
        self._on_oversize = on_oversize
        self._max_bytes = max_message_bytes
        self._poll_seconds = poll_seconds
        self._move_to = move_to
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._backoff = backoff_initial
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._wake_w: socket.socket | None = None

    async def poll_once(self) -> int:
        """One round on a fresh connection; returns how many mails were delivered."""
        conn = await asyncio.to_thread(self._connect)
        try:
            return (await self._round(conn)).delivered
        finally:
            await asyncio.to_thread(_close, conn)

    async def run(self) -> None:
        """Poll (IDLE where offered) until `stop()`; reconnect with capped backoff."""
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        wake_r, self._wake_w = socket.socketpair()
        try:
            while not self._stopping.is_set():
                try:
                    await self._serve(wake_r)
                except CONNECTION_ERRORS as exc:
                    logger.warning(
                        "imap: connection failed (%s); retrying in %.3g s",
                        type(exc).__qualname__,
                        self._backoff,
                    )
                    await self._pause(self._backoff)
                    self._backoff = min(self._backoff * 2, self._backoff_max)
        finally:
            wake_r.close()
            self._wake_w.close()

    def stop(self) -> None:
        """Ask `run()` to return; safe from any thread or a signal handler."""
        self._stopping.set()
        if self._loop is not None and self._stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stop_event.set)
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"\0")

    async def _serve(self, wake_r: socket.socket) -> None:
        conn = await asyncio.to_thread(self._connect)
        try:
            while not self._stopping.is_set():
                result = await self._round(conn)
                self._backoff = self._backoff_initial
                if self._stopping.is_set():
                    return
                if result.blocked or "IDLE" not in conn.capabilities:
                    await self._pause(self._poll_seconds)
                else:
                    seconds = min(self._poll_seconds, IDLE_MAX_SECONDS)
                    await asyncio.to_thread(self._idle, conn, seconds, wake_r)
        finally:
            await asyncio.to_thread(_close, conn)

    async def _pause(self, seconds: float) -> None:
        if self._stop_event is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    async def _round(self, conn: _Connection) -> _Round:
        uidvalidity = await asyncio.to_thread(self._select, conn)
        after = await asyncio.to_thread(self._start_after, uidvalidity)
        pending = await asyncio.to_thread(_list_new, conn, after)
        delivered = 0
        for uid, size in pending:
            if self._stopping.is_set():
                break
            outcome = await self._take(conn, uidvalidity, uid, size)
            if outcome == "failed":
                return _Round(delivered=delivered, blocked=True)
            delivered += int(outcome == "delivered")
        if pending:
            logger.info("imap: round done: new=%d delivered=%d", len(pending), delivered)
        return _Round(delivered=delivered, blocked=False)

    async def _take(self, conn: _Connection, uidvalidity: int, uid: int, size: int) -> Outcome:
        """Hand one mail over, then advance the cursor past it (and move it if taken)."""
        oversize = size > self._max_bytes
        raw = None if oversize else await asyncio.to_thread(_fetch_body, conn, uid)
        taken = False
        try:
            if oversize:
                logger.warning("imap: uid=%d is %d bytes, over the limit; not fetched", uid, size)
                await self._on_oversize(uid, size)
            elif raw is not None:
                source = f"imap:{self._target.folder}:{uidvalidity}:{uid}"
                taken = await self._deliver(raw, source=source)
        except Exception as exc:
            logger.warning(
                "imap: handing over uid=%d failed (%s); will retry from it",
                uid,
                type(exc).__name__,
            )
            return "failed"
        await asyncio.to_thread(self._save, uidvalidity, uid)
        if raw is None:
            return "skipped"
        if taken and self._move_to:
            await asyncio.to_thread(self._move, conn, uid)
        return "delivered"

    def _connect(self) -> _Connection:
        target = self._target
        if target.tls == "imaps":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                target.host,
                target.port,
                ssl_context=self._ssl_context,
                timeout=SOCKET_TIMEOUT_SECONDS,
            )
            tls_active = True
        else:
            imap = imaplib.IMAP4(target.host, target.port, timeout=SOCKET_TIMEOUT_SECONDS)
            tls_active = "STARTTLS" in imap.capabilities
            if tls_active:
                imap.starttls(ssl_context=self._ssl_context)
        try:
            peer = str(imap.sock.getpeername()[0])
            require_secure_login(target=target, peer=peer, tls_active=tls_active)
            imap.login(target.user, self._password)
            _, data = imap.capability()
        except BaseException:
            imap.shutdown()
            raise
        return _Connection(imap=imap, capabilities=_parse_capabilities(data))

    def _select(self, conn: _Connection) -> int:
        """(Re)open the folder, read-only unless we move mail; returns its UIDVALIDITY."""
        folder = _quote_mailbox(self._target.folder)
        typ, _ = conn.imap.select(folder, readonly=not self._move_to)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {self._target.folder!r}; check the URL")
        _, values = conn.imap.response("UIDVALIDITY")
        return int(values[-1])

    def _start_after(self, uidvalidity: int) -> int:
        """The last UID handled in this folder; 0 on first run or after a UIDVALIDITY change."""
        key = self._target.mailbox_key
        with transaction(self._engine) as session:
            cursor = get_cursor(session=session, mailbox=key)
            if cursor is not None and cursor.uidvalidity == uidvalidity:
                return cursor.last_uid
            if cursor is not None:
                logger.warning(
                    "imap: UIDVALIDITY changed from %d to %d; rescanning the folder",
                    cursor.uidvalidity,
                    uidvalidity,
                )
                save_cursor(session=session, mailbox=key, uidvalidity=uidvalidity, last_uid=0)
            return 0

    def _save(self, uidvalidity: int, uid: int) -> None:
        key = self._target.mailbox_key
        with transaction(self._engine) as session:
            save_cursor(session=session, mailbox=key, uidvalidity=uidvalidity, last_uid=uid)

    def _move(self, conn: _Connection, uid: int) -> None:
        """UID MOVE (RFC 6851); else COPY, then flag and UID EXPUNGE (RFC 4315) this UID only."""
        imap, folder, uids = conn.imap, _quote_mailbox(self._move_to), str(uid)
        if "MOVE" in conn.capabilities:
            typ, _ = imap.xatom("UID", "MOVE", uids, folder)
        elif "UIDPLUS" in conn.capabilities:
            typ, _ = imap.uid("COPY", uids, folder)
            if typ == "OK":
                imap.uid("STORE", uids, "+FLAGS.SILENT", "(\\Deleted)")
                typ, _ = imap.xatom("UID", "EXPUNGE", uids)
        else:
            typ = "NO MOVE OR UIDPLUS"
        imap.response("EXPUNGE")  # drop the untagged EXPUNGE our move caused
        if typ != "OK":
            logger.warning("imap: could not move uid=%d (%s); left in place", uid, typ)

    def _idle(self, conn: _Connection, seconds: float, wake_r: socket.socket) -> None:
        """RFC 2177 IDLE until the server reports a change, `seconds` pass, or stop()."""
        imap = conn.imap
        imap.send(_IDLE_TAG + b" IDLE\r\n")
        line = _read_line(imap)
        while not line.startswith(b"+"):
            if line.startswith(_IDLE_TAG):
                raise imaplib.IMAP4.error("the server refused IDLE")
            line = _read_line(imap)
        self._wait_for_server(imap, seconds, wake_r)
        imap.send(b"DONE\r\n")
        while not line.startswith(_IDLE_TAG + b" "):
            line = _read_line(imap)
        if not line.startswith(_IDLE_TAG + b" OK"):
            raise imaplib.IMAP4.error("IDLE did not end with OK")

    def _wait_for_server(self, imap: imaplib.IMAP4, seconds: float, wake_r: socket.socket) -> None:
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(imap.sock, selectors.EVENT_READ, "server")
            selector.register(wake_r, selectors.EVENT_READ, "stop")
            while not self._stopping.is_set() and not _peek(imap):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                ready = {key.data for key, _ in selector.select(remaining)}
                if "stop" in ready:
                    return
                if "server" in ready and _peek(imap) == b"":
                    raise imaplib.IMAP4.abort("the server closed the connection during IDLE")


def _peek(imap: imaplib.IMAP4) -> bytes | None:
    """Bytes buffered or readable now, without blocking; None while a TLS record is partial.

    The reader may already hold data that arrived with the IDLE continuation, which a
    select() on the socket would never report.
    """
    reader = cast(io.BufferedReader, imap.file)
    previous = imap.sock.gettimeout()
    imap.sock.settimeout(0)
    try:
        return reader.peek(1)
    except (BlockingIOError, ssl.SSLWantReadError):
        return None
    finally:
        imap.sock.settimeout(previous)


def _read_line(imap: imaplib.IMAP4) -> bytes:
    line = imap.readline()
    if not line:
        raise imaplib.IMAP4.abort("the server closed the connection during IDLE")
    literal = _LITERAL.search(line)
    if literal:
        imap.read(int(literal.group(1)))
        line += imap.readline()
    return line


def _list_new(conn: _Connection, after: int) -> list[tuple[int, int]]:
    """(UID, RFC822.SIZE) of every mail above `after`, oldest first; nothing is downloaded."""
    typ, data = conn.imap.uid("FETCH", f"{after + 1}:*", "(UID RFC822.SIZE)")
    if typ != "OK":
        raise imaplib.IMAP4.error("UID FETCH of message sizes failed")
    found: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        uid = _UID.search(line) if isinstance(line, bytes) else None
        size = _SIZE.search(line) if isinstance(line, bytes) else None
        if uid and size and int(uid.group(1)) > after:  # "n:*" also matches the last UID
            found[int(uid.group(1))] = int(size.group(1))
    return sorted(found.items())


def _fetch_body(conn: _Connection, uid: int) -> bytes | None:
    """The whole message, unchanged and unflagged; None when it was expunged meanwhile."""
    typ, data = conn.imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH of uid={uid} failed")
    for item in data:
        if isinstance(item, tuple):
            match = _UID.search(item[0])
            if match and int(match.group(1)) == uid:
                return bytes(item[1])
    logger.info("imap: uid=%d vanished before it was fetched", uid)
    return None


def _close(conn: _Connection) -> None:
    try:
        conn.imap.logout()
    except CONNECTION_ERRORS:
        with contextlib.suppress(OSError):
            conn.imap.shutdown()


def _parse_capabilities(data: list[bytes]) -> frozenset[str]:
    words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
    return frozenset(words.upper().split())


def _quote_mailbox(name: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 5.1.3)."""
    encoded = utf7_encode(name).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'
