"""The daemon runs the outbox sender: with the relay down, outgoing mail waits and is retried;
once the relay is back the outbox drains."""

from __future__ import annotations

import smtplib

import pytest
from aiosmtpd.controller import Controller

from tests.daemon.conftest import message, wait_until
from tests.daemon.dovecot import free_port


class Relay:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def test_outbox_drains_after_the_relay_comes_back(make_daemon) -> None:
    relay_port = free_port()
    d = make_daemon(f"""
[relay]
host = "127.0.0.1"
port = {relay_port}
timeout = 2.0

[outbox]
poll_interval = 0.2
backoff_initial = 0.5
backoff_max = 1.0
""")
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(1))

    def ack() -> dict | None:
        return next((o for o in d.gateway.outbox() if o["kind"] == "ack"), None)

    # relay down: the acknowledgement waits in the outbox and is retried
    wait_until(lambda: (a := ack()) and a["attempts"] >= 1, what="a retried acknowledgement")
    assert ack()["state"] == "pending" and d.gateway.json("status")["outbox"]["retrying"] >= 1
    relay = Relay()
    controller = Controller(relay, hostname="127.0.0.1", port=relay_port)
    controller.start()
    try:
        wait_until(lambda: ack()["state"] == "sent", timeout=20, what="the acknowledgement to be sent")
    finally:
        controller.stop()
    [data] = [data for _, rcpts, data in relay.received if rcpts == ["bob@customer.example"]]
    assert b"Auto-Submitted: auto-replied" in data
    # nothing is left behind once the relay is back (other mail, e.g. digests, drained too)
    wait_until(lambda: d.gateway.json("status")["outbox"]["pending"] == 0, what="an empty outbox")
    assert d.gateway.json("status")["outbox"]["failed"] == 0


def test_a_test_daemon_sends_only_to_the_sink_its_test_owns(make_daemon, tmp_path) -> None:
    """Issue 17, item 10: the default relay is localhost:25, which on a machine with a working
    MTA would send real mail; every test daemon relays to a sink of its own test."""
    from tests.conftest import write_config
    from tests.daemon.conftest import assert_relay_owned

    d = make_daemon("[outbox]\npoll_interval = 0.1\n")
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(2))
    d.sink.wait_for(1)
    [ack] = d.sink.received
    assert ack.rcpt_tos == ["bob@customer.example"] and ack.message["Auto-Submitted"] == "auto-replied"
    (tmp_path / "plain").mkdir()
    with pytest.raises(AssertionError, match="not a sink the test owns"):
        assert_relay_owned(write_config(tmp_path / "plain"))  # the default [relay]
