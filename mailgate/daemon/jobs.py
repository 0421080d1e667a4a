"""The timed jobs (mailgate.schedule) as scheduler Jobs: each one's interval, and the
wake-up job's next due time pulled forward to the earliest snooze."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from mailgate.daemon.scheduler import Job
from mailgate.env import Env
from mailgate.lifecycle.snooze import JOB_NAME as WAKE_JOB
from mailgate.schedule.jobs import TASKS, run_task
from mailgate.schedule.wake import next_wake


def lifecycle_jobs(env: Env) -> list[Job]:
    interval = timedelta(seconds=env.settings.lifecycle.check_interval)
    jobs = []
    for name in TASKS:
        nxt: Callable[[datetime], datetime] | None = None
        if name == WAKE_JOB:
            def nxt(now: datetime) -> datetime:
                return next_wake(now, interval)
        jobs.append(Job(name, lambda n=name: run_task(env, n), interval, next_due=nxt))
    return jobs
