"""What an export file may be (pure): a name made safe for a folder in a ZIP, and a type
known by its extension AND its content, within the size limit. Anything else is refused with
the file and the rule named. HTML, scripts, executables and archives are refused: the
requester opens these files, and a nested archive cannot be checked."""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass

# extension -> the type it stands for; .jpeg is a jpg.
EXTENSIONS: dict[str, str] = {
    "pdf": "pdf",
    "csv": "csv",
    "json": "json",
    "txt": "txt",
    "xml": "xml",
    "xlsx": "xlsx",
    "docx": "docx",
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "eml": "eml",
}
ALLOWED = "pdf, csv, json, txt, xml, xlsx, docx, png, jpg, eml"
# Structured, commonly used and machine-readable (GDPR art. 20(1)).
MACHINE_READABLE = frozenset({"csv", "json", "xml", "xlsx"})
NAME_MAX = 100
_TEXT_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_OFFICE_PARTS = {"xlsx": "xl/", "docx": "word/"}
_OFFICE_MAX_ENTRIES = 10_000
# What an Office file may unpack to: no export needs more, and a zip bomb needs far more.
OFFICE_MAX_UNPACKED = 256 * 1024 * 1024
_MACRO_MARKS = (b"vbaproject", b"macroenabled", b"activex")
# PDF names that run something or carry a file when the requester opens the PDF (`#xx` in a
# name is that byte, so `/J#61vaScript` is `/JavaScript`). Names inside compressed object
# streams are not seen: this refuses the plain cases, it does not sandbox a reader.
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia)(?![A-Za-z0-9])")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


class ExportRefused(ValueError):
    """A file that cannot be stored as an export; the message names the file and the rule."""


@dataclass(frozen=True)
class ExportFile:
    """A file as it arrived: the name the sender gave it and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class CheckedExport:
    name: str  # safe: letters, digits, `.`, `_`, `-`; no path
    kind: str  # one of EXTENSIONS' values
    data: bytes
    sha256: str


def safe_name(name: str) -> str:
    """The last path part of `name`, reduced to letters, digits, `.`, `_` and `-`, without
    leading dots, at most NAME_MAX characters with its extension kept; `export` when nothing
    is left."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in base)
    cleaned = re.sub(r"_+", "_", re.sub(r"\.{2,}", ".", cleaned)).lstrip("._-")
    stem, dot, extension = cleaned.rpartition(".")
    if not dot:
        stem, extension = cleaned, ""
    extension = extension[:10]
    stem = stem[: NAME_MAX - len(extension) - 1].rstrip("._-") or "export"
    return f"{stem}.{extension}" if extension else stem


def check_export(file: ExportFile, *, max_bytes: int) -> CheckedExport:
    """The file as it will be stored, or ExportRefused naming it and the rule it breaks."""
    name = safe_name(file.name)
    shown = _shown(name)
    check_size(name, len(file.data), max_bytes=max_bytes)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    kind = EXTENSIONS.get(extension)
    if kind is None:
        raise ExportRefused(
            f"{shown}: type .{extension or '(none)'} is not accepted; use one of {ALLOWED}"
        )
    problem = _content_problem(kind, file.data)
    if problem:
        raise ExportRefused(f"{shown}: the content is not a .{extension} file ({problem})")
    return CheckedExport(name, kind, file.data, hashlib.sha256(file.data).hexdigest())


def check_size(name: str, size: int, *, max_bytes: int) -> None:
    """ExportRefused for an empty file or one over the limit (also before a download, from
    the size Slack reports)."""
    shown = _shown(safe_name(name))
    if size <= 0:
        raise ExportRefused(f"{shown}: the file is empty")
    if size > max_bytes:
        raise ExportRefused(
            f"{shown}: {size:,} bytes is more than the limit of {max_bytes:,} "
            "(DSR_EXPORT_MAX_BYTES); split the export or compress images"
        )


def _shown(name: str) -> str:
    return name if len(name) <= 60 else name[:57] + "..."


def _content_problem(kind: str, data: bytes) -> str:
    """Why `data` is not a `kind` file, or "" when it is."""
    match kind:
        case "pdf":
            return _pdf_problem(data)
        case "png":
            return "" if data.startswith(b"\x89PNG\r\n\x1a\n") else "no PNG signature"
        case "jpg":
            return "" if data.startswith(b"\xff\xd8\xff") else "no JPEG signature"
        case "xlsx" | "docx":
            return _office_problem(kind, data)
        case _:
            return _text_problem(kind, data)


def _pdf_problem(data: bytes) -> str:
    if not data.startswith(b"%PDF-"):
        return "no %PDF- header"
    plain = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    found = _PDF_ACTIVE.search(plain)
    if found:
        return f"it holds active content ({found.group(1).decode()}); print it to a plain PDF"
    return ""


def _office_problem(kind: str, data: bytes) -> str:
    if not data.startswith(b"PK\x03\x04"):
        return "not an Office Open XML package"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if len(names) > _OFFICE_MAX_ENTRIES:
                return "too many parts"
            if "[Content_Types].xml" not in names:
                return "no [Content_Types].xml"
            if _unpacked_size(archive) > OFFICE_MAX_UNPACKED:
                return f"it would unpack to more than {OFFICE_MAX_UNPACKED:,} bytes"
            types = archive.read("[Content_Types].xml").lower()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, zlib.error):
        return "a damaged ZIP container"
    if not any(n.startswith(_OFFICE_PARTS[kind]) for n in names):
        return f"no {_OFFICE_PARTS[kind]} part"
    lowered = [n.lower() for n in names]
    if any(m in types for m in _MACRO_MARKS) or any("vbaproject" in n for n in lowered):
        return "it contains macros"
    return ""


def _unpacked_size(archive: zipfile.ZipFile) -> int:
    """The bytes the parts really unpack to (not what their headers claim), counted until
    OFFICE_MAX_UNPACKED is passed."""
    total = 0
    for info in archive.infolist():
        with archive.open(info) as part:
            while chunk := part.read(1024 * 1024):
                total += len(chunk)
                if total > OFFICE_MAX_UNPACKED:
                    return total
    return total


def _text_problem(kind: str, data: bytes) -> str:
    body = data.removeprefix(b"\xef\xbb\xbf")
    if _TEXT_CONTROLS.search(body):
        return "binary data in a text file"
    if kind == "json":
        try:
            json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return "not valid UTF-8 JSON"
    if kind == "xml" and not body.lstrip().startswith(b"<"):
        return "it does not start with <"
    if kind == "xml" and re.search(rb"<!(DOCTYPE|ENTITY)", body, re.IGNORECASE):
        return "a DOCTYPE or ENTITY declaration"
    if kind == "eml" and not _HEADER_LINE.match(body):
        return "no mail header on the first line"
    return ""
