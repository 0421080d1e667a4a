"""Fixtures for the rules and alert tests: a gateway with the shipped rules/ copied in, an
`ops` queue whose technician (alice) is the team, and an in-process pipeline with a clock
the test moves (flap windows, re-notify intervals and storms are about time)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, FIXTURES, ROOT, Gateway, write_config

ALERTS = FIXTURES / "alerts"
RULES_CONFIG = BASE_CONFIG.replace('queues = ["general"]', 'queues = ["general", "ops"]')


def alert_bytes(name: str) -> bytes:
    return (ALERTS / name).read_bytes()


def shipped_rules(directory: Path) -> None:
    for path in sorted((ROOT / "rules").glob("*.toml")):
        shutil.copy(path, directory / "rules" / path.name)


@pytest.fixture
def alert_gateway(tmp_path: Path) -> Gateway:
    """The real CLI with the shipped rules."""
    config = write_config(tmp_path, base=RULES_CONFIG)
    shipped_rules(tmp_path)
    return Gateway(tmp_path, config)


@dataclass
class Pipeline:
    """Spool accept + process in this process, at a time the test chooses."""

    env: object
    now: datetime

    def deliver(self, raw: bytes, *, after: timedelta = timedelta(0)) -> object:
        from mailgate.pipeline import drain

        self.now += after
        self.env.spool.accept(raw, "test", ("ops@example.com",))  # type: ignore[attr-defined]
        [outcome] = drain(self.env)  # type: ignore[arg-type]
        return outcome


def make_pipeline(tmp_path: Path, extra: str = "", rules: str | None = None) -> Pipeline:
    from mailgate.app import build_env
    from mailgate.config import load_settings

    config = write_config(tmp_path, extra, base=RULES_CONFIG)
    if rules is None:
        shipped_rules(tmp_path)
    else:
        (tmp_path / "rules" / "test.toml").write_text(rules)
    pipe = Pipeline(env=None, now=datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    pipe.env = build_env(load_settings(config), clock=lambda: pipe.now)
    return pipe


@pytest.fixture
def pipeline(tmp_path: Path) -> Callable[..., Pipeline]:
    return lambda extra="", rules=None: make_pipeline(tmp_path, extra, rules)


def nagios(host: str, service: str, kind: str = "PROBLEM", seq: int = 0) -> bytes:
    """A Nagios notify-service-by-email mail; `seq` makes each one a distinct message."""
    state = {"PROBLEM": "CRITICAL", "RECOVERY": "OK"}.get(kind, "CRITICAL")
    return (f"Subject: ** {kind} Service Alert: {host}/{service} is {state} **\nTo: <ops@example.com>\n"
            f"Message-Id: <{kind.lower()}.{host}.{service}.{seq}@mon01.example.net>\n"
            "Date: Tue, 24 Nov 2026 10:00:00 +0000\nFrom: nagios@mon01.example.net\n\n"
            f"***** Nagios *****\n\nNotification Type: {kind}\n\nService: {service}\nHost: {host}\n"
            f"Address: 192.0.2.1\nState: {state}\n\nAdditional Info:\n\ncheck output {seq}\n").encode()
