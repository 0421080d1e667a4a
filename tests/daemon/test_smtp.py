"""SMTP and LMTP over real sockets against the daemon subprocess: accepted mail becomes a
ticket, refused mail gets the specific answer, and the daemon keeps serving after bad input."""

from __future__ import annotations

import smtplib
import subprocess
import time

import pytest

from tests.conftest import MAILGATE_BIN
from tests.daemon.conftest import DaemonProc, Wire, message, wait_until


def tickets(d: DaemonProc) -> list[dict]:
    return d.gateway.tickets()


def send(d: DaemonProc, raw: bytes, to: list[str] | None = None, sender: str = "bob@customer.example") -> dict:
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        return s.sendmail(sender, to or ["helpdesk@example.com"], raw)


def test_mail_over_smtp_becomes_a_ticket_with_exact_raw_bytes(make_daemon) -> None:
    d = make_daemon()
    raw = message(1)
    assert send(d, raw) == {}
    wait_until(lambda: tickets(d), what="a ticket")
    d.wait_idle()
    [t] = tickets(d)
    assert t["subject"] == "Printer broken 1" and t["requester"] == "bob@customer.example"
    stored = d.gateway.ticket(t["id"])["messages"][0]
    assert stored["body"] == "It prints blank pages."
    # the spool keeps what came over the wire, with our Return-Path/Received trace on top
    [spooled] = [p for p in (d.spool / "raw").rglob("*") if p.is_file()]
    data = spooled.read_bytes()
    assert data.startswith(b"Return-Path: <bob@customer.example>\r\nReceived: from ")
    assert data.endswith(raw)


def test_rcpt_checks_queue_and_reply_addresses(make_daemon) -> None:
    d = make_daemon()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.ehlo("client.test")
        s.mail("bob@customer.example")
        code, text = s.rcpt("nobody@example.com")
        assert code == 550 and b"no such queue or reply address" in text
        code, _ = s.rcpt("helpdesk+forged.token@example.com")
        assert code == 550
        assert s.rcpt("ops@example.com")[0] == 250
        assert s.data(message(2, to="ops@example.com"))[0] == 250
    wait_until(lambda: tickets(d), what="a ticket")
    assert tickets(d)[0]["queue"] == "ops"


def test_announced_size_over_the_limit_gets_552_and_large_mail_within_it_passes(make_daemon) -> None:
    d = make_daemon()
    big = message(3, body="x" * 80 + ("\r\n" + "y" * 70) * 40000)  # ~2.9 MB, within 25 MiB
    w = Wire(d.smtp_port)
    assert w.reply()[0] == 220
    code, ehlo = w.cmd("EHLO client.test")
    assert "SIZE 26214400" in ehlo
    code, text = w.cmd("MAIL FROM:<bob@customer.example> SIZE=30000000")
    assert code == 552, text
    w.close()
    assert send(d, big) == {}
    wait_until(lambda: tickets(d), what="the large message's ticket")


def test_data_over_the_limit_is_refused_with_552(make_daemon) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace('secret = "test-secret"', 'secret = "test-secret"\nmax_message_size = 5000'))
    d.start()
    w = Wire(d.smtp_port)
    w.reply()
    w.cmd("EHLO client.test")
    assert w.cmd("MAIL FROM:<bob@customer.example>")[0] == 250
    assert w.cmd("RCPT TO:<helpdesk@example.com>")[0] == 250
    assert w.cmd("DATA")[0] == 354
    w.send(message(4, body="z" * 60 + "\r\n" + ("w" * 70 + "\r\n") * 100) + b".\r\n")
    code, text = w.reply()
    assert code == 552 and "Too much mail data" in text
    # the same session still works for a message within the limit
    assert w.cmd("MAIL FROM:<bob@customer.example>")[0] == 250
    assert w.cmd("RCPT TO:<helpdesk@example.com>")[0] == 250
    assert w.cmd("DATA")[0] == 354
    w.send(message(5) + b".\r\n")
    assert w.reply()[0] == 250
    w.cmd("QUIT")
    wait_until(lambda: tickets(d), what="a ticket")
    d.wait_idle()
    assert [t["subject"] for t in tickets(d)] == ["Printer broken 5"]


