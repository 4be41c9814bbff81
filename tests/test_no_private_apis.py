"""No code of ours leans on a library's private internals: they change without notice between
releases, so what is built on them must be re-proved at every upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = ("bot", "handlers", "storage", "benchmarks")
# Each name, and the public way to do the same thing.
PRIVATE_NAMES = {
    "positiontup": "SQLAlchemy SQLCompiler internals; run statements with session.execute",
    "insert_prefetch": "SQLAlchemy SQLCompiler internals; run statements with session.execute",
    "_header_value_parser": "a private module of the email package; use email.headerregistry",
    "_markupbase": "a private module of the stdlib; use html.parser.HTMLParser",
}


def _sources() -> list[Path]:
    return sorted(p for folder in SOURCE_FOLDERS for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("name", sorted(PRIVATE_NAMES))
def test_no_source_file_uses_a_private_library_api(name: str) -> None:
    users = [
        str(path.relative_to(ROOT))
        for path in _sources()
        if name in path.read_text(encoding="utf-8")
    ]
    assert users == [], f"{name} ({PRIVATE_NAMES[name]}) is used in {users}"


def test_the_check_reads_the_source_tree() -> None:
    assert any(path.name == "engine.py" for path in _sources())
