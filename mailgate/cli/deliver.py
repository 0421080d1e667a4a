"""`mailgate deliver`: the MTA pipe. Exit codes follow sysexits.h so the MTA does the right
thing: 0 accepted, 75 try again later, 67 no such recipient, 65 refused (too large)."""

from __future__ import annotations

import sys

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.errors import ConfigError, TransientError
from mailgate.recipients import recipient_known
from mailgate.spool import Spool

EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 65, 67, 75

__all__ = ["deliver", "recipient_known"]


@click.command()
@click.option("--recipient", "-r", multiple=True, metavar="ADDR",
              help="Envelope recipient (Postfix: ${recipient}); checked against the queues.")
@click.option("--source", default="pipe", show_default=True, help="Label stored with the message.")
@pass_ctx
def deliver(ctx: Context, recipient: tuple[str, ...], source: str) -> None:
    """Read one message on stdin and accept it durably (processed inline unless a daemon runs)."""
    try:
        settings = ctx.settings
    except ConfigError as exc:
        # a config error must not bounce mail: the MTA keeps it and retries after the fix
        click.echo(f"mailgate: configuration error: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    for address in recipient:
        if not recipient_known(settings, address):
            click.echo(f"mailgate: {address}: no such queue or reply address", err=True)
            sys.exit(EX_NOUSER)
    raw = sys.stdin.buffer.read()
    limit = settings.gateway.max_message_size
    if len(raw) > limit:
        click.echo(f"mailgate: message of {len(raw)} bytes exceeds the limit of {limit} bytes", err=True)
        sys.exit(EX_DATAERR)
    if not raw.strip():
        click.echo("mailgate: empty message on stdin", err=True)
        sys.exit(EX_DATAERR)
    spool = Spool(settings.spool_dir)
    try:
        entry = spool.accept(raw, source, recipient)
    except TransientError as exc:
        click.echo(f"mailgate: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    if spool.daemon_running():
        return  # the daemon's worker picks it up
    # Accepted durably: from here on any failure leaves the entry queued for the next run,
    # so the exit status stays 0 and the MTA does not deliver it twice.
    try:
        from mailgate.pipeline import process_entry

        env = ctx.env
        claimed = env.spool.claim(entry.name)
        if claimed is not None:
            try:
                outcome = process_entry(claimed, env)
            except TransientError:
                env.spool.release(claimed)
                raise
            if ctx.verbose:
                click.echo(f"{outcome.status} ticket={outcome.ticket_id} {outcome.detail}", err=True)
    except Exception as exc:  # noqa: BLE001 - the message is safe in the spool
        click.echo(f"mailgate: accepted, processing deferred: {exc}", err=True)
