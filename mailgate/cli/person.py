"""`mailgate person show ADDRESS`: a person's tickets, open and past, so a technician sees
recurring problems at a glance."""

from __future__ import annotations

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


@click.group()
def person() -> None:
    """People and their tickets."""


@person.command("show")
@click.argument("address")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def show_person(ctx: Context, address: str, as_json: bool) -> None:
    """List the tickets ADDRESS requested, owns or watches, newest first."""
    from mailgate.lifecycle.view import person_view

    ctx.env  # noqa: B018 - opens the database
    data = person_view(address)
    if data is None:
        raise click.ClickException(f"no person {address!r} in the store (nobody with that address wrote "
                                   "or was added to a ticket)")
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['name'] or '-'} <{data['address']}>  role: {data['role']}  "
               f"tickets: {data['total']} ({data['open']} open)")
    table(["id", "status", "pri", "queue", "as", "updated", "subject"],
          [[r["id"], r["status"], r["priority"], r["queue"], ",".join(r["relations"]),
            (r["updated_at"] or "")[:16].replace("T", " "), r["subject"]] for r in data["tickets"]],
          empty="No tickets.")
