"""`/dsr` command text -> a command, or the usage line of the subcommand (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.slack.texts import OUTCOMES

REFERENCE = re.compile(r"^DSR-\d{4}-\d{4,}$", re.IGNORECASE)
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
LIST_FILTERS: tuple[str, ...] = ("open", "overdue", "due-soon", "triage", "mine")

USAGE: dict[str, str] = {
    "help": "/dsr help",
    "list": "/dsr list [open|overdue|due-soon|triage|mine]",
    "show": "/dsr show REF",
    "assign": "/dsr assign REF @user",
    "kind": "/dsr kind REF KIND",
    "verify": "/dsr verify REF note",
    "extend": "/dsr extend REF reasons",
    "close": "/dsr close REF done|refused|withdrawn note",
    "stats": "/dsr stats",
    "review": "/dsr review",
    "datalek": "/dsr datalek",
}


@dataclass(frozen=True)
class Command:
    name: str
    reference: str | None = None
    value: str | None = None  # list filter, assignee (slack:U...), kind or outcome
    note: str | None = None


@dataclass(frozen=True)
class Usage:
    """Wrong or missing arguments: what was wrong and the usage line to show."""

    name: str | None
    problem: str

    @property
    def line(self) -> str:
        usage = USAGE[self.name] if self.name else " | ".join(USAGE.values())
        return f"{self.problem}. Usage / Gebruik: `{usage}`"


def parse_command(text: str) -> Command | Usage:
    words = text.split()
    if not words:
        return Command("help")
    name, rest = words[0].lower(), words[1:]
    if name not in USAGE:
        return Usage(None, f"unknown subcommand {words[0]!r} / onbekende opdracht")
    if name in {"help", "stats", "review", "datalek"}:
        return Command(name) if not rest else Usage(name, "no arguments expected / geen argumenten")
    if name == "list":
        return _list(rest)
    if not rest or not REFERENCE.match(rest[0]):
        return Usage(name, "give a case reference such as DSR-2026-0042 / geef een zaaknummer")
    reference, args = rest[0].upper(), rest[1:]
    return _with_reference(name, reference, args, text)


def _list(rest: list[str]) -> Command | Usage:
    if not rest:
        return Command("list", value="open")
    if len(rest) == 1 and rest[0].lower() in LIST_FILTERS:
        return Command("list", value=rest[0].lower())
    return Usage("list", "unknown filter / onbekend filter")


def _with_reference(name: str, reference: str, args: list[str], text: str) -> Command | Usage:
    if name == "show":
        return Command(name, reference) if not args else Usage(name, "too many arguments")
    if name == "assign":
        found = MENTION.match(args[0]) if len(args) == 1 else None
        if found is None:
            return Usage(name, "mention one person with @ / noem één persoon met @")
        return Command(name, reference, value=f"slack:{found.group(1)}")
    if name == "kind":
        if len(args) != 1:
            return Usage(name, "give one kind / geef één soort")
        return Command(name, reference, value=args[0].lower())
    if name == "close":
        if not args or args[0].lower() not in OUTCOMES:
            return Usage(name, "give the outcome / geef de uitkomst")
        note = _tail(text, 3)
        return (
            Command(name, reference, value=args[0].lower(), note=note)
            if note
            else Usage(name, "a note is required / een notitie is verplicht")
        )
    note = _tail(text, 2)
    if not note:
        return Usage(name, "a note is required / een notitie is verplicht")
    return Command(name, reference, note=note)


def _tail(text: str, skip: int) -> str:
    """The free text after the first `skip` words, spacing kept."""
    parts = text.strip().split(None, skip)
    return parts[skip].strip() if len(parts) > skip else ""
