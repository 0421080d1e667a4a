"""Two naive auto-responders on a nosy list (no Auto-Submitted, no Precedence), each
answering every mail within a second: without a guard every answer is an alert to the
other, for ever. The loop stops once each has answered three of our mails within seconds:
no more mail goes to them, the ticket says why, and every answer they sent is still stored
(issue 17, item 18)."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Gateway, write_config
from tests.daemon.conftest import DaemonProc, daemon_config, message, wait_until
from tests.daemon.dovecot import free_port, wait_port
from tests.outbox.sink import Received, Sink, SinkHandler

ROBOTS = ("away1@robots.example", "away2@robots.example")


class Responders(SinkHandler):
    """A relay that, like a naive vacation robot, answers each mail to a robot at once."""

    smtp_port: int = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        answer = await super().handle_DATA(server, session, envelope)
        mail = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content).message
        for robot in set(envelope.rcpt_tos) & set(ROBOTS):
            threading.Thread(target=self._answer, args=(robot, mail["Message-ID"], mail["Subject"]),
                             daemon=True).start()
        return answer

    def _answer(self, robot: str, in_reply_to: str, subject: str) -> None:
        raw = (f"From: Away <{robot}>\r\nTo: helpdesk@example.com\r\nSubject: Re: {subject}\r\n"
               f"Message-ID: <{time.monotonic_ns()}@robots.example>\r\nIn-Reply-To: {in_reply_to}\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nI am out of the office.\r\n").encode()
        try:
            with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=10) as smtp:
                smtp.sendmail(robot, ["helpdesk@example.com"], raw)
        except OSError:
            pass  # the daemon is stopping at the end of the test


@pytest.fixture
def looped(tmp_path: Path) -> Iterator[tuple[DaemonProc, Sink]]:
    sink = Sink(free_port())
    handler = Responders()
    sink.handler = handler
    from aiosmtpd.controller import Controller

    sink.controller = Controller(handler, hostname="127.0.0.1", port=sink.port)
    sink.start()
    smtp, lmtp = free_port(), free_port()
    handler.smtp_port = smtp
    config = write_config(tmp_path, daemon_config(smtp, lmtp, "\n[outbox]\npoll_interval = 0.1\n",
                                                  relay_port=sink.port))
    daemon = DaemonProc(Gateway(tmp_path, config), smtp, lmtp).start()
    wait_port(smtp)
    try:
        yield daemon, sink
    finally:
        daemon.kill9()
        sink.stop()


def test_two_auto_responders_stop_answering_each_other(looped: tuple[DaemonProc, Sink]) -> None:
    daemon, sink = looped
    raw = message(1).replace(b"Subject:", b"Cc: " + ", ".join(ROBOTS).encode() + b"\r\nSubject:")
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port) as smtp:
        smtp.sendmail("bob@customer.example", ["helpdesk@example.com"], raw)
    ticket = wait_until(lambda: [e for e in daemon.gateway.ticket(1)["events"] if e["field"] == "mail-pause"]
                        if daemon.gateway.tickets() else None, timeout=60, what="both robots paused")
    wait_until(lambda: len([e for e in daemon.gateway.ticket(1)["events"] if e["field"] == "mail-pause"]) == 2,
               timeout=60, what="the second robot paused")
    # answers already on their way still land (and are told to Bob); then the mail stops.
    # Were the loop still going, a mail would come every second, for ever.
    seen = [len(sink.received), time.monotonic()]

    def quiet() -> bool:
        if len(sink.received) != seen[0]:
            seen[:] = [len(sink.received), time.monotonic()]
        return time.monotonic() - seen[1] > 3

    wait_until(quiet, timeout=60, interval=0.2, what="the mail to stop")
    to_robots = [m for m in sink.received if set(m.rcpt_tos) & set(ROBOTS)]
    assert len(to_robots) <= 12, f"{len(to_robots)} mails to the robots"
    t = daemon.gateway.ticket(1)
    answers = [m for m in t["messages"] if m["direction"] == "in" and m["from"] in ROBOTS]
    assert len(answers) >= 6  # every answer is kept; only the mail to them stopped
    notes = [e["new"] for e in t["events"] if e["field"] == "mail-pause"]
    assert {n.split()[0] for n in notes} == set(ROBOTS) and all("auto-responder" in n for n in notes)
    assert ticket
