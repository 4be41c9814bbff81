"""The inventory file: the shipped example is valid, and each kind of mistake is reported with
the line and field it is on."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bot.inventory import InventoryError, InventoryMissing, load_inventory, parse_inventory
from bot.inventory_source import InventorySource

EXAMPLE = Path(__file__).parents[2] / "inventory.example.toml"

GOOD = """\
# two systems
[[system]]
id = "crm"
name = "CRM"
kind = "internal"
owner = "slack:U0CRM"
recipients = ["salaris"]

[[system]]
id = "salaris"
name = "Salariskantoor"
kind = "processor"
contact = "privacy@salaris.example"
keep_years = 7
keep_law = "art. 52 AWR"
instructions = \"\"\"
[[system]] in a multi-line string is text, not a table
\"\"\"
handles = ["access", "erasure"]
"""


def _error(text: str) -> InventoryError:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, path=Path("inv.toml"))
    return caught.value


def test_the_shipped_example_is_valid() -> None:
    inventory = load_inventory(EXAMPLE)
    ids = [s.id for s in inventory.system]
    assert ids == ["crm", "financien", "mailarchief", "salaris", "specialisten", "groep", "incasso"]
    kinds = {s.id: s.kind for s in inventory.system}
    assert kinds["salaris"] == "processor" and kinds["groep"] == "group"
    assert inventory.get("financien") is not None
    assert inventory.get("financien").keep_years == 7  # type: ignore[union-attr]


def test_a_good_file_reads_with_defaults() -> None:
    inventory = parse_inventory(GOOD, path=Path("inv.toml"))
    crm, salaris = inventory.system
    assert crm.kinds[0] == "access" and "complaint" not in crm.kinds
    assert salaris.kinds == ("access", "erasure")
    assert salaris.assignee == "privacy@salaris.example" and crm.assignee == "slack:U0CRM"


def test_broken_toml_names_the_line() -> None:
    error = _error(GOOD.replace('name = "CRM"', 'name = "CRM'))
    assert error.line == 4
    assert "inv.toml:4" in str(error) and "not valid TOML" in str(error)


def test_a_wrong_type_names_the_line_and_field() -> None:
    error = _error(GOOD.replace("keep_years = 7", 'keep_years = "zeven"'))
    assert (error.line, error.field) == (14, "system.keep_years")
    assert str(error).startswith("inv.toml:14: system.keep_years: ")


def test_an_unknown_recipient_names_the_line_and_field() -> None:
    error = _error(GOOD.replace('recipients = ["salaris"]', 'recipients = ["salarsi"]'))
    assert (error.line, error.field) == (7, "system.recipients")
    assert "'salarsi'" in str(error)


def test_duplicate_ids_name_the_second_one() -> None:
    error = _error(GOOD.replace('id = "salaris"', 'id = "crm"').replace('["salaris"]', "[]"))
    assert (error.line, error.field) == (10, "system.id")
    assert "duplicate id 'crm'" in str(error)


def test_an_unknown_kind_in_handles_names_the_line() -> None:
    error = _error(GOOD.replace('"access", "erasure"', '"access", "erasing"'))
    assert (error.line, error.field) == (19, "system.handles")
    assert "'erasing'" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ('kind = "processor"', 'kind = "supplier"', 12, "system.kind"),
        ('contact = "privacy@salaris.example"', "", 9, "system.contact"),
        ('keep_law = "art. 52 AWR"', "", 9, "system.keep_law"),
        ('owner = "slack:U0CRM"', 'owner = "jan"', 6, "system.owner"),
        ('name = "CRM"', 'name = "CRM"\ncolour = "blue"', 5, "system.colour"),
    ],
)
def test_other_mistakes_name_line_and_field(old: str, new: str, line: int, field: str) -> None:
    error = _error(GOOD.replace(old, new))
    assert (error.line, error.field) == (line, field), str(error)


def test_a_missing_file_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryMissing):
        load_inventory(tmp_path / "none.toml")


def test_the_source_rereads_a_changed_file_and_keeps_the_last_good_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "inventory.toml"
    source = InventorySource(path)
    with caplog.at_level(logging.WARNING, logger="dsr.inventory"):
        assert source.current() is None
        assert source.current() is None
    assert sum("no tasks are created" in r.getMessage() for r in caplog.records) == 1
    path.write_text(GOOD)
    first = source.current()
    assert first is not None and len(first.system) == 2
    path.write_text(GOOD.replace("keep_years = 7", 'keep_years = "x"'))
    os.utime(path, ns=(1, 1))  # a different stamp even within the clock's resolution
    with caplog.at_level(logging.ERROR, logger="dsr.inventory"):
        assert source.current() is first
    assert any("inventory.toml:14" in r.getMessage() for r in caplog.records)
    with pytest.raises(InventoryError):
        source.reload()
    assert source.current() is first


def test_a_misspelt_table_names_its_line() -> None:
    error = _error(GOOD.replace('[[system]]\nid = "salaris"', '[[sytem]]\nid = "salaris"'))
    assert (error.line, error.field) == (9, "sytem")
