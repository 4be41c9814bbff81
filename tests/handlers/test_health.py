"""`/healthz`, `/readyz` and `/metrics` on a real loopback listener, fed by real SMTP intake."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import func, text
from sqlmodel import select

from bot.desk import Desk
from bot.intake import process_message
from bot.monitor import OTHER, Monitor, PartState, label_value
from handlers.health.server import bound_address, start_health
from handlers.mail.delivery import OutboxWorker, SmtpRelay
from handlers.mail.imap_service import build_poller
from handlers.mail.smtp_listener import bound_port, close_listener, start_listener
from handlers.service import Subsystem, run_plan, scheduler
from handlers.slack.app import build_deps
from handlers.slack.delivery import SlackDelivery
from storage.engine import DeskSession, make_engine
from storage.figures import open_breaches
from storage.migrate import upgrade
from storage.models import OutboxItem
from tests.dovecot import PASSWORD, Dovecot
from tests.factories import T0, make_settings
from tests.mailbuilder import build_mail
from tests.slack_stub import SlackStub

MAILBOX = "secretariaat@proambt.nl"


class Health:
    def __init__(self, base: str) -> None:
        self.base = base

    async def get(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as client, client.get(self.base + path) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()


async def serving(desk: Desk, clock: Callable[[], datetime]) -> AsyncIterator[Health]:
    runner = await start_health(desk, host="127.0.0.1", port=0, clock=clock)
    try:
        yield Health(f"http://{bound_address(runner)}")
    finally:
        await runner.cleanup()


@pytest.fixture
def now() -> list[datetime]:
    return [T0]


@pytest.fixture
async def health(desk: Desk, now: list[datetime]) -> AsyncIterator[Health]:
    async for running in serving(desk, lambda: now[0]):
        yield running


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_healthz_answers_while_the_process_lives(health: Health) -> None:
    assert await health.get("/healthz") == (200, {"alive": True})


async def test_readyz_is_ready_with_running_parts_and_names_a_failing_one(
    desk: Desk, health: Health
) -> None:
    desk.monitor.started("smtp")
    desk.monitor.started("imap")
    status, body = await health.get("/readyz")
    assert status == 200 and body["ready"] is True, body
    assert {c["name"] for c in body["checks"]} == {"database", "smtp", "imap", "outbox-age"}

    desk.monitor.trouble("imap", "connection failed (ConnectionRefusedError)")
    status, body = await health.get("/readyz")
    assert status == 503 and body["failing"] == ["imap"]
    desk.monitor.recovered("imap")
    desk.monitor.stopped("smtp")
    status, body = await health.get("/readyz")
    assert status == 503 and body["failing"] == ["smtp"]


async def test_readyz_fails_when_the_oldest_waiting_mail_is_15_minutes_old(
    desk: Desk, health: Health, now: list[datetime]
) -> None:
    process_message(desk, build_mail(), now=T0, source="test")  # acknowledgement queued at T0
    now[0] = T0 + timedelta(minutes=14)
    assert (await health.get("/readyz"))[0] == 200
    now[0] = T0 + timedelta(minutes=15)
    status, body = await health.get("/readyz")
    assert status == 503 and body["failing"] == ["outbox-age"]
    assert "15 min" in body["checks"][-1]["detail"]


async def test_readyz_fails_on_an_old_migration_and_an_unreachable_database(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    upgrade(engine, "0006")
    old = Desk(settings=make_settings(url, tmp_path), engine=engine)
    async for health in serving(old, lambda: T0):
        status, body = await health.get("/readyz")
        assert status == 503 and body["failing"] == ["database"]
        assert "dsr db upgrade" in body["checks"][0]["detail"]
    nowhere = "postgresql+psycopg://dsr@127.0.0.1:1/none?connect_timeout=2"
    gone = Desk(settings=make_settings(nowhere, tmp_path), engine=make_engine(nowhere))
    async for health in serving(gone, lambda: T0):
        status, body = await health.get("/readyz")
        assert status == 503 and body["failing"] == ["database"]
        assert "unreachable" in body["checks"][0]["detail"]


async def test_metrics_count_real_intake_and_carry_no_personal_data(
    desk: Desk, health: Health
) -> None:
    server = await start_listener(desk, host="127.0.0.1", port=0, clock=lambda: T0)
    senders = ["jan.jansen@example.nl", "p.devries@example.org", "k.bakker@example.com"]
    try:
        for sender in senders:
            await aiosmtplib.send(
                build_mail(sender=f"Persoon <{sender}>", subject="Inzageverzoek Hendriks"),
                hostname="127.0.0.1",
                port=bound_port(server),
                sender=sender,
                recipients=[MAILBOX],
            )
    finally:
        await close_listener(server)
    desk.monitor.started("smtp")
    status, body = await health.get("/metrics")
    assert status == 200
    found = samples(body)
    assert found[("dsr_mails_received_total", (("action", "created"), ("source", "smtp")))] == 3
    states = {k[1] for k in found if k[0] == "dsr_cases"}
    assert sum(found[("dsr_cases", s)] for s in states) == 3
    assert all(dict(s)["kind"] == "access" for s in states)
    with desk.reading() as session:
        queued = session.exec(select(func.count()).select_from(OutboxItem)).one()
    assert found[("dsr_outbox_pending", (("channel", "mail"),))] == queued >= 3
    assert found[("dsr_part_up", (("part", "smtp"),))] == 1
    assert found[("dsr_cases_overdue", ())] == 0
    for secret in [*senders, "jansen", "Hendriks", "Persoon", "DSR-2026"]:
        assert secret.lower() not in body.lower()


async def test_overdue_review_items_and_tasks_are_read_at_scrape_time(
    desk: Desk, health: Health, now: list[datetime]
) -> None:
    process_message(desk, build_mail(), now=T0, source="test")
    now[0] = T0 + timedelta(days=40)
    found = samples((await health.get("/metrics"))[1])
    assert found[("dsr_cases_overdue", ())] == 1
    assert found[("dsr_review_items_waiting", ())] == 0
    assert found[("dsr_tasks_open", ())] == 0
    assert found[("dsr_outbox_oldest_pending_age_seconds", (("channel", "mail"),))] == 40 * 86400


def test_open_breaches_are_counted_only_where_there_is_a_breach_register(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/plain.db")
    with DeskSession(engine) as session:
        assert open_breaches(session=session) is None
        session.execute(text("CREATE TABLE breach (id INTEGER PRIMARY KEY, state VARCHAR(16))"))
        session.execute(text("INSERT INTO breach VALUES (1, 'open'), (2, 'decided'), (3, 'open')"))
        assert open_breaches(session=session) == 2
    engine.dispose()


async def test_sweeps_are_counted_and_timed_and_a_failing_one_makes_the_scheduler_unready(
    desk: Desk, health: Health
) -> None:
    stop = asyncio.Event()
    runs: list[str] = []

    async def reminders() -> None:
        runs.append("reminders")
        if len(runs) == 2:
            stop.set()
            raise RuntimeError("the database went away")

    desk.monitor.started("scheduler")
    fast = replace(
        desk, settings=desk.settings.model_copy(update={"scheduler_interval_seconds": 0.001})
    )
    await scheduler(fast, [reminders]).run(stop)
    found = samples((await health.get("/metrics"))[1])
    assert found[("dsr_sweeps_total", (("outcome", "ok"), ("sweep", "reminders")))] == 1
    assert found[("dsr_sweeps_total", (("outcome", "failed"), ("sweep", "reminders")))] == 1
    assert found[("dsr_sweep_duration_seconds_count", (("sweep", "reminders"),))] == 2
    status, body = await health.get("/readyz")
    assert status == 503 and body["failing"] == ["scheduler"]


async def test_run_plan_reports_which_parts_run_and_which_stopped() -> None:
    monitor, stop = Monitor(), asyncio.Event()
    seen: dict[str, bool] = {}

    async def steady(stop: asyncio.Event) -> None:
        seen.update({k: v.running for k, v in monitor.parts().items()})
        await stop.wait()

    async def broken(_stop: asyncio.Event) -> None:
        raise RuntimeError("no database")

    await run_plan([Subsystem("smtp", steady), Subsystem("imap", broken)], stop, monitor=monitor)
    assert seen == {"smtp": True, "imap": True}
    assert {k: v.running for k, v in monitor.parts().items()} == {"smtp": False, "imap": False}


def test_label_values_are_machine_words_only() -> None:
    assert label_value("created") == "created"
    for personal in ["jan@example.nl", "DSR-2026-0042", "Jan Jansen", "x" * 41, ""]:
        assert label_value(personal) == OTHER
    monitor = Monitor()
    monitor.count("dsr_slack_api_errors", error="jan@example.nl")
    assert monitor.counts("dsr_slack_api_errors") == {(("error", OTHER),): 1.0}


def test_trouble_with_a_grace_period_counts_once_it_has_lasted_that_long() -> None:
    clock = [0.0]
    monitor = Monitor(monotonic=lambda: clock[0])
    monitor.started("link")
    monitor.trouble("link", "down", grace=30)
    clock[0] = 20.0
    monitor.trouble("link", "down", grace=30)  # told again: the wait runs from the first
    assert monitor.parts()["link"].healthy
    clock[0] = 30.0
    assert monitor.parts()["link"] == PartState(running=True, trouble="down")
    monitor.recovered("link")
    clock[0] = 100.0
    assert monitor.parts()["link"].healthy
    monitor.trouble("link", "down", grace=30)
    monitor.stopped("link")
    assert monitor.parts()["link"] == PartState(running=False, trouble="stopped")


async def test_imap_poll_age_comes_from_the_last_round(desk: Desk, tmp_path: Path) -> None:
    clock = [100.0]
    monitor = Monitor(monotonic=lambda: clock[0])
    imap = replace(
        desk,
        settings=desk.settings.model_copy(update={"imap_url": "imaps://desk@127.0.0.1/INBOX"}),
        monitor=monitor,
    )
    async for health in serving(imap, lambda: T0):
        found = samples((await health.get("/metrics"))[1])
        assert found[("dsr_imap_last_poll_age_seconds", ())] == -1
        monitor.mark("imap_poll")
        clock[0] = 142.0
        found = samples((await health.get("/metrics"))[1])
        assert found[("dsr_imap_last_poll_age_seconds", ())] == 42


def test_dsr_serve_answers_readyz_with_every_part_it_started(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "SLACK_"))}
    environment.update(
        DSR_ENCRYPTION_KEY=os.environ["DSR_ENCRYPTION_KEY"],
        DSR_SMTP_LISTEN="127.0.0.1:0",
        DSR_HTTP_LISTEN="127.0.0.1:0",
        PYTHONPATH=str(Path.cwd()),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "serve"],
        cwd=tmp_path,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    address, seen = "", []
    try:
        for line in process.stderr:
            seen.append(line)
            if found := re.search(r"health: /healthz /readyz /metrics on (\S+)", line):
                address = found.group(1)
                break
        assert address, "".join(seen)
        with urllib.request.urlopen(f"http://{address}/readyz", timeout=10) as response:
            body = json.load(response)
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
            metrics = response.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert body["ready"] is True, body
    names = {c["name"] for c in body["checks"]}
    assert {"database", "smtp", "outbox", "outbox-age", "scheduler", "health"} <= names
    assert 'dsr_part_up{part="smtp"} 1.0' in metrics


class Watched(Monitor):
    """A monitor that lets a test wait, without sleeping, for a part's report."""

    def __init__(self) -> None:
        super().__init__()
        self.reported = asyncio.Event()

    def trouble(self, part: str, what: str) -> None:
        super().trouble(part, what)
        self.reported.set()

    def mark(self, name: str) -> None:
        super().mark(name)
        self.reported.set()


