"""The daemon's worker commits queued mail in groups, with the pure stages in a worker
process: a poisoned message in a group is quarantined alone, a SIGHUP reaches the worker
process, and `[daemon] workers` / `group_size` are validated by name."""

from __future__ import annotations

import os
import signal
import smtplib
import sqlite3
import subprocess
import time

import pytest

from tests.conftest import FIXTURES, MAILGATE_BIN
from tests.daemon.conftest import DaemonProc, message, wait_until


def _queued(d: DaemonProc, folder: str) -> int:
    path = d.spool / folder
    return len(list(path.glob("*.json"))) if path.exists() else 0


def _quarantine(d: DaemonProc) -> list[tuple[str, str]]:
    with d.db() as c:
        return sorted(c.execute("SELECT stage, error FROM quarantine"))


def test_a_group_with_poisoned_messages_quarantines_only_them_and_stores_the_rest(make_daemon) -> None:
    d = make_daemon()
    # hold SQLite's write lock: the worker's first commit waits, and the mail that arrives
    # meanwhile is queued, to be committed as one group once the lock is released
    lock = sqlite3.connect(d.gateway.dir / "store" / "mailgate.db", timeout=30, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(0))
            wait_until(lambda: _queued(d, "queue") == 0 and _queued(d, "processing") == 1,
                       what="the first message claimed")
            time.sleep(0.3)  # the worker now waits on that commit, with nothing else in hand
            for n in range(1, 6):
                s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
            # a bounce nobody can attribute fails in a database stage (thread) ...
            s.sendmail("", ["helpdesk@example.com"], (FIXTURES / "threading" / "09_bounce_unknown.eml").read_bytes())
            for n in range(6, 11):
                s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
        wait_until(lambda: _queued(d, "queue") == 10 + 1, what="the rest queued")
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    d.wait_idle()
    # ... and is quarantined alone; its group's other ten messages are stored, each once
    assert sorted(d.inbound_ids()) == sorted(f"m{n}@customer.example" for n in range(11))
    [(stage, error)] = _quarantine(d)
    assert stage == "thread" and error.startswith("Unattributable: a bounce")
    assert "group of 11 committed in one transaction" in d.log_text()
    assert d.running()


def test_sighup_reaches_the_worker_process(make_daemon) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("[daemon]\n", "[daemon]\nworkers = 1\n", 1))
    d.start()
    assert "1 preparing worker process started" in d.log_text()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(1, subject="Vendor digest"))
    wait_until(lambda: d.inbound_ids(), what="the first digest stored")
    # the rules run in the worker process: a new rule must take effect there after SIGHUP
    (d.gateway.dir / "rules" / "05-digests.toml").write_text(
        '[[rule]]\nname = "digests"\nmatch.subject = "(?i)vendor digest"\nactions = { drop = "digest" }\n')
    d.signal(signal.SIGHUP)
    wait_until(lambda: "configuration reloaded" in d.log_text(), what="the reload")
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(2, subject="Vendor digest"))
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(3, subject="Printer"))
    wait_until(lambda: len(d.inbound_ids()) == 2, what="the next message stored")
    d.wait_idle()
    assert sorted(d.inbound_ids()) == ["m1@customer.example", "m3@customer.example"]
    assert "discarded (dropped by rule digests: digest)" in d.log_text()
    assert d.stop() == 0


@pytest.mark.parametrize(("line", "expected"), [
    ("workers = -2", "daemon.workers: expected -1 (one per extra core), 0 (no worker processes) or 1 to 64, got -2"),
    ("workers = 65", "daemon.workers: expected -1 (one per extra core), 0 (no worker processes) or 1 to 64, got 65"),
    ("workers = \"two\"", "daemon.workers: expected an integer, got 'two'"),
    ("group_size = 0", "daemon.group_size: expected 1 to 1000 messages per transaction, got 0"),
    ("yield_to_ingest = -1", "daemon.yield_to_ingest: expected 0 to 5 seconds, got -1"),
])
def test_daemon_workers_and_group_size_errors_name_the_key(make_daemon, line: str, expected: str) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("[daemon]\n", f"[daemon]\n{line}\n", 1))
    result = d.gateway.cli("ticket", "list")
    assert result.exit_code == 78 and expected in result.output


