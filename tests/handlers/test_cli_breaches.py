"""`dsr breaches ...` run in-process through the real parser, after `dsr ingest` took a notice."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import Breach
from tests.bot.test_breaches import NOTICE, PROCESSOR
from tests.handlers.test_cli import _desk, env, run_cli  # noqa: F401  (env is a fixture)
from tests.mailbuilder import build_mail


def ingest_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str = NOTICE) -> str:
    mail = tmp_path / "notice.eml"
    mail.write_bytes(build_mail(sender=f"Marieke <{PROCESSOR}>", subject="Datalek", body=body))
    code, out, _ = run_cli(["ingest", str(mail)], capsys)
    result = json.loads(out)
    assert code == 0 and result["action"] == "breach", result
    reference: str = result["case"]
    return reference


def test_the_breach_track_from_a_terminal(
    env: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = ingest_notice(tmp_path, capsys)
    code, out, _ = run_cli(["breaches", "list", "--open", "--json"], capsys)
    [row] = json.loads(out)
    assert code == 0 and row["reference"] == reference and row["state"] == "open"
    assert row["reporter"] == "p***@salarisnoord.example.nl" and row["decision"] is None
    assert {"aware_at", "due", "missing", "hours_left", "processor"} <= set(row)
    assert "contact" in row["missing"]

    code, out, _ = run_cli(["breaches", "show", reference.lower(), "--json"], capsys)
    shown = json.loads(out)
    assert shown["checklist"]["encrypted"] == {"value": "no", "source": "mail"}
    assert shown["checklist"]["contact"] is None
    assert shown["request_draft"]["to"] == PROCESSOR

    code, out, _ = run_cli(["breaches", "send-request", reference], capsys)
    assert code == 0 and "not sent" in out and "Subject: [" in out
    code, out, _ = run_cli(["breaches", "send-request", reference, "--confirm"], capsys)
    assert code == 0 and "queued" in out

    code, _, err = run_cli(
        ["breaches", "update", reference, "--field", "encrypted", "--value", "misschien"], capsys
    )
    assert code == 1 and "yes or no" in err
    code, _, err = run_cli(
        ["breaches", "update", reference, "--field", "aware_at", "--value", "2026-03-02T09:00Z"],
        capsys,
    )
    assert code == 1 and "reason" in err
    code, out, _ = run_cli(
        ["breaches", "update", reference, "--field", "contact", "--value", "M. de Vries, 050-1"],
        capsys,
    )
    assert code == 0

    code, _, err = run_cli(["breaches", "decide", "DL-2026-0999", "--ap", "ja", "--subjects",
                            "nee", "--reasons", "zomaar wat redenen"], capsys)  # fmt: skip
    assert code == 1 and "unknown breach DL-2026-0999" in err
    # before the decision the draft is printed with a note that nothing is decided yet
    code, out, err = run_cli(["breaches", "notice", reference], capsys)
    assert code == 0 and "Subject:" in out and "nothing yet" in err
    code, out, _ = run_cli(
        ["breaches", "decide", reference, "--ap", "ja", "--subjects", "ja", "--ap-number",
         "M-123", "--reasons", "Salarisgegevens bij een derde: risico voor de betrokkenen."],
        capsys,
    )  # fmt: skip
    assert code == 0 and "breaches notice" in out
    code, out, err = run_cli(["breaches", "notice", reference, "--language", "en"], capsys)
    assert code == 0 and "What happened" in out and err == ""

    code, out, _ = run_cli(["breaches", "new", "--reporter", "p.bakker@proambt.nl",
                            "--nature", "Laptop gestolen uit de auto", "--encrypted", "ja"],
                           capsys)  # fmt: skip
    assert code == 0 and "DL-" in out
    register = tmp_path / "register.csv"
    code, _, _ = run_cli(["breaches", "export", "--output", str(register)], capsys)
    rows = list(csv.DictReader(register.open(encoding="utf-8")))
    first, phone = rows
    assert first["reference"] == reference and phone["reference"] != reference
    assert (first["ap_notified"], first["ap_number"], first["subjects_told"]) == (
        "yes",
        "M-123",
        "yes",
    )
    assert first["contact"] == "M. de Vries, 050-1" and "risico" in first["risk_assessment"]
    assert (phone["source"], phone["ap_notified"], phone["encrypted"]) == ("phone", "", "yes")
    assert phone["nature"] == "Laptop gestolen uit de auto"


ATTACK_NOTICE = (
    "Geachte heer, mevrouw,\n\n"
    '=HYPERLINK("http://evil.example","klik") Op 1 maart zijn de loonstroken van 12 '
    "medewerkers per ongeluk naar een verkeerde klant gemaild.\n\n"
    "@SUM(A1) Het risico is identiteitsfraude.\n\n"
    "+1+1 Voor vragen kunt u bellen met Marieke de Vries.\n\n"
    "- Wij hebben de ontvanger gevraagd de mail te verwijderen.\n\n"
    "Met vriendelijke groet,\nMarieke de Vries\n"
)


def test_a_notice_whose_sentences_are_formulas_reaches_the_register_as_text(
    env: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reference = ingest_notice(tmp_path, capsys, ATTACK_NOTICE)
    # A leading tab cannot come through a mail or the CLI (both strip); written by hand.
    desk = _desk(env, tmp_path)
    with desk.transaction() as session:
        breach = session.exec(select(Breach).where(Breach.reference == reference)).one()
        breach.ap_number = "\t=1+1"
        session.add(breach)
        received = breach.received_at.astimezone(desk.tz).isoformat()
    register = tmp_path / "register.csv"
    code, _, _ = run_cli(["breaches", "export", "--output", str(register)], capsys)
    with register.open(encoding="utf-8", newline="") as handle:
        [row] = csv.DictReader(handle)
    assert code == 0
    assert row["nature"].startswith('\'=HYPERLINK("http://evil.example","klik") Op 1 maart')
    assert row["consequences"] == "'@SUM(A1) Het risico is identiteitsfraude."
    assert row["contact"] == "'+1+1 Voor vragen kunt u bellen met Marieke de Vries."
    assert row["measures"] == "'- Wij hebben de ontvanger gevraagd de mail te verwijderen."
    assert row["ap_number"] == "'\t=1+1"
    assert [v for v in row.values() if v[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    # Ordinary cells are written as they were.
    assert reference.startswith("DL-") and row["reference"] == reference
    assert (row["received_at"], row["state"], row["source"]) == (received, "open", "mail")
