"""The same pipeline on a real PostgreSQL server (the multi-node store)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, ROOT, Gateway, fixture_bytes
from tests.pg import PostgresServer, pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


@pytest.fixture
def pg_gateway(tmp_path: Path, postgres: PostgresServer) -> Gateway:
    url = postgres.create_database(f"mg_{uuid.uuid4().hex[:12]}")
    config = tmp_path / "mailgate.toml"
    (tmp_path / "rules").mkdir()
    text = BASE_CONFIG.format(templates=ROOT / "templates", rules=tmp_path / "rules")
    config.write_text(text.replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"'))
    return Gateway(tmp_path, config)


def test_new_mail_reply_and_duplicate_on_postgres(pg_gateway: Gateway) -> None:
    import email

    raw = fixture_bytes("new_plain.eml")
    assert pg_gateway.deliver(raw).exit_code == 0
    assert pg_gateway.deliver(raw).exit_code == 0  # same bytes: stored once
    [ack] = pg_gateway.outbox()
    ack_id = email.message_from_string(ack["message"])["Message-ID"]
    reply = (f"From: bob.jones@customer.example\r\nTo: helpdesk@example.com\r\nSubject: Re: printer\r\n"
             f"Message-ID: <pg-reply@customer.example>\r\nIn-Reply-To: {ack_id}\r\n\r\nStill broken.\r\n").encode()
    assert pg_gateway.deliver(reply).exit_code == 0
    [t] = pg_gateway.tickets()
    inbound = [m for m in pg_gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]
    assert [m["body"] for m in inbound][1] == "Still broken."
    assert len(inbound) == 2


def test_unreachable_postgres_is_a_temporary_failure(tmp_path: Path) -> None:
    from tests.pg import free_port

    config = tmp_path / "mailgate.toml"
    (tmp_path / "rules").mkdir()
    text = BASE_CONFIG.format(templates=ROOT / "templates", rules=tmp_path / "rules")
    config.write_text(text.replace('database = "sqlite:///store/mailgate.db"',
                                   f'database = "postgresql://nobody@127.0.0.1:{free_port()}/none"'))
    result = Gateway(tmp_path, config).cli("ticket", "list")
    assert result.exit_code == 75
    assert "temporary failure: database" in result.stderr


def test_a_crashing_task_is_reported_by_status_on_postgres(pg_gateway: Gateway) -> None:
    """The supervisor's crash record (issue 17) is an upsert: it must work on the server."""
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.db.task_health import clear_task, record_crash

    build_env(load_settings(pg_gateway.config))
    assert record_crash("node-a", "worker", "PermissionError: first") == 1
    assert record_crash("node-a", "worker", "PermissionError: [Errno 13] Permission denied") == 2
    result = pg_gateway.cli("status")
    assert result.exit_code == 1
    assert "task worker is failing: 2 crashes since" in result.output and "Errno 13" in result.output
    clear_task("node-a", "worker")
    assert pg_gateway.cli("status").exit_code == 0
