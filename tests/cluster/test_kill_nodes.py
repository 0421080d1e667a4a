"""kill -9 of random nodes while 8 SMTP clients send 1,000 messages spread over 3 nodes on
one PostgreSQL, each killed node restarted (at once, or after the others took over its
claims): every acknowledged message stored exactly once, none lost, none duplicated, and
every outbox mail delivered to the sink; a mail arrives twice only where a node died
between the relay's 250 and its "sent" mark, as a recognisable copy (same Message-ID) that
the node taking over logged as a resend."""

from __future__ import annotations

import random
import re
import smtplib
import threading
import time
from collections import Counter

import pytest

from tests.cluster.conftest import Cluster
from tests.daemon.conftest import message
from tests.pg import pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")

MESSAGES, CLIENTS, KILLS = 1000, 8, 15
# every new ticket mails the queue's watcher: one outbox mail per message
WATCHER = '\n[[queue]]\nname = "watched"\naddress = "watched@example.com"\nwatchers = ["watch@example.com"]\n'


def _client(cluster: Cluster, numbers: list[int], acked: set[int], rng: random.Random, sender: str) -> None:
    i = 0
    while i < len(numbers):
        node = rng.choice(cluster.nodes)
        try:
            with smtplib.SMTP("127.0.0.1", node.smtp_port, timeout=10) as s:
                for _ in range(rng.randint(1, 20)):  # a few messages per connection, then another node
                    if i >= len(numbers):
                        break
                    s.sendmail(sender, ["watched@example.com"], message(numbers[i], subject="Kill", sender=sender))
                    acked.add(numbers[i])  # reached only on 250
                    i += 1
        except (OSError, smtplib.SMTPException):
            time.sleep(0.02)  # refused, reset, 421 or 451: an MTA keeps the mail and tries another MX


@pytest.mark.timeout(300)
def test_kill_9_of_random_nodes_loses_and_duplicates_nothing(make_cluster) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    cluster = make_cluster(3, extra=WATCHER)
    acked: set[int] = set()
    lanes = [list(range(MESSAGES))[k::CLIENTS] for k in range(CLIENTS)]
    # a sender per client (an MTA's queues): one sender's new mails are claimed in order
    threads = [threading.Thread(target=_client, args=(cluster, lane, acked, random.Random(seed + k),
                                                      f"client{k}@customer.example"), daemon=True)
               for k, lane in enumerate(lanes)]
    for t in threads:
        t.start()
    kills = 0
    while kills < KILLS and (any(t.is_alive() for t in threads) or cluster.one(
            "SELECT count(*) FROM spool_entry") > 0):
        target = len(acked) + rng.randint(10, MESSAGES // KILLS)
        deadline = time.monotonic() + 5
        while len(acked) < target and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        node = rng.choice(cluster.nodes)
        if not node.running():
            continue
        node.kill9()
        kills += 1
        # half of the killed nodes stay down for longer than the lease: the others take over
        # their claimed entries; the rest come back at once and find them still claimed
        if rng.random() < 0.5:
            node.start(wait=False)
        else:
            threading.Timer(4.0, lambda n=node: n.start(wait=False)).start()
    for t in threads:
        t.join(120)
    time.sleep(4.5)  # the last delayed restarts
    for node in cluster.nodes:
        if not node.running():
            node.start(wait=False)
        node.wait_ready(60)
    cluster.wait_drained(timeout=120)
    assert kills >= 10, f"only {kills} kills (seed {seed})"
    assert len(acked) == MESSAGES, f"{len(acked)} acknowledged (seed {seed})"
    ids = Counter(cluster.inbound_ids())
    wanted = {f"m{n}@customer.example" for n in range(MESSAGES)}
    assert {mid for mid, c in ids.items() if c > 1} == set(), f"duplicates (seed {seed})"
    # a message in hand at three kills is held by the crash counter (it cannot tell an outside
    # kill from a message that kills the process): kept with its bytes, retried below
    held = _crash_holds(cluster)
    assert set(ids) | held == wanted and not set(ids) & held, f"lost {wanted - set(ids) - held} (seed {seed})"
    assert len(held) <= 3, held
    print(f"\n{len(ids)} stored once, {len(held)} held by the crash counter, taken over:"
          f" {cluster.node_logs().count('is down (no heartbeat')} node(s) marked down")
    for q in cluster.sql("SELECT id FROM quarantine WHERE state = 'held'"):
        assert cluster.nodes[0].gateway.cli("quarantine", "retry", str(q[0])).exit_code == 0
    assert Counter(cluster.inbound_ids()) == Counter(wanted)
    _outbox_delivered_once(cluster, kills, seed)


def _crash_holds(cluster: Cluster) -> set[str]:
    rows = cluster.sql("SELECT r.raw FROM quarantine q JOIN spool_raw r ON r.sha256 = q.raw_sha256"
                       " WHERE q.state = 'held' AND q.error LIKE 'crashed the process%%'")
    return {re.search(rb"Message-ID: <([^>]+)>", bytes(r[0])).group(1).decode() for r in rows}  # type: ignore[union-attr]


def _outbox_delivered_once(cluster: Cluster, kills: int, seed: int) -> None:
    cluster.wait_drained(timeout=60)
    rows = cluster.sql("SELECT message_id, state FROM outbox WHERE kind <> 'ack'")
    assert rows and {state for _, state in rows} == {"sent"}, Counter(s for _, s in rows)
    at_sink = Counter(m.message["Message-ID"].strip("<>") for m in cluster.sink.received
                      if "watch@example.com" in m.rcpt_tos)
    assert set(at_sink) == {mid for mid, _ in rows}, f"missing at the sink (seed {seed})"
    twice = {mid for mid, n in at_sink.items() if n > 1}
    resent = set(re.findall(r"outbox #\d+ message <?([^\s>]+)>? stage outbox: left 'sending'", cluster.node_logs()))
    assert twice <= resent, f"sent twice without a crash in between: {twice - resent} (seed {seed})"
    assert max(at_sink.values()) <= 2 and len(twice) <= kills, at_sink.most_common(3)
    print(f"\n3 nodes, {kills} kills (seed {seed}): {len(rows)} outbox mails, {len(twice)} delivered twice"
          f" (resent after a kill), {len(resent)} resends logged")
