"""A real SMTP relay for tests: aiosmtpd on a free local port, recording what it accepts,
with scripted answers (451 for the next DATA, 550 for an address, a slow DATA)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import Gateway, write_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    helo: str = ""  # the name the client gave in EHLO/HELO

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class SinkHandler:
    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)  # answers for the next DATA commands
    refuse: dict[str, str] = field(default_factory=dict)  # address -> RCPT answer
    data_delay: float = 0.0  # seconds to wait (after recording) before answering DATA

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content,
                                      session.host_name or ""))
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return "250 2.0.0 queued"


class Sink:
    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = SinkHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)

    def start(self) -> Sink:
        self.controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        if getattr(self, "running", False):
            self.controller.stop()
            self.running = False

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)


RELAY_CONFIG = """
[relay]
host = "127.0.0.1"
port = {port}
timeout = 5.0

[outbox]
backoff_initial = 0.2
backoff_max = 1.0
poll_interval = 0.05
max_attempts = 3

[commands]
trusted_authserv_ids = ["mx.example.com"]

[[person]]
address = "tom@example.com"
name = "Tom Tech"
role = "technician"
queues = ["ops"]
"""

HEADERS_DMARC_PASS = ("Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=example.com; "
                      "dkim=pass header.d=example.com; dmarc=pass header.from=example.com",)


@dataclass
class Desk:
    """A configured gateway plus its SMTP relay: deliver mail in, read what went out."""

    gw: Gateway
    sink: Sink
    seen: int = 0
    counter: int = 0

    def mail(self, sender: str, body: str, *, subject: str = "Printer on 3rd floor prints blank pages",
             to: str = "helpdesk@example.com", name: str = "", headers: tuple[str, ...] = (),
             cc: str = "", in_reply_to: str = "", message_id: str = "") -> str:
        """Deliver one plain-text mail through the MTA pipe; returns its Message-ID."""
        self.counter += 1
        mid = message_id or f"m{self.counter}.{time.monotonic_ns()}@{sender.split('@')[1]}"
        lines = [*headers, f"From: {name or sender.split('@')[0].title()} <{sender}>", f"To: {to}"]
        if cc:
            lines.append(f"Cc: {cc}")
        lines += [f"Subject: {subject}", "Date: Tue, 24 Nov 2026 10:00:00 +0000", f"Message-ID: <{mid}>"]
        if in_reply_to:
            lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
        lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
        result = self.gw.deliver("\r\n".join(lines).encode(), "--recipient", to)
        assert result.exit_code == 0, result.output
        return mid

    def send(self) -> list[Received]:
        """Run `mailgate outbox send` and return the mails the relay accepted since last time."""
        result = self.gw.cli("outbox", "send")
        assert result.exit_code == 0, result.output
        new = self.sink.received[self.seen:]
        self.seen = len(self.sink.received)
        return new

    def to(self, address: str, mails: list[Received]) -> list[EmailMessage]:
        return [m.message for m in mails if address in m.rcpt_tos]

    def ticket(self, number: int = 1) -> dict:
        return self.gw.ticket(number)


def make_desk(directory: Path, extra: str = "") -> Iterator[Desk]:
    sink = Sink(free_port()).start()
    try:
        config = write_config(directory, RELAY_CONFIG.format(port=sink.port) + extra)
        yield Desk(Gateway(directory, config), sink)
    finally:
        sink.stop()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    yield from make_desk(tmp_path)


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content().replace("\r\n", "\n")
