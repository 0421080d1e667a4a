"""The HTTP API on two nodes of one PostgreSQL: a token made on one works on the other, and its
rate limit counts the requests to both (the windows are rows, not each node's memory)."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

import pytest

from tests.cluster.conftest import wait_for
from tests.pg import pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")


def _get(base: str, token: str) -> int:
    request = urllib.request.Request(f"{base}/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.timeout(90)
def test_a_tokens_rate_limit_counts_its_requests_on_every_node(make_cluster) -> None:
    cluster = make_cluster(2, extra="\n[api]\nrate_limit = 5\n")
    bases = []
    for node in cluster.nodes:
        found = wait_for(lambda n=node: re.search(r"HTTP listening on ([\d.]+:\d+)", n.log_text()), what="HTTP")
        bases.append(f"http://{found.group(1)}")  # type: ignore[union-attr]
    made = cluster.nodes[0].gateway.cli("token", "create", "alice@example.com")
    assert made.exit_code == 0, made.output
    token = made.output.splitlines()[0].strip()
    if time.time() % 60 > 50:  # all seven requests within one minute's window
        time.sleep(61 - time.time() % 60)
    codes = [_get(bases[i % 2], token) for i in range(5)]  # made on node 0, used on both
    assert codes == [200] * 5
    assert _get(bases[1], token) == 429 and _get(bases[0], token) == 429  # the 6th and 7th this minute
