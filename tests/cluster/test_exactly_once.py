"""Exactly once with 3 nodes on one PostgreSQL: the same message arriving at every node at
the same instant makes one ticket (two MX hosts, an MTA's retry), and an alert storm hitting
every node makes one group per fingerprint, with nothing in any log but outcomes."""

from __future__ import annotations

import smtplib
import threading
from collections import Counter

import pytest

from tests.cluster.conftest import Cluster
from tests.conftest import ROOT
from tests.daemon.conftest import message
from tests.pg import pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


def _at_once(cluster: Cluster, raws: list[bytes], to: str = "helpdesk@example.com") -> None:
    """Each raw message to every node at the same instant (a barrier per message), one SMTP
    session per node kept open."""
    barrier = threading.Barrier(len(cluster.nodes))
    errors: list[BaseException] = []

    def lane(port: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                for raw in raws:
                    barrier.wait(30)
                    assert s.sendmail("bob@customer.example", [to], raw) == {}
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=lane, args=(n.smtp_port,)) for n in cluster.nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def _clean_logs(cluster: Cluster) -> None:
    """No error in any node's log, none in the server's (a unique key violated, a deadlock)."""
    bad = [line for line in cluster.node_logs().splitlines() if " ERROR " in line or "Traceback" in line]
    assert bad == [], bad[:5]
    server = [line for line in cluster.server_log().splitlines() if "ERROR:" in line]
    assert server == [], server[:5]


@pytest.mark.timeout(180)
def test_the_same_message_at_three_nodes_at_once_makes_one_ticket(make_cluster) -> None:
    cluster = make_cluster(3)
    rounds = 100
    # a sender per round: one sender's new mails are claimed in order, one node at a time
    _at_once(cluster, [message(f"same{n}", subject="Same message", sender=f"user{n}@customer.example")
                       for n in range(rounds)])
    cluster.wait_drained()
    ids = Counter(cluster.inbound_ids())
    assert len(ids) == rounds and set(ids.values()) == {1}, ids.most_common(3)
    assert cluster.one("SELECT count(*) FROM ticket") == rounds  # 100 tickets, not 300
    # each node took a share of the 300 deliveries: they were really processed in parallel
    processed = [d["processed"] for d in cluster.status()["daemons"]]
    assert sum(processed) == 3 * rounds and min(processed) > 0, processed
    _clean_logs(cluster)


@pytest.mark.timeout(180)
def test_an_alert_storm_on_three_nodes_makes_one_group_per_fingerprint(make_cluster) -> None:
    cluster = make_cluster(3, extra='\n[monitoring]\nstorm_threshold = 10\n', rules=ROOT / "rules")
    alerts, fingerprints = 1000, 50
    raws = [_nagios(n, n % fingerprints) for n in range(alerts)]
    lanes = [raws[i::3] for i in range(3)]
    threads = [threading.Thread(target=_send_all, args=(cluster, i, lane)) for i, lane in enumerate(lanes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    cluster.wait_drained()
    groups = cluster.sql("SELECT fingerprint, occurrences, ticket_id FROM alert_group")
    assert len(groups) == fingerprints and len({g[0] for g in groups}) == fingerprints
    assert sum(g[1] for g in groups) == alerts  # every repeat counted, on its group's one ticket
    assert len({g[2] for g in groups}) == fingerprints
    alert_tickets = cluster.one("SELECT count(*) FROM ticket WHERE id IN (SELECT ticket_id FROM alert_group)")
    assert alert_tickets == fingerprints
    assert cluster.one("SELECT count(*) FROM alert_storm") == 1  # the storm guard decided once
    _clean_logs(cluster)


def _send_all(cluster: Cluster, node: int, raws: list[bytes]) -> None:
    with smtplib.SMTP("127.0.0.1", cluster.nodes[node].smtp_port, timeout=30) as s:
        for raw in raws:
            s.sendmail("nagios@mon01.example.net", ["ops@example.com"], raw)


def _nagios(n: int, fp: int) -> bytes:
    host, service = f"host-{fp // 5:02d}", ("HTTP", "SSH", "disk", "load", "NTP")[fp % 5]
    return (f"Subject: ** PROBLEM Service Alert: {host}/{service} is CRITICAL **\r\nTo: <ops@example.com>\r\n"
            f"Message-Id: <alert{n}@mon01.example.net>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
            f"From: nagios@mon01.example.net\r\n\r\n***** Nagios *****\r\n\r\nNotification Type: PROBLEM\r\n\r\n"
            f"Service: {service}\r\nHost: {host}\r\nState: CRITICAL\r\n\r\nAdditional Info:\r\n\r\n"
            f"{service} check critical (sample {n})\r\n").encode()
