"""Exports stored sealed with a task's result, and the answer package built from them: the
letter from the inventory for exactly the systems that held data, a folder per system,
index.csv with SHA-256, nothing for an unverified case (both databases)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot import cases as core
from bot import tasks as work
from bot.cases import ActionRefused
from bot.desk import Desk
from bot.export_check import ExportFile, ExportRefused
from bot.package import PackageError, build_package, package_files, safe_member
from bot.retention import purge
from storage.engine import make_engine
from storage.models import AuditEvent, Task, TaskExport
from storage.sealing import FernetSealer, generate_key
from tests.factories import T0, inventory_desk, new_case

LATER = T0 + timedelta(days=3)
CSV = ExportFile("relatie Jan Jansen.csv", b"naam;e-mail\nJan Jansen;jan@example.nl\n")
JSON = ExportFile("relatie.json", b'{"naam": "Jan Jansen"}')
PDF = ExportFile("facturen.pdf", b"%PDF-1.7\nJan Jansen factuur")


def verified_case(desk: Desk, *, category: str = "access", language: str = "nl") -> str:
    case = new_case(desk, category=category, language=language)
    core.verify_by_hand(desk, reference=case.reference, note="paspoort gezien", actor="t", now=T0)
    return case.reference


def task_ids(desk: Desk, reference: str) -> dict[str, int]:
    rows = work.list_tasks(desk, reference=reference)
    return {r.task.system: r.task.id for r in rows if r.task.id is not None}


def answer_all(desk: Desk, reference: str, **files: list[ExportFile]) -> dict[str, int]:
    """crm and financien exported (with `files` per system), groep found, the rest nothing."""
    ids = task_ids(desk, reference)
    results = {"crm": "exported", "financien": "exported", "groep": "found"}
    for system, task_id in ids.items():
        result = results.get(system, "nothing_found")
        work.task_done(
            desk,
            task_id=task_id,
            result=result,
            note=None,
            actor="cli:anna",
            now=LATER,
            files=files.get(system, []),
        )
    return ids


@pytest.fixture
def inv_desk(desk: Desk, tmp_path: Path) -> Desk:
    return inventory_desk(desk, tmp_path)


@pytest.fixture
def sealed_desk(inv_desk: Desk, db_url: str) -> Iterator[Desk]:
    """The same database through an engine that seals with Fernet, as `dsr serve` does."""
    engine = make_engine(db_url, sealer=FernetSealer([generate_key()]))
    yield Desk(settings=inv_desk.settings, engine=engine)
    engine.dispose()


def test_exports_are_stored_sealed_and_audited_without_name_or_content(
    sealed_desk: Desk,
) -> None:
    inv_desk = sealed_desk
    reference = verified_case(inv_desk)
    crm = task_ids(inv_desk, reference)["crm"]
    work.task_done(
        inv_desk,
        task_id=crm,
        result="exported",
        note=None,
        actor="cli:anna",
        now=LATER,
        files=[CSV, JSON, CSV],  # the same file twice is stored once
    )
    with inv_desk.transaction() as session:
        stored = session.exec(select(TaskExport)).all()
        raw = session.connection().execute(text("SELECT name, content FROM task_export")).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "export_stored")).all()
        task = session.get(Task, crm)
    assert sorted(e.name for e in stored) == ["relatie.json", "relatie_Jan_Jansen.csv"]
    assert {e.system for e in stored} == {"crm"}
    assert task is not None and (task.state, task.result) == ("done", "exported")
    for name, content in raw:
        assert b"Jan Jansen" not in bytes(content) and "Jan" not in str(name)
    assert len(events) == 2
    for event in events:
        assert set(event.details) == {"task", "system", "type", "size", "sha256", "source"}
        assert "Jan" not in str(event.details) and event.reference == reference


def test_a_refused_file_stores_nothing_and_leaves_the_task_open(inv_desk: Desk) -> None:
    reference = verified_case(inv_desk)
    crm = task_ids(inv_desk, reference)["crm"]
    with pytest.raises(ExportRefused, match=r"virus\.exe: type \.exe is not accepted"):
        work.task_done(
            inv_desk,
            task_id=crm,
            result="exported",
            note=None,
            actor="t",
            now=LATER,
            files=[CSV, ExportFile("virus.exe", b"MZ")],
        )
    big = inv_desk.settings.model_copy(update={"export_max_bytes": 10})
    small_desk = Desk(settings=big, engine=inv_desk.engine)
    with pytest.raises(ExportRefused, match="more than the limit of 10"):
        work.task_done(
            small_desk, task_id=crm, result="exported", note=None, actor="t", now=LATER, files=[CSV]
        )
    with pytest.raises(ActionRefused, match="files go with --result exported"):
        work.task_done(
            inv_desk, task_id=crm, result="found", note=None, actor="t", now=LATER, files=[CSV]
        )
    with inv_desk.transaction() as session:
        assert session.exec(select(TaskExport)).all() == []
        task = session.get(Task, crm)
        assert task is not None and task.state == "open"


def test_files_only_go_with_an_export_task(inv_desk: Desk) -> None:
    reference = verified_case(inv_desk, category="erasure")
    crm = task_ids(inv_desk, reference)["crm"]
    with pytest.raises(ActionRefused, match="export task"):
        work.task_add_exports(
            inv_desk, task_id=crm, files=[CSV], actor="slack:U0CRMOWNER", now=LATER, source="slack"
        )


def test_more_files_join_a_task_done_as_exported(inv_desk: Desk) -> None:
    reference = verified_case(inv_desk)
    crm = task_ids(inv_desk, reference)["crm"]
    task = work.task_add_exports(
        inv_desk, task_id=crm, files=[CSV], actor="slack:U0CRMOWNER", now=LATER, source="slack"
    )
    assert (task.state, task.result) == ("done", "exported")
    work.task_add_exports(
        inv_desk, task_id=crm, files=[JSON], actor="slack:U0CRMOWNER", now=LATER, source="slack"
    )
    with inv_desk.transaction() as session:
        assert len(session.exec(select(TaskExport)).all()) == 2


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_holds_the_letter_the_exports_by_system_and_the_index(
    inv_desk: Desk,
) -> None:
    reference = verified_case(inv_desk)
    answer_all(inv_desk, reference, crm=[CSV, JSON], financien=[PDF])
    data = build_package(inv_desk, reference, now=LATER, actor="cli:anna")
    files = read_zip(data)
    assert list(files) == [
        "brief.txt",
        "brief.html",
        "crm/relatie_Jan_Jansen.csv",
        "crm/relatie.json",
        "financien/facturen.pdf",
        "index.csv",
    ]
    assert files["crm/relatie.json"] == JSON.data and files["financien/facturen.pdf"] == PDF.data
    index = list(csv.DictReader(io.StringIO(files["index.csv"].decode())))
    assert [row["path"] for row in index] == list(files)[:-1]
    for row in index:
        assert row["sha256"] == hashlib.sha256(files[row["path"]]).hexdigest()
    assert {r["path"]: r["system"] for r in index}["financien/facturen.pdf"] == "financien"
    letter = files["brief.txt"].decode()
    # Exactly the systems that held data: exported or found, not the ones that found nothing.
    assert "CRM (relatiebeheer)" in letter and "Financiële administratie" in letter
    assert "Groepsmaatschappijen van de holding" in letter
    assert "Mailarchief" not in letter and "salariskantoor" not in letter.lower()
    for words in (
        "pensioenadvies",  # purposes
        "adviesgesprekken",  # categories
        "Incassobureau",  # recipients of financien
        "zeven jaar",  # retention
        "artikel 52 Algemene wet inzake rijksbelastingen",
        "laten verbeteren",
        "wissen",
        "beperken",
        "bezwaar",
        "Autoriteit Persoonsgegevens",
        "Herkomst",
        "geautomatiseerde verwerking",
        "binnen de Europese Unie",
        "crm/relatie.json",
    ):
        assert words in " ".join(letter.split()), words
    html = files["brief.html"].decode()
    assert html.startswith("<!DOCTYPE html>") and "Autoriteit Persoonsgegevens" in html
    [event] = _events(inv_desk, "package_built")
    assert event.actor == "cli:anna" and event.details["sha256"] == hashlib.sha256(data).hexdigest()
    # The same stored input at the same moment gives the same bytes.
    assert build_package(inv_desk, reference, now=LATER) == data


def test_a_portability_answer_in_english_names_the_machine_readable_files(
    inv_desk: Desk,
) -> None:
    reference = verified_case(inv_desk, category="portability", language="en")
    answer_all(inv_desk, reference, crm=[CSV, JSON], financien=[PDF])
    files = {f.path: f for f in package_files(inv_desk, reference, now=LATER)}
    letter = files["letter.txt"].data.decode()
    assert "machine-readable format (Article 20 GDPR)" in letter
    section = letter.split("Article 20 GDPR")[1].split("Automated decisions")[0]
    assert "crm/relatie.json" in section and "crm/relatie_Jan_Jansen.csv" in section
    assert "facturen.pdf" not in section
    assert "Dutch Data Protection Authority" in " ".join(letter.split())
    index = list(csv.DictReader(io.StringIO(files["index.csv"].data.decode())))
    readable = {r["path"] for r in index if r["machine_readable"] == "yes"}
    assert readable == {"crm/relatie.json", "crm/relatie_Jan_Jansen.csv"}


def test_nothing_is_packaged_for_an_unverified_or_unfinished_or_other_case(
    inv_desk: Desk,
) -> None:
    unverified = new_case(inv_desk, category="access").reference
    with pytest.raises(PackageError, match="not verified"):
        build_package(inv_desk, unverified, now=LATER)
    reference = verified_case(inv_desk)
    with pytest.raises(PackageError, match=r"open export tasks: #\d+ crm, #\d+ financien"):
        build_package(inv_desk, reference, now=LATER)
    erasure = verified_case(inv_desk, category="erasure")
    with pytest.raises(PackageError, match="a package answers access or portability"):
        build_package(inv_desk, erasure, now=LATER)
    with pytest.raises(PackageError, match="unknown case DSR-2026-9999"):
        build_package(inv_desk, "DSR-2026-9999", now=LATER)
    assert _events(inv_desk, "package_built") == []


def test_a_hostile_stored_name_cannot_leave_its_folder(inv_desk: Desk) -> None:
    reference = verified_case(inv_desk)
    ids = answer_all(inv_desk, reference, crm=[CSV])
    # Written behind the checks' back, as a damaged or older row might be.
    with inv_desk.transaction() as session:
        for number, name in enumerate(["../../../etc/cron.d/x.csv", "/abs.csv", "..", "a\\..\\b"]):
            case_id = session.get(Task, ids["crm"]).case_id  # type: ignore[union-attr]
            session.add(raw_export(ids["crm"], case_id, system="../crm", name=name, number=number))
    names = list(read_zip(build_package(inv_desk, reference, now=LATER)))
    for name in names:
        assert not name.startswith("/") and ".." not in name.split("/") and "\\" not in name
    exports = [n for n in names if "/" in n]
    assert all(n.startswith("crm/") for n in exports) and len(set(exports)) == len(exports)
    for unsafe in ("../x", "/x", "a/../b", "a//b", "C:x", "a\\b", "a/./b", ""):
        with pytest.raises(PackageError, match="unsafe path"):
            safe_member(unsafe)


def raw_export(task_id: int, case_id: int, *, system: str, name: str, number: int) -> TaskExport:
    """An export row as a damaged or older row might be: written behind the checks' back."""
    return TaskExport(
        task_id=task_id,
        case_id=case_id,
        system=system,
        name=name,
        kind="csv",
        size=1,
        sha256=f"{number:064d}",
        content=b"x",
        source="test",
        added_at=LATER,
        added_by="t",
    )


