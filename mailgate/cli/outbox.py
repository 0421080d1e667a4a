"""`mailgate outbox list|send|retry`."""

from __future__ import annotations

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


@click.group()
def outbox() -> None:
    """Mail waiting to be sent, sent, or failed."""


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "sending", "sent", "failed"]))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_outbox(ctx: Context, state: str | None, as_json: bool) -> None:
    """List outbox entries; --json includes the full RFC 5322 text."""
    from mailgate.db.models import Outbox
    from mailgate.views import outbox_dict

    ctx.env  # noqa: B018
    query = Outbox.select().order_by(Outbox.id)
    if state:
        query = query.where(Outbox.state == state)
    rows = [outbox_dict(o) for o in query]
    if as_json:
        emit_json(rows)
        return
    table(["id", "ticket", "kind", "state", "tries", "recipients", "error"],
          [[r["id"], r["ticket"], r["kind"], r["state"], r["attempts"], ", ".join(r["recipients"]),
            r["last_error"] or ""] for r in rows], empty="Outbox is empty.")


@outbox.command("send")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def send_outbox(ctx: Context, as_json: bool) -> None:
    """Send every due mail once through [relay] and exit (for pipe-only installs, from cron)."""
    import asyncio

    from mailgate.outbox_sender import OutboxSender

    sender = OutboxSender(ctx.env)
    try:
        asyncio.run(sender.send_due())
    finally:
        sender.close()
    stats = sender.last
    if as_json:
        emit_json({"sent": stats.sent, "deferred": stats.deferred, "failed": stats.failed, "errors": stats.errors})
        return
    click.echo(f"sent {stats.sent}, will retry {stats.deferred}, failed {stats.failed}")
    for line in stats.errors:
        click.echo(f"  {line}")


@outbox.command("retry")
@click.argument("entry", type=int, required=False)
@click.option("--all-failed", is_flag=True, help="Retry every failed entry.")
@pass_ctx
def retry_outbox(ctx: Context, entry: int | None, all_failed: bool) -> None:
    """Put a failed entry (or --all-failed) back in the queue, sendable now.

    The recipients' "bouncing" mark is cleared: retrying says the address works again."""
    from mailgate.core.errors import Conflict
    from mailgate.db.models import Outbox
    from mailgate.db.transaction import write_transaction
    from mailgate.held import retry_outbox as queue_again

    if (entry is None) == (not all_failed):
        raise click.UsageError("give either an outbox ID or --all-failed")
    env = ctx.env
    now = env.clock().replace(tzinfo=None)
    with write_transaction():
        if all_failed:
            rows = list(Outbox.select().where(Outbox.state == "failed"))
        else:
            row = Outbox.get_or_none(Outbox.id == entry)
            if row is None:
                raise click.ClickException(f"no outbox entry #{entry}")
            rows = [row]
        try:
            recipients = queue_again(rows, now)
        except Conflict as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'} queued again"
               + (f" (no longer marked bouncing: {', '.join(recipients)})" if recipients else ""))
