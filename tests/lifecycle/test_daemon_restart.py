"""The real `mailgate serve`: the lifecycle jobs are registered in the daemon's scheduler,
and a snooze that came due while the daemon was stopped wakes right after it starts again
(the wake-up time is stored, not kept in memory)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.daemon.conftest import DaemonProc, wait_until

EXTRA = """
[lifecycle]
check_interval = 0.2

[commands]
trust_from_header = true
"""


def mail(sender: str, subject: str, body: str, n: int) -> bytes:
    return (f"From: <{sender}>\r\nTo: helpdesk@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <restart{n}@example.com>\r\nContent-Type: text/plain\r\n\r\n{body}\r\n").encode()


@pytest.mark.timeout(90)
def test_a_snooze_due_while_stopped_wakes_after_restart(make_daemon: Callable[..., DaemonProc]) -> None:
    d = make_daemon(EXTRA, start=False)
    gw = d.gateway
    assert gw.deliver(mail("bob@customer.example", "Call me back", "Please call.", 1)).exit_code == 0
    assert gw.deliver(mail("alice@example.com", "Re: [Helpdesk #1] Call me back", "sleep: 3d", 2)).exit_code == 0
    assert gw.ticket(1)["status"] == "stalled"

    def job(name: str) -> tuple | None:
        with d.db() as c:
            return c.execute("SELECT runs, last_result FROM scheduled_job WHERE name = ?", (name,)).fetchone()

    d.start()
    wait_until(lambda: (job("lifecycle-wake") or (0,))[0] >= 1, 20, what="the wake job's first run")
    assert job("lifecycle-wake")[1] == "woke 0"
    assert {"lifecycle-sla", "lifecycle-escalate", "lifecycle-archive", "lifecycle-digest"} <= {
        r[0] for r in d.db().execute("SELECT name FROM scheduled_job")}
    assert d.stop() == 0
    with d.db() as c:  # three days pass while the daemon is stopped
        c.execute("UPDATE snooze SET wake_at = '2020-01-01 00:00:00'")
    d.start()
    wait_until(lambda: gw.ticket(1)["status"] == "open", 20, what="the ticket to wake")
    t = gw.ticket(1)
    assert [(e["actor"], e["old"], e["new"]) for e in t["events"] if e["field"] == "status"][-1] == \
        ("system", "stalled", "open")
    assert t["wake_at"] is None
    assert "ticket #1 woke up (stage lifecycle)" in d.log_text()
    assert d.stop() == 0
