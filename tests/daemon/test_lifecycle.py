"""The daemon's life: start-up recovery, SIGTERM with mail in flight, SIGHUP reloads (good and
bad), structured logs and `mailgate status`."""

from __future__ import annotations

import shutil
import signal
import smtplib
import time

from tests.daemon.conftest import message, wait_until


def test_sigterm_finishes_in_flight_work_and_exits_0(make_daemon) -> None:
    d = make_daemon()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        for n in range(5):
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))
    started = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.proc.wait(10) == 0
    assert time.monotonic() - started < 5.0 + 1.0  # within grace_period
    assert "stopped" in d.log_text()
    # every acknowledged message is either stored or still queued for the next start
    d.start()
    d.wait_idle()
    assert sorted(d.inbound_ids()) == [f"m{n}@customer.example" for n in range(5)]
    assert d.stop() == 0


def test_startup_recovers_entries_a_dead_process_left_in_processing(make_daemon) -> None:
    d = make_daemon()
    d.stop()
    # what kill -9 during processing leaves behind: an entry claimed but never finished
    from mailgate.spool import Spool

    spool = Spool(d.spool)
    entry = spool.accept(message(20), "pipe", ("helpdesk@example.com",))
    assert spool.claim(entry.name) is not None
    assert not spool.pending()
    d.start()
    d.wait_idle()
    assert d.inbound_ids() == ["m20@customer.example"]
    assert "1 entries recovered" in d.log_text()


def _role(d, address: str) -> str | None:
    with d.db() as c:
        row = c.execute("SELECT role FROM person WHERE address = ?", (address,)).fetchone()
    return row[0] if row else None


def test_sighup_reloads_staff_and_a_bad_config_keeps_the_old_one(make_daemon) -> None:
    d = make_daemon()
    cfg = d.gateway.config
    good = cfg.read_text()
    session = smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10)  # open across the reload
    session.ehlo("client.test")
    cfg.write_text(good + '\n[[person]]\naddress = "carol@example.com"\nname = "Carol"\nrole = "technician"\n')
    d.signal(signal.SIGHUP)
    # the staff table is written inside the reload, the log line after it returns
    wait_until(lambda: "configuration reloaded" in d.log_text(), what="the reload to be logged")
    assert _role(d, "carol@example.com") == "technician"
    assert session.sendmail("bob@customer.example", ["helpdesk@example.com"], message(23)) == {}
    session.quit()

    cfg.write_text(good.replace("[gateway]", "[gateway]\nbogus_key = 1"))
    d.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in d.log_text(), what="the failed reload to be logged")
    assert "gateway.bogus_key: unknown key" in d.log_text()
    assert _role(d, "carol@example.com") == "technician"  # the old configuration stays
    assert d.running()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        assert s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(21)) == {}
    wait_until(lambda: len(d.inbound_ids()) == 2, what="mail after a failed reload")


def test_sighup_with_a_broken_template_keeps_the_old_templates(make_daemon, tmp_path) -> None:
    from tests.conftest import ROOT

    d = make_daemon(start=False)
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace(f'templates = "{ROOT / "templates"}"', f'templates = "{templates}"'))
    d.start()
    victim = sorted(p for p in templates.rglob("*") if p.is_file())[0]
    victim.write_text("{% if %}broken")
    d.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in d.log_text(), what="the failed reload")
    assert f"template {victim.name}" in d.log_text()
    assert d.running()


def test_json_logs_carry_message_id_stage_ticket_and_outcome(make_daemon) -> None:
    d = make_daemon(log_format="json")
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(22))
    wait_until(lambda: any(r.get("outcome") == "stored" for r in d.log_records()), what="the stored line")
    records = d.log_records()
    assert all("message_id" in r and "stage" in r for r in records)
    [stored] = [r for r in records if r.get("outcome") == "stored"]
    assert stored["message_id"] == "m22@customer.example" and stored["ticket"] == 1
    assert stored["source"] == "smtp"
    [spooled] = [r for r in records if r.get("outcome") == "spooled"]
    assert spooled["stage"] == "smtp"


