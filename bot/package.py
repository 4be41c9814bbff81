"""The answer package of an access or portability request: one ZIP with the cover letter in
the requester's language (text and HTML, bot/answer_letter.py), every export under a folder
per system (`crm/export.csv`) and `index.csv` listing each file with its system and SHA-256.

Built from what is stored, only for a verified access or portability case whose export tasks
have all answered; PackageError says why not. The web front calls `build_package` when the
requester downloads; `dsr cases package` and the Slack button call it too."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.answer_letter import held_systems, render_letter
from bot.cases import audit
from bot.csv_cells import safe_cell
from bot.desk import Desk
from bot.export_check import MACHINE_READABLE, safe_name
from bot.inventory_source import inventory_source
from bot.retention import PURGED
from bot.states import State
from storage.cases import get_case_by_reference, lock_case
from storage.exports import exports_of_case
from storage.models import Case, Task, TaskExport
from storage.tasks import OPEN, tasks_of_case

logger = logging.getLogger("dsr.package")
PACKAGE_KINDS = frozenset({"access", "portability"})
LETTER_NAMES = {"nl": "brief", "en": "letter"}
INDEX = "index.csv"
INDEX_COLUMNS = ("path", "system", "type", "size", "sha256", "machine_readable")
# Compressed already: DEFLATE would spend time for nothing.
STORED_KINDS = frozenset({"pdf", "png", "jpg", "xlsx", "docx"})


class PackageError(ValueError):
    """No package can be built for this case now; the message says why and what to do."""


@dataclass(frozen=True)
class PackedFile:
    """One file of the package: where it sits in the ZIP and what it holds."""

    path: str
    system: str  # the inventory id; "" for the letter and the index
    kind: str
    data: bytes
    machine_readable: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def is_package_case(case: Case) -> bool:
    """An access or portability request (also when it is one of the kinds of a mail)."""
    return case.category in PACKAGE_KINDS or bool(PACKAGE_KINDS & set(case.also))


def package_files(desk: Desk, reference: str, *, now: datetime) -> list[PackedFile]:
    """Every file of the package in ZIP order: the letter (text, HTML), the exports by system,
    and `index.csv` last. PackageError for an unknown, unverified or unfit case, or while an
    export task is open."""
    with desk.reading() as session:
        case = get_case_by_reference(session=session, reference=reference)
        if case is None:
            raise PackageError(f"unknown case {reference}; see dsr cases list")
        _check_case(case)
        tasks = tasks_of_case(session=session, case_id=case.id) if case.id is not None else []
        _check_tasks(case, tasks)
        exports = exports_of_case(session=session, case_id=case.id) if case.id else []
    inventory = inventory_source(desk.settings.inventory_file).current()
    if inventory is None:
        raise PackageError(
            f"no inventory at {desk.settings.inventory_file}; the letter is written from it "
            "(see dsr inventory check)"
        )
    portability = case.category == "portability" or "portability" in case.also
    packed = _pack_exports(exports)
    systems = held_systems(tasks, inventory)
    for system in systems:
        system.files.extend(f.path for f in packed if f.system == system.id)
    language = case.language if case.language in LETTER_NAMES else "nl"
    letter = render_letter(
        reference=case.reference,
        language=language,
        kind="portability" if portability else "access",
        received=case.received_at.astimezone(desk.tz).date(),
        today=now.astimezone(desk.tz).date(),
        systems=systems,
        portability=portability,
        machine_readable=[f.path for f in packed if f.machine_readable],
    )
    name = LETTER_NAMES[language]
    files = [
        PackedFile(f"{name}.txt", "", "txt", letter.text.encode("utf-8")),
        PackedFile(f"{name}.html", "", "html", letter.html.encode("utf-8")),
        *packed,
    ]
    return [*files, PackedFile(INDEX, "", "csv", _index(files))]


def build_package(desk: Desk, reference: str, *, now: datetime, actor: str = "system") -> bytes:
    """The package as ZIP bytes (entries dated `now`, so the same input gives the same bytes);
    audited as `package_built` with its size and SHA-256. PackageError when none can be built."""
    return _build(desk, reference, now=now, actor=actor)[0]


@dataclass(frozen=True)
class PackageSummary:
    """What a built package holds, without its content (the Slack button reports this)."""

    reference: str
    files: int
    exports: int
    systems: int
    size: int
    sha256: str


def package_summary(desk: Desk, reference: str, *, now: datetime, actor: str) -> PackageSummary:
    """Build the package (audited like any build) and say what it holds; the bytes are not
    kept."""
    data, files = _build(desk, reference, now=now, actor=actor)
    exports = [f for f in files if f.system]
    return PackageSummary(
        reference=reference.strip().upper(),
        files=len(files),
        exports=len(exports),
        systems=len({f.system for f in exports}),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _build(
    desk: Desk, reference: str, *, now: datetime, actor: str
) -> tuple[bytes, list[PackedFile]]:
    files = package_files(desk, reference, now=now)
    data = zip_files(files, at=now.astimezone(desk.tz))
    digest = hashlib.sha256(data).hexdigest()
    with desk.transaction() as session:
        case = lock_case(session=session, reference=reference)
        if case is None:
            raise PackageError(f"unknown case {reference}; see dsr cases list")
        audit(
            session,
            case,
            now=now,
            actor=actor,
            action="package_built",
            details={"files": len(files), "size": len(data), "sha256": digest},
        )
    logger.info("case=%s package built: %d files, %d bytes", case.reference, len(files), len(data))
    return data, files


def zip_files(files: Sequence[PackedFile], *, at: datetime) -> bytes:
    """A ZIP of `files` at their paths, dated `at` (local time, as ZIP keeps it); every path
    is checked to stay inside the archive."""
    stamp = at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(safe_member(file.path), date_time=stamp)
            stored = file.kind in STORED_KINDS
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            archive.writestr(info, file.data)
    return buffer.getvalue()


def safe_member(path: str) -> str:
    """`path` if it stays inside the archive: relative, `/`-separated, no `.` or `..` parts,
    no backslash, colon or control character; PackageError otherwise."""
    parts = path.split("/")
    bad = (
        not path
        or path.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or any(c in path for c in "\\:")
        or any(ord(c) < 32 for c in path)
    )
    if bad:
        raise PackageError(f"unsafe path in the package: {path!r}")
    return path


def _check_case(case: Case) -> None:
    if case.verified_at is None:
        raise PackageError(
            f"case {case.reference} is not verified; nothing is packaged before the "
            "requester's identity is confirmed"
        )
    if PURGED in case.flags:
        raise PackageError(f"case {case.reference} was purged; its exports are gone")
    if case.state in (State.REFUSED, State.WITHDRAWN):
        raise PackageError(f"case {case.reference} is {case.state}; there is nothing to hand over")
    if not is_package_case(case):
        raise PackageError(
            f"case {case.reference} is a {case.category} request; a package answers access "
            "or portability"
        )


def _check_tasks(case: Case, tasks: Sequence[Task]) -> None:
    exports = [t for t in tasks if t.action == "search_export" and t.state != "not_applicable"]
    if not exports:
        raise PackageError(
            f"case {case.reference} has no export tasks; the systems have not been asked "
            "(is the inventory set? see dsr tasks list)"
        )
    still_open = [t for t in exports if t.state == OPEN]
    if still_open:
        listed = ", ".join(f"#{t.id} {t.system}" for t in still_open)
        raise PackageError(
            f"case {case.reference} has open export tasks: {listed}; record their results "
            "first (dsr tasks done ID --result R [--file PATH])"
        )


def _pack_exports(exports: Sequence[TaskExport]) -> list[PackedFile]:
    """The exports at `<system>/<name>`, names made safe again and unique in their folder."""
    packed: list[PackedFile] = []
    taken: set[str] = set()
    for export in exports:
        folder = safe_name(export.system)
        name = safe_name(export.name)
        path = f"{folder}/{name}"
        stem, dot, extension = name.rpartition(".")
        number = 2
        while path.lower() in taken:
            path = (
                f"{folder}/{stem}-{number}{dot}{extension}" if dot else f"{folder}/{name}-{number}"
            )
            number += 1
        taken.add(path.lower())
        packed.append(
            PackedFile(
                safe_member(path),
                export.system,
                export.kind,
                export.content,
                machine_readable=export.kind in MACHINE_READABLE,
            )
        )
    return packed


def _index(files: Sequence[PackedFile]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(INDEX_COLUMNS)
    for file in files:
        cells = (
            file.path,
            file.system,
            file.kind,
            len(file.data),
            file.sha256,
            "yes" if file.machine_readable else "no",
        )
        writer.writerow([safe_cell(cell) for cell in cells])
    return out.getvalue().encode("utf-8")
