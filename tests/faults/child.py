"""A `dsr serve` child process on loopback for the fault tests, and SMTP senders that retry."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

ROOT = Path(__file__).resolve().parents[2]
MAILBOX = "secretariaat@proambt.nl"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Child:
    """`python -m handlers.cli serve` with the given environment; stderr goes to a file."""

    env: dict[str, str]
    cwd: Path
    log: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self, *, timeout: float = 60.0) -> None:
        self.starts += 1
        with self.log.open("ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "handlers.cli", "serve"],
                cwd=self.cwd,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"dsr serve exited {self.process.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"dsr serve did not listen within {timeout}s: {self.tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up, no goodbye
        self.process.wait(timeout=10)

    def stop(self) -> int:
        """SIGTERM and wait; the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def child_env(tmp: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "SLACK_"))}
    env.update(
        DSR_ENCRYPTION_KEY=os.environ["DSR_ENCRYPTION_KEY"],
        DSR_DATABASE_URL=f"sqlite:///{tmp / 'dsr.db'}",
        DSR_VAR_DIR=str(tmp / "var"),
        DSR_OUTBOX_DIR=str(tmp / "outbox"),
        DSR_SMTP_LISTEN=f"127.0.0.1:{port}",
        DSR_HTTP_LISTEN="127.0.0.1:0",  # a free port: several children run at once
        DSR_LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@dataclass
class Tally:
    accepted: dict[str, str] = field(default_factory=dict)  # Message-ID -> the 250 answer
    refused: dict[str, str] = field(default_factory=dict)  # Message-ID -> a 5xx answer
    temporary: int = 0  # 4xx answers
    connection_errors: int = 0
    attempts: int = 0


async def send_until_accepted(
    port: int,
    mail: EmailMessage,
    tally: Tally,
    *,
    up: asyncio.Event,
    max_attempts: int = 200,
) -> None:
    """Deliver like a sending MTA: retry on 4xx and connection errors, give up on 5xx."""
    message_id = str(mail["Message-ID"])
    for attempt in range(1, max_attempts + 1):
        await asyncio.wait_for(up.wait(), timeout=120)
        tally.attempts += 1
        try:
            _, answer = await aiosmtplib.send(
                mail,
                hostname="127.0.0.1",
                port=port,
                sender=str(mail["From"]).rpartition("<")[2].rstrip(">"),
                recipients=[MAILBOX],
                timeout=30,
            )
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                tally.refused[message_id] = f"{exc.code} {exc.message}"
                return
            tally.temporary += 1
        except (aiosmtplib.SMTPException, OSError):
            tally.connection_errors += 1
        else:
            tally.accepted[message_id] = answer
            return
        await asyncio.sleep(min(0.01 * attempt, 0.2))  # a sending MTA's backoff, kept short
    raise AssertionError(f"{message_id} not accepted after {max_attempts} attempts")
