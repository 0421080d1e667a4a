"""The lifecycle's scheduler jobs, registered by the daemon's composition root.

Each job is a plain function run in the daemon's database thread, inside one transaction:
what it changed, the mails it queued and the marks that stop it repeating commit together.
The due times live in `scheduled_job` (the Scheduler's table) and the work to do is found
from stored rows (snoozes, ticket times, marks), so nothing depends on memory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from mailgate.daemon.scheduler import Job
from mailgate.db.transaction import write_transaction
from mailgate.lifecycle.archive import archive
from mailgate.lifecycle.escalation import escalate
from mailgate.lifecycle.reminders import send_digests
from mailgate.lifecycle.sla import check_sla
from mailgate.lifecycle.snooze import JOB_NAME as WAKE_JOB
from mailgate.lifecycle.snooze import next_wake, wake_due
from mailgate.stages.base import Env

TASKS: dict[str, Callable[[Env], str]] = {
    WAKE_JOB: wake_due,
    "lifecycle-sla": check_sla,
    "lifecycle-escalate": escalate,
    "lifecycle-archive": archive,
    "lifecycle-digest": send_digests,
}


def run_task(env: Env, name: str) -> str:
    with write_transaction():
        return TASKS[name](env)


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
