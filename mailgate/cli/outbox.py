"""`mailgate outbox list`."""

from __future__ import annotations

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


@click.group()
def outbox() -> None:
    """Mail waiting to be sent, sent, or failed."""


@outbox.command("list")
@click.option("--state", type=click.Choice(["pending", "sent", "failed"]))
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
