"""IMAP ingest against a real Dovecot started in a temporary folder: IDLE and polling, move
and flag, a Dovecot crash mid-sync, and a UIDVALIDITY change that must not re-import mail."""

from __future__ import annotations

import os
import smtplib
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.daemon.conftest import DaemonProc, message, wait_until
from tests.daemon.dovecot import DOVECOT, Dovecot

pytestmark = pytest.mark.skipif(DOVECOT is None, reason="the dovecot binary is missing (apt-get install dovecot-imapd)")


@pytest.fixture
def dovecot(tmp_path: Path):
    dc = Dovecot(tmp_path / "dovecot")
    dc.start()
    yield dc
    if (dc.dir / "run" / "master.pid").exists():
        dc.kill()  # a throw-away server: no need to wait for a clean stop


def imap_config(dc: Dovecot, **keys: object) -> str:
    values = {"name": "support", "host": "127.0.0.1", "port": dc.port, "tls": False, "user": dc.user,
              "password": dc.password, "timeout": 5.0, **keys}
    lines = [f"{k} = {_toml(v)}" for k, v in values.items()]
    return "\n[[imap]]\n" + "\n".join(lines) + "\n"


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\") + '"'
    return str(v)


def ids(d: DaemonProc) -> Counter:
    return Counter(d.inbound_ids())


def test_idle_brings_new_mail_in_at_once_and_moves_it(make_daemon, dovecot: Dovecot) -> None:
    dovecot.append(message(1))  # waiting before the daemon starts
    d = make_daemon(imap_config(dovecot, move_to="Processed", poll_interval=60.0))
    wait_until(lambda: "IDLE" in d.log_text(), what="the IDLE session")
    wait_until(lambda: dovecot.uids("Processed") == [1], what="the first message to be moved")
    started = time.monotonic()
    dovecot.append(message(2))
    wait_until(lambda: len(ids(d)) == 2, timeout=10, what="the second message via IDLE")
    assert time.monotonic() - started < 10  # far below the 60 s poll interval: IDLE woke us
    wait_until(lambda: dovecot.uids("INBOX") == [], what="INBOX to be empty")
    assert len(dovecot.uids("Processed")) == 2
    assert ids(d) == Counter({"m1@customer.example": 1, "m2@customer.example": 1})
    [acct] = d.gateway.json("status")["imap"]
    assert acct["account"] == "support" and acct["last_sync"] and acct["last_error"] == ""


def test_polling_flags_processed_mail_seen(make_daemon, dovecot: Dovecot) -> None:
    d = make_daemon(imap_config(dovecot, idle=False, poll_interval=0.3, flag="\\Seen", queue="ops"))
    wait_until(lambda: "polling every 0.3s" in d.log_text(), what="the polling session")
    for n in range(3):
        dovecot.append(message(10 + n))
    wait_until(lambda: len(ids(d)) == 3, what="three messages by polling")
    wait_until(lambda: dovecot.uids("INBOX", "UNSEEN") == [], what="all flagged \\Seen")
    assert len(dovecot.uids("INBOX")) == 3  # flagged, not moved
    assert {t["queue"] for t in d.gateway.tickets()} == {"ops"}


def test_dovecot_killed_mid_sync_loses_and_duplicates_nothing(make_daemon, dovecot: Dovecot) -> None:
    for n in range(40):
        dovecot.append(message(100 + n))
    d = make_daemon(imap_config(dovecot, move_to="Processed", poll_interval=2.0), start=False)
    d.start()
    wait_until(lambda: d.inbound_ids() or "spooled" in d.log_text(), what="the sync to begin")
    dovecot.kill()
    time.sleep(1.5)
    dovecot.start()
    for n in range(40, 60):
        dovecot.append(message(100 + n))
    wait_until(lambda: len(ids(d)) == 60, timeout=60, what="all 60 messages")
    wait_until(lambda: dovecot.uids("INBOX") == [], what="INBOX to be empty")
    d.wait_idle()
    counts = ids(d)
    assert set(counts) == {f"m{100 + n}@customer.example" for n in range(60)}
    assert max(counts.values()) == 1
    log = d.log_text()
    assert log.count("retrying with backoff") == 1  # one line per outage, not per retry
    assert "connected again" in log


