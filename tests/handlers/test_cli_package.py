"""`dsr tasks done --file` (limits, refusal with exit 65, nothing stored) and `dsr cases
package REF --output FILE`, run in-process through the real parser (both databases)."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from tests.handlers.test_cli import env, run_cli  # noqa: F401  (the fixture is used by name)
from tests.handlers.test_cli_tasks import inventory  # noqa: F401
from tests.mailbuilder import build_mail


def _tasks(capsys: pytest.CaptureFixture[str], reference: str) -> dict[str, dict[str, object]]:
    code, out, _ = run_cli(["tasks", "list", reference, "--json"], capsys)
    assert code == 0
    return {str(row["system"]): row for row in json.loads(out)}


def test_exports_from_a_terminal_and_the_package(
    env: str,  # noqa: F811
    inventory: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mail = tmp_path / "access.eml"
    mail.write_bytes(build_mail())
    code, out, _ = run_cli(["ingest", str(mail)], capsys)
    reference = json.loads(out)["case"]
    code, _, err = run_cli(["cases", "package", reference], capsys)
    assert code == 1 and "not verified" in err and not (tmp_path / f"{reference}.zip").exists()
    run_cli(["cases", "verify", reference, "--note", "paspoort gezien"], capsys)
    tasks = _tasks(capsys, reference)
    crm, financien = str(tasks["crm"]["id"]), str(tasks["financien"]["id"])

    export = tmp_path / "relatie.csv"
    export.write_text("naam;plaats\nJan Jansen;Utrecht\n", encoding="utf-8")
    fake = tmp_path / "facturen.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf")
    code, _, err = run_cli(
        ["tasks", "done", financien, "--result", "exported", "--file", str(fake)], capsys
    )
    assert code == 65
    assert "facturen.pdf: the content is not a .pdf file" in err and "nothing was stored" in err
    code, _, err = run_cli(
        ["tasks", "done", financien, "--result", "exported", "--file", "missing.csv"], capsys
    )
    assert code == 66 and "cannot read missing.csv" in err
    assert _tasks(capsys, reference)["financien"]["state"] == "open"

    code, out, _ = run_cli(
        ["tasks", "done", crm, "--result", "exported", "--file", str(export)], capsys
    )
    assert code == 0 and "1 file(s) stored sealed" in out
    code, _, err = run_cli(["cases", "package", reference], capsys)
    assert code == 1 and f"open export tasks: #{financien} financien" in err
    for system, row in _tasks(capsys, reference).items():
        if row["state"] == "open":
            code, _, _ = run_cli(["tasks", "done", str(row["id"]), "--result", "found"], capsys)
            assert code == 0, system

    target = tmp_path / "antwoord.zip"
    code, out, _ = run_cli(
        ["cases", "package", reference.lower(), "--output", str(target), "--json"], capsys
    )
    summary = json.loads(out)
    assert code == 0 and summary["file"] == str(target) and summary["case"] == reference
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with zipfile.ZipFile(io.BytesIO(target.read_bytes())) as archive:
        names = archive.namelist()
        assert archive.read("crm/relatie.csv") == export.read_bytes()
    assert names[:2] == ["brief.txt", "brief.html"] and names[-1] == "index.csv"
    code, _, err = run_cli(["cases", "package", reference, "--output", str(target)], capsys)
    assert code == 1 and "exists" in err
