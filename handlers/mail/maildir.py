"""Writing one mail into a Maildir (tmp/ first, then a rename into new/), durably.

The layout and the unique-name rule follow https://cr.yp.to/proto/maildir.html.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path

_counter = itertools.count(1)


def ensure_maildir(root: Path) -> None:
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)


def unique_name() -> str:
    """`<seconds>.M<micro>P<pid>Q<counter>.<host>`: unique per process, time and host."""
    now = time.time_ns()
    seconds, micro = divmod(now // 1000, 1_000_000)
    host = socket.gethostname().replace("/", r"\057").replace(":", r"\072") or "localhost"
    return f"{seconds}.M{micro}P{os.getpid()}Q{next(_counter)}.{host}"


def write_maildir(root: Path, raw: bytes, *, envelope_to: str = "") -> Path:
    """Deliver `raw` into `root/new/` and return its path; the data is on disk when this returns."""
    ensure_maildir(root)
    name = unique_name()
    tmp, new = root / "tmp" / name, root / "new" / name
    head = f"Delivered-To: {envelope_to}\n".encode() if envelope_to else b""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(head + raw)
            handle.flush()
            os.fsync(handle.fileno())
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
