"""Is the daemon alive, and is anything piling up? One report for `mailgate status` and
the API's GET /api/v1/status."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from peewee import fn

from mailgate.db.models import (
    DaemonState,
    ImapAccountState,
    Outbox,
    Quarantine,
    ScheduledJob,
    database_proxy,
)
from mailgate.db.task_health import failing

if TYPE_CHECKING:
    from mailgate.env import Env


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def node_holds() -> dict[str, dict[str, Any]]:
    """What each node holds now (the spool in the database): claimed spool entries, IMAP
    accounts, job runs, outbox mails it is sending."""
    db = database_proxy.obj
    now = "(now() AT TIME ZONE 'UTC')"
    out: dict[str, dict[str, Any]] = {}
    for node, n in db.execute_sql("SELECT claimed_by, count(*) FROM spool_entry"
                                  f" WHERE claimed_until >= {now} GROUP BY claimed_by").fetchall():
        out.setdefault(node, {})["spool_entries"] = n
    for node, account in db.execute_sql("SELECT holder, account FROM imap_account_state WHERE holder <> ''"
                                        f" AND held_until >= {now} ORDER BY account").fetchall():
        out.setdefault(node, {}).setdefault("imap", []).append(account)
    for node, name in db.execute_sql("SELECT claimed_by, name FROM scheduled_job WHERE claimed_by <> ''"
                                     " ORDER BY name").fetchall():
        out.setdefault(node, {}).setdefault("jobs", []).append(name)
    for node, n in db.execute_sql("SELECT claimed_by, count(*) FROM outbox WHERE state = 'sending'"
                                  " AND claimed_by <> '' GROUP BY claimed_by").fetchall():
        out.setdefault(node, {})["outbox_sending"] = n
    return out


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
    holds = node_holds() if env.settings.spool_in_database else {}
    daemons = [{"node": d.node, "host": d.host, "pid": d.pid, "role": d.role,
                "state": "stopped" if d.stopped_at else "down" if d.down_at else "up",
                "started": _iso(d.started_at), "heartbeat": _iso(d.heartbeat_at),
                "stopped": _iso(d.stopped_at), "down": _iso(d.down_at), "processed": d.processed,
                "holds": holds.get(d.node, {})}
               for d in DaemonState.select().order_by(DaemonState.started_at)]
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
