"""`mailgate ticket list|show` and `mailgate process`."""

from __future__ import annotations

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table
from mailgate.db.models import STATUSES


@click.group()
def ticket() -> None:
    """List and show tickets."""


@ticket.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only tickets in this status.")
@click.option("--queue", help="Only tickets in this queue.")
@click.option("--all", "show_all", is_flag=True, help="Include archived and merged tickets.")
@click.option("--search", metavar="QUERY", help="Only tickets with a message that matches QUERY (any status; "
              "the language of `mailgate search`).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_tickets(ctx: Context, status: str | None, queue: str | None, as_json: bool, show_all: bool = False,
                 search: str | None = None) -> None:
    """List tickets, newest first (archived and merged ones only with --all, --status or --search)."""
    from mailgate.db.models import Queue, Ticket
    from mailgate.views import ticket_summary

    ctx.env  # noqa: B018 - opens the database
    if queue and ctx.settings.queue_named(queue) is None:
        raise click.BadParameter(f"unknown queue {queue!r} (known: {', '.join(q.name for q in ctx.settings.queues)})",
                                 param_hint="--queue")
    query = Ticket.select().join(Queue).order_by(Ticket.id.desc())
    if status:
        query = query.where(Ticket.status == status)
    elif not show_all and not search:  # issue 7: archived (read-only) and merged tickets stay out of the way
        query = query.where(Ticket.status.not_in(("archived", "merged")))
    if search:  # issue 7: archived tickets stay searchable; issue 15: through the index
        from mailgate.search import OPERATOR, QueryError, matching_tickets

        try:
            query = query.where(Ticket.id.in_(matching_tickets(search, OPERATOR) or [0]))
        except QueryError as exc:
            raise click.BadParameter(str(exc), param_hint="--search") from None
    if queue:
        query = query.where(Queue.name == queue)
    rows = [ticket_summary(t) for t in query]
    if as_json:
        emit_json(rows)
        return
    table(["id", "status", "pri", "queue", "requester", "owner", "updated", "subject"],
          [[r["id"], r["status"], r["priority"], r["queue"], r["requester"], r["owner"] or "-",
            (r["updated_at"] or "")[:16].replace("T", " "), r["subject"]] for r in rows],
          empty="No tickets.")


@ticket.command("show")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def show_ticket(ctx: Context, number: int, as_json: bool) -> None:
    """Show one ticket with its messages and history."""
    from mailgate.db.models import Ticket
    from mailgate.views import ticket_detail

    ctx.env  # noqa: B018
    t = Ticket.get_or_none(Ticket.id == number)
    if t is None:
        raise click.ClickException(f"no ticket #{number}")
    data = ticket_detail(t)
    from mailgate.lifecycle.view import lifecycle_fields, lifecycle_text  # issue 7

    data.update(lifecycle_fields(t, ctx.settings))
    if as_json:
        emit_json(data)
        return
    click.echo(f"#{data['id']} {data['subject']}")
    click.echo(f"status: {data['status']}  priority: {data['priority']}  queue: {data['queue']}  "
               f"owner: {data['owner'] or '-'}  requester: {data['requester']}")
    if data["parent"] or data["children"]:
        click.echo(f"parent: {data['parent'] or '-'}  children: {', '.join(map(str, data['children'])) or '-'}")
    click.echo(f"nosy: {', '.join(data['nosy']) or '-'}")
    if data["tags"]:
        click.echo(f"tags: {', '.join(data['tags'])}")
    if data["alert"]:
        a = data["alert"]
        click.echo(f"alert: {a['fingerprint']} {a['state_text'] or a['state']}, {a['occurrences']} occurrences "
                   f"({(a['first_seen'] or '')[:16]} … {(a['last_seen'] or '')[:16]}), reopened {a['reopened']}×")
    for line in lifecycle_text(data):
        click.echo(line)
    for m in data["messages"]:
        note = " [internal note]" if m["internal"] else ""
        click.echo(f"\n--- {m['direction']} {m['date'] or ''} {m['from']} ({m['thread_signal'] or m['auto_class'] or '-'}){note}")
        click.echo(m["body"].rstrip() or "(no text)")
        for a in m["attachments"]:
            click.echo(f"  [attachment] {a['safe_name'] if a['filename'] else '(unnamed)'} {a['content_type']} "
                       f"{a['size']} bytes")
    if data["events"]:
        click.echo("\nhistory:")
        for e in data["events"]:
            via = f" ({e['source']})" if e["source"] else ""
            click.echo(f"  {e['at'][:19]} {e['actor']}{via}: {e['field']} {e['old'] or ''} → {e['new'] or ''}")


@click.command()
@pass_ctx
def process(ctx: Context) -> None:
    """Process everything waiting in the spool (recovering entries a crash left behind)."""
    from mailgate.pipeline import drain

    env = ctx.env
    recovered = env.spool.recover()
    outcomes = drain(env)
    click.echo(f"recovered {recovered}, processed {len(outcomes)}: "
               + ", ".join(f"{s} {sum(1 for o in outcomes if o.status == s)}"
                           for s in sorted({o.status for o in outcomes})))


def _add_write_commands() -> None:
    from mailgate.cli.ticket_write import command, note, reply

    for cmd in (note, reply, command):
        ticket.add_command(cmd)


_add_write_commands()
