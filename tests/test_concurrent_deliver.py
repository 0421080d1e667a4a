"""Many MTA pipe processes at once (Postfix runs several): every message is processed
inline, none is left behind in the spool, none is stored twice."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import MAILGATE_BIN, Gateway


def test_parallel_pipes_all_processed(gateway: Gateway) -> None:
    gateway.cli("ticket", "list")  # create the store first, as an installed system would have
    procs = []
    for i in range(12):
        raw = (f"From: user{i}@customer.example\r\nTo: helpdesk@example.com\r\n"
               f"Subject: request {i}\r\nMessage-ID: <par-{i}@customer.example>\r\n\r\nPlease help {i}.\r\n").encode()
        p = subprocess.Popen([str(MAILGATE_BIN), "--config", str(gateway.config), "deliver"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append((p, raw))
    for p, raw in procs:
        out, err = p.communicate(raw, timeout=120)
        assert p.returncode == 0, err
        assert b"processing deferred" not in err, err
    tickets = gateway.tickets()
    assert sorted(t["subject"] for t in tickets) == sorted(f"request {i}" for i in range(12))
    queue = gateway.dir / "store" / "spool" / "queue"
    assert [n for n in os.listdir(queue) if n.endswith(".json")] == []
