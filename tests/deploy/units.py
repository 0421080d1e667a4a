"""The shipped systemd units, read the way systemd reads the parts the tests use."""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.conftest import ROOT

UNITS = ROOT / "deploy"
INSTALLED_BIN = "/opt/mailgate/.venv/bin/mailgate"
INSTALLED_CONFIG = "/etc/mailgate/mailgate.toml"


def settings(name: str) -> dict[str, list[str]]:
    """key -> values, in order, from every section (continuation lines are not used by ours)."""
    found: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def command(name: str, program: Path, config: Path) -> tuple[list[str], dict[str, str]]:
    """ExecStart= as argv and the Environment= variables, with the install paths replaced by
    this test's program and config file."""
    unit = settings(name)
    [exec_start] = unit["ExecStart"]
    argv = [program.as_posix() if arg == INSTALLED_BIN else arg for arg in shlex.split(exec_start)]
    assert argv[0] == program.as_posix(), exec_start
    env = {}
    for value in unit.get("Environment", []):
        key, _, val = value.partition("=")
        env[key] = config.as_posix() if val == INSTALLED_CONFIG else val
    return argv, env
