"""The inventory in use while the service runs, one per file: read at start, read again when
the file changes or at SIGHUP, and kept when a new version is broken."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.inventory import Inventory, InventoryError, InventoryMissing, load_inventory

logger = logging.getLogger("dsr.inventory")


@dataclass
class _Loaded:
    stamp: tuple[int, int] | None
    inventory: Inventory | None


class InventorySource:
    """The inventory in use while the service runs: read again when the file changes (or on
    `reload`, e.g. at SIGHUP). A file that breaks while running keeps the last good one in
    use and is logged; a missing file means no tasks, logged once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._reported: tuple[int, int] | None | str = "nothing yet"

    def current(self) -> Inventory | None:
        with self._lock:
            stamp = self._stamp()
            if self._loaded is None or self._loaded.stamp != stamp:
                self._read(stamp)
            return self._loaded.inventory if self._loaded else None

    def reload(self) -> Inventory | None:
        """Read the file now; raises InventoryError when it is broken (the last good one
        stays in use)."""
        with self._lock:
            stamp = self._stamp()
            try:
                inventory = None if stamp is None else load_inventory(self.path)
            except InventoryMissing:
                inventory = None
            if inventory is None:
                logger.warning("inventory: no file at %s; no tasks are created", self.path)
                self._reported = "missing"
            else:
                logger.info("inventory: %d system(s) from %s", len(inventory.system), self.path)
            self._loaded = _Loaded(stamp, inventory)
            return inventory

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def _read(self, stamp: tuple[int, int] | None) -> None:
        try:
            inventory = None if stamp is None else load_inventory(self.path)
        except InventoryMissing:
            inventory, stamp = None, None
        except InventoryError as exc:
            if self._reported != stamp:
                logger.error("inventory: %s; the previous inventory stays in use", exc)
                self._reported = stamp
            self._loaded = _Loaded(stamp, self._loaded.inventory if self._loaded else None)
            return
        if inventory is None and self._reported != "missing":
            logger.warning("inventory: no file at %s; no tasks are created", self.path)
            self._reported = "missing"
        self._loaded = _Loaded(stamp, inventory)


_SOURCES: dict[Path, InventorySource] = {}
_SOURCES_LOCK = threading.Lock()


def inventory_source(path: Path) -> InventorySource:
    """The one source per file in this process."""
    key = path.absolute()
    with _SOURCES_LOCK:
        if key not in _SOURCES:
            _SOURCES[key] = InventorySource(path)
        return _SOURCES[key]