def _data(w: Wire, payload: bytes, mail_from: str = "MAIL FROM:<bob@customer.example>") -> tuple[int, str]:
    assert w.cmd(mail_from)[0] == 250
    assert w.cmd("RCPT TO:<helpdesk@example.com>")[0] == 250
    assert w.cmd("DATA")[0] == 354
    w.send(payload)
    return w.reply()


def test_bare_lf_and_unannounced_8bit_mail_are_kept_byte_for_byte(make_daemon) -> None:
    d = make_daemon()
    w = Wire(d.smtp_port)
    w.reply()
    w.cmd("EHLO client.test")
    bare = message(6, body="line one\nline two " + "q" * 2000).replace(b"\r\n", b"\n")
    assert _data(w, bare + b"\r\n.\r\n")[0] == 250
    eight = message(7, body="Grüße, der Drucker druckt nur leere Seiten.")
    # no BODY=8BITMIME on MAIL FROM: accepted and stored as sent (robustness principle)
    assert _data(w, eight + b".\r\n")[0] == 250
    w.cmd("QUIT")
    wait_until(lambda: len(tickets(d)) == 2, what="two tickets")
    by_subject = {t["subject"]: t for t in tickets(d)}
    body6 = d.gateway.ticket(by_subject["Printer broken 6"]["id"])["messages"][0]["body"]
    assert body6.startswith("line one\nline two qqq")
    body7 = d.gateway.ticket(by_subject["Printer broken 7"]["id"])["messages"][0]["body"]
    assert body7 == "Grüße, der Drucker druckt nur leere Seiten."
    raws = [p.read_bytes() for p in (d.spool / "raw").rglob("*") if p.is_file()]
    assert any(r.endswith(bare + b"\r\n") for r in raws) and any(r.endswith(eight) for r in raws)


def test_disconnect_mid_data_stores_nothing_and_daemon_keeps_serving(make_daemon) -> None:
    d = make_daemon()
    w = Wire(d.smtp_port)
    w.reply()
    w.cmd("EHLO client.test")
    assert w.cmd("MAIL FROM:<bob@customer.example>")[0] == 250
    assert w.cmd("RCPT TO:<helpdesk@example.com>")[0] == 250
    assert w.cmd("DATA")[0] == 354
    w.sock.sendall(message(8)[:80])
    w.close()
    time.sleep(0.3)
    assert send(d, message(9)) == {}
    wait_until(lambda: tickets(d), what="a ticket")
    d.wait_idle()
    assert [t["subject"] for t in tickets(d)] == ["Printer broken 9"]
    assert len([p for p in (d.spool / "raw").rglob("*") if p.is_file()]) == 1


def test_thousand_recipients_get_452_after_the_limit(make_daemon) -> None:
    d = make_daemon()
    w = Wire(d.smtp_port)
    w.reply()
    w.cmd("EHLO client.test")
    assert w.cmd("MAIL FROM:<bob@customer.example>")[0] == 250
    # pipelined: 1,000 RCPTs in one write, then read 1,000 answers
    w.sock.sendall(b"".join(b"RCPT TO:<helpdesk@example.com>\r\n" for _ in range(1000)))
    codes = [w.reply()[0] for _ in range(1000)]
    assert codes[:100] == [250] * 100 and set(codes[100:]) == {452}
    assert w.cmd("DATA")[0] == 354
    w.send(message(10) + b".\r\n")
    assert w.reply()[0] == 250
    w.cmd("QUIT")
    wait_until(lambda: tickets(d), what="a ticket")
    d.wait_idle()
    assert len(tickets(d)) == 1


def test_garbage_commands_get_5xx_and_the_session_goes_on(make_daemon) -> None:
    d = make_daemon()
    w = Wire(d.smtp_port)
    w.reply()
    assert w.cmd("FROBNICATE now")[0] == 500
    assert w.cmd(b"\x00\xff\xfe binary junk")[0] in (500, 501)
    assert w.cmd("MAIL FROM:<bob@customer.example>")[0] == 503  # no EHLO yet
    w.cmd("EHLO client.test")
    assert w.cmd("RCPT TO:<helpdesk@example.com>")[0] == 503  # no MAIL yet
    assert w.cmd("MAIL FROM:" + "a" * 2000)[0] == 500  # command line too long
    assert w.cmd("DATA")[0] == 503
    code, _ = _data(w, message(11) + b".\r\n")
    assert code == 250
    w.cmd("QUIT")
    wait_until(lambda: tickets(d), what="a ticket")


