"""How personal content is sealed at rest. The plain sealer is the seam that the
encryption work replaces with Fernet; callers never touch raw columns without it."""

from __future__ import annotations

from typing import Protocol


class Sealer(Protocol):
    def seal(self, data: bytes) -> bytes: ...

    def open(self, data: bytes) -> bytes: ...


class PlainSealer:
    """Stores bytes as they are (tests and the foundation; replaced by encryption at rest)."""

    def seal(self, data: bytes) -> bytes:
        return data

    def open(self, data: bytes) -> bytes:
        return data
