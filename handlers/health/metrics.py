"""`/metrics`: the desk's figures in Prometheus' text format.

Gauges are read from the database at scrape time (so every instance on one PostgreSQL reports
the same totals); counters and sweep durations come from what this process's parts reported
into `desk.monitor`. Labels carry states, kinds, channels and machine words only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector, CollectorRegistry

from bot.desk import Desk
from bot.monitor import Labels, Monitor
from bot.states import CLOSED
from storage.figures import Figures, read_figures

# Counters the parts increment: name -> (help, label names).
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dsr_mails_received": (
        "Mails taken in by this process, by intake's action (its route) and source",
        ("action", "source"),
    ),
    "dsr_delivery_failures": (
        "Failed deliveries from the outbox, by channel and whether it is retried",
        ("channel", "kind"),
    ),
    "dsr_slack_api_errors": ("Slack Web API calls that failed, by Slack's error", ("error",)),
    "dsr_sweeps": ("Scheduler sweeps run, by sweep and outcome", ("sweep", "outcome")),
    "dsr_slack_socket_reconnects": (
        "Times the Slack Socket Mode connection was opened again after the first",
        (),
    ),
}
SUMMARIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "dsr_sweep_duration_seconds": ("Time a scheduler sweep took", ("sweep",)),
}


class DeskCollector(Collector):
    def __init__(self, desk: Desk, *, clock: Callable[[], datetime]) -> None:
        self.desk, self.clock = desk, clock

    def describe(self) -> list[Metric]:
        return []  # registered without a scrape: the database is read on `collect` only

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        with self.desk.reading() as session:
            figures = read_figures(
                session=session, today=now.astimezone(self.desk.tz).date(), closed=CLOSED
            )
        yield from database_metrics(figures, now=now)
        yield from monitor_metrics(self.desk.monitor, imap=bool(self.desk.settings.imap_url))


def database_metrics(figures: Figures, *, now: datetime) -> Iterator[Metric]:
    cases = GaugeMetricFamily("dsr_cases", "Cases by state and kind", labels=["state", "kind"])
    for (state, kind), n in sorted(figures.cases.items()):
        cases.add_metric([state, kind], n)
    yield cases
    yield GaugeMetricFamily(
        "dsr_cases_overdue", "Open cases past their (extended) deadline", value=figures.overdue
    )
    yield GaugeMetricFamily(
        "dsr_review_items_waiting",
        "Mails that might be a request, waiting for a person",
        value=figures.review_waiting,
    )
    yield GaugeMetricFamily("dsr_tasks_open", "Open per-system tasks", value=figures.tasks_open)
    if figures.breaches_open is not None:
        yield GaugeMetricFamily(
            "dsr_breaches_open", "Breaches not yet closed", value=figures.breaches_open
        )
    pending = GaugeMetricFamily(
        "dsr_outbox_pending", "Outbox rows waiting to go out", labels=["channel"]
    )
    oldest = GaugeMetricFamily(
        "dsr_outbox_oldest_pending_age_seconds",
        "Age of the oldest outbox row waiting to go out",
        labels=["channel"],
    )
    failed = GaugeMetricFamily(
        "dsr_outbox_failed", "Outbox rows that failed for good", labels=["channel"]
    )
    for channel in ("mail", "slack"):
        pending.add_metric([channel], figures.outbox_pending.get(channel, 0))
        at = figures.outbox_oldest.get(channel)
        oldest.add_metric([channel], max(0.0, (now - at).total_seconds()) if at else 0.0)
        failed.add_metric([channel], figures.outbox_failed.get(channel, 0))
    yield from (pending, oldest, failed)


def monitor_metrics(monitor: Monitor, *, imap: bool) -> Iterator[Metric]:
    up = GaugeMetricFamily("dsr_part_up", "1 when a part of dsr serve runs well", labels=["part"])
    for part, state in sorted(monitor.parts().items()):
        up.add_metric([part], 1 if state.healthy else 0)
    yield up
    for name, (text, labels) in COUNTERS.items():
        counter = CounterMetricFamily(name, text, labels=list(labels))
        for key, value in sorted(monitor.counts(name).items()):
            counter.add_metric(_values(key, labels), value)
        yield counter
    for name, (text, labels) in SUMMARIES.items():
        summary = SummaryMetricFamily(name, text, labels=list(labels))
        for key, seen in sorted(monitor.observed(name).items()):
            summary.add_metric(_values(key, labels), count_value=seen.count, sum_value=seen.total)
        yield summary
    age = monitor.age("imap_poll")
    if imap:
        yield GaugeMetricFamily(
            "dsr_imap_last_poll_age_seconds",
            "Seconds since the IMAP poller last read the mailbox (-1: not yet)",
            value=-1.0 if age is None else age,
        )


def _values(key: Labels, names: tuple[str, ...]) -> list[str]:
    given = dict(key)
    return [given.get(name, "") for name in names]


def registry_for(desk: Desk, *, clock: Callable[[], datetime]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector(desk, clock=clock))
    return registry