def _unflag_and_reset_uidvalidity(dc: Dovecot, reset: bool) -> None:
    """What a crash between spool commit and flagging leaves (mail not yet marked), and,
    with reset, a server that lost its UID list (new UIDVALIDITY; the first message is gone,
    so the UIDs shift and old UID numbers now name other messages)."""
    dc.stop()
    maildir = dc.dir / "mail" / dc.user
    if reset:
        sorted((maildir / "cur").iterdir())[0].unlink()
    for f in (maildir / "cur").iterdir():
        base, _, flags = f.name.partition(":2,")
        os.rename(f, f.with_name(f"{base}:2,{flags.replace('S', '')}"))
    if reset:
        (maildir / "dovecot-uidlist").unlink()
        for index in maildir.glob("dovecot.index*"):
            index.unlink()
    dc.start()


def test_refetch_after_crash_and_uidvalidity_change_do_not_reimport(make_daemon, dovecot: Dovecot) -> None:
    for n in range(3):
        dovecot.append(message(200 + n))
    d = make_daemon(imap_config(dovecot, idle=False, poll_interval=0.3))
    wait_until(lambda: len(ids(d)) == 3, what="three messages")
    wait_until(lambda: dovecot.uids("INBOX", "UNSEEN") == [], what="all flagged")
    raw_files = len([p for p in (d.spool / "raw").rglob("*") if p.is_file()])
    spooled_before = d.log_text().count("outcome=spooled")

    # 1. same UIDVALIDITY, flags lost: the source keys say "just flag them again"
    _unflag_and_reset_uidvalidity(dovecot, reset=False)
    wait_until(lambda: dovecot.uids("INBOX", "UNSEEN") == [], timeout=20, what="flags set again")
    # 2. a new UIDVALIDITY: recognised by their bytes, flagged, not imported again
    _unflag_and_reset_uidvalidity(dovecot, reset=True)
    wait_until(lambda: "UIDVALIDITY changed" in d.log_text(), timeout=20, what="the UIDVALIDITY change")
    wait_until(lambda: dovecot.uids("INBOX", "UNSEEN") == [], timeout=20, what="flags set after the change")
    d.wait_idle()
    assert d.log_text().count("outcome=spooled") == spooled_before
    assert d.log_text().count("acknowledging without importing it again") == 2
    assert len([p for p in (d.spool / "raw").rglob("*") if p.is_file()]) == raw_files
    assert ids(d) == Counter({f"m{200 + n}@customer.example": 1 for n in range(3)})
    assert len(d.gateway.tickets()) == 3
    # 3. a new message takes a UID that named another message before the change: imported
    dovecot.append(message(203))
    assert 3 in dovecot.uids("INBOX")
    wait_until(lambda: "m203@customer.example" in ids(d), what="the new message")
    assert len(d.gateway.tickets()) == 4


def test_wrong_password_is_logged_once_and_the_daemon_keeps_serving(make_daemon, dovecot: Dovecot) -> None:
    d = make_daemon(imap_config(dovecot, password="wrong", poll_interval=0.3))
    wait_until(lambda: "retrying with backoff" in d.log_text(), what="the login failure")
    time.sleep(2.5)  # several retries
    log = d.log_text()
    assert log.count("retrying with backoff") == 1 and "login as helpdesk" in log
    st = d.gateway.json("status")["imap"][0]
    assert "login" in st["last_error"] and st["last_sync"] is None
    assert d.running()


@pytest.fixture
def dovecot_tls(tmp_path: Path):
    dc = Dovecot(tmp_path / "dovecot-tls", tls=True)
    dc.start()
    yield dc
    if (dc.dir / "run" / "master.pid").exists():
        dc.kill()


