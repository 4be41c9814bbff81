"""Writing one mail into a Maildir (tmp/ first, then a rename into new/), durably.

The layout and the unique-name rule follow https://cr.yp.to/proto/maildir.html. A mail with a
Message-ID is written once: `dsr-delivered/<sha256 of the id>` names its file, so a retry after
a crash between the write and `mark_sent` (an expired outbox lease) finds it and writes nothing.
The sent copies hold names, references and codes: the retention purge removes those older than
the retention period (`remove_older_than`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

_counter = itertools.count(1)


def ensure_maildir(root: Path) -> None:
    """The Maildir's folders, 0700: the mails hold names, references and codes."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)


def unique_name() -> str:
    """`<seconds>.M<micro>P<pid>Q<counter>.<host>`: unique per process, time and host."""
    now = time.time_ns()
    seconds, micro = divmod(now // 1000, 1_000_000)
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"
    return f"{seconds}.M{micro}P{os.getpid()}Q{next(_counter)}.{host}"


def write_maildir(root: Path, raw: bytes, *, envelope_to: str = "") -> Path:
    """Deliver `raw` into `root/new/` and return its path; the data is on disk when this returns.

    When a mail with the same Message-ID is already in new/ or cur/, return its path instead."""
    ensure_maildir(root)
    marker = _marker(root, raw)
    if marker is not None and (earlier := _delivered(root, marker)) is not None:
        return earlier
    name = unique_name()
    tmp, new = root / "tmp" / name, root / "new" / name
    head = f"Delivered-To: {envelope_to}\n".encode() if envelope_to else b""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(head + raw)
            handle.flush()
            os.fsync(handle.fileno())
        if marker is not None:
            _write_marker(marker, name)
        os.rename(tmp, new)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(root / "new")
    return new


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _marker(root: Path, raw: bytes) -> Path | None:
    message_id = BytesHeaderParser().parsebytes(raw).get("Message-ID", "")
    message_id = str(message_id).strip()
    if not message_id:
        return None
    return root / "dsr-delivered" / hashlib.sha256(message_id.encode()).hexdigest()


def _delivered(root: Path, marker: Path) -> Path | None:
    """The file this Message-ID went into, if it is still in new/ or cur/ (with flags)."""
    try:
        name = marker.read_text().strip()
    except FileNotFoundError:
        return None
    if (root / "new" / name).exists():
        return root / "new" / name
    return next((root / "cur").glob(f"{name}*"), None) if name else None


def _write_marker(marker: Path, name: str) -> None:
    """Atomically (rename) and durably, before the mail's own rename into new/."""
    marker.parent.mkdir(mode=0o700, exist_ok=True)
    tmp = marker.with_suffix(f".{name}.tmp")
    tmp.write_text(name)
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, marker)
    _fsync_dir(marker.parent)


def remove_older_than(root: Path, cutoff: datetime, *, dry_run: bool = False) -> int:
    """Remove the mails written before `cutoff` (file time) from new/, cur/ and tmp/, and the
    Message-ID markers written then; return how many mails there were."""
    limit = cutoff.timestamp()
    count = 0
    for sub in ("new", "cur", "tmp"):
        folder = root / sub
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and path.stat().st_mtime < limit:
                count += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
    markers = root / "dsr-delivered"
    if not dry_run and markers.is_dir():
        for path in markers.iterdir():
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
    return count


def old_mail_remover(root: Path) -> Callable[[datetime, bool], int]:
    """`remove_older_than` for the retention purge (bot/retention.py)."""

    def remove(cutoff: datetime, dry_run: bool) -> int:
        return remove_older_than(root, cutoff, dry_run=dry_run)

    return remove
