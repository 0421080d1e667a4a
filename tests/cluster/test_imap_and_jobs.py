"""One IMAP account and the timed jobs with 3 nodes on one PostgreSQL: the account is
fetched by one node at a time and taken over within the lease when that node is killed;
each job's due time runs on one node (counted by the mails it sends); `mailgate status`
shows every node, what it holds, and a killed node as down with nothing held."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from tests.cluster.conftest import LEASE, Cluster, wait_for
from tests.daemon.conftest import message
from tests.daemon.dovecot import DOVECOT, Dovecot
from tests.daemon.test_imap import imap_config
from tests.pg import pg_bindir

pytestmark = [pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)"),
              pytest.mark.skipif(DOVECOT is None, reason="the dovecot binary is missing (apt-get install dovecot-imapd)")]


def _holder(cluster: Cluster) -> str:
    held = [d for d in cluster.status()["daemons"] if d["state"] == "up" and d["holds"].get("imap") == ["support"]]
    return held[0]["node"] if len(held) == 1 else ""


def _node_of(cluster: Cluster, name: str):  # noqa: ANN202
    pid = int(name.split(":")[1])
    return next(n for n in cluster.nodes if n.proc is not None and n.proc.pid == pid)


@pytest.mark.timeout(120)
def test_one_imap_account_is_fetched_by_one_node_and_taken_over_when_it_dies(make_cluster, tmp_path: Path) -> None:
    dovecot = Dovecot(tmp_path / "dovecot")
    dovecot.start()
    try:
        for n in range(20):
            dovecot.append(message(f"imap{n}"))
        cluster = make_cluster(3, extra=imap_config(dovecot, move_to="Processed", idle=False, poll_interval=0.3))
        wait_for(lambda: len(dovecot.uids("Processed")) == 20, what="the first 20 mails moved")
        holder = wait_for(lambda: _holder(cluster), what="one node holding the account")
        standby = [n for n in cluster.nodes if n is not _node_of(cluster, holder)]
        # the others wait: one fetcher per account, whatever the number of nodes
        for node in standby:
            wait_for(lambda n=node: "fetched by node" in n.log_text(), what="a standby node")
            assert "UID" not in node.log_text()
        killed = _node_of(cluster, holder)
        killed.kill9()
        killed_at = time.monotonic()
        for n in range(20, 30):
            dovecot.append(message(f"imap{n}"))
        new_holder = wait_for(lambda: _holder(cluster) not in ("", holder) and _holder(cluster), timeout=3 * LEASE + 5,
                              what="another node taking the account over")
        taken_over = time.monotonic() - killed_at
        wait_for(lambda: len(dovecot.uids("Processed")) == 30, what="the 10 new mails moved")
        # within the lease (renewed every lease/3) plus one look by the standby (lease/6)
        assert taken_over <= LEASE + LEASE / 6 + 1.5, taken_over
        print(f"\nIMAP account taken over {taken_over:.1f}s after the kill (lease {LEASE:g}s)")
        cluster.wait_drained()
        ids = Counter(cluster.inbound_ids())
        assert ids == Counter({f"m{f'imap{n}'}@customer.example": 1 for n in range(30)})
        status = cluster.status()
        down = next(d for d in status["daemons"] if d["node"] == holder)
        assert down["state"] == "down" and down["down"] and down["holds"] == {}
        up = next(d for d in status["daemons"] if d["node"] == new_holder)
        assert up["state"] == "up" and up["host"] and up["pid"] == int(new_holder.split(":")[1])
        assert "imap:support" in up["role"] and "worker" in up["role"]
        text = cluster.nodes[0].gateway.cli("status").output  # the CLI reads the shared database
        assert f"{holder} " in text and "DOWN since" in text and "holds IMAP support" in text
    finally:
        dovecot.kill()


@pytest.mark.timeout(120)
def test_each_job_due_time_runs_on_one_node(make_cluster) -> None:
    """Escalation every second on 3 nodes: each ticket is escalated once per step (3 -> 2 -> 1),
    one mail per step to the queue's technician, never two steps at one due time."""
    interval = 1.5
    cluster = make_cluster(3, extra=f"\n[lifecycle]\ncheck_interval = {interval}\n", start=False)
    started = time.monotonic()
    for node in cluster.nodes:  # the general queue escalates after 2.5 s without an update
        cfg = node.gateway.config
        cfg.write_text(cfg.read_text().replace('name = "general"\naddress = "helpdesk@example.com"\n',
                                               'name = "general"\naddress = "helpdesk@example.com"\n'
                                               'escalate_after_hours = 0.0007\n', 1))
        node.start(wait=False)
    for node in cluster.nodes:
        node.wait_ready(60)
    tickets = 6
    for n in range(tickets):
        cluster.send(n % 3, message(f"job{n}", subject="Slow", body="Please."))
    wait_for(lambda: cluster.one("SELECT count(*) FROM ticket WHERE priority = 1") == tickets, timeout=40,
             what="every ticket escalated to priority 1")
    time.sleep(3)  # more due times pass: nothing more may happen (priority 1 is the top)
    steps = cluster.sql("SELECT ticket_id, old, new FROM event WHERE field = 'priority' ORDER BY id")
    per_ticket = Counter(t for t, _, _ in steps)
    assert set(per_ticket.values()) == {2} and len(per_ticket) == tickets, steps
    assert all((old, new) in (("3", "2"), ("2", "1")) for _, old, new in steps), steps
    cluster.wait_drained()
    mails = cluster.one("SELECT count(*) FROM outbox WHERE kind = 'escalation'")
    assert mails == 2 * tickets
    runs = cluster.sql("SELECT runs FROM scheduled_job WHERE name = 'lifecycle-escalate'")[0][0]
    due_times = (time.monotonic() - started) / interval + 1
    # once per due time: three nodes each running every due time would make ~3x as many
    assert 3 <= runs <= due_times, (runs, due_times)
    per_node = [n.log_text().count("escalated to priority") for n in cluster.nodes]
    assert sum(per_node) == 2 * tickets
    print(f"\nescalation: {runs} runs in {due_times:.0f} due times, {len(steps)} steps, per node {per_node}")
