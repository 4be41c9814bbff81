"""`dsr classify`: JSON per input, `file` key for files, unreadable input reported."""

import io
import json
import sys
from pathlib import Path

import pytest

from tests.handlers.test_cli import run_cli
from tests.mailbuilder import build_mail

KEYS = {
    "category",
    "confidence",
    "also",
    "language",
    "auto_reply",
    "needs_triage",
    "evidence",
    "route",
    "reason",
}


def test_files_give_one_json_line_each_with_the_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request, ooo = tmp_path / "request.eml", tmp_path / "ooo.eml"
    request.write_bytes(build_mail())
    ooo.write_bytes(
        build_mail(
            subject="Afwezig",
            body="Ik ben tot maandag afwezig.",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    code, out, _ = run_cli(["classify", str(request), str(ooo), "--json"], capsys)
    first, second = (json.loads(line) for line in out.splitlines())
    assert code == 0
    assert set(first) == KEYS | {"file"} and first["file"] == str(request)
    assert first["category"] == "access" and first["language"] == "nl"
    assert second["auto_reply"] is True and second["category"] == "other"


def test_plain_text_from_stdin_has_no_file_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Please delete all personal data you hold about me."
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, _ = run_cli(["classify", "-", "--text", "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and set(result) == KEYS and result["category"] == "erasure"


def test_an_unreadable_file_is_reported_and_the_others_still_classified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.eml"
    good.write_bytes(build_mail())
    code, out, err = run_cli(
        ["classify", str(tmp_path / "missing.eml"), str(good), "--json"], capsys
    )
    assert code == 1
    assert "missing.eml: cannot read" in err
    assert json.loads(out)["file"] == str(good)


@pytest.mark.parametrize(
    ("text", "route"),
    [
        pytest.param("Please delete all personal data you hold about me.", "case", id="request"),
        pytest.param("Ik wil mijn adres aanpassen voor de factuur.", "review", id="might-be"),
        pytest.param(
            "Hello,\n\nPlease find the attachment.\n\nRegards,\nJohn", "ignore", id="ordinary"
        ),
    ],
)
def test_the_route_is_printed(
    text: str, route: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mail.txt"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run_cli(["classify", str(path), "--text", "--json"], capsys)
    result = json.loads(out)
    assert code == 0 and result["route"] == route and result["reason"]
    assert result["needs_triage"] is (route == "review")
    code, out, _ = run_cli(["classify", str(path), "--text"], capsys)
    assert code == 0 and out.startswith(f"{path}: {route} (")
