# Hand-written here (measured on Dovecot 2.3, imap-tools 1.16): the size listing, as imap-tools'
# headers-only fetch downloaded all 200 KB of an oversize mail's header section, and the move,
# as its move() took MOVE from the pre-login capabilities and fell back to a folder-wide EXPUNGE
# that also removed a mail a person had marked deleted.
"""One logged-in IMAP session through imap-tools; every method blocks (run it in a thread).

The mailbox is shared with people: mail is read with BODY.PEEK[] (RFC 3501 6.4.5, never sets
\\Seen); the only change this session makes is moving one given UID, and it never issues a
plain EXPUNGE, which would also remove the mail people marked deleted.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import threading
import time
from typing import Any

from imap_tools import (
    BaseMailBox,
    MailBox,
    MailBoxUnencrypted,
    MailMessage,
    UnexpectedCommandStatusError,
)
from imap_tools.utils import encode_folder

from handlers.mail.imap_target import ImapTarget, require_secure_login

logger = logging.getLogger("handlers.mail.imap")  # one logger for the IMAP door

# ssl.SSLError is an OSError; imap-tools raises UnexpectedCommandStatusError for a NO or BAD.
CONNECTION_ERRORS = (OSError, imaplib.IMAP4.error, UnexpectedCommandStatusError)
SOCKET_TIMEOUT_SECONDS = 120.0


class RawMessage(MailMessage):
    """A fetched mail whose bytes are kept exactly as the server sent them.

    imap-tools reads the UID, flags and RFC822.SIZE from the FETCH response; the message is
    handed to it empty, so it is not parsed here: intake parses it once, with its own
    never-raising parser (imap-tools' compat32 parse took 161 ms for a 10 MB mail).
    """

    def __init__(self, fetch_data: list[Any]) -> None:
        literals = [item for item in fetch_data if isinstance(item, tuple)]
        self.raw: bytes | None = bytes(literals[-1][1]) if literals else None
        super().__init__([(i[0], b"") if isinstance(i, tuple) else i for i in fetch_data])


class ImapSession:
    """A logged-in imap-tools mailbox and the capabilities the server announced after login."""

    def __init__(self, box: BaseMailBox, capabilities: frozenset[str]) -> None:
        self.box = box
        self.capabilities = capabilities

    @classmethod
    def open(cls, target: ImapTarget, *, password: str, ssl_context: ssl.SSLContext) -> ImapSession:
        """`MailBox` for imaps://; for imap:// `MailBoxUnencrypted`, upgraded when it can be.

        `MailBoxStartTls` would issue STARTTLS unconditionally; the URL rule is STARTTLS when
        the server offers it, and a plain login only where the password stays on this machine.
        """
        box: BaseMailBox
        if target.tls == "imaps":
            box = MailBox(
                target.host, target.port, timeout=SOCKET_TIMEOUT_SECONDS, ssl_context=ssl_context
            )
            tls_active = True
        else:
            box = MailBoxUnencrypted(target.host, target.port, timeout=SOCKET_TIMEOUT_SECONDS)
            tls_active = "STARTTLS" in box.client.capabilities
        try:
            if tls_active and target.tls == "starttls":
                box.client.starttls(ssl_context=ssl_context)
            peer = str(box.client.sock.getpeername()[0])
            require_secure_login(target=target, peer=peer, tls_active=tls_active)
            box.login(target.user, password, initial_folder=None)
            _, data = box.client.capability()  # after login: MOVE, IDLE may be added
        except BaseException:
            with contextlib.suppress(OSError):  # a failed TLS handshake closed it already
                box.client.shutdown()
            raise
        box.email_message_class = RawMessage
        return cls(box, _parse_capabilities(data))

    def select(self, folder: str, *, readonly: bool) -> int:
        """(Re)open the folder; returns its UIDVALIDITY."""
        self.box.folder.set(folder, readonly=readonly)
        _, values = self.box.client.response("UIDVALIDITY")
        self.box.client.response("EXISTS")  # the count SELECT reported; a later one is news
        return int(values[-1])

    def list_new(self, after: int) -> list[tuple[int, int]]:
        """(UID, RFC822.SIZE) of every mail above `after`, oldest first; nothing is downloaded."""
        typ, data = self.box.client.uid("FETCH", f"{after + 1}:*", "(UID RFC822.SIZE)")
        if typ != "OK":
            raise imaplib.IMAP4.error("UID FETCH of message sizes failed")
        found: dict[int, int] = {}
        for item in data:
            if item is None:  # an empty folder
                continue
            message = MailMessage([item])
            # "n:*" also matches the last UID; an unsolicited FETCH (a person's flag) has no size
            if message.uid and int(message.uid) > after and message.size_rfc822 > 0:
                found[int(message.uid)] = message.size_rfc822
        return sorted(found.items())

    def fetch(self, uid: int) -> bytes | None:
        """The whole message, unchanged and unflagged; None when it was expunged meanwhile."""
        for message in self.box.fetch(uid_list=[str(uid)], mark_seen=False):
            if isinstance(message, RawMessage) and message.uid == str(uid) and message.raw:
                return message.raw
        logger.info("imap: uid=%d vanished before it was fetched", uid)
        return None

    def move(self, uid: int, folder: str) -> None:
        """UID MOVE (RFC 6851); else COPY, then flag and UID EXPUNGE (RFC 4315) this UID only."""
        client, uids = self.box.client, str(uid)
        mailbox = encode_folder(folder).decode("ascii")
        if "MOVE" in self.capabilities:
            typ, _ = client.uid("MOVE", uids, mailbox)
        elif "UIDPLUS" in self.capabilities:
            typ, _ = client.uid("COPY", uids, mailbox)
            if typ == "OK":
                client.uid("STORE", uids, "+FLAGS.SILENT", "(\\Deleted)")
                typ, _ = client.uid("EXPUNGE", uids)
        else:
            typ = "NO MOVE OR UIDPLUS"
        client.response("EXPUNGE")  # drop the untagged EXPUNGE our move caused
        if typ != "OK":
            logger.warning("imap: could not move uid=%d (%s); left in place", uid, typ)

    def idle(self, *, seconds: float, window: float, stopping: threading.Event) -> None:
        """RFC 2177 IDLE until the server reports a change, `seconds` pass, or `stopping`.

        Each IDLE command lasts at most one `window`, so `stopping` is seen within a window.
        A NOOP before each one collects what the server held back between two IDLE commands:
        sent with the IDLE continuation instead, it would sit in imaplib's buffer, unseen by the
        socket poll until the window ends (Dovecot: median 1.07 s from APPEND to delivery
        without the NOOP, 0.52 s with it).
        """
        deadline = time.monotonic() + seconds
        announced = False
        while not stopping.is_set():
            self.box.client.noop()
            remaining = deadline - time.monotonic()
            if self._new_mail_reported() or remaining <= 0:
                return
            with self.box.idle as idle:  # IDLE now, DONE on leaving
                if not announced:
                    logger.debug("imap: idling for up to %.3g s", seconds)
                    announced = True
                if idle.poll(timeout=min(window, remaining)):
                    return

    def close(self) -> None:
        try:
            self.box.logout()
        except CONNECTION_ERRORS:
            with contextlib.suppress(OSError):
                self.box.client.shutdown()

    def _new_mail_reported(self) -> bool:
        """Whether an EXISTS (RFC 3501 7.3.1) came since the SELECT or the last check.

        imaplib keeps the untagged responses it parses; `response()` hands them over once.
        """
        _, counts = self.box.client.response("EXISTS")
        return counts != [None]


def _parse_capabilities(data: list[Any]) -> frozenset[str]:
    words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
    return frozenset(words.upper().split())