def test_session_limit_answers_421(make_daemon) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace('hostname = "mx.test"', 'hostname = "mx.test"\nmax_sessions = 2', 1))
    d.start()
    a, b = Wire(d.smtp_port), Wire(d.smtp_port)
    assert a.reply()[0] == 220 and b.reply()[0] == 220
    c = Wire(d.smtp_port)
    assert c.reply()[0] == 421
    a.cmd("QUIT")
    a.close()
    time.sleep(0.2)
    e = Wire(d.smtp_port)
    assert e.reply()[0] == 220
    for w in (b, c, e):
        w.close()


def _listen_smtp(d: DaemonProc, keys: str) -> None:
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace('hostname = "mx.test"', f'hostname = "mx.test"\n{keys}', 1))


def test_a_flood_of_idle_connections_from_one_address_leaves_room_for_others(make_daemon) -> None:
    """Issue 17, item 12: 200 idle connections locked every real client out (421)."""
    d = make_daemon(start=False)
    _listen_smtp(d, "max_sessions = 12\nmax_sessions_per_client = 4")
    d.start()
    flood = [Wire(d.smtp_port) for _ in range(20)]
    try:
        answers = [w.reply() for w in flood]
        assert [code for code, _ in answers] == [220] * 4 + [421] * 16
        assert "421 4.7.0 Too many connections from your address" in answers[-1][1]
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10, source_address=("127.0.0.2", 0)) as s:
            assert s.sendmail("carol@customer.example", ["helpdesk@example.com"], message(50)) == {}
        wait_until(lambda: tickets(d), what="the other client's ticket")
        assert "refused a connection from 127.0.0.1: 4 sessions from that address already" in d.log_text()
    finally:
        for w in flood:
            w.close()


def test_idle_sessions_of_a_busy_listener_get_the_busy_timeout(make_daemon) -> None:
    d = make_daemon(start=False)
    _listen_smtp(d, "max_sessions = 6\nmax_sessions_per_client = 3\nbusy_timeout = 0.5")
    d.start()
    idle = [Wire(d.smtp_port, source=a) for a in ("127.0.0.1", "127.0.0.1", "127.0.0.3", "127.0.0.3")]
    try:
        assert [w.reply()[0] for w in idle] == [220] * 4
        # more than half the slots taken: each idle session hears 421 within busy_timeout,
        # not after timeout (300 s; the socket here gives up after 10)
        for w in idle:
            code, text = w.reply()
            assert code == 421 and "Idle too long" in text
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10, source_address=("127.0.0.2", 0)) as s:
            assert s.sendmail("carol@customer.example", ["helpdesk@example.com"], message(51)) == {}
    finally:
        for w in idle:
            w.close()


def test_lmtp_answers_once_per_recipient(make_daemon) -> None:
    d = make_daemon()
    w = Wire(d.lmtp_port)
    assert w.reply()[0] == 220
    assert w.cmd("EHLO client.test")[0] == 500  # LMTP speaks LHLO
    assert w.cmd("LHLO mta.test")[0] == 250
    assert w.cmd("MAIL FROM:<bob@customer.example>")[0] == 250
    assert w.cmd("RCPT TO:<helpdesk@example.com>")[0] == 250
    assert w.cmd("RCPT TO:<stranger@example.com>")[0] == 550
    assert w.cmd("RCPT TO:<ops@example.com>")[0] == 250
    assert w.cmd("DATA")[0] == 354
    w.send(message(12) + b".\r\n")
    assert [w.reply()[0], w.reply()[0]] == [250, 250]
    w.cmd("QUIT")
    wait_until(lambda: tickets(d), what="a ticket")
    d.wait_idle()
    assert len(tickets(d)) == 1


def test_pipe_delivery_is_picked_up_by_the_running_daemon(make_daemon) -> None:
    d = make_daemon()
    result = d.gateway.pipe(message(13), "--recipient", "helpdesk@example.com")
    assert result.returncode == 0, result.stderr
    # the outcome's log line is written just after the commit that makes the ticket visible
    wait_until(lambda: tickets(d) and "source=pipe" in d.log_text(), timeout=10,
               what="the daemon to process and log the piped message")


