"""The scheduler with an injected clock and a real SQLite database: jobs run when due, due
times survive a restart, a failing job is recorded and retried without stopping the others."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from mailgate.daemon.dbthread import DbThread
from mailgate.daemon.scheduler import Job, Scheduler
from mailgate.db.models import ScheduledJob


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 12, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def db(tmp_path: Path):
    thread = DbThread()

    def open_db() -> None:
        from mailgate.db.connect import open_database

        open_database(f"sqlite:///{tmp_path / 'mailgate.db'}")

    asyncio.run(thread.run(open_db))
    yield thread
    thread.stop()


def row(db: DbThread, name: str) -> ScheduledJob:
    return asyncio.run(db.run(lambda: ScheduledJob.get(ScheduledJob.name == name)))


def test_jobs_run_when_due_and_due_times_survive_a_restart(db: DbThread) -> None:
    clock = Clock()
    ran: list[str] = []

    def tick() -> str:
        ran.append("tick")
        return f"ran {len(ran)}"

    async def boom() -> str:
        raise RuntimeError("relay unreachable")

    def make() -> Scheduler:
        s = Scheduler(db, clock)
        s.register(Job("tick", tick, timedelta(minutes=5)))
        s.register(Job("boom", boom, timedelta(hours=1), retry_after=timedelta(minutes=2)))
        return s

    async def first_run() -> list[str]:
        s = make()
        await s.db.run(s._ensure_rows)
        return await s.run_due()

    assert sorted(asyncio.run(first_run())) == ["boom", "tick"]  # new jobs are due at once
    t = row(db, "tick")
    assert t.last_status == "ok" and t.last_result == "ran 1" and t.next_run_at == clock.now + timedelta(minutes=5)
    b = row(db, "boom")
    assert b.last_status == "error" and "RuntimeError: relay unreachable" in b.last_result
    assert b.failures == 1 and b.next_run_at == clock.now + timedelta(minutes=2)  # retried sooner

    # a new scheduler (the daemon restarted) keeps the stored due times
    async def later(minutes: float) -> list[str]:
        clock.advance(minutes=minutes)
        s = make()
        await s.db.run(s._ensure_rows)
        return await s.run_due()

    assert asyncio.run(later(1)) == []
    assert asyncio.run(later(1.5)) == ["boom"]
    assert sorted(asyncio.run(later(3))) == ["boom", "tick"]  # boom failed again at +2.5: due at +4.5
    assert ran == ["tick", "tick"]

    # another process pulls a job forward by writing an earlier due time
    asyncio.run(db.run(lambda: ScheduledJob.update(next_run_at=clock.now).where(ScheduledJob.name == "tick").execute()))
    assert asyncio.run(later(0)) == ["tick"]


def test_duplicate_job_names_are_refused(db: DbThread) -> None:
    s = Scheduler(db, Clock())
    s.register(Job("tick", lambda: None, timedelta(minutes=1)))
    with pytest.raises(RuntimeError, match="duplicate scheduled job 'tick'"):
        s.register(Job("tick", lambda: None, timedelta(minutes=1)))


def test_run_loop_stops_on_the_event(db: DbThread) -> None:
    clock = Clock()
    calls: list[datetime] = []
    s = Scheduler(db, clock, tick=0.01)
    s.register(Job("once", lambda: calls.append(clock.now), timedelta(days=1)))

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(s.run(stop))
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.wait_for(task, 2)

    asyncio.run(main())
    assert len(calls) == 1  # ran once; next due in a day of the injected clock