def test_imaps_with_the_servers_own_ca_file_fetches_mail(make_daemon, dovecot_tls: Dovecot) -> None:
    dovecot_tls.append(message(70))
    d = make_daemon(imap_config(dovecot_tls, port=dovecot_tls.imaps_port, tls=True, idle=False,
                                poll_interval=0.2, tls_ca_file=str(dovecot_tls.cert)))
    wait_until(lambda: ids(d)["m70@customer.example"] == 1, timeout=30, what="the IMAPS message")
    assert "not verified" not in d.log_text()
    assert d.stop() == 0


def test_imaps_certificate_not_trusted_is_a_clear_error_and_the_daemon_keeps_serving(
        make_daemon, dovecot_tls: Dovecot) -> None:
    dovecot_tls.append(message(71))
    d = make_daemon(imap_config(dovecot_tls, port=dovecot_tls.imaps_port, tls=True, idle=False, poll_interval=0.2))
    wait_until(lambda: "CERTIFICATE_VERIFY_FAILED" in d.log_text() or "certificate verify failed" in d.log_text(),
               timeout=30, what="the certificate error")
    assert ids(d)["m71@customer.example"] == 0
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:  # the daemon keeps serving
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(72))
    wait_until(lambda: ids(d)["m72@customer.example"] == 1, what="the SMTP message")
    assert d.stop() == 0


def test_imaps_with_tls_verify_false_fetches_and_warns(make_daemon, dovecot_tls: Dovecot) -> None:
    dovecot_tls.append(message(73))
    d = make_daemon(imap_config(dovecot_tls, port=dovecot_tls.imaps_port, tls=True, idle=False,
                                poll_interval=0.2, tls_verify=False))
    wait_until(lambda: ids(d)["m73@customer.example"] == 1, timeout=30, what="the IMAPS message")
    assert "TLS certificate of 127.0.0.1 not verified (tls_verify = false)" in d.log_text()
    assert d.stop() == 0


@pytest.mark.parametrize(("keys", "expected"), [
    ({"tls": False, "tls_verify": False}, "imap[0].tls_verify: only applies with tls = true"),
    ({"tls": True, "tls_ca_file": "/nonexistent/ca.pem"}, "imap[0].tls_ca_file: no such file /nonexistent/ca.pem"),
])
def test_imap_tls_settings_that_cannot_work_name_the_key(make_daemon, dovecot: Dovecot, keys: dict,
                                                         expected: str) -> None:
    d = make_daemon(imap_config(dovecot, **keys), start=False)
    result = d.gateway.cli("ticket", "list")
    assert result.exit_code == 78 and expected in result.output


def _logins(dc: Dovecot) -> int:
    log = dc.dir / "dovecot.log"
    return log.read_text(errors="replace").count("Login: user=<") if log.exists() else 0


def test_a_failure_after_login_backs_off_and_is_logged_once(make_daemon, dovecot: Dovecot) -> None:
    """Issue 17, item 2: a failure after the login (here a move the server refuses; a spool
    that cannot be written is the same) reset the backoff at every login, so the fetcher
    logged in and failed once a second forever, two log lines each time."""
    dovecot.append(message(70))
    ours = _logins(dovecot)  # the test's own
    d = make_daemon(imap_config(dovecot, move_to="~held"))  # Dovecot: "Begins with '~'"
    wait_until(lambda: _logins(dovecot) >= ours + 1, what="the first login")
    first = time.monotonic()
    wait_until(lambda: _logins(dovecot) >= ours + 3, timeout=20, what="the second retry")
    assert time.monotonic() - first >= 2.8  # backoff 1 s, then 2 s: not a retry every second
    log = d.log_text()
    assert log.count("retrying with backoff") == 1 and "connected again" not in log
    assert "move UID 1 to ~held: NO" in log
    assert ids(d) == Counter({"m70@customer.example": 1})  # spooled once, not fetched every time
    [acct] = d.gateway.json("status")["imap"]
    assert "move UID 1 to ~held: NO" in acct["last_error"]
