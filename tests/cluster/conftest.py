"""Several real `mailgate serve` processes on one real PostgreSQL (issue 16): each node has
its own folder, configuration and SMTP/LMTP ports; all share the database (spool included)
and one sink SMTP server for their outbox."""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, Gateway, write_config
from tests.daemon.conftest import DaemonProc, daemon_config, make_daemon, wait_until
from tests.daemon.dovecot import free_port, wait_port
from tests.outbox.sink import Sink
from tests.pg import PostgresServer

__all__ = ["make_daemon"]  # the one-daemon fixture, for tests comparing with a spool folder

# a short lease, so takeovers happen within a test's seconds (the default is 30 s)
LEASE = 3.0
NODE_DAEMON = f"lease = {LEASE}\nworkers = 0"


@dataclass
class Cluster:
    url: str
    nodes: list[DaemonProc]
    sink: Sink
    postgres: PostgresServer
    log_start: int = field(default=0)  # where the server's log was when the cluster started

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(self.url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def one(self, query: str, params: tuple = ()) -> object:
        return self.sql(query, params)[0][0]

    def inbound_ids(self) -> list[str]:
        return [r[0] for r in self.sql("SELECT message_id FROM message WHERE direction = 'in'")]

    def wait_drained(self, timeout: float = 60.0) -> None:
        """Until every accepted message is committed and every due outbox mail is sent."""
        wait_until(lambda: self.one("SELECT count(*) FROM spool_entry") == 0, timeout, what="an empty spool")
        wait_until(lambda: self.one("SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')") == 0,
                   timeout, what="an empty outbox")

    def status(self) -> dict:
        return self.nodes[0].gateway.json("status")  # type: ignore[return-value]

    def send(self, node: int, raw: bytes, to: str = "helpdesk@example.com") -> None:
        with smtplib.SMTP("127.0.0.1", self.nodes[node].smtp_port, timeout=10) as s:
            assert s.sendmail("bob@customer.example", [to], raw) == {}

    def server_log(self) -> str:
        """What the PostgreSQL server logged since this cluster started (errors included)."""
        text = (self.postgres.dir / "log").read_text(errors="replace")
        return text[self.log_start:]

    def node_logs(self) -> str:
        return "".join(n.log_text() for n in self.nodes)


def node_config(directory: Path, url: str, sink_port: int, extra: str = "", daemon: str = "",
                rules: Path | None = None) -> tuple[Path, int, int]:
    smtp, lmtp = free_port(), free_port()
    text = daemon_config(smtp, lmtp, extra, f"{NODE_DAEMON}\n{daemon}", sink_port, heartbeat=1.0)
    base = BASE_CONFIG.replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"').replace(
        'spool = "store/spool"\n', "")  # the default with PostgreSQL: the spool in the database
    if rules is not None:
        base = base.replace('rules = "{rules}"', f'rules = "{rules}"')
    return write_config(directory, text, base=base), smtp, lmtp


@pytest.fixture
def make_cluster(tmp_path: Path, postgres: PostgresServer) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(count: int = 3, extra: str = "", daemon: str = "", start: bool = True,
             rules: Path | None = None) -> Cluster:
        url = postgres.create_database(f"mg_{uuid.uuid4().hex[:12]}")
        sink = Sink(free_port()).start()
        nodes = []
        for i in range(count):
            folder = tmp_path / f"node{i}"
            folder.mkdir()
            config, smtp, lmtp = node_config(folder, url, sink.port, extra, daemon, rules)
            nodes.append(DaemonProc(Gateway(folder, config), smtp, lmtp, sink=sink))
        log = postgres.dir / "log"
        cluster = Cluster(url, nodes, sink, postgres, len(log.read_text(errors="replace")) if log.exists() else 0)
        made.append(cluster)
        if start:
            for node in nodes:
                node.start(wait=False)
            for node in nodes:
                node.wait_ready(timeout=60)
                wait_port(node.smtp_port)
        return cluster

    yield make
    for cluster in made:
        for node in cluster.nodes:
            if node.running():
                node.kill9()
        cluster.sink.stop()


def wait_for(predicate: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    return wait_until(predicate, timeout, 0.05, what)


def elapsed(since: float) -> float:
    return time.monotonic() - since
