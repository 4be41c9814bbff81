"""The systemd unit in deploy/: `systemd-analyze verify` finds nothing to say about it, its
stop timeout covers `dsr serve`'s grace time, and its exposure score stays low.

`systemd-analyze` comes with Debian's `systemd` package; without it these tests skip on a
developer's machine and fail in CI (`.ci/run` installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.service import SHUTDOWN_SECONDS
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "dsr.service"
INSTALLED_DSR = "/opt/dsr/.venv/bin/dsr"
MAX_EXPOSURE = 2.0


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found:
        return found
    message = "systemd-analyze not installed (apt-get install systemd)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def checkable_copy(tmp_path: Path, text: str | None = None) -> Path:
    """The unit with ExecStart pointing at this checkout's `dsr` (verify checks that the
    program exists and is executable); every other line as shipped."""
    dsr = Path(sys.executable).parent / "dsr"
    assert dsr.exists(), f"{dsr} missing: run `uv sync`"
    copy = tmp_path / "dsr.service"
    copy.write_text((text or UNIT.read_text()).replace(INSTALLED_DSR, str(dsr)))
    return copy


def verify(tool: str, unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_of(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith(("#", "[")):
            found.setdefault(name.strip(), []).append(value.strip())
    return found


def test_systemd_analyze_verify_has_nothing_to_say(tmp_path: Path) -> None:
    tool = systemd_analyze()
    checked = verify(tool, checkable_copy(tmp_path))
    assert checked.returncode == 0 and (checked.stdout + checked.stderr).strip() == "", (
        checked.stdout + checked.stderr
    )


def test_verify_does_read_the_unit(tmp_path: Path) -> None:
    """The same check on a copy with one mistyped value: systemd names the line."""
    tool = systemd_analyze()
    broken = UNIT.read_text().replace("TimeoutStopSec=10s", "TimeoutStopSec=ten")
    checked = verify(tool, checkable_copy(tmp_path, broken))
    assert "Failed to parse time value, ignoring: ten" in checked.stderr, checked.stderr


def test_stop_timeout_covers_the_grace_time_and_reload_is_sighup() -> None:
    unit = settings_of(UNIT.read_text())
    timeout = float(unit["TimeoutStopSec"][0].removesuffix("s"))
    assert SHUTDOWN_SECONDS + 1 <= timeout <= 3 * (SHUTDOWN_SECONDS + 1)
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert unit["User"] == ["dsr"] and unit["StateDirectory"] == ["dsr"]
    assert unit["EnvironmentFile"] == ["/etc/dsr/dsr.env"]
    assert unit["CapabilityBoundingSet"] == [""] and unit["ProtectSystem"] == ["strict"]


def test_exposure_score_stays_low(tmp_path: Path) -> None:
    """`systemd-analyze security --offline` scores the file itself (no running systemd)."""
    tool = systemd_analyze()
    scored = subprocess.run(
        [tool, "security", "--offline=true", "--no-pager", str(checkable_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for dsr\.service: (\d+\.\d+)", scored.stdout)
    assert found is not None, scored.stdout + scored.stderr
    print(f"\nsystemd-analyze security: exposure {found.group(1)} (0 = best, 10 = worst)")
    assert float(found.group(1)) <= MAX_EXPOSURE
