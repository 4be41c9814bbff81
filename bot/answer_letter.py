"""The cover letter of an answer package (pure): what GDPR art. 15(1)(a)-(h) and (2) make the
firm tell the person, written from the inventory for exactly the systems that held their data,
in the requester's language (templates/<lang>/answer_letter.txt and .html)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.categories import plain_words
from bot.inventory import Inventory
from bot.templates import RenderedMail, render_mail
from bot.wording import long_date
from storage.models import Task

HELD = frozenset({"found", "exported"})  # the results that mean a system held data


@dataclass(frozen=True)
class LetterSystem:
    """One system that held the person's data, as the letter names it."""

    id: str
    name: str
    kind: str  # internal | group | processor | recipient (bot.inventory.SystemKind)
    data: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()
    legal_basis: str = ""
    retention: str = ""
    keep_law: str = ""
    recipients: tuple[str, ...] = ()
    source: str = ""
    files: list[str] = field(default_factory=list)


def held_systems(tasks: Sequence[Task], inventory: Inventory) -> list[LetterSystem]:
    """The systems whose export task found data, in the inventory's order (a system no longer
    in the inventory by its id, with nothing more to say)."""
    held = {t.system for t in tasks if t.action == "search_export" and t.result in HELD}
    found = []
    for system in inventory.system:
        if system.id not in held:
            continue
        held.discard(system.id)
        names = [inventory.get(r) for r in system.recipients]
        found.append(
            LetterSystem(
                id=system.id,
                name=system.name,
                kind=system.kind,
                data=tuple(system.data),
                purposes=tuple(system.purposes),
                legal_basis=system.legal_basis,
                retention=system.retention,
                keep_law=system.keep_law or "",
                recipients=tuple(r.name for r in names if r is not None),
                source=system.source,
            )
        )
    found += [LetterSystem(id=s, name=s, kind="internal") for s in sorted(held)]
    return found


def render_letter(
    *,
    reference: str,
    language: str,
    kind: str,
    received: date,
    today: date,
    systems: Sequence[LetterSystem],
    portability: bool,
    machine_readable: Sequence[str],
) -> RenderedMail:
    """The letter as text and HTML; its subject is the letter's title."""
    return render_mail(
        "answer_letter",
        language=language,
        context={
            "reference": reference,
            "kind_words": plain_words(kind, language),
            "received": long_date(received, language),
            "today": long_date(today, language),
            "systems": list(systems),
            "portability": portability,
            "machine_readable": list(machine_readable),
        },
    )
