"""The daemon as a real subprocess (`mailgate --config … serve`) on free ports, with the
gateway's CLI to look at the result."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import MAILGATE_BIN, Gateway, write_config
from tests.daemon.dovecot import free_port, wait_port
from tests.outbox.sink import Sink


def wait_until(predicate: Callable[[], object], timeout: float = 15.0, interval: float = 0.05,
               what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class DaemonProc:
    gateway: Gateway
    smtp_port: int
    lmtp_port: int
    log_format: str = "text"
    proc: subprocess.Popen | None = None
    logs: list[Path] = field(default_factory=list)
    sink: Sink | None = None  # the relay the daemon's outbox sends to, owned by the test
    prefix: list[str] = field(default_factory=list)  # e.g. setpriv: run the daemon as another user

    @property
    def spool(self) -> Path:
        return self.gateway.dir / "store" / "spool"

    def start(self, wait: bool = True) -> DaemonProc:
        assert_relay_owned(self.gateway.config)
        log = self.gateway.dir / f"daemon-{len(self.logs)}.log"
        self.logs.append(log)
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [*self.prefix, str(MAILGATE_BIN), "--config", str(self.gateway.config), "serve",
                 "--log-format", self.log_format],
                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log_text()}")
            if "daemon running" in self.logs[-1].read_text(errors="replace"):
                return
            time.sleep(0.03)
        raise AssertionError(f"daemon not ready:\n{self.log_text()}")

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 20.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Until the spool is empty: every accepted message has its outcome."""
        def empty() -> bool:
            q = self.spool / "queue"
            p = self.spool / "processing"
            return (not q.exists() or not any(n.endswith(".json") for n in os.listdir(q))) and \
                (not p.exists() or not any(n.endswith(".json") for n in os.listdir(p)))
        wait_until(empty, timeout, what="an empty spool")

    def backlog(self) -> int:
        """Entries queued or claimed: accepted, not yet committed."""
        return sum(len([n for n in os.listdir(self.spool / d) if n.endswith(".json")])
                   for d in ("queue", "processing") if (self.spool / d).exists())

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.gateway.dir / "store" / "mailgate.db", timeout=30)

    def inbound_ids(self) -> list[str]:
        with self.db() as c:
            return [r[0] for r in c.execute("SELECT message_id FROM message WHERE direction = 'in'")]


def assert_relay_owned(config: Path) -> None:
    """A test daemon must never send to the default relay (localhost:25): on a machine with
    a working MTA that is real mail. Its outbox goes to a sink on 127.0.0.1 the test runs."""
    relay = tomllib.loads(config.read_text()).get("relay", {})
    host, port = relay.get("host", "localhost"), relay.get("port", 25)
    assert host == "127.0.0.1" and port != 25, f"{config}: [relay] is {host}:{port}, not a sink the test owns"


def relay_config(port: int) -> str:
    return f"""
[relay]
host = "127.0.0.1"
port = {port}
timeout = 5.0
"""


def daemon_config(smtp_port: int, lmtp_port: int, extra: str = "", daemon: str = "",
                  relay_port: int | None = None, heartbeat: float = 1.0, http: str = "port = 0") -> str:
    """`daemon`: more [daemon] keys, one per line; `relay_port`: the test's sink (None when
    `extra` has its own [relay] pointing at one); `http`: the [listen.http] keys."""
    return f"""
[daemon]
grace_period = 5.0
spool_poll_interval = 0.1
heartbeat_interval = {heartbeat}
{daemon}

[listen.smtp]
port = {smtp_port}
hostname = "mx.test"

[listen.lmtp]
enabled = true
port = {lmtp_port}
hostname = "mx.test"

[listen.http]
{http}
""" + (relay_config(relay_port) if relay_port is not None else "") + extra


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    made: list[DaemonProc] = []

    def make(extra: str = "", log_format: str = "text", start: bool = True, daemon: str = "",
             heartbeat: float = 1.0, directory: Path | None = None) -> DaemonProc:
        smtp, lmtp = free_port(), free_port()
        # a relay of the test's own, unless the test brings one ([relay] in extra)
        sink = None if "[relay]" in extra else Sink(free_port()).start()
        where = directory or tmp_path
        config = write_config(where, daemon_config(smtp, lmtp, extra, daemon, sink.port if sink else None,
                                                   heartbeat))
        d = DaemonProc(Gateway(where, config), smtp, lmtp, log_format, sink=sink)
        made.append(d)
        if start:
            d.start()
            wait_port(smtp)
        return d

    yield make
    for d in made:
        if d.running():
            d.kill9()
        if d.sink is not None:
            d.sink.stop()


def message(n: int | str, subject: str = "Printer broken", body: str = "It prints blank pages.",
            sender: str = "bob@customer.example", to: str = "helpdesk@example.com") -> bytes:
    return (f"From: Bob <{sender}>\r\nTo: {to}\r\nSubject: {subject} {n}\r\n"
            f"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m{n}@customer.example>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


class Wire:
    """A raw SMTP/LMTP conversation, for what smtplib will not send (bare LF, garbage,
    disconnects) and for LMTP's per-recipient replies."""

    def __init__(self, port: int, timeout: float = 10.0, source: str | None = None) -> None:
        """`source`: the local address to connect from (another client: 127.0.0.2, ...)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""

    def reply(self) -> tuple[int, str]:
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"closed; got {lines!r} {self.buf!r}")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), "\n".join(lines)

    def cmd(self, line: bytes | str) -> tuple[int, str]:
        self.send(line if isinstance(line, bytes) else line.encode())
        return self.reply()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data if data.endswith(b"\n") else data + b"\r\n")

    def close(self) -> None:
        self.sock.close()
