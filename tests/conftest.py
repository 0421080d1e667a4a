"""Shared test fixtures: a gateway configured in a temporary folder, driven through the
real CLI (in-process with click's runner, or as a subprocess for the MTA pipe)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.pg import PostgresServer, pg_bindir

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "emails"
CORPUS = ROOT.parent / "shared" / "corpus"
MAILGATE_BIN = Path(sys.executable).with_name("mailgate")

BASE_CONFIG = """
templates = "{templates}"
rules = "{rules}"

[gateway]
name = "Helpdesk"
address = "helpdesk@example.com"
subject_tag = "Helpdesk"
secret = "test-secret"

[store]
database = "sqlite:///store/mailgate.db"
spool = "store/spool"
attachments = "store/attachments"

[[queue]]
name = "general"
address = "helpdesk@example.com"

[[queue]]
name = "ops"
address = "ops@example.com"

[[person]]
address = "alice@example.com"
name = "Alice Admin"
role = "technician"
queues = ["general"]
"""


@dataclass
class Gateway:
    dir: Path
    config: Path

    def cli(self, *args: str, input: bytes | str | None = None) -> Result:
        from mailgate.cli import cli

        return CliRunner().invoke(cli, ["--config", str(self.config), *args], input=input,
                                  catch_exceptions=False)

    def json(self, *args: str) -> object:
        result = self.cli(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def deliver(self, raw: bytes, *extra: str) -> Result:
        return self.cli("deliver", *extra, input=raw)

    def pipe(self, raw: bytes, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        """The real MTA pipe: a separate process reading stdin."""
        return subprocess.run([str(MAILGATE_BIN), "--config", str(self.config), "deliver", *extra],
                              input=raw, capture_output=True, timeout=60,
                              env={**os.environ, **(env or {})})

    def tickets(self) -> list[dict]:
        return self.json("ticket", "list")  # type: ignore[return-value]

    def ticket(self, number: int) -> dict:
        return self.json("ticket", "show", str(number))  # type: ignore[return-value]

    def outbox(self) -> list[dict]:
        return self.json("outbox", "list")  # type: ignore[return-value]


def write_config(directory: Path, extra: str = "", base: str = BASE_CONFIG) -> Path:
    rules = directory / "rules"
    rules.mkdir(exist_ok=True)
    config = directory / "mailgate.toml"
    config.write_text(base.format(templates=ROOT / "templates", rules=rules) + textwrap.dedent(extra))
    return config


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL server for the whole session; each test creates its own
    database on it."""
    if pg_bindir() is None:
        pytest.skip("PostgreSQL server not installed (make test installs it)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    return Gateway(tmp_path, write_config(tmp_path))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
