"""Timed jobs in the daemon's loop, with due times in the database (`scheduled_job`).

A job is a name, a function and a rule for its next due time. Due times survive restarts: a
job that came due while the daemon was down runs right after start-up. Another process may
pull a job forward by writing an earlier `next_run_at` (the scheduler re-reads due times
every tick), which is how `mailgate` commands can wake, say, a snooze job at once.

Register jobs before `run()`; other issues (snooze wake-ups, SLA checks, reminders) add
theirs through `Scheduler.register` from the daemon's composition root (serve.py JOBS).

Several nodes share the table: a due job is claimed before it runs (a compare-and-set on
its row: due, and not claimed, or claimed with the lease over), so each due time runs on one
node; a node that dies mid-run leaves a claim that ends with its lease (or when another node
marks it down), and the run then happens elsewhere. Its transaction died with it, so
nothing of it was committed twice; the jobs' own marks (LifecycleMark) are the last line.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mailgate.daemon.dbthread import DbThread
from mailgate.db.models import ScheduledJob, utcnow

log = logging.getLogger("mailgate.daemon.scheduler")

Clock = Callable[[], datetime]


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


@dataclass(frozen=True)
class Job:
    """`func` returns a short result for `mailgate status`. A plain function runs in the
    database thread (most jobs are database work); a coroutine function runs on the loop."""

    name: str
    func: Callable[[], str | None] | Callable[[], Awaitable[str | None]]
    interval: timedelta
    # optional: compute the next due time from "now" (e.g. the earliest snooze); else interval
    next_due: Callable[[datetime], datetime] | None = None
    # after a failure: retry sooner than `interval` would, but not in a tight loop
    retry_after: timedelta = timedelta(seconds=60)

    def due_after(self, now: datetime, failed: bool) -> datetime:
        if failed:
            return now + min(self.retry_after, self.interval)
        return self.next_due(now) if self.next_due else now + self.interval


class Scheduler:
    def __init__(self, db: DbThread, clock: Clock, tick: float = 1.0, owner: str = "", lease: float = 30.0) -> None:
        self.db = db
        self.clock = clock
        self.tick = tick
        self.owner = owner or "scheduler"  # the node name a claim carries
        self.lease = timedelta(seconds=lease)
        self.jobs: dict[str, Job] = {}

    def register(self, job: Job) -> None:
        if job.name in self.jobs:
            raise RuntimeError(f"duplicate scheduled job {job.name!r}")
        self.jobs[job.name] = job

    def _now(self) -> datetime:
        return _naive_utc(self.clock())

    def _ensure_rows(self) -> None:
        now = self._now()
        for name in self.jobs:  # ON CONFLICT: several nodes start at once
            ScheduledJob.insert(name=name, next_run_at=now).on_conflict_ignore().execute()

    def _due(self) -> list[str]:
        now = self._now()
        rows = ScheduledJob.select(ScheduledJob.name).where(
            ScheduledJob.name.in_(list(self.jobs)), ScheduledJob.next_run_at <= now
        ).order_by(ScheduledJob.next_run_at)
        return [r.name for r in rows]

    def _claim(self, name: str) -> bool:
        """This node runs the job's due time, unless another node claimed it first. The
        lease is wall-clock time (the scheduler's clock may be a test's)."""
        real = utcnow()
        free = (ScheduledJob.claimed_by == "") | ScheduledJob.claimed_until.is_null() | (ScheduledJob.claimed_until < real)
        return ScheduledJob.update(claimed_by=self.owner, claimed_until=real + self.lease).where(
            ScheduledJob.name == name, ScheduledJob.next_run_at <= self._now(), free).execute() == 1

    def _record(self, name: str, started: datetime, ok: bool, result: str) -> None:
        job = self.jobs[name]
        now = self._now()
        ScheduledJob.update(
            last_run_at=started, last_status="ok" if ok else "error", last_result=result[:2000],
            runs=ScheduledJob.runs + 1, failures=ScheduledJob.failures + (0 if ok else 1),
            next_run_at=_naive_utc(job.due_after(now, failed=not ok)), claimed_by="", claimed_until=None,
        ).where(ScheduledJob.name == name).execute()

    async def run_due(self) -> list[str]:
        """Run every job that is due now; returns their names. One failing job is logged and
        retried later; it never stops the others or the scheduler."""
        ran = []
        for name in await self.db.run(self._due):
            if not await self.db.run(self._claim, name):
                continue  # another node runs it (or ran it just now)
            job = self.jobs[name]
            started = self._now()
            try:
                if inspect.iscoroutinefunction(job.func):
                    result = await job.func()
                else:
                    result = await self.db.run(job.func)
                ok, text = True, str(result or "")
                log.debug("job %s ok: %s", name, text, extra={"outcome": "ok"})
            except Exception as exc:  # noqa: BLE001 - a job's bug must not stop the daemon
                ok, text = False, f"{type(exc).__name__}: {exc}"
                log.exception("job %s failed: %s", name, text, extra={"outcome": "error"})
            await self.db.run(self._record, name, started, ok, text)
            ran.append(name)
        return ran

    async def run(self, stop: asyncio.Event) -> None:
        await self.db.run(self._ensure_rows)
        log.info("scheduler started with jobs: %s", ", ".join(sorted(self.jobs)) or "none")
        while not stop.is_set():
            await self.run_due()
            try:
                await asyncio.wait_for(stop.wait(), self.tick)
            except TimeoutError:
                pass
