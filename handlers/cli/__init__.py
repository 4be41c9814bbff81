"""The `dsr` command line: one module per command group, each with `register(subparsers)`.

A command's module is imported only when that command runs. `dsr --help` and the refusal of
an unknown command need nothing but the names and help lines in `COMMANDS`, so they start
without the database, mail or Slack libraries; `dsr classify` loads the recogniser alone.
Adding a command is one line in `COMMANDS`, with the help line the module gives its parser
(a test holds the two equal); a module that registers several top-level commands (audit:
`audit`, `register`, `purge`) has one line per command.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import select
import sys
from collections.abc import Sequence
from typing import NamedTuple

# EX_PIPE: 128 + SIGPIPE, what a shell reports for a writer whose reader went away.
EX_USAGE, EX_CONFIG, EX_PIPE = 2, 78, 141


class Command(NamedTuple):
    module: str
    help: str


COMMANDS: dict[str, Command] = {
    "serve": Command(
        "handlers.cli.serve", "run everything that is configured / de assistent starten"
    ),
    "db": Command("handlers.cli.db", "database maintenance / databasebeheer"),
    "deadline": Command(
        "handlers.cli.deadline",
        "legal deadline for a request / wettelijke termijn voor een verzoek",
    ),
    "cases": Command("handlers.cli.cases", "list and act on cases / zaken bekijken en behandelen"),
    "classify": Command(
        "handlers.cli.classify",
        "recognise a request and its route (no database) / verzoek en route herkennen",
    ),
    "subjects": Command(
        "handlers.cli.subjects", "register of known persons / register van bekende personen"
    ),
    "ingest": Command(
        "handlers.cli.ingest", "take one mail from a file or stdin / één mail inlezen"
    ),
    "demo": Command(
        "handlers.cli.demo",
        "feed sample requests through the pipeline / voorbeeldverzoeken verwerken",
    ),
    "reminders": Command("handlers.cli.reminders", "deadline reminders / herinneringen"),
    "audit": Command("handlers.cli.audit", "audit trail / audittrail"),
    "register": Command("handlers.cli.audit", "register of requests / register van verzoeken"),
    "purge": Command(
        "handlers.cli.audit",
        "remove content past DSR_RETENTION_DAYS / verlopen inhoud verwijderen",
    ),
    "keys": Command("handlers.cli.keys", "encryption keys / versleutelingssleutels"),
    "review": Command(
        "handlers.cli.review", "mail that might be a request / mogelijke verzoeken beoordelen"
    ),
    "inventory": Command(
        "handlers.cli.inventory", "systems and recipients / inventarisatie van systemen"
    ),
    "tasks": Command("handlers.cli.tasks", "the work per system / het werk per systeem"),
    "breaches": Command(
        "handlers.cli.breaches", "personal data breaches (datalekken) / datalekken"
    ),
    "doctor": Command(
        "handlers.cli.doctor",
        "check settings, database, key and servers / de installatie controleren",
    ),
    "backup": Command("handlers.cli.backup", "consistent copy while running / reservekopie maken"),
    "restore": Command(
        "handlers.cli.backup",
        "put a backup back into an empty var dir / reservekopie terugzetten",
    ),
}


def command_in(argv: Sequence[str]) -> str | None:
    """The command word: `dsr` itself takes no option but `-h`, so it is the first word that
    is not an option."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for one run: the module of `command` registers its commands with their
    arguments; every other command is listed by name and help line only."""
    parser = argparse.ArgumentParser(
        prog="dsr",
        description="Privacy desk for GDPR data-subject requests / "
        "Privacybalie voor AVG-verzoeken van betrokkenen",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = COMMANDS[command].module if command in COMMANDS else None
    for name, entry in COMMANDS.items():
        if entry.module != chosen:
            commands.add_parser(name, help=entry.help)
    if chosen is not None:
        importlib.import_module(chosen).register(commands)
    return parser


def _configuration_errors() -> tuple[type[Exception], ...]:
    """Errors that mean "fix the settings": imported here, after the command failed, so that
    a command that never builds a desk does not load the database and crypto libraries."""
    from bot.keys import EncryptionKeyError
    from bot.settings import SettingsError
    from handlers.runtime import StartupError

    return (SettingsError, StartupError, EncryptionKeyError)


def _stdout_closed() -> bool:
    """Whether it is our stdout whose reader went away (`dsr ... | head`), not a socket of the
    command: a pipe without a reader polls as an error."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _reader_gone() -> int:
    """The reader of stdout closed it: stop quietly with the shell's code for a pipe writer
    stopped by SIGPIPE, and point stdout at /dev/null so that the flush at exit does not fail
    again (the recipe in the Python docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EX_PIPE


def main(argv: Sequence[str] | None = None) -> None:
    """`dsr`; without `argv` it is the executable, one command in a process of its own."""
    words = sys.argv[1:] if argv is None else list(argv)
    executable = argv is None
    if executable:
        # The command's imports make some 150,000 objects that live until exit. The cyclic
        # collector would walk them over and over while they load, and once more at exit:
        # about 0.2 s of a one-mail `dsr ingest`. They are loaded with it off, then frozen
        # (left out of every later pass); it runs as usual for what the command makes.
        gc.disable()
    try:
        args = build_parser(command_in(words)).parse_args(words)
    finally:
        if executable:
            gc.freeze()
            gc.enable()
    try:
        code = int(args.func(args))
        sys.stdout.flush()
    except BrokenPipeError:
        if not _stdout_closed():
            raise
        code = _reader_gone()
    except Exception as exc:
        if not isinstance(exc, _configuration_errors()):
            raise
        print(f"dsr: {exc}", file=sys.stderr)
        code = EX_CONFIG
    raise SystemExit(code)
