"""The MTA pipe with the spool in PostgreSQL, and `mailgate status` of several nodes: a
delivery is a committed row before exit 0 (processed by any running node, or inline when
none runs), exit 75 when the database cannot take it; a node stopped cleanly frees what it
held and shows as stopped, every node shows its host, pid, role, heartbeat and holdings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cluster.conftest import Cluster, wait_for
from tests.conftest import Gateway
from tests.daemon.conftest import message
from tests.pg import free_port, pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


def _tickets(cluster: Cluster) -> int:
    return int(cluster.one("SELECT count(*) FROM ticket"))  # type: ignore[arg-type]


@pytest.mark.timeout(120)
def test_the_pipe_spools_into_the_database_for_any_node(make_cluster, tmp_path: Path) -> None:
    cluster = make_cluster(2, start=False)
    gw = cluster.nodes[0].gateway
    # no node runs: processed inline, as with a spool folder
    first = gw.pipe(message("pipe1"), "--recipient", "helpdesk@example.com")
    assert first.returncode == 0, first.stderr
    assert _tickets(cluster) == 1 and cluster.one("SELECT count(*) FROM spool_entry") == 0
    record = json.loads((gw.dir / "store" / "spool" / "pipe-config.json").read_text())
    assert record["database_url"] == cluster.url  # the next delivery needs no full load
    # a node runs (not on this host's folder: the other node's): the pipe only spools
    cluster.nodes[1].start()
    second = gw.pipe(message("pipe2"), "--recipient", "helpdesk@example.com")
    assert second.returncode == 0, second.stderr
    wait_for(lambda: _tickets(cluster) == 2, what="the running node to process the piped mail")
    assert cluster.nodes[1].stop() == 0
    # a database that cannot be reached: the MTA keeps the mail (exit 75) and retries
    elsewhere = tmp_path / "unreachable"
    elsewhere.mkdir()
    config = elsewhere / "mailgate.toml"
    config.write_text(gw.config.read_text().replace(cluster.url, f"postgresql://nobody@127.0.0.1:{free_port()}/x"))
    down = Gateway(elsewhere, config).pipe(message("pipe3"), "--recipient", "helpdesk@example.com")
    assert down.returncode == 75 and b"spool cannot store message: database:" in down.stderr, down.stderr


@pytest.mark.timeout(120)
def test_status_shows_every_node_and_a_stopped_node_holds_nothing(make_cluster) -> None:
    cluster = make_cluster(3)
    wait_for(lambda: all(d["heartbeat"] for d in cluster.status()["daemons"]), what="three heartbeats")
    st = cluster.status()
    assert st["daemon"] == "running" and st["errors"] == [] and st["spool"] == {"queued": 0, "processing": 0,
                                                                                  "set_aside": 0}
    nodes = {d["pid"]: d for d in st["daemons"]}
    assert set(nodes) == {n.proc.pid for n in cluster.nodes}  # type: ignore[union-attr]
    for d in nodes.values():
        assert d["state"] == "up" and d["host"] and d["node"].startswith(f"{d['host']}:{d['pid']}:")
        assert d["role"].split(",")[:3] == ["smtp", "lmtp", "worker"]
    assert cluster.nodes[2].stop() == 0
    st = cluster.status()
    stopped = next(d for d in st["daemons"] if d["pid"] == cluster.nodes[2].proc.pid)  # type: ignore[union-attr]
    assert stopped["state"] == "stopped" and stopped["holds"] == {}
    assert st["daemon"] == "running"  # two nodes still up
    for n in range(6):
        cluster.send(n % 2, message(f"st{n}"))
    cluster.wait_drained()
    assert _tickets(cluster) == 6