@pytest.mark.dovecot
async def test_the_imap_poller_reports_a_failed_login_and_a_good_round(
    desk: Desk, dovecot: Dovecot
) -> None:
    for password, healthy in (("wrong", False), (PASSWORD, True)):
        watched = Watched()
        settings = desk.settings.model_copy(
            update={"imap_url": dovecot.url(), "imap_password": SecretStr(password)}
        )
        imap = replace(desk, settings=settings, monitor=watched)
        poller = build_poller(imap, clock=lambda: T0, ssl_context=dovecot.ssl_context())
        watched.started("imap")
        task = asyncio.create_task(poller.run())
        try:
            await asyncio.wait_for(watched.reported.wait(), timeout=30)
        finally:
            poller.stop()
            await task
        assert watched.parts()["imap"].healthy is healthy
        assert (watched.age("imap_poll") is not None) is healthy


class Refusing:
    """aiosmtpd relay that refuses every recipient, for good or for now."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        return self.answer


async def test_failed_deliveries_are_counted_by_kind(desk: Desk, health: Health) -> None:
    process_message(desk, build_mail(), now=T0, source="test")
    loop = asyncio.get_running_loop()
    for day, answer in ((2, "451 4.3.0 try later"), (3, "550 5.1.1 no such user")):
        server = await loop.create_server(
            lambda answer=answer: SMTP(Refusing(answer), loop=loop), host="127.0.0.1", port=0
        )
        relay = SmtpRelay(f"smtp://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        try:
            await OutboxWorker(
                desk, relay, clock=lambda day=day: T0 + timedelta(days=day)
            ).run_once()
        finally:
            server.close()
    found = samples((await health.get("/metrics"))[1])
    temporary = found[("dsr_delivery_failures_total", (("channel", "mail"), ("kind", "temporary")))]
    permanent = found[("dsr_delivery_failures_total", (("channel", "mail"), ("kind", "permanent")))]
    assert temporary >= 1 and permanent >= 1
    assert found[("dsr_outbox_failed", (("channel", "mail"),))] == permanent


async def test_slack_api_errors_are_counted_by_slacks_error_code(
    desk: Desk, health: Health
) -> None:
    stub = SlackStub(errors={"chat.postMessage": "channel_not_found"})
    await stub.start()
    try:
        settings = desk.settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-test"),
                "slack_api_url": stub.api_url,
                "slack_channel": "C0DESK0001",
            }
        )
        slack = replace(desk, settings=settings)
        process_message(slack, build_mail(), now=T0, source="test")
        await SlackDelivery(build_deps(slack, clock=lambda: T0)).deliver_due()
    finally:
        await stub.stop()
    found = samples((await health.get("/metrics"))[1])
    assert found[("dsr_slack_api_errors_total", (("error", "channel_not_found"),))] >= 1
    assert found[("dsr_delivery_failures_total", (("channel", "slack"), ("kind", "temporary")))]
