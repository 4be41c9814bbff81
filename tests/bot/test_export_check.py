"""What an export may be: types known by extension and content, the size limit, and names
that cannot leave their folder (pure)."""

from __future__ import annotations

import io
import zipfile

import pytest

from bot.export_check import ExportFile, ExportRefused, check_export, safe_name

LIMIT = 1000


def office(kind: str, *, macro: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml" if kind == "xlsx" else "word/document.xml", "<x/>")
        if macro:
            archive.writestr("xl/vbaProject.bin", b"\x00macro")
    return buffer.getvalue()


GOOD = {
    "a.pdf": b"%PDF-1.7\n...",
    "a.csv": "naam;adres\nJosé;Straat 1\n".encode(),
    "b.csv": "naam;adres\nJos\xe9;Straat 1\r\n".encode("cp1252"),
    "a.json": b'{"naam": "Jan"}',
    "a.txt": b"\xef\xbb\xbfnotitie\tmet tab\n",
    "a.xml": b'<?xml version="1.0"?><relatie/>',
    "a.xlsx": office("xlsx"),
    "a.docx": office("docx"),
    "a.png": b"\x89PNG\r\n\x1a\n....",
    "a.JPEG": b"\xff\xd8\xff\xe0....",
    "a.eml": b"From: a@example.nl\r\nSubject: x\r\n\r\nbody",
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_accepted_types(name: str) -> None:
    checked = check_export(ExportFile(name, GOOD[name]), max_bytes=LIMIT)
    assert checked.name == name and len(checked.sha256) == 64
    assert checked.kind == name.rpartition(".")[2].lower().replace("jpeg", "jpg")


@pytest.mark.parametrize(
    ("name", "data", "rule"),
    [
        ("setup.exe", b"MZ\x90\x00", "type .exe is not accepted"),
        ("page.html", b"<html><script>x</script>", "type .html is not accepted"),
        ("archive.zip", office("xlsx"), "type .zip is not accepted"),
        ("noext", b"hello", "type .(none) is not accepted"),
        ("report.pdf", b"MZ\x90\x00 an executable", "not a .pdf file (no %PDF- header)"),
        ("photo.png", b"%PDF-1.4", "not a .png file"),
        ("data.csv", b"naam\x00\x01\x02", "binary data in a text file"),
        ("data.json", b"{naam: Jan}", "not valid UTF-8 JSON"),
        ("data.xml", b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "DOCTYPE or ENTITY"),
        ("data.xml", b"naam,adres", "does not start with <"),
        ("mail.eml", b"\r\nno headers", "no mail header"),
        ("sheet.xlsx", office("docx"), "no xl/ part"),
        ("sheet.xlsx", b"PK\x03\x04broken", "damaged ZIP"),
        ("sheet.xlsx", office("xlsx", macro=True), "contains macros"),
        ("empty.csv", b"", "the file is empty"),
        ("big.csv", b"a" * (LIMIT + 1), "1,001 bytes is more than the limit of 1,000"),
    ],
)
def test_refused_files_name_the_file_and_the_rule(name: str, data: bytes, rule: str) -> None:
    with pytest.raises(ExportRefused) as refused:
        check_export(ExportFile(name, data), max_bytes=LIMIT)
    assert str(refused.value).startswith(safe_name(name) + ":")
    assert rule in str(refused.value)


@pytest.mark.parametrize(
    ("hostile", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/export.csv", "export.csv"),
        ("C:\\Users\\jan\\export.csv", "export.csv"),
        ("..", "export"),
        ("....csv", "csv"),
        ("a/..", "export"),
        (".hidden.csv", "hidden.csv"),
        ("naam met spaties & tekens;.csv", "naam_met_spaties_tekens.csv"),
        ("Gegevens José Müller.pdf", "Gegevens_José_Müller.pdf"),
        ("line\nbreak\r\x00.txt", "line_break.txt"),
        ("x" * 300 + ".csv", "x" * 96 + ".csv"),
    ],
)
def test_a_hostile_name_is_reduced_to_a_plain_file_name(hostile: str, safe: str) -> None:
    assert safe_name(hostile) == safe
    assert "/" not in safe_name(hostile) and "\\" not in safe_name(hostile)
    assert not safe_name(hostile).startswith(".")
