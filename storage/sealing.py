"""Sealing personal content at rest (Fernet, from `cryptography`) and keyed lookup hashes.

The sealer belongs to the engine (`make_engine(url, sealer=...)`): the `Sealed*` column types
in storage/types.py seal on write and open on read, so no caller handles ciphertext.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealingError(Exception):
    """Sealed data could not be opened: a wrong or missing key. Never fall back to plaintext."""


class Sealer(Protocol):
    def seal(self, data: bytes) -> bytes: ...

    def open(self, data: bytes) -> bytes: ...

    def lookup_key(self, value: str) -> str:
        """A keyed hash of `value`, for equality search on a sealed column."""
        ...


class PlainSealer:
    """No encryption: for tests of other things. The service always runs with FernetSealer."""

    def seal(self, data: bytes) -> bytes:
        return data

    def open(self, data: bytes) -> bytes:
        return data

    def lookup_key(self, value: str) -> str:
        return hashlib.sha256(b"plain:" + value.encode()).hexdigest()


class FernetSealer:
    """MultiFernet over the keys, newest first: seals with the first, opens with any."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SealingError("no encryption key given")
        try:
            self._fernets = [Fernet(k.strip().encode()) for k in keys]
        except ValueError as exc:
            raise SealingError(
                "DSR_ENCRYPTION_KEY: not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with `dsr keys generate`"
            ) from exc
        self._multi = MultiFernet(self._fernets)
        self._lookup = hmac.new(keys[0].strip().encode(), b"dsr-lookup-v1", "sha256").digest()

    def seal(self, data: bytes) -> bytes:
        return self._multi.encrypt(data)

    def open(self, data: bytes) -> bytes:
        try:
            return self._multi.decrypt(data)
        except InvalidToken:
            raise SealingError(
                "sealed data could not be opened with DSR_ENCRYPTION_KEY; is it the key this "
                "database was written with?"
            ) from None

    def rotate(self, data: bytes) -> bytes:
        """Re-seal under the newest key (MultiFernet.rotate)."""
        try:
            return self._multi.rotate(data)
        except InvalidToken:
            raise SealingError("sealed data could not be opened for rotation") from None

    def lookup_key(self, value: str) -> str:
        return hmac.new(self._lookup, value.encode(), "sha256").hexdigest()


def generate_key() -> str:
    return Fernet.generate_key().decode()
