"""The database spool's claims, the scheduler's job claims and the durability point, on a
real PostgreSQL, driven directly (no daemon): what the nodes rely on, one step at a time.
A "node" here is a DbSpool with its own name, exactly as a daemon's, and a node that dies
is one that stops calling (its lease runs out)."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mailgate.app import build_env
from mailgate.batch import commit_group
from mailgate.config import load_settings
from mailgate.db.models import Message, Quarantine, ScheduledJob, database_proxy
from mailgate.env import Env
from mailgate.spool_db import DbSpool
from tests.cluster.conftest import node_config
from tests.daemon.conftest import message
from tests.pg import PostgresServer, pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


@pytest.fixture
def env(tmp_path: Path, postgres: PostgresServer) -> Env:
    url = postgres.create_database(f"mg_{uuid.uuid4().hex[:12]}")
    config, _, _ = node_config(tmp_path, url, 2525)
    return build_env(load_settings(config))


def _node(name: str, lease: float = 30.0) -> DbSpool:
    return DbSpool(database_proxy, name, lease)


def _reply(n: int, root: str) -> bytes:
    return (f"From: bob@customer.example\r\nTo: helpdesk@example.com\r\nSubject: Re: {n}\r\n"
            f"Message-ID: <r{n}@customer.example>\r\nIn-Reply-To: <{root}>\r\nReferences: <{root}>\r\n\r\nMore.\r\n"
            ).encode()


def test_accept_is_a_committed_row_with_the_bytes(env: Env) -> None:
    spool = _node("a")
    entry = spool.accept(b"Subject: x\r\n\r\nbody\r\n", "smtp", ("helpdesk@example.com",), peer="1.2.3.4:5")
    # another connection (another node) sees it at once, bytes and all
    import psycopg2

    conn = psycopg2.connect(env.settings.database_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT e.source, e.recipients, e.extra, r.raw FROM spool_entry e JOIN spool_raw r"
                    " ON r.sha256 = e.sha256 WHERE e.id = %s", (int(entry.name),))
        source, rcpts, extra, raw = cur.fetchone()
        cur.execute("SHOW synchronous_commit")
        assert cur.fetchone() == ("on",)  # the server's default, and SET LOCAL on in accept
    conn.close()
    assert (source, rcpts, extra, bytes(raw)) == ("smtp", '["helpdesk@example.com"]', '{"peer": "1.2.3.4:5"}',
                                                  b"Subject: x\r\n\r\nbody\r\n")


def test_two_nodes_claim_disjoint_entries_and_a_dead_nodes_claims_are_taken_over(env: Env) -> None:
    a, b = _node("node-a", lease=1.0), _node("node-b", lease=1.0)
    for n in range(10):  # ten senders: nothing orders one message after another
        a.accept(message(n, sender=f"user{n}@customer.example"), "smtp")
    got_a, waiting = a.claim_group(4, alone=True)
    got_b, _ = b.claim_group(64, alone=True)
    assert len(got_a) == 4 and waiting == 10 and len(got_b) == 6
    assert not {e.name for e, _ in got_a} & {e.name for e, _ in got_b}
    assert b.claim_group(64, alone=True)[0] == []  # nothing left while a's lease runs
    time.sleep(1.2)  # node a died: its lease ends
    retaken, _ = b.claim_group(64, alone=True)
    # one at a time: each was in hand when its node died (the crash counter's rule)
    assert len(retaken) == 1 and retaken[0][0].attempts == 2
    # a comes back from a stall: the entry it holds is no longer its own, so its commit skips it
    assert a.hold([e for e, _ in got_a]) == {e.name for e, _ in got_a} - {retaken[0][0].name}


def test_the_crash_counter_counts_across_nodes_and_quarantines(env: Env) -> None:
    """A message whose node dies with it in hand, three times on three nodes: the fourth
    node quarantines it (kept, retryable) instead of dying with it too."""
    spool = _node("sender")
    spool.accept(message("killer"), "smtp")
    for n in range(3):
        node = _node(f"dies-{n}", lease=0.3)
        [(entry, _)], _ = node.claim_group(64, alone=True)
        assert entry.attempts == n + 1
        time.sleep(0.35)  # ... and it dies with the message in hand
    survivor = _node("survivor")
    group, _ = survivor.claim_group(64, alone=True)
    [(entry, raw)] = group
    assert entry.attempts == 4
    [(_, outcome)] = commit_group(replace(env, spool=survivor), [(entry, raw, None)])
    assert outcome.status == "quarantined" and "crashed the process 3 times" in outcome.detail
    assert Quarantine.get_by_id(outcome.quarantine_id).state == "held"
    assert survivor.backlog() == 0 and Message.select().count() == 0


def test_a_reply_is_not_claimed_while_another_node_holds_its_conversation(env: Env) -> None:
    a, b = _node("node-a"), _node("node-b")
    first = a.accept(message(1), "smtp")  # <m1@customer.example> from bob
    reply = a.accept(_reply(2, "m1@customer.example"), "smtp")
    again = a.accept(message(3), "smtp")  # bob's next new mail: after his first, too
    other = a.accept(message(4, sender="carol@customer.example"), "smtp")
    [(held, _)], _ = a.claim_group(1, alone=True)
    assert held.name == first.name
    got, _ = b.claim_group(64, alone=True)
    # b skips the reply and bob's next mail (the first is in a's hands) but takes carol's
    assert [e.name for e, _ in got] == [other.name]
    a.settle([held])  # a commits the first message
    got, _ = b.claim_group(64, alone=True)
    assert [e.name for e, _ in got] == [reply.name, again.name]


def test_a_group_commit_deletes_its_entries_in_its_own_transaction(env: Env) -> None:
    node = _node("node-a")
    for n in range(3):
        node.accept(message(n), "smtp")
    group, _ = node.claim_group(64, alone=True)
    results = commit_group(replace(env, spool=node), [(e, raw, None) for e, raw in group])
    assert [o.status for _, o in results] == ["stored"] * 3
    assert node.backlog() == 0 and Message.select().where(Message.direction == "in").count() == 3


def test_a_job_due_time_runs_on_one_of_two_schedulers(env: Env) -> None:
    from mailgate.daemon.dbthread import DbThread
    from mailgate.daemon.scheduler import Job, Scheduler
    from mailgate.env import utc_clock

    runs: list[str] = []

    def slow(owner: str):  # noqa: ANN202 - a coroutine function, as the scheduler wants
        async def run() -> str:
            runs.append(owner)
            await asyncio.sleep(0.3)  # both schedulers look while it runs
            return "ok"
        return run

    async def main() -> None:
        threads = [DbThread(), DbThread()]
        schedulers = [Scheduler(t, utc_clock, owner=f"node-{i}", lease=30) for i, t in enumerate(threads)]
        for i, s in enumerate(schedulers):
            s.register(Job("once", slow(f"node-{i}"), timedelta(hours=1)))
        await threads[0].run(schedulers[0]._ensure_rows)
        await asyncio.gather(*(s.run_due() for s in schedulers))
        await asyncio.gather(*(s.run_due() for s in schedulers))  # not due again for an hour
        for t in threads:
            t.stop()

    asyncio.run(main())
    assert len(runs) == 1
    row = ScheduledJob.get(ScheduledJob.name == "once")
    assert row.runs == 1 and row.claimed_by == "" and row.claimed_until is None
