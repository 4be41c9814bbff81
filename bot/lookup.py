"""Keyed lookup hashes for sealed columns: searching by address or name without plaintext."""

from __future__ import annotations

from bot.desk import Desk
from bot.privacy import normalise_address


def person_key(desk: Desk, address: str) -> str:
    """Keyed hash of a normalised address: the register and cases are searched by this."""
    return desk.sealer.lookup_key(normalise_address(address))


def name_key(desk: Desk, name: str) -> str | None:
    wanted = " ".join(name.split()).lower()
    return desk.sealer.lookup_key(f"name:{wanted}") if wanted else None
