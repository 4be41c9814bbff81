"""Command start: how long a `dsr` command takes from exec to exit, as an operator at a terminal
or the mail server's pipe (one `dsr ingest` process per mail) meets it.

Each command runs `--runs` times through `.venv/bin/dsr` itself, so uv's own start is left
out (`uv run dsr --help` is printed once apart, as a figure); the median wall time and the
median CPU time (user + system) of the process are reported. `dsr ingest` takes a fresh
request each run into an embedded SQLite store made (and migrated) before the timed runs.
The project's own modules are compiled first, as the first run of an installation leaves them;
the libraries are compiled by `uv sync` (`[tool.uv] compile-bytecode`).

    uv run python benchmarks/startup.py [--runs 7]

Targets on a 2-core machine: `dsr --help` under 0.15 s, `dsr classify FILE` under 0.6 s,
`dsr ingest FILE` under 0.8 s.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DSR = ROOT / ".venv" / "bin" / "dsr"
REQUEST = ROOT / "tests" / "fixtures" / "intake" / "access_and_erasure_en.eml"
LIBRARY = ROOT / ".venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    code: int


def run_once(argv: list[str], *, env: dict[str, str], cwd: Path) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        print(f"  {' '.join(argv[1:])}: exit {done.returncode}: {done.stderr.decode()[-300:]}")
    return Timing(wall, cpu, done.returncode)


def request_file(work: Path, n: int) -> Path:
    """The fixture request with a Message-ID of its own, so that every run opens a case."""
    raw = REQUEST.read_bytes()
    lines = [line for line in raw.split(b"\n") if not line.lower().startswith(b"message-id:")]
    path = work / f"request-{n}.eml"
    path.write_bytes(b"Message-ID: <startup-%d@bench.example>\n" % n + b"\n".join(lines))
    return path


def clean_env(work: Path) -> dict[str, str]:
    """Default settings with the store in `work`; nothing from the caller's DSR_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "SLACK_"))}
    env.update(
        DSR_DATABASE_URL=f"sqlite:///{work / 'dsr.db'}",
        DSR_VAR_DIR=str(work / "var"),
        DSR_OUTBOX_DIR=str(work / "outbox"),
    )
    return env


def measure(label: str, make_argv: list[list[str]], *, env: dict[str, str], cwd: Path) -> Timing:
    timings = [run_once(argv, env=env, cwd=cwd) for argv in make_argv]
    median = Timing(
        statistics.median(t.wall for t in timings),
        statistics.median(t.cpu for t in timings),
        max(t.code for t in timings),
    )
    print(
        f"{label:<26} median {median.wall * 1000:7.0f} ms wall, {median.cpu * 1000:7.0f} ms CPU "
        f"({len(timings)} runs, fastest {min(t.wall for t in timings) * 1000:.0f} ms)"
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not DSR.exists():
        print(f"{DSR} not found; run `uv sync` first")
        return 1
    for package in ("bot", "handlers", "storage"):
        compileall.compile_dir(ROOT / package, quiet=1)
    compiled = any(LIBRARY.glob("site-packages/sqlalchemy/__pycache__/*.pyc"))
    print(f"libraries compiled to bytecode: {'yes' if compiled else 'NO (run uv sync)'}")
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPU(s), load average {load:.1f}; median of {args.runs} runs each")
    print("(with other work running the wall times stretch; the CPU times stay comparable)\n")
    targets = {"dsr --help": 0.15, "dsr classify FILE": 0.6, "dsr ingest FILE": 0.8}
    results: dict[str, Timing] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = clean_env(work)
        run = [str(DSR)]
        # The store and its key are made, and the migrations applied, by a first intake.
        run_once([*run, "ingest", str(request_file(work, 0))], env=env, cwd=work)
        runs = range(1, args.runs + 1)
        results["dsr --help"] = measure(
            "dsr --help", [[*run, "--help"] for _ in runs], env=env, cwd=work
        )
        results["dsr classify FILE"] = measure(
            "dsr classify FILE", [[*run, "classify", str(REQUEST)] for _ in runs], env=env, cwd=work
        )
        results["dsr deadline"] = measure(
            "dsr deadline",
            [[*run, "deadline", "--received", "2026-01-31T10:00:00+01:00"] for _ in runs],
            env=env,
            cwd=work,
        )
        results["dsr ingest FILE"] = measure(
            "dsr ingest FILE",
            [[*run, "ingest", str(request_file(work, n))] for n in runs],
            env=env,
            cwd=work,
        )
        measure(
            "uv run dsr --help", [["uv", "run", "--frozen", "dsr", "--help"]], env=env, cwd=ROOT
        )
    print()
    met = True
    for label, limit in targets.items():
        ok = results[label].wall < limit and results[label].code == 0
        met &= ok
        print(f"{label:<26} target < {limit:.2f} s: {'met' if ok else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
