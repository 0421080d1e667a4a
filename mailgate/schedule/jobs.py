"""The timed jobs by name (the daemon's scheduler runs them: mailgate.daemon.jobs).

The due times live in `scheduled_job` (the Scheduler's table) and the work to do is found
from stored rows (snoozes, ticket times, marks), so nothing depends on memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mailgate.db.transaction import write_transaction
from mailgate.incidents.news import tell_subscribers
from mailgate.lifecycle.snooze import JOB_NAME as WAKE_JOB
from mailgate.reports.mailing import send_reports
from mailgate.schedule.archive import archive
from mailgate.schedule.digests import send_digests
from mailgate.schedule.escalation import escalate
from mailgate.schedule.sla_watch import check_sla
from mailgate.schedule.wake import wake_due

if TYPE_CHECKING:
    from mailgate.env import Env

TASKS: dict[str, Callable[[Env], str]] = {
    WAKE_JOB: wake_due,
    "lifecycle-sla": check_sla,
    "lifecycle-escalate": escalate,
    "lifecycle-archive": archive,
    "lifecycle-digest": send_digests,
    "incident-news": tell_subscribers,  # issue 15
    "report-mail": send_reports,
}


def run_task(env: Env, name: str) -> str:
    with write_transaction():
        return TASKS[name](env)
