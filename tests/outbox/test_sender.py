"""The outbox sender against a real SMTP relay (aiosmtpd on a local port): retries with
backoff on 4xx and connection errors, permanent failure on 5xx, `outbox retry`, exactly
once after a crash between the relay's answer and our "sent" mark."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.outbox.sink import Desk, Sink, make_desk

BOB = "bob@customer.example"


def rows(desk: Desk) -> list[dict]:
    return desk.gw.outbox()


def test_relay_answering_451_is_retried_with_backoff_then_delivered_once(desk: Desk) -> None:
    desk.mail(BOB, "The printer only prints blank pages.")
    desk.sink.handler.data_replies.append("451 4.3.0 Try again later")
    assert desk.send() == []
    [row] = rows(desk)
    assert (row["state"], row["attempts"]) == ("pending", 1) and "451 4.3.0 Try again later" in row["last_error"]
    assert desk.send() == []  # not due yet: backing off
    time.sleep(0.25)
    [mail] = desk.send()
    assert mail.rcpt_tos == [BOB] and mail.mail_from == "helpdesk@example.com"
    [row] = rows(desk)
    assert (row["state"], row["attempts"]) == ("sent", 2)
    assert str(mail.message["Message-ID"]) in row["message"]
    assert desk.send() == []  # sent means sent: never again


def test_relay_down_is_a_temporary_failure(tmp_path: Path) -> None:
    for desk in make_desk(tmp_path):
        desk.sink.stop()
        desk.mail(BOB, "The printer only prints blank pages.")
        result = desk.gw.cli("outbox", "send")
        assert result.exit_code == 0 and "sent 0, will retry 1, failed 0" in result.output
        [row] = rows(desk)
        assert row["state"] == "pending" and "relay 127.0.0.1:" in row["last_error"]
        desk.sink = Sink(desk.sink.port).start()
        try:
            time.sleep(0.25)
            assert len(desk.send()) == 1
        finally:
            desk.sink.stop()


def test_5xx_is_permanent_and_marks_the_recipient_bouncing_until_retried(desk: Desk) -> None:
    desk.sink.handler.refuse[BOB] = "550 5.1.1 <bob@customer.example>: mailbox unavailable"
    desk.mail(BOB, "The printer only prints blank pages.")
    assert desk.send() == []
    [row] = rows(desk)
    assert row["state"] == "failed" and "550 5.1.1" in row["last_error"]
    # a bouncing requester gets no further automatic mail
    desk.mail(BOB, "Another problem.", subject="scanner")
    assert len(rows(desk)) == 1
    listed = desk.gw.cli("outbox", "list", "--state", "failed")
    assert "550 5.1.1" in listed.output
    del desk.sink.handler.refuse[BOB]
    result = desk.gw.cli("outbox", "retry", str(row["id"]))
    assert result.exit_code == 0 and "no longer marked bouncing: bob@customer.example" in result.output
    assert len(desk.send()) == 1
    assert rows(desk)[0]["state"] == "sent"


def test_5xx_after_data_and_retry_all_failed(desk: Desk) -> None:
    desk.mail(BOB, "The printer only prints blank pages.")
    desk.sink.handler.data_replies.append("554 5.7.1 Message rejected as spam")
    assert desk.send() == []
    assert rows(desk)[0]["state"] == "failed"
    assert desk.gw.cli("outbox", "retry", "--all-failed").exit_code == 0
    assert len(desk.send()) == 1
    bad = desk.gw.cli("outbox", "retry")
    assert bad.exit_code != 0 and "give either an outbox ID or --all-failed" in bad.output


def test_gives_up_after_max_attempts(desk: Desk) -> None:
    desk.mail(BOB, "The printer only prints blank pages.")
    for attempt in (1, 2, 3):
        desk.sink.handler.data_replies.append("421 4.7.0 Too busy")
        deadline = time.monotonic() + 5
        while rows(desk)[0]["attempts"] < attempt and time.monotonic() < deadline:
            desk.send()  # nothing happens until the backoff (0.2 s, then 0.4 s) is over
            time.sleep(0.05)
    [row] = rows(desk)
    assert row["state"] == "failed" and row["attempts"] == 3
    assert row["last_error"].startswith("gave up after 3 attempts: 421 4.7.0 Too busy")


@pytest.mark.timeout(60)
def test_crash_between_send_and_mark_resends_with_the_same_message_id(tmp_path: Path) -> None:
    for desk in make_desk(tmp_path):
        cfg = desk.gw.config.read_text().replace("max_attempts = 3", "max_attempts = 3\nsending_lease = 1.0")
        desk.gw.config.write_text(cfg)
        desk.mail(BOB, "The printer only prints blank pages.")
        desk.sink.handler.data_delay = 30  # the relay has the mail but has not answered yet
        proc = subprocess.Popen(
            [sys.executable, "-c", "from mailgate.cli import main; main()", "--config", str(desk.gw.config),
             "outbox", "send"],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        try:
            desk.sink.wait_for(1)
            assert len(desk.sink.received) == 1
        finally:
            os.kill(proc.pid, signal.SIGKILL)  # the crash: after the relay got the data, before our mark
            proc.wait(10)
        desk.sink.handler.data_delay = 0
        [row] = rows(desk)
        assert row["state"] == "sending"
        desk.seen = 1
        assert desk.send() == []  # within the lease a second sender leaves the row alone
        time.sleep(1.1)
        [again] = desk.send()
        first = desk.sink.received[0]
        assert again.message["Message-ID"] == first.message["Message-ID"]  # recognisably the same mail
        assert again.data == first.data
        [row] = rows(desk)
        assert row["state"] == "sent"


def test_run_loop_sends_and_stops_promptly(desk: Desk) -> None:
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.outbox_sender import OutboxSender

    desk.mail(BOB, "The printer only prints blank pages.")
    sender = OutboxSender(build_env(load_settings(desk.gw.config)))

    async def scenario() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        for _ in range(200):
            if desk.sink.received:
                break
            await asyncio.sleep(0.02)
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 2)
        return time.monotonic() - started

    try:
        assert asyncio.run(scenario()) < 1.0
    finally:
        sender.close()
    assert len(desk.sink.received) == 1
    assert rows(desk)[0]["state"] == "sent"


def test_the_relay_hears_the_configured_helo_name(tmp_path: Path) -> None:
    """Issue 17, item 9: the EHLO name was socket.getfqdn() ("localhost" on many hosts)."""
    from tests.conftest import Gateway, write_config
    from tests.outbox.sink import RELAY_CONFIG, free_port

    sink = Sink(free_port()).start()
    try:
        relay = RELAY_CONFIG.format(port=sink.port).replace("timeout = 5.0", 'timeout = 5.0\nhelo_name = "mail.example.org"')
        desk = Desk(Gateway(tmp_path, write_config(tmp_path, relay)), sink)
        desk.mail(BOB, "The printer only prints blank pages.")
        [ack] = desk.send()
        assert ack.helo == "mail.example.org" and ack.rcpt_tos == [BOB]
    finally:
        sink.stop()


@pytest.mark.parametrize("value", ["bad name", "-x.example", "a..b", "[1.2.3]"])
def test_a_helo_name_that_is_no_host_name_is_refused_naming_the_key(tmp_path: Path, value: str) -> None:
    from tests.conftest import Gateway, write_config

    result = Gateway(tmp_path, write_config(tmp_path, f'[relay]\nhelo_name = "{value}"\n')).cli("ticket", "list")
    assert result.exit_code == 78
    assert f"relay.helo_name: expected a host name like mail.example.com or an address literal like " \
           f"[192.0.2.1], got {value!r}" in result.stderr
