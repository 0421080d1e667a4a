"""`mailgate token create|list|revoke` and `mailgate login-link`: credentials for the API and
the web desk, made on the server by whoever may run mailgate there.

A token is printed once and stored only as a hash; it acts as its person, with that
person's role and queues. `login-link` prints a single-use sign-in link, for the first
sign-in before any relay is set up (it is not mailed)."""

from __future__ import annotations

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.cli.output import emit_json, table


def _person(ctx: Context, address: str) -> object:
    from mailgate.people import person_for

    address = address.strip().lower()
    if "@" not in address:
        raise click.BadParameter(f"expected an email address, got {address!r}", param_hint="ADDRESS")
    ctx.env  # noqa: B018 - opens the database
    return person_for(address)


@click.group()
def token() -> None:
    """API tokens (Authorization: Bearer ...)."""


@token.command("create")
@click.argument("address")
@click.option("--name", default="", help="What the token is for (shown in listings).")
@click.option("--expires", "days", type=click.FloatRange(min=0.001), default=None, metavar="DAYS",
              help="It stops working after DAYS (default: never).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def create(ctx: Context, address: str, name: str, days: float | None, as_json: bool) -> None:
    """Make a token acting as ADDRESS; it is printed once, keep it safe."""
    from mailgate.access.tokens import create_token, token_dict
    from mailgate.db.transaction import write_transaction

    person = _person(ctx, address)
    with write_transaction():
        value, row = create_token(person, name, ctx.env.now(), days, created_by="cli")  # type: ignore[arg-type]
    data = {**token_dict(row, ctx.env.now()), "token": value}
    if as_json:
        emit_json(data)
        return
    role = ctx.settings.person(row.person.address)
    click.echo(value)
    click.echo(f"token #{row.id} for {row.person.address} ({role.role if role else 'requester'})"
               + (f", expires {data['expires_at']}" if data["expires_at"] else "") +
               "; shown only now: it is stored as a hash", err=True)


@token.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include revoked and expired tokens.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_tokens(ctx: Context, show_all: bool, as_json: bool) -> None:
    """The tokens, newest first (their secret part is never shown again)."""
    from mailgate.access.tokens import token_dict
    from mailgate.db.access_models import ApiToken

    ctx.env  # noqa: B018
    rows = [token_dict(t, ctx.env.now()) for t in ApiToken.select().order_by(ApiToken.id.desc())]
    rows = [r for r in rows if show_all or r["state"] == "active"]
    if as_json:
        emit_json(rows)
        return
    table(["id", "person", "name", "prefix", "state", "created", "expires", "last used"],
          [[r["id"], r["person"], r["name"], r["prefix"], r["state"], (r["created_at"] or "")[:16],
            (r["expires_at"] or "-")[:16], (r["last_used_at"] or "-")[:16]] for r in rows], empty="No tokens.")


@token.command("revoke")
@click.argument("token_id", type=int)
@pass_ctx
def revoke(ctx: Context, token_id: int) -> None:
    """End token TOKEN_ID now (its next request gets 401)."""
    from mailgate.access.tokens import revoke_token
    from mailgate.db.transaction import write_transaction

    ctx.env  # noqa: B018
    with write_transaction():
        row = revoke_token(token_id, ctx.env.now())
    if row is None:
        raise click.ClickException(f"no token #{token_id} (mailgate token list --all)")
    click.echo(f"token #{row.id} of {row.person.address} revoked")


@click.command("login-link")
@click.argument("address")
@pass_ctx
def login_link(ctx: Context, address: str) -> None:
    """Print a single-use sign-in link for ADDRESS (staff, or a requester with tickets)."""
    from mailgate.access.signin import create_login_link
    from mailgate.db.transaction import write_transaction
    from mailgate.http.signin import login_url, may_sign_in

    ctx.env  # noqa: B018
    with write_transaction():
        person = may_sign_in(ctx.env, address.strip().lower())
        if person is None:
            raise click.ClickException(f"{address} may not sign in: not in the staff directory ([[person]]) "
                                       "and not the requester of any ticket")
        minutes = ctx.settings.web.login_link_minutes
        value = create_login_link(person, ctx.env.now(), minutes)
    click.echo(login_url(ctx.env, value))
    click.echo(f"works once, for {minutes:g} minutes, for {person.address}", err=True)
