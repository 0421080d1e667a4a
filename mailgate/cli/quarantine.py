"""`mailgate quarantine list|show|retry|discard`."""

from __future__ import annotations

import sys

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


def _get(number: int):  # noqa: ANN202 - peewee row
    from mailgate.db.models import Quarantine

    q = Quarantine.get_or_none(Quarantine.id == number)
    if q is None:
        raise click.ClickException(f"no quarantined message #{number}")
    return q


@click.group()
def quarantine() -> None:
    """Messages that could not be processed, kept with their raw bytes."""


@quarantine.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include retried and discarded entries.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_quarantine(ctx: Context, show_all: bool, as_json: bool) -> None:
    from mailgate.db.models import Quarantine
    from mailgate.views import quarantine_dict

    ctx.env  # noqa: B018
    query = Quarantine.select().order_by(Quarantine.id)
    if not show_all:
        query = query.where(Quarantine.state == "held")
    rows = [quarantine_dict(q) for q in query]
    if as_json:
        emit_json(rows)
        return
    table(["id", "state", "stage", "source", "created", "error"],
          [[r["id"], r["state"], r["stage"], r["source"], (r["created_at"] or "")[:19], r["error"]] for r in rows],
          empty="Quarantine is empty.")


@quarantine.command("show")
@click.argument("number", type=int)
@click.option("--raw", is_flag=True, help="Write the exact raw bytes to stdout.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def show_quarantine(ctx: Context, number: int, raw: bool, as_json: bool) -> None:
    from mailgate.views import quarantine_dict

    env = ctx.env
    q = _get(number)
    if raw:
        sys.stdout.buffer.write(env.spool.read_raw(q.raw_sha256))
        sys.stdout.buffer.flush()
        return
    data = quarantine_dict(q) | {"traceback": q.traceback}
    if as_json:
        emit_json(data)
        return
    for key in ("id", "state", "stage", "source", "recipients", "created_at", "sha256", "error"):
        click.echo(f"{key}: {data[key]}")
    if q.traceback:
        click.echo("\n" + q.traceback.rstrip())


@quarantine.command("retry")
@click.argument("number", type=int)
@pass_ctx
def retry_quarantine(ctx: Context, number: int) -> None:
    """Run a quarantined message through the pipeline again (after a fix)."""
    from mailgate.core.errors import Conflict
    from mailgate.held import release
    from mailgate.pipeline import process_entry

    env = ctx.env
    _get(number)
    try:
        entry = release(env.spool, number)
    except Conflict as exc:
        raise click.ClickException(str(exc)) from None
    claimed = env.spool.claim(entry.name)
    outcome = process_entry(claimed, env) if claimed else None
    if outcome is None:
        click.echo("queued for the daemon")
    elif outcome.status == "quarantined":
        click.echo(f"still failing, quarantined again as #{outcome.quarantine_id}: {outcome.detail}")
        sys.exit(1)
    else:
        click.echo(f"{outcome.status}: ticket #{outcome.ticket_id}")


@quarantine.command("discard")
@click.argument("number", type=int)
@pass_ctx
def discard_quarantine(ctx: Context, number: int) -> None:
    """Mark a quarantined message as discarded (its raw bytes stay in the spool)."""
    from mailgate.held import discard

    ctx.env  # noqa: B018
    _get(number)
    discard(number)
    click.echo(f"discarded #{number}")
