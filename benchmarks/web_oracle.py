"""The status page must not tell a stranger whether a reference exists: the time its steps take
for a reference/address pair that matches and for one that does not.

    uv run python benchmarks/web_oracle.py [--rounds 30]

Prints, on an embedded SQLite store with a Fernet key as `dsr serve` runs it, the median time
of `start` (reference + address: a code made, an access stored) and of `check` (a wrong code)
for both kinds of pair, and their ratio (target: between 0.8 and 1.25). The tests hold the two
paths to the same statements (tests/attacks/test_web_attacker.py); this is the figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import requester_status as status  # noqa: E402
from bot.cases import NewCase, open_case  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.runtime import build_desk  # noqa: E402

LOW, HIGH = 0.8, 1.25
NOW = datetime(2026, 3, 5, 11, 0, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        desk = build_desk(
            Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=f"sqlite:///{work}/dsr.db",
                var_dir=work / "var",
                outbox_dir=work / "outbox",
                smtp_listen="",
            )
        )
        with desk.transaction() as session:
            case = open_case(
                desk,
                session=session,
                new=NewCase(
                    requester="jan.jansen@example.nl",
                    received_at=NOW,
                    category="access",
                    language="nl",
                ),
                now=NOW,
            )
            reference, requester = case.reference, case.requester
        times: dict[str, dict[bool, list[float]]] = {"start": {}, "check": {}}
        for step in times.values():
            step.update({True: [], False: []})
        for n in range(args.rounds):
            for match in (True, False) if n % 2 else (False, True):
                address = requester if match else f"x{n}@example.org"
                now = NOW + timedelta(minutes=13 * n)  # past the limit of codes per address
                started = time.perf_counter()
                token = status.start(desk, reference=reference, address=address, now=now)
                times["start"][match].append(time.perf_counter() - started)
                started = time.perf_counter()
                status.check(desk, token=token, code="1", now=now)
                times["check"][match].append(time.perf_counter() - started)
        missed = False
        for name, found in times.items():
            hit, miss = statistics.median(found[True]), statistics.median(found[False])
            ratio = hit / miss
            ok = LOW <= ratio <= HIGH
            missed |= not ok
            print(
                f"status {name:5}: match {hit * 1e3:6.2f} ms, no match {miss * 1e3:6.2f} ms, "
                f"ratio {ratio:4.2f} (target {LOW}-{HIGH}) {'ok' if ok else 'MISSED'}"
            )
        desk.engine.dispose()
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
