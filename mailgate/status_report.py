"""Is the daemon alive, and is anything piling up? One report for `mailgate status` and
the API's GET /api/v1/status."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from peewee import fn

from mailgate.db.models import DaemonState, ImapAccountState, Outbox, Quarantine, ScheduledJob
from mailgate.db.task_health import failing

if TYPE_CHECKING:
    from mailgate.env import Env


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def collect(env: Env) -> dict[str, Any]:
    """What `mailgate status --json` and GET /api/v1/status report."""
    spool = env.spool
    counts = spool.counts()  # reads only: a spool no daemon ever used has no folders yet
    outbox = {state: Outbox.select().where(Outbox.state == state).count() for state in ("pending", "failed")}
    retrying = Outbox.select().where(Outbox.state == "pending", Outbox.attempts > 0).count()
    oldest = Outbox.select(fn.MIN(Outbox.created_at)).where(Outbox.state == "pending").scalar()
    states = {s.account: s for s in ImapAccountState.select()}
    imap = []
    for account in env.settings.imap:
        st = states.get(account.name)
        imap.append({"account": account.name, "host": f"{account.host}:{account.port}", "folder": account.folder,
                     "last_sync": _iso(st.last_sync_at) if st else None,
                     "last_error": (st.last_error if st else "") or "", "fetched": st.fetched if st else 0})
    daemons = [{"node": d.node, "pid": d.pid, "started": _iso(d.started_at), "heartbeat": _iso(d.heartbeat_at),
                "stopped": _iso(d.stopped_at), "processed": d.processed} for d in DaemonState.select()]
    jobs = [{"name": j.name, "next_run": _iso(j.next_run_at), "last_run": _iso(j.last_run_at),
             "last_status": j.last_status, "last_result": j.last_result, "runs": j.runs, "failures": j.failures}
            for j in ScheduledJob.select().order_by(ScheduledJob.name)]
    running = spool.daemon_running()
    tasks = [{"node": t.node, "task": t.task, "failures": t.failures, "last_error": t.last_error,
              "since": _iso(t.first_failed_at), "last_failure": _iso(t.last_failed_at)} for t in failing()]
    errors = [f"task {t['task']} is failing: {t['failures']} crash{'es' if t['failures'] != 1 else ''} since "
              f"{t['since']}, the last at {t['last_failure']}: {t['last_error']}" for t in tasks]
    return {
        "daemon": "running" if running else "not running" if daemons else "never started",
        "daemon_running": running,
        "errors": errors,
        "failing_tasks": tasks,
        "spool": counts,
        "quarantine": Quarantine.select().where(Quarantine.state == "held").count(),
        "outbox": {"pending": outbox["pending"], "retrying": retrying, "failed": outbox["failed"],
                   "oldest_pending": _iso(oldest)},
        "imap": imap,
        "daemons": daemons,
        "jobs": jobs,
    }