def _mount(*args: str) -> bool:
    import subprocess

    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_spool_that_cannot_write_answers_451_not_250(make_daemon, fault: str) -> None:
    import os

    d = make_daemon(start=False)
    raw_dir = d.spool / "raw"
    raw_dir.mkdir(parents=True)
    root = os.geteuid() == 0
    mounted: list[str] = []
    if fault == "full":
        if not (root and _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(raw_dir))):
            pytest.skip("simulating a full disk needs root (a 64 KB tmpfs under the spool)")
        mounted.append(str(raw_dir))
    try:
        d.start()
        if fault == "read-only":
            if root and _mount("--bind", str(raw_dir), str(raw_dir)):
                mounted.append(str(raw_dir))
                assert _mount("-o", "remount,ro,bind", str(raw_dir))
            else:
                raw_dir.chmod(0o555)
            raw = message(14)
        else:
            raw = message(14, body="f" * 70 + ("\r\n" + "g" * 70) * 1500)  # ~106 KB > 64 KB tmpfs
        with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
            s.ehlo("client.test")
            s.mail("bob@customer.example")
            s.rcpt("helpdesk@example.com")
            code, text = s.data(raw)
        assert code == 451, text
        assert b"spool cannot store message" in text
        assert d.running()
        if fault == "read-only":
            if mounted:
                assert _mount("-o", "remount,rw,bind", str(raw_dir))
            else:
                raw_dir.chmod(0o755)
        else:
            assert _mount("-o", "remount,size=1m", str(raw_dir))  # the operator made room
        # the fault cleared: the MTA's retry gets 250 and a ticket
        assert send(d, raw) == {}
        wait_until(lambda: tickets(d), what="a ticket after the fault cleared")
    finally:
        if d.running():
            d.kill9()
        for m in reversed(mounted):
            import subprocess

            subprocess.run(["umount", "-l", m])


def test_helo_with_a_bare_lf_cannot_inject_a_header(make_daemon) -> None:
    d = make_daemon()
    w = Wire(d.smtp_port)
    w.reply()
    # a bare LF ends the command: the rest is a separate (unknown) command
    w.send(b"EHLO evil.test\nX-Injected: yes\r\n")
    assert [w.reply()[0], w.reply()[0]] == [250, 500]
    assert _data(w, message(40) + b".\r\n")[0] == 250
    w.cmd("QUIT")
    wait_until(lambda: d.inbound_ids(), what="the message")
    [raw] = [p.read_bytes() for p in (d.spool / "raw").rglob("*") if p.is_file()]
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"X-Injected" not in head and b"Received: from evil.test " in head


def test_lmtp_over_a_unix_socket_as_postfix_uses_it(make_daemon) -> None:
    """Postfix's `lmtp:unix:/path` transport: the listener is a socket file with the configured
    mode, a stale one left by a killed daemon is replaced, and it is removed at shutdown."""
    import os
    import stat

    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("[listen.lmtp]\nenabled = true\n",
                                           '[listen.lmtp]\nenabled = true\nsocket = "lmtp.sock"\nsocket_mode = 0o600\n', 1))
    path = d.gateway.dir / "lmtp.sock"
    d.start()
    wait_until(path.exists, what="the LMTP socket")
    assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o600
    with smtplib.LMTP(str(path)) as lmtp:
        refused = lmtp.sendmail("bob@customer.example", ["helpdesk@example.com"], message(1))
        assert refused == {}
    d.wait_idle()
    assert d.inbound_ids() == ["m1@customer.example"]
    d.kill9()  # leaves the socket file behind
    assert path.exists()
    d.start()  # waits until the daemon is ready: its listeners are up
    with smtplib.LMTP(str(path)) as lmtp:
        assert lmtp.sendmail("bob@customer.example", ["helpdesk@example.com"], message(2)) == {}
    d.wait_idle()
    assert sorted(d.inbound_ids()) == ["m1@customer.example", "m2@customer.example"]
    assert d.stop() == 0
    assert not os.path.exists(path)


def test_a_listener_socket_path_taken_by_a_file_is_refused_by_key(make_daemon) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("[listen.lmtp]\nenabled = true\n",
                                           '[listen.lmtp]\nenabled = true\nsocket = "taken"\n', 1))
    (d.gateway.dir / "taken").write_text("not a socket")
    r = subprocess.run([str(MAILGATE_BIN), "--config", str(cfg), "serve"], capture_output=True, timeout=60)
    assert r.returncode == 78 and b"listen.lmtp.socket:" in r.stderr and b"is not a socket" in r.stderr