def test_serve_refuses_bad_workers_with_exit_78(make_daemon) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("[daemon]\n", "[daemon]\nworkers = -3\n", 1))
    r = subprocess.run([str(MAILGATE_BIN), "--config", str(cfg), "serve"], capture_output=True, timeout=30)
    assert r.returncode == 78 and b"daemon.workers: expected -1" in r.stderr


def test_workers_0_prepares_in_the_daemon_process(make_daemon) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("[daemon]\n", "[daemon]\nworkers = 0\n", 1))
    d.start()
    assert "preparing worker process" not in d.log_text()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        for n in range(5):
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
    d.wait_idle()
    assert sorted(d.inbound_ids()) == sorted(f"m{n}@customer.example" for n in range(5))
    assert d.stop() == 0


def test_an_unreadable_raw_file_sets_its_entry_aside_and_the_rest_flows(make_daemon) -> None:
    from mailgate.spool import Spool

    d = make_daemon(start=False)
    spool = Spool(d.spool)
    entry = spool.accept(message(1), "pipe", ("helpdesk@example.com",))
    raw = spool.raw_path(entry.sha256)
    raw.unlink()
    raw.mkdir()  # reading it fails with an OSError, even for root
    d.start()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        for n in range(2, 5):
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
    wait_until(lambda: len(d.inbound_ids()) == 3, what="the readable mail stored")
    # set aside (kept, not lost, not claimed again and again), said once, counted by status
    assert [p.name for p in (d.spool / "unreadable").glob("*.json")] == [entry.name]
    assert not list((d.spool / "queue").glob("*.json"))
    assert d.log_text().count(f"spool entry {entry.name} set aside: Is a directory") == 1
    assert d.gateway.json("status")["spool"]["set_aside"] == 1
    assert d.running()


def test_tickets_keep_appearing_while_mail_never_stops_arriving(make_daemon) -> None:
    """While senders keep the listeners busy the worker waits for a pause before each group
    ([daemon] yield_to_ingest), but never longer than that: a stream that does not pause
    must not starve processing. The sender stops only once mail sent during the stream has
    become tickets."""
    d = make_daemon(daemon="yield_to_ingest = 0.5")
    stored = 0
    sent = 0
    deadline = time.monotonic() + 60
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        while time.monotonic() < deadline:
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(sent))
            sent += 1
            if sent % 10 == 0:
                with d.db() as c:
                    stored = c.execute("SELECT count(*) FROM message WHERE direction = 'in'").fetchone()[0]
                if stored >= 20:
                    break
    assert stored >= 20, f"only {stored} of {sent} stored while the stream went on"
    d.wait_idle()
    assert len(d.inbound_ids()) == sent
    assert d.stop() == 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def test_a_dead_worker_process_is_replaced_and_mail_keeps_flowing(make_daemon) -> None:
    d = make_daemon(daemon="workers = 1")
    wait_until(lambda: "preparing worker process started" in d.log_text(), timeout=30)
    workers = _children(d.proc.pid)
    assert workers, "no worker process"
    os.kill(workers[0], signal.SIGKILL)
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        for n in range(5):  # prepared by the daemon itself meanwhile
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
    d.wait_idle()
    assert len(d.inbound_ids()) == 5
    assert "a preparing worker process died" in d.log_text()
    time.sleep(2.5)  # RESTART_DELAY: the next group starts new workers
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        for n in range(5, 10):
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
    d.wait_idle()
    assert len(d.inbound_ids()) == 10
    wait_until(lambda: "preparing worker processes replaced" in d.log_text(), timeout=30)
    wait_until(lambda: any(p not in workers for p in _children(d.proc.pid)), timeout=30)
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:  # and the new one prepares
        for n in range(10, 15):
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
    d.wait_idle()
    assert sorted(d.inbound_ids()) == sorted(f"m{n}@customer.example" for n in range(15))
    assert d.stop() == 0
