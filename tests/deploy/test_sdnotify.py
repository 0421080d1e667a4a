"""`mailgate serve` speaks systemd's notify protocol (Type=notify in deploy/mailgate.service):
a real datagram socket handed over through NOTIFY_SOCKET, as systemd does."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from mailgate.daemon.sdnotify import Notifier
from tests.daemon.conftest import Wire
from tests.daemon.dovecot import free_port


class NotifySocket:
    """The manager's end: collects the datagrams the daemon sends."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.received: list[dict[str, str]] = []

    def next(self, timeout: float = 20.0) -> dict[str, str]:
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        fields = dict(line.split("=", 1) for line in data.split("\n") if line)
        self.received.append(fields)
        return fields

    def until(self, key: str, timeout: float = 20.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            fields = self.next(max(0.1, deadline - time.monotonic()))
            if key in fields:
                return fields

    def close(self) -> None:
        self.sock.close()


def relay_nowhere() -> str:
    # the daemon's outbox must not reach a real MTA on port 25 of this machine
    return f'\n[relay]\nhost = "127.0.0.1"\nport = {free_port()}\ntimeout = 1.0\n'


def test_ready_only_once_listening_watchdog_reload_and_stopping(make_daemon, tmp_path: Path, monkeypatch) -> None:
    manager = NotifySocket(str(tmp_path / "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # a ping every half second
    d = make_daemon(relay_nowhere(), start=False)
    d.start(wait=False)
    try:
        ready = manager.until("READY")
        # the moment READY=1 arrives both listeners answer: no retry, no wait
        for port in (d.smtp_port, d.lmtp_port):
            wire = Wire(port, timeout=5)
            code, _ = wire.reply()
            wire.close()
            assert code == 220
        assert ready["MAINPID"] == str(d.proc.pid)
        assert ready["STATUS"].startswith("running; 2 listener(s)")
        manager.until("WATCHDOG")
        manager.until("WATCHDOG")

        d.signal(signal.SIGHUP)
        assert "RELOADING" in manager.until("RELOADING") and int(manager.received[-1]["MONOTONIC_USEC"]) > 0
        assert manager.until("READY")["STATUS"] == "running; configuration reloaded"

        d.signal(signal.SIGTERM)
        assert manager.until("STOPPING")["STATUS"] == "stopping"
        assert d.proc.wait(20) == 0
    finally:
        manager.close()


def test_a_port_still_in_use_exits_75_so_systemd_restarts(make_daemon) -> None:
    d = make_daemon(relay_nowhere(), start=False)
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", d.smtp_port))
    holder.listen()
    try:
        d.start(wait=False)
        assert d.proc.wait(60) == 75  # EX_TEMPFAIL: Restart=on-failure tries again after RestartSec
    finally:
        holder.close()
    assert f"listen.smtp: cannot listen on 127.0.0.1:{d.smtp_port}: Address already in use" in d.log_text()


def test_notifier_abstract_socket_and_a_watchdog_meant_for_another_process() -> None:
    name = f"mailgate-test-{time.monotonic_ns()}"
    manager = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    manager.bind("\0" + name)
    manager.settimeout(5)
    try:
        notifier = Notifier.from_environ({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "4000000"})
        assert notifier.watchdog_interval == 2.0
        assert notifier.stopping()
        assert manager.recv(100) == b"STOPPING=1\nSTATUS=stopping"
    finally:
        manager.close()
    # systemd watches the process named by WATCHDOG_PID; another one (a child) must not ping
    other = Notifier.from_environ({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}, pid=2)
    assert other.watchdog_interval is None
    # outside systemd: nothing is sent, nothing fails
    assert not Notifier.from_environ({}).ready("running")
