"""Logging for `dsr serve` and the commands: one line per event, text or JSON.

Our loggers carry references and counts only (`case=DSR-2026-0042`). Third-party loggers that
write addresses, request bodies or SQL parameters at INFO or DEBUG are held at WARNING, whatever
DSR_LOG_LEVEL says, and any address that still reaches a line is masked as a last resort.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.settings import Settings

# aiosmtpd logs every SMTP command (addresses); aiosmtplib the conversation; slack_sdk and
# Bolt the request bodies at DEBUG; SQLAlchemy the SQL parameters; alembic one line per step.
QUIET = (
    "mail.log",
    "aiosmtplib",
    "slack_sdk",
    "slack_bolt",
    "dsr.slack.bolt",
    "aiohttp.access",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "imap_tools",
    "asyncio",
)
CASE = re.compile(r"\bcase=(DSR-\d{4}-\d{4,})\b")
ADDRESS = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def mask_addresses(text: str) -> str:
    """`jan.jansen@example.nl` becomes `j***@example.nl`: a safety net, not a licence."""
    return ADDRESS.sub(r"\1***@\2", text)


class TextFormatter(logging.Formatter):
    """The classic line; a traceback follows on its own lines as usual."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return mask_addresses(super().formatMessage(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and case when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        message = mask_addresses(record.getMessage())
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        case = CASE.search(message)
        if case is not None:
            line["case"] = case.group(1)
        if record.exc_info:
            line["exc"] = mask_addresses(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Replace the root handlers by one on `stream` (stderr); returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter_for(settings.log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
