"""What may be shown of a person outside the case file."""

from __future__ import annotations


def mask_address(address: str) -> str:
    """`jan.jansen@example.nl` -> `j***@example.nl`; anything odd -> `***`."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return "***"
    return f"{local[0]}***@{domain}"


def normalise_address(address: str) -> str:
    """Lower-case and drop a `+tag`, for matching a sender to a known person."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"
