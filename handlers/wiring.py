"""Which subsystems `dsr serve` runs for the given settings, and why the others are off."""

from __future__ import annotations

from bot.desk import Desk
from bot.retention import scheduled_purge
from bot.sweep import scheduled_sweep
from handlers.health.server import health_server
from handlers.mail.delivery import outbox_worker
from handlers.mail.imap_service import imap_poller
from handlers.mail.maildir import old_mail_remover
from handlers.mail.smtp_listener import smtp_listener
from handlers.outbox_wake import outbox_listener
from handlers.runtime import utcnow
from handlers.service import Note, Plan, Skipped, scheduler
from handlers.slack.wiring import slack_plan
from handlers.web.app import web_front


def plan_for(desk: Desk) -> Plan:
    settings = desk.settings
    plan: Plan = []
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    plan.append(Note("database", f"{backend}, migrations current"))
    if settings.smtp_listen:
        plan.append(smtp_listener(desk))
    else:
        plan.append(Skipped("smtp", "DSR_SMTP_LISTEN is empty"))
    plan.append(outbox_worker(desk))
    if not settings.is_sqlite:
        plan.append(outbox_listener(desk))
    if settings.imap_url:
        plan.append(imap_poller(desk))
    else:
        plan.append(Skipped("imap", "no DSR_IMAP_URL"))
    plan.append(slack_plan(desk))
    plan.append(web_front(desk, clock=utcnow))
    purge = scheduled_purge(desk, clock=utcnow, old_files=old_mail_remover(settings.outbox_dir))
    plan.append(scheduler(desk, [scheduled_sweep(desk, clock=utcnow), purge]))
    if settings.http_listen:
        plan.append(health_server(desk))
    else:
        plan.append(Skipped("health", "DSR_HTTP_LISTEN is empty"))
    return plan
