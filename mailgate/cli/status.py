"""`mailgate status`: is the daemon alive, and is anything piling up?"""

from __future__ import annotations

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table
from mailgate.status_report import collect


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Daemon liveness, spool backlog, quarantine, outbox and IMAP sync state. Exits 1 when
    something stops work (a daemon task that keeps crashing), for monitoring checks."""
    ctx.env  # noqa: B018 - opens the database
    data = collect(ctx.env)
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
                   f"{' stopped ' + d['stopped'] if d['stopped'] else ''}"
                   f"{' DOWN since ' + d['down'] if d['down'] else ''} processed {d['processed']}")
        if d["holds"] or (d["role"] and d["role"] != "daemon"):
            held = d["holds"]
            parts = [f"{held['spool_entries']} spool entries"] if held.get("spool_entries") else []
            parts += [f"IMAP {', '.join(held['imap'])}"] if held.get("imap") else []
            parts += [f"running {', '.join(held['jobs'])}"] if held.get("jobs") else []
            parts += [f"sending {held['outbox_sending']} mails"] if held.get("outbox_sending") else []
            click.echo(f"               host {d['host']}, runs {d['role'] or '-'}; holds {', '.join(parts) or 'nothing'}")
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
