"""Fault tests: kill -9 of the daemon while mail arrives loses and duplicates nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.daemon.faults import kill_loop


@pytest.mark.timeout(300)
def test_kill_9_at_random_points_loses_and_duplicates_nothing(make_daemon) -> None:
    d = make_daemon()
    figures = kill_loop(d, count=500, max_kills=10)
    print(f"\nkill -9 fault run: {figures.as_dict()}")
    assert figures.kills >= 5, figures  # the run really was interrupted
    assert figures.acknowledged == figures.sent == 500, figures
    assert figures.lost == 0 and figures.duplicates == 0, figures
    # A message in hand at three kills is held by the crash counter (it cannot tell an
    # outside kill from a message that kills the process): kept with its bytes, and a
    # retry stores it. Anything else acknowledged is stored.
    assert figures.stored + figures.quarantined == figures.acknowledged, figures
    assert figures.quarantined <= 2, figures
    _retry_crash_holds(d)
    assert sorted(d.inbound_ids()) == sorted(f"m{n}@customer.example" for n in range(500))
    # the worker left nothing behind: every accepted message has an outcome
    assert not list((d.spool / "queue").glob("*.json")) and not list((d.spool / "processing").glob("*.json"))


@pytest.mark.timeout(240)
def test_kill_9_in_the_middle_of_group_commits_loses_and_duplicates_nothing(make_daemon) -> None:
    # four clients fill the queue faster than one writer drains it: the worker commits
    # groups of many messages, and the kills (also after the last 250, during the drain)
    # land while a group is claimed, being prepared in the worker process, or committing.
    # The worker does not wait for the senders to pause here (yield_to_ingest = 0): groups
    # are in hand while mail arrives, which is what the kills aim at
    d = make_daemon(daemon="yield_to_ingest = 0")
    figures = kill_loop(d, count=1000, clients=4, max_kills=6, aim_mid_group=True)
    print(f"\nkill -9 mid-group fault run: {figures.as_dict()}")
    assert figures.kills >= 3, figures
    assert figures.most_in_hand > 1, figures  # at least one kill caught a group in hand
    assert figures.acknowledged == figures.sent == 1000, figures
    assert figures.lost == 0 and figures.duplicates == 0, figures
    # as in the test above: a message in hand at three kills may be held by the crash
    # counter, kept with its bytes; a retry stores it
    assert figures.stored + figures.quarantined == figures.acknowledged, figures
    assert figures.quarantined <= 2, figures
    _retry_crash_holds(d)
    assert sorted(d.inbound_ids()) == sorted(f"m{n}@customer.example" for n in range(1000))
    assert not list((d.spool / "queue").glob("*.json")) and not list((d.spool / "processing").glob("*.json"))
    # and no orphan: the preparing workers of the killed daemons died with them
    assert _orphans(d) == [], "a killed daemon's worker process outlived it"


def _orphans(d) -> list[int]:
    """Processes running this gateway's `serve` that are neither the daemon nor its children."""
    found = []
    for pid in (int(n) for n in os.listdir("/proc") if n.isdigit()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if str(d.gateway.config).encode() in cmdline and pid != d.proc.pid and ppid != d.proc.pid:
            found.append(pid)
    return found


def _retry_crash_holds(d) -> None:
    """`mailgate quarantine retry` for each message the crash counter held: it is stored."""
    with d.db() as c:
        held = [(r[0], r[1]) for r in c.execute("SELECT id, error FROM quarantine WHERE state = 'held'")]
    for qid, error in held:
        assert "crashed the process" in error, error
        result = d.gateway.cli("quarantine", "retry", str(qid))
        assert result.exit_code == 0, result.output
