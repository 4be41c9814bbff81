"""What the running parts of one process report: whether each runs, any trouble it has, counts
of what happened and when something last succeeded. `/readyz` and `/metrics` read it
(handlers/health); nothing here knows Prometheus.

A part whose trouble is usually brief (a socket that reconnects by itself) reports it with a
grace period: it counts only once it has lasted that long, judged at read time with the
monitor's clock, so `/readyz` does not flap on a short cut.

Label values are short machine words (`created`, `mail`, `ratelimited`); anything else (an
address, a reference, free text) is replaced by `other`, so no personal data can reach a label.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_LABEL_VALUE = re.compile(r"[a-z0-9_]{1,40}")
OTHER = "other"

Labels = tuple[tuple[str, str], ...]


def label_value(value: str) -> str:
    """The value itself when it is a short lower-case word, else `other`."""
    return value if _LABEL_VALUE.fullmatch(value) else OTHER


@dataclass(frozen=True)
class PartState:
    running: bool
    trouble: str = ""

    @property
    def healthy(self) -> bool:
        return self.running and not self.trouble


@dataclass
class Observed:
    """A summary: how many observations and their sum (seconds)."""

    count: int = 0
    total: float = 0.0


class Monitor:
    """Thread-safe: parts report from the event loop and from worker threads."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._parts: dict[str, PartState] = {}
        self._counts: dict[str, dict[Labels, float]] = {}
        self._observed: dict[str, dict[Labels, Observed]] = {}
        self._marks: dict[str, float] = {}
        self._pending: dict[str, tuple[str, float]] = {}  # part -> (trouble, counts from)

    def started(self, part: str) -> None:
        with self._lock:
            self._pending.pop(part, None)
            self._parts[part] = PartState(running=True)

    def stopped(self, part: str, *, error: str = "") -> None:
        with self._lock:
            self._pending.pop(part, None)
            self._parts[part] = PartState(running=False, trouble=error or "stopped")

    def trouble(self, part: str, what: str, *, grace: float = 0.0) -> None:
        """The part runs but cannot do its work (`what`: our words, no personal data). With
        `grace` (seconds) it counts only once it has lasted that long; telling it again while
        it lasts does not restart the wait."""
        with self._lock:
            state = self._parts.get(part, PartState(running=True))
            if grace > 0 and not state.trouble:
                self._pending.setdefault(part, (what, self.monotonic() + grace))
                return
            self._parts[part] = PartState(running=state.running, trouble=what)

    def recovered(self, part: str) -> None:
        with self._lock:
            self._pending.pop(part, None)
            state = self._parts.get(part)
            if state is not None and state.trouble and state.running:
                self._parts[part] = PartState(running=True)

    def parts(self) -> dict[str, PartState]:
        """Each part's state now: a trouble reported with a grace period shows once it is due."""
        with self._lock:
            found = dict(self._parts)
            now = self.monotonic()
            for part, (what, due) in self._pending.items():
                state = found.get(part, PartState(running=True))
                if now >= due and state.running and not state.trouble:
                    found[part] = PartState(running=True, trouble=what)
            return found

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = _labels(labels)
        with self._lock:
            series = self._counts.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def counts(self, name: str) -> dict[Labels, float]:
        with self._lock:
            return dict(self._counts.get(name, {}))

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = _labels(labels)
        with self._lock:
            found = self._observed.setdefault(name, {}).setdefault(key, Observed())
            found.count += 1
            found.total += seconds

    def observed(self, name: str) -> dict[Labels, Observed]:
        with self._lock:
            return {k: Observed(v.count, v.total) for k, v in self._observed.get(name, {}).items()}

    def mark(self, name: str) -> None:
        """Something (`imap_poll`) succeeded just now."""
        with self._lock:
            self._marks[name] = self.monotonic()

    def age(self, name: str) -> float | None:
        """Seconds since `mark(name)`; None when it never happened in this process."""
        with self._lock:
            at = self._marks.get(name)
        return None if at is None else max(0.0, self.monotonic() - at)


def _labels(labels: dict[str, str]) -> Labels:
    return tuple(sorted((k, label_value(v)) for k, v in labels.items()))
