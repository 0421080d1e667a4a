"""The shipped systemd units as systemd reads them: `systemd-analyze verify` finds no error
(with ExecStart pointing at this checkout's program), `systemd-analyze security` rates the
services' exposure at most 2.0 ("OK"), and the settings docs/deploy.md relies on are there.
The daemon's side of Type=notify is tests/deploy/test_sdnotify.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MAILGATE_BIN
from tests.deploy.units import INSTALLED_BIN, UNITS, settings

ANALYZE = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (Debian package systemd)")
FILES = ("mailgate.service", "mailgate-outbox.service", "mailgate-outbox.timer")


def installed_copies(tmp_path: Path) -> list[Path]:
    copies = []
    for name in FILES:
        copy = tmp_path / name
        copy.write_text((UNITS / name).read_text().replace(INSTALLED_BIN, str(MAILGATE_BIN)))
        copies.append(copy)
    return copies


def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    done = subprocess.run([str(ANALYZE), "verify", *map(str, installed_copies(tmp_path))],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.parametrize("name", ["mailgate.service", "mailgate-outbox.service"])
def test_exposure_stays_ok(tmp_path: Path, name: str) -> None:
    installed_copies(tmp_path)
    # --threshold is the exposure level times ten: above 2.0 exits non-zero
    done = subprocess.run([str(ANALYZE), "security", "--offline=true", "--threshold=20", str(tmp_path / name)],
                          capture_output=True, text=True, timeout=60)
    overall = [line for line in done.stdout.splitlines() if "Overall exposure level" in line]
    assert done.returncode == 0 and overall, done.stdout + done.stderr


def test_the_daemon_unit_has_what_the_docs_promise() -> None:
    unit = settings("mailgate.service")
    expected = {"Type": ["notify"], "NotifyAccess": ["main"], "StateDirectory": ["mailgate"], "UMask": ["0027"],
                "ExecReload": ["/bin/kill -HUP $MAINPID"], "Restart": ["on-failure"],
                "RestartPreventExitStatus": ["78"], "ReadWritePaths": ["-/var/spool/postfix/mailgate"]}
    assert {key: unit.get(key) for key in expected} == expected
    assert unit["WatchdogSec"] and unit["RestartSec"]
    timer = settings("mailgate-outbox.timer")
    assert timer["OnUnitInactiveSec"] == ["30s"] and timer["WantedBy"] == ["timers.target"]
