"""`[daemon] listeners = 2`: the SMTP/LMTP front end in processes of its own, sharing the port
(SO_REUSEPORT) and spooling on their own, with a spool folder (SQLite) and with the spool in
PostgreSQL; a killed listener is started again, a killed daemon takes its listeners along."""

from __future__ import annotations

import os
import smtplib
import threading
from pathlib import Path

import pytest

from tests.daemon.conftest import DaemonProc, message, wait_until
from tests.pg import pg_bindir


def listening_pids(port: int) -> set[int]:
    """Processes with a listening TCP socket on `port` (from /proc, no ss/netstat needed)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(fields[9])
    pids = set()
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.add(int(pid))
        except OSError:
            continue
    return pids


def _send_many(port: int, numbers: list[int]) -> None:
    def lane(chunk: list[int]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
            for n in chunk:
                assert s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n)) == {}

    threads = [threading.Thread(target=lane, args=(numbers[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def _check(d: DaemonProc, stored: callable) -> None:  # type: ignore[valid-type]
    assert d.proc is not None
    wait_until(lambda: len(listening_pids(d.smtp_port)) == 2, what="two listener processes on the port")
    listeners = listening_pids(d.smtp_port)
    assert d.proc.pid not in listeners  # accepting no longer shares the daemon's interpreter
    _send_many(d.smtp_port, list(range(40)))
    wait_until(lambda: stored() == 40, timeout=30, what="40 messages stored")
    victim = sorted(listeners)[0]
    os.kill(victim, 9)
    wait_until(lambda: len(listening_pids(d.smtp_port) - {victim}) == 2, timeout=20,
               what="the killed listener started again")
    assert "starting it again" in d.log_text()
    _send_many(d.smtp_port, list(range(40, 60)))
    wait_until(lambda: stored() == 60, timeout=30, what="20 more stored")
    now = listening_pids(d.smtp_port)
    d.kill9()
    wait_until(lambda: not any(os.path.exists(f"/proc/{p}") and "zombie" not in _state(p) for p in now), timeout=15,
               what="the listeners to exit with their daemon")


def _state(pid: int) -> str:
    try:
        return "zombie" if " Z " in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4] else "alive"
    except OSError:
        return "zombie"


@pytest.mark.timeout(120)
def test_listener_processes_with_a_spool_folder(make_daemon) -> None:
    d = make_daemon(daemon="listeners = 2")
    _check(d, lambda: len(d.inbound_ids()))


@pytest.mark.timeout(120)
@pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")
def test_listener_processes_with_the_spool_in_the_database(make_cluster) -> None:
    cluster = make_cluster(1, daemon="listeners = 2")
    _check(cluster.nodes[0], lambda: cluster.one("SELECT count(*) FROM message WHERE direction = 'in'"))
