"""Fault tests: kill -9 of the daemon while mail arrives loses and duplicates nothing."""

from __future__ import annotations

import pytest

from tests.daemon.faults import kill_loop


@pytest.mark.timeout(300)
def test_kill_9_at_random_points_loses_and_duplicates_nothing(make_daemon) -> None:
    d = make_daemon()
    figures = kill_loop(d, count=500)
    print(f"\nkill -9 fault run: {figures.as_dict()}")
    assert figures.kills >= 5, figures  # the run really was interrupted
    assert figures.acknowledged == figures.sent == 500, figures
    assert figures.lost == 0 and figures.duplicates == 0, figures
    assert figures.stored == figures.acknowledged, figures
    # the worker left nothing behind: every accepted message has an outcome
    assert not list((d.spool / "queue").glob("*.json")) and not list((d.spool / "processing").glob("*.json"))
