"""Two replies to one ticket processed on two nodes at once: both land, the second sees the
first's change (a row lock on the ticket while a message changes it), and replies in one
conversation land in the order they arrived, whichever nodes took them."""

from __future__ import annotations

import smtplib
import threading

import pytest

from tests.cluster.conftest import Cluster, wait_for
from tests.outbox.sink import HEADERS_DMARC_PASS
from tests.pg import pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")

TRUST = '\n[commands]\ntrusted_authserv_ids = ["mx.example.com"]\n'
TICKETS = 12


def _mail(mid: str, subject: str, body: str, refs: tuple[str, ...] = (), sender: str = "alice@example.com") -> bytes:
    lines = [*HEADERS_DMARC_PASS, f"From: Alice <{sender}>", "To: helpdesk@example.com", f"Subject: {subject}",
             "Date: Tue, 24 Nov 2026 10:00:00 +0000", f"Message-ID: <{mid}>"]
    if refs:
        lines += [f"In-Reply-To: <{refs[-1]}>", "References: " + " ".join(f"<{r}>" for r in refs)]
    return ("\r\n".join([*lines, "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""])).encode()


def _open_tickets(cluster: Cluster) -> dict[int, str]:
    """A ticket per requester mail; returns ticket id -> its root Message-ID."""
    for n in range(TICKETS):
        cluster.send(n % 3, _mail(f"root{n}@customer.example", f"Printer {n}", "It is broken.",
                                  sender=f"user{n}@customer.example"))
    wait_for(lambda: cluster.one("SELECT count(*) FROM ticket") == TICKETS, what="the tickets")
    return dict(cluster.sql("SELECT id, root_message_id FROM ticket"))


def _together(sends: list[tuple[int, bytes]]) -> None:
    barrier = threading.Barrier(len(sends))

    def one(port: int, raw: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            barrier.wait(30)
            assert s.sendmail("alice@example.com", ["helpdesk@example.com"], raw) == {}

    threads = [threading.Thread(target=one, args=pair) for pair in sends]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


@pytest.mark.timeout(150)
def test_two_replies_on_two_nodes_both_change_the_ticket(make_cluster) -> None:
    # one message per claim: whichever node claims first does not take every reply at once,
    # so the two replies of a ticket really are processed by two nodes at the same time
    cluster = make_cluster(3, extra=TRUST, daemon="group_size = 1")
    roots = _open_tickets(cluster)
    # for every ticket at the same instant: a reply in its thread (References) on one node and
    # a mail naming it by its subject tag on another: two conversations, so nothing orders
    # them; only the ticket's row lock keeps one from overwriting the other's change
    sends = []
    for k, (tid, root) in enumerate(sorted(roots.items())):
        a, b = cluster.nodes[k % 3], cluster.nodes[(k + 1) % 3]
        sends.append((a.smtp_port, _mail(f"prio{tid}@example.com", "Re: printer", "priority: 1\r\n\r\nOn it.",
                                         refs=(root,))))
        sends.append((b.smtp_port, _mail(f"own{tid}@example.com", f"[Helpdesk #{tid}] printer",
                                         "owner: me\r\n\r\nMine.")))
    _together(sends)
    cluster.wait_drained()
    alice = cluster.one("SELECT id FROM person WHERE address = 'alice@example.com'")
    rows = cluster.sql("SELECT id, priority, owner_id FROM ticket ORDER BY id")
    assert rows == [(tid, 1, alice) for tid in sorted(roots)], rows
    events = cluster.sql("SELECT ticket_id, field FROM event WHERE field IN ('priority', 'owner')")
    assert sorted(events) == sorted([(t, "priority") for t in roots] + [(t, "owner") for t in roots])
    assert cluster.one("SELECT count(*) FROM message WHERE direction = 'in'") == 3 * TICKETS


@pytest.mark.timeout(150)
def test_replies_in_one_conversation_land_in_arrival_order_across_nodes(make_cluster) -> None:
    cluster = make_cluster(3, extra=TRUST, daemon="group_size = 1")
    roots = _open_tickets(cluster)
    # a status change, then a second one sent to another node right after the first's 250:
    # the second must be applied after the first, whichever node is faster
    for k, (tid, root) in enumerate(sorted(roots.items())):
        cluster.send(k % 3, _mail(f"first{tid}@example.com", "Re: printer", "status: stalled\r\n\r\nWaiting.",
                                  refs=(root,)))
        cluster.send((k + 1) % 3, _mail(f"second{tid}@example.com", "Re: printer", "status: resolved\r\n\r\nDone.",
                                        refs=(root, f"first{tid}@example.com")))
    cluster.wait_drained()
    for tid in roots:
        order = [r[0] for r in cluster.sql("SELECT message_id FROM message WHERE ticket_id = %s AND direction = 'in'"
                                           " ORDER BY id", (tid,))]
        assert order[1:] == [f"first{tid}@example.com", f"second{tid}@example.com"], order
    assert {r[0] for r in cluster.sql("SELECT status FROM ticket")} == {"resolved"}
