"""`mailgate status`: is the daemon alive, and is anything piling up?"""

from __future__ import annotations

from datetime import datetime

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def collect(ctx: Context) -> dict:
    from peewee import fn

    from mailgate.db.models import DaemonState, ImapAccountState, Outbox, Quarantine, ScheduledJob
    from mailgate.db.task_health import failing

    env = ctx.env
    spool = env.spool
    counts = spool.counts()  # reads only: a spool no daemon ever used has no folders yet
    outbox = {state: Outbox.select().where(Outbox.state == state).count() for state in ("pending", "failed")}
    retrying = Outbox.select().where(Outbox.state == "pending", Outbox.attempts > 0).count()
    oldest = Outbox.select(fn.MIN(Outbox.created_at)).where(Outbox.state == "pending").scalar()
    states = {s.account: s for s in ImapAccountState.select()}
    imap = []
    for account in ctx.settings.imap:
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


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Daemon liveness, spool backlog, quarantine, outbox and IMAP sync state. Exits 1 when
    something stops work (a daemon task that keeps crashing), for monitoring checks."""
    data = collect(ctx)
    if as_json:
        emit_json(data)
    else:
        _print(data)
    if data["errors"]:
        raise SystemExit(1)


def _print(data: dict) -> None:
    click.echo(f"daemon:      {data['daemon']}")
    for d in data["daemons"]:
        click.echo(f"             {d['node']} pid {d['pid']} started {d['started']} heartbeat {d['heartbeat']}"
                   f"{' stopped ' + d['stopped'] if d['stopped'] else ''} processed {d['processed']}")
    for error in data["errors"]:
        click.echo(f"ERROR:       {error}")
    sp = data["spool"]
    click.echo(f"spool:       {sp['queued']} queued, {sp['processing']} in processing"
               + (f", {sp['set_aside']} set aside (unreadable by the daemon's user: see its log; they are"
                  " queued again once readable)" if sp["set_aside"] else ""))
    click.echo(f"quarantine:  {data['quarantine']} held")
    o = data["outbox"]
    click.echo(f"outbox:      {o['pending']} pending ({o['retrying']} retrying), {o['failed']} failed"
               + (f", oldest pending {o['oldest_pending']}" if o["oldest_pending"] else ""))
    if data["imap"]:
        click.echo("")
        table(["account", "server", "folder", "last sync", "fetched", "error"],
              [[a["account"], a["host"], a["folder"], a["last_sync"] or "never", a["fetched"], a["last_error"]]
               for a in data["imap"]])
    if data["jobs"]:
        click.echo("")
        table(["job", "next run", "last run", "status", "runs", "failures", "result"],
              [[j["name"], j["next_run"], j["last_run"] or "-", j["last_status"] or "-", j["runs"], j["failures"],
                j["last_result"]] for j in data["jobs"]])
