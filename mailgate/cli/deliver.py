"""`mailgate deliver`: the MTA pipe, as a click command. The work is mailgate.mta_pipe's
`deliver`, the same function the console script's fast path calls (mailgate.console): this
wrapper runs for `--help` and for argument lists the fast path leaves to click."""

from __future__ import annotations

import sys

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.mta_pipe import EX_DATAERR, EX_NOUSER, EX_TEMPFAIL
from mailgate.mta_pipe import deliver as deliver_message
from mailgate.recipients import recipient_known

__all__ = ["EX_DATAERR", "EX_NOUSER", "EX_TEMPFAIL", "deliver", "recipient_known"]


@click.command()
@click.option("--recipient", "-r", multiple=True, metavar="ADDR",
              help="Envelope recipient (Postfix: ${recipient}); checked against the queues.")
@click.option("--source", default="pipe", show_default=True, help="Label stored with the message.")
@pass_ctx
def deliver(ctx: Context, recipient: tuple[str, ...], source: str) -> None:
    """Read one message on stdin and accept it durably (processed inline unless a daemon runs)."""
    code = deliver_message(lambda: ctx.settings, recipient, source, ctx.verbose, lambda _settings: ctx.env)
    if code:
        sys.exit(code)
