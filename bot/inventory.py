"""The inventory of systems and recipients: which system holds what, who acts on it, and what
the law makes the firm keep. One `[[system]]` table per system in a TOML file
(`DSR_INVENTORY_FILE`); a mistake is reported with the line and field it is on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.categories import REQUEST_KINDS

SystemKind = Literal["internal", "processor", "group", "recipient"]
# A complaint is answered by the secretariat itself; it asks no system to act.
TASK_KINDS: tuple[str, ...] = tuple(k for k in REQUEST_KINDS if k != "complaint")
# What a recipient acting on its own account must be told of (GDPR art. 19).
ART19_KINDS: tuple[str, ...] = ("correction", "erasure", "restriction")
_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_OWNER = re.compile(r"^(slack:[UW][A-Z0-9]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_owner(value: str) -> bool:
    """A Slack user (`slack:U…`) or a mail address: who can be given a task."""
    return _OWNER.match(value) is not None


class System(BaseModel):
    """One system or recipient. `owner` acts on an internal or group system (a Slack user
    `slack:U…` or a mail address); a processor (art. 28) or recipient is reached at `contact`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    kind: SystemKind
    owner: str | None = None
    contact: str | None = None
    data: list[str] = Field(default_factory=list)
    purposes: list[str] = Field(default_factory=list)
    legal_basis: str = ""
    retention: str = ""
    source: str = ""  # where the data came from when not from the person (art. 15(1)(g))
    keep_years: int | None = Field(default=None, ge=1, le=100)
    keep_law: str | None = None
    recipients: list[str] = Field(default_factory=list)
    handles: list[str] | None = None
    instructions: str = ""
    language: Literal["nl", "en"] = "nl"

    @field_validator("handles")
    @classmethod
    def _known_kinds(cls, value: list[str] | None) -> list[str] | None:
        for kind in value or ():
            if kind not in TASK_KINDS:
                raise ValueError(f"unknown kind {kind!r}; use {', '.join(TASK_KINDS)}")
        return value

    @model_validator(mode="after")
    def _who_acts(self) -> System:
        if self.owner is not None and not _OWNER.match(self.owner):
            raise _FieldError("owner", "use slack:U… or a mail address")
        if self.contact is not None and not _ADDRESS.match(self.contact):
            raise _FieldError("contact", "use a mail address")
        if self.kind in ("processor", "recipient") and self.contact is None:
            raise _FieldError("contact", f"a {self.kind} needs a contact address")
        if self.kind in ("internal", "group") and self.owner is None and self.contact is None:
            raise _FieldError("owner", f"a {self.kind} system needs an owner")
        if (self.keep_years is None) != (self.keep_law is None):
            raise _FieldError("keep_law", "keep_years and keep_law go together")
        return self

    @property
    def kinds(self) -> tuple[str, ...]:
        """The request kinds this system acts on; a recipient by default only on those it
        must be told of (art. 19), every other system on all."""
        if self.handles is not None:
            return tuple(self.handles)
        return ART19_KINDS if self.kind == "recipient" else TASK_KINDS

    @property
    def assignee(self) -> str:
        """Who gets the work: the owner, else the contact address."""
        return self.owner or self.contact or ""


class Inventory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system: list[System] = Field(default_factory=list)

    def get(self, system_id: str) -> System | None:
        return next((s for s in self.system if s.id == system_id), None)


class _FieldError(ValueError):
    """A validator's complaint about one field of a system (pydantic reports the table)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class InventoryError(ValueError):
    """The file cannot be used; the message names the file, line and field."""

    def __init__(self, path: Path, line: int | None, field: str | None, message: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")
        self.line, self.field = line, field


class InventoryMissing(FileNotFoundError):
    """There is no inventory file: the desk runs, but creates no tasks."""


def load_inventory(path: Path) -> Inventory:
    """Read and check the file; InventoryMissing when absent, InventoryError when broken."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InventoryMissing(f"{path}: no inventory file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(path, None, None, f"cannot read: {exc}") from None
    return parse_inventory(text, path=path)


def parse_inventory(text: str, *, path: Path) -> Inventory:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise InventoryError(path, line, None, f"not valid TOML: {exc}") from None
    layout = _Layout(text)
    try:
        inventory = Inventory.model_validate(document)
    except ValidationError as exc:
        raise _located(exc, layout, path) from None
    _check_references(inventory, layout, path)
    return inventory


def _located(exc: ValidationError, layout: _Layout, path: Path) -> InventoryError:
    """The first error, at the line of the field (or of its `[[system]]` table)."""
    error = exc.errors()[0]
    loc = error["loc"]
    message = str(error["msg"]).removeprefix("Value error, ")
    if len(loc) < 2 or loc[0] != "system" or not isinstance(loc[1], int):
        field = str(loc[0]) if loc else None
        return InventoryError(path, layout.top_level(field), field, message)
    index = loc[1]
    field = str(loc[2]) if len(loc) > 2 else None
    if field is None and ": " in message and message.split(": ", 1)[0].isidentifier():
        field, message = message.split(": ", 1)
    return InventoryError(path, layout.line_of(index, field), f"system.{field or index}", message)


def _check_references(inventory: Inventory, layout: _Layout, path: Path) -> None:
    seen: set[str] = set()
    for index, system in enumerate(inventory.system):
        if system.id in seen:
            raise InventoryError(
                path, layout.line_of(index, "id"), "system.id", f"duplicate id {system.id!r}"
            )
        seen.add(system.id)
    for index, system in enumerate(inventory.system):
        for recipient in system.recipients:
            if recipient not in seen or recipient == system.id:
                raise InventoryError(
                    path,
                    layout.line_of(index, "recipients"),
                    "system.recipients",
                    f"unknown system id {recipient!r} (ids: {', '.join(sorted(seen))})",
                )


_TABLE = re.compile(r"^\s*\[\[\s*system\s*\]\]\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[")


class _Layout:
    """Where each `[[system]]` table and its keys start in the text: tomllib keeps no
    positions, so a validation error is mapped back by a line scan (multi-line strings
    skipped)."""

    def __init__(self, text: str) -> None:
        self.tables: list[tuple[int, dict[str, int]]] = []
        self.top: dict[str, int] = {}
        keys = self.top
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            if _TABLE.match(line):
                keys = {}
                self.tables.append((number, keys))
            elif _HEADER.match(line):
                keys = {}
                name = line.strip().strip("[]").strip()
                self.top.setdefault(name, number)
            else:
                key = re.match(r"^\s*([A-Za-z0-9_-]+)\s*=", line)
                if key is not None:
                    keys.setdefault(key.group(1), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote

    def line_of(self, index: int, field: str | None) -> int | None:
        if index >= len(self.tables):
            return None
        start, keys = self.tables[index]
        return keys.get(field or "", start)

    def top_level(self, field: str | None) -> int | None:
        return self.top.get(field or "")


def to_json(inventory: Inventory) -> list[dict[str, Any]]:
    return [
        {**system.model_dump(), "handles": list(system.kinds), "assignee": system.assignee}
        for system in inventory.system
    ]
