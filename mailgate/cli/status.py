"""`mailgate status`: is the daemon alive, and is anything piling up?"""

from __future__ import annotations

import os
from datetime import datetime

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def collect(ctx: Context) -> dict:
    from peewee import fn

    from mailgate.db.models import DaemonState, ImapAccountState, Outbox, Quarantine, ScheduledJob

    env = ctx.env
    spool = env.spool
    processing = len([n for n in os.listdir(spool.processing_dir) if n.endswith(".json")])
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
    return {
        "daemon_running": spool.daemon_running(),
        "spool": {"queued": len(spool.pending()), "processing": processing},
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
    """Daemon liveness, spool backlog, quarantine, outbox and IMAP sync state."""
    data = collect(ctx)
    if as_json:
        emit_json(data)
        return
    running = "running" if data["daemon_running"] else "not running"
    click.echo(f"daemon:      {running}")
    for d in data["daemons"]:
        click.echo(f"             {d['node']} pid {d['pid']} started {d['started']} heartbeat {d['heartbeat']}"
                   f"{' stopped ' + d['stopped'] if d['stopped'] else ''} processed {d['processed']}")
    click.echo(f"spool:       {data['spool']['queued']} queued, {data['spool']['processing']} in processing")
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