FORMULAS = ('=HYPERLINK("http://evil.example","klik")', "+1+1", "@SUM(A1)", "\t=1+1")


def test_index_cells_a_spreadsheet_would_run_start_with_an_apostrophe(inv_desk: Desk) -> None:
    reference = verified_case(inv_desk)
    ids = answer_all(inv_desk, reference, crm=[CSV])
    # Written behind the checks' back (an inventory id cannot hold these characters).
    with inv_desk.transaction() as session:
        case_id = session.get(Task, ids["crm"]).case_id  # type: ignore[union-attr]
        for number, system in enumerate(FORMULAS):
            session.add(
                raw_export(ids["crm"], case_id, system=system, name=f"x{number}.csv", number=number)
            )
    files = {f.path: f for f in package_files(inv_desk, reference, now=LATER)}
    header, *rows = csv.reader(io.StringIO(files["index.csv"].data.decode()))
    assert header == ["path", "system", "type", "size", "sha256", "machine_readable"]
    assert [row[1] for row in rows if row[1] not in ("", "crm")] == [f"'{f}" for f in FORMULAS]
    for path, _system, kind, size, sha256, readable in rows:
        packed = files[path]
        assert (kind, size, sha256) == (packed.kind, str(len(packed.data)), packed.sha256)
        assert readable == ("yes" if packed.machine_readable else "no")
    assert [row[0] for row in rows][:3] == ["brief.txt", "brief.html", "crm/relatie_Jan_Jansen.csv"]


def test_the_purge_removes_the_exports(inv_desk: Desk) -> None:
    reference = verified_case(inv_desk)
    answer_all(inv_desk, reference, crm=[CSV])
    core.close(inv_desk, reference=reference, outcome="done", note="sent", actor="t", now=LATER)
    days = inv_desk.settings.retention_days + 1
    purge(inv_desk, now=LATER + timedelta(days=days), actor="t")
    with inv_desk.transaction() as session:
        assert session.exec(select(TaskExport)).all() == []
    with pytest.raises(PackageError, match="purged"):
        build_package(inv_desk, reference, now=LATER + timedelta(days=days))


def _events(desk: Desk, action: str) -> list[AuditEvent]:
    with desk.transaction() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())
