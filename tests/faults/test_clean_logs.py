"""Logs carry references and counts only: the whole demo flow, code replies included, at DEBUG.

Every line `configure_logging` writes (JSON) and every record pytest sees is scanned for the
addresses, names, subjects and distinctive phrases of the inputs and for every one-time code
that left in the outbox Maildir.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.settings import load_settings
from handlers.cli import main
from handlers.cli.demo import FOLLOW_UP, SAMPLES
from handlers.logsetup import JsonFormatter, configure_logging, mask_addresses
from handlers.mail.delivery import MaildirTransport, OutboxWorker
from handlers.runtime import build_desk
from tests.mailbuilder import build_mail, code_in

ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHRASES = (
    "Bouwbedrijf Hendriks",
    "Personeelsnummer 40127",
    "Delta Logistics",
    "14-03-1986",
    "Laan van Meerdervoort",
    "2517 BJ",
    "Offerte collectieve pensioenregeling",
    "Thursday's meeting",
    "kopie",
    "Ik stuur de code",
    "graag een nieuwe code",
)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, _ = capsys.readouterr()
    return int(exited.value.code or 0), out


def outbox_mails(new: Path) -> list[EmailMessage]:
    mails = []
    for path in sorted(new.iterdir()):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage)
        mails.append(mail)
    return mails


def secrets_of_inputs(extra_bodies: list[str]) -> set[str]:
    found: set[str] = set(PHRASES)
    for sample in SAMPLES:
        found.add(sample.subject)
        found.add(sample.sender.split("<")[0].strip())  # the display name
        found.update(ADDRESS.findall(f"{sample.sender} {sample.body}"))
    for body in [FOLLOW_UP, *extra_bodies]:
        found.update(ADDRESS.findall(body))
    found.add("secretariaat@proambt.nl")
    return found


def reply(ack: EmailMessage, body: str) -> bytes:
    return build_mail(
        sender=str(ack["To"]),
        subject=f"Re: {ack['Subject']}",
        body=body,
        in_reply_to=str(ack["Message-ID"]),
    )


def deliver(outbox: Path) -> int:
    desk = build_desk(load_settings())
    report = asyncio.run(OutboxWorker(desk, MaildirTransport(outbox)).run_once())
    desk.engine.dispose()
    return report.sent


def test_demo_and_code_replies_log_no_address_code_subject_or_body(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    for name in list(os.environ):
        if name.startswith(("DSR_", "SLACK_")) and name != "DSR_ENCRYPTION_KEY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    stream = io.StringIO()
    configure_logging(load_settings(log_level="DEBUG", log_format="json"), stream=stream)
    logging.getLogger().addHandler(caplog.handler)  # configure_logging replaced the root's
    caplog.set_level(logging.DEBUG)

    code, out = run_cli(["demo"], capsys)
    assert code == 0, out
    store = tmp_path / "var" / "demo"
    monkeypatch.setenv("DSR_DATABASE_URL", f"sqlite:///{store / 'dsr.db'}")
    monkeypatch.setenv("DSR_OUTBOX_DIR", str(store / "outbox"))
    new = store / "outbox" / "new"
    acks = {str(m["To"]): m for m in outbox_mails(new) if code_in(m)}  # the code mails
    assert len(acks) == 4

    jan, emily, fatima, tom = (
        acks[a]
        for a in (
            "jan.devries@voorbeeld.nl",
            "emily.clarke@example.co.uk",
            "f.elamrani@voorbeeld.nl",
            "tom.bakker@example.com",
        )
    )
    right = code_in(jan)
    assert right is not None
    wrong = "000000" if right != "000000" else "111111"
    bodies = [
        f"Goedemiddag,\n\nIk stuur de code: {right}\n\nJan\n",
        f"Hello,\n\nHere is my code {wrong}, and my other address is e.c@example.org.\n",
        "Beste,\n\nIk wil graag een nieuwe code ontvangen.\n\nFatima\n",
        f"Code {wrong[:3]} {wrong[3:]}\n",
    ]
    for n, (ack, body) in enumerate(zip((jan, emily, fatima, tom), bodies, strict=True)):
        path = tmp_path / f"reply{n}.eml"
        path.write_bytes(reply(ack, body))
        code, out = run_cli(["ingest", str(path)], capsys)
        assert code == 0, out
        assert json.loads(out)["action"] == "threaded"
    deliver(store / "outbox")
    codes = {c for m in outbox_mails(new) if (c := code_in(m))}
    assert len(codes) == 5  # four code mails and Fatima's fresh code
    assert len(outbox_mails(new)) == 10  # four acknowledgements and Jan's confirmation too

    lines = stream.getvalue().splitlines()
    records = [r.getMessage() for r in caplog.records]
    records += [caplog.text]
    assert any('"message": "case=' in line and "verified by code" in line for line in lines)
    assert all(json.loads(line)["level"] for line in lines)
    with_case = [json.loads(line) for line in lines if "case=DSR-" in line]
    assert with_case and all(entry["case"].startswith("DSR-") for entry in with_case)
    secrets = secrets_of_inputs(bodies)
    leaks = sorted(
        (secret, line[:160])
        for line in [*lines, *records]
        for secret in secrets
        if secret.lower() in line.lower()
    )
    leaks += sorted(
        (code, line[:160])
        for line in [*lines, *records]
        for code in codes
        if re.search(rf"(?<!\d){code}(?!\d)", line)
    )
    print(
        f"\nclean logs: {len(lines)} JSON lines and {len(caplog.records)} records scanned for "
        f"{len(secrets)} addresses/names/subjects/phrases and {len(codes)} codes; "
        f"leaks: {len(leaks)}"
    )
    assert leaks == []


def test_json_lines_are_one_object_per_event_with_the_case() -> None:
    formatter = JsonFormatter()
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logging.LogRecord(
            "dsr.test",
            logging.ERROR,
            __file__,
            1,
            "case=%s failed for %s",
            ("DSR-2026-0042", "jan@example.nl"),
            exc_info=sys.exc_info(),
        )
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["case"] == "DSR-2026-0042"
    assert entry["message"] == "case=DSR-2026-0042 failed for j***@example.nl"
    assert (entry["level"], entry["logger"]) == ("ERROR", "dsr.test")
    assert "ValueError" in entry["exc"]
    assert mask_addresses("x a.b@c.nl y") == "x a***@c.nl y"