def test_status_reports_daemon_spool_and_jobs(make_daemon) -> None:
    d = make_daemon()
    # the job's row exists from start-up; wait for its first run to be recorded
    wait_until(lambda: any(j["runs"] for j in d.gateway.json("status")["jobs"]), what="the first heartbeat")
    st = d.gateway.json("status")
    assert st["daemon_running"] is True
    assert st["spool"] == {"queued": 0, "processing": 0, "set_aside": 0}
    assert st["quarantine"] == 0 and st["outbox"]["failed"] == 0
    [hb] = [j for j in st["jobs"] if j["name"] == "heartbeat"]
    assert hb["last_status"] == "ok" and "spool backlog 0" in hb["last_result"]
    [node] = st["daemons"]
    assert node["pid"] == d.proc.pid and node["stopped"] is None
    d.gateway.pipe(b"not a message at all", "--recipient", "helpdesk@example.com")
    wait_until(lambda: d.gateway.json("status")["quarantine"] == 1, what="the quarantined mail to show")
    assert d.stop() == 0
    st = d.gateway.json("status")
    assert st["daemon_running"] is False and st["daemons"][0]["stopped"]
    text = d.gateway.cli("status").output
    assert "daemon:      not running" in text and "quarantine:  1 held" in text


def test_status_on_a_store_where_no_daemon_ever_ran_says_never_started(gateway) -> None:
    """Issue 17, item 3: it failed with FileNotFoundError (spool/processing), exit 1."""
    result = gateway.cli("status")
    assert result.exit_code == 0, result.output
    assert "daemon:      never started" in result.output
    assert "spool:       0 queued, 0 in processing" in result.output
    st = gateway.json("status")
    assert st["daemon"] == "never started" and st["daemon_running"] is False and st["errors"] == []
    assert st["spool"] == {"queued": 0, "processing": 0, "set_aside": 0}
    assert not (gateway.dir / "store" / "spool").exists()  # looking made nothing


def test_the_stop_record_counts_every_message_not_the_last_heartbeats(make_daemon) -> None:
    """Issue 17, item 11: `processed` was written only by the heartbeat."""
    d = make_daemon(heartbeat=3600.0)
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        for n in range(3):
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(40 + n))
    wait_until(lambda: len(d.inbound_ids()) == 3, what="three mails stored")
    assert d.stop() == 0
    [node] = d.gateway.json("status")["daemons"]
    assert node["stopped"] and node["processed"] == 3


def test_second_daemon_on_the_same_spool_refuses_to_start(make_daemon) -> None:
    import subprocess

    from tests.conftest import MAILGATE_BIN

    d = make_daemon()
    other = subprocess.run([str(MAILGATE_BIN), "--config", str(d.gateway.config), "serve"],
                           capture_output=True, timeout=30)
    assert other.returncode == 75
    assert b"another mailgate daemon holds" in other.stderr
    assert d.running()


def test_config_errors_exit_78_naming_the_key(make_daemon) -> None:
    import subprocess

    from tests.conftest import MAILGATE_BIN

    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("[listen.lmtp]", "[listen.lmtp]\nmax_recipients = 0"))
    r = subprocess.run([str(MAILGATE_BIN), "--config", str(cfg), "serve"], capture_output=True, timeout=30)
    assert r.returncode == 78
    assert b"listen.lmtp.max_recipients: expected a positive integer, got 0" in r.stderr


def test_rule_files_are_checked_at_start_and_a_bad_one_on_sighup_keeps_the_old_rules(make_daemon) -> None:
    import subprocess

    from tests.conftest import MAILGATE_BIN

    d = make_daemon()
    bad = d.gateway.dir / "rules" / "90-broken.toml"
    bad.write_text("[[rule]]\nname = \"broken\nmatch = \n")
    d.signal(signal.SIGHUP)
    wait_until(lambda: "reload failed" in d.log_text(), what="the failed reload")
    assert "90-broken.toml" in d.log_text()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(30))
    wait_until(lambda: d.inbound_ids(), what="mail processed with the old rules")
    assert d.stop() == 0
    r = subprocess.run([str(MAILGATE_BIN), "--config", str(d.gateway.config), "serve"], capture_output=True,
                       timeout=30)
    assert r.returncode == 78 and b"90-broken.toml" in r.stderr


def test_grace_period_running_out_still_exits_0_and_loses_nothing(make_daemon) -> None:
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace("grace_period = 5.0", "grace_period = 0.3"))
    d.start()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        for n in range(40):
            s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(100 + n))
    started = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.proc.wait(10) == 0
    assert time.monotonic() - started < 3.0
    d.start()
    d.wait_idle()
    assert sorted(d.inbound_ids()) == sorted(f"m{100 + n}@customer.example" for n in range(40))
