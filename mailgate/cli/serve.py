"""`mailgate serve`: run the daemon in the foreground (systemd runs it as Type=simple)."""

from __future__ import annotations

import asyncio

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.config import config_path


@click.command()
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log line format on stderr (default: [daemon] log_format).")
@pass_ctx
def serve(ctx: Context, log_format: str | None) -> None:
    """Receive mail (SMTP, LMTP, IMAP, the MTA pipe's queue), process it, run timed jobs."""
    from mailgate.daemon.logs import setup_logging
    from mailgate.daemon.serve import serve as run_daemon

    settings = ctx.settings  # a config error exits 78 before anything starts
    fmt = log_format or settings.daemon.log_format
    setup_logging(fmt, ctx.verbose)
    raise SystemExit(asyncio.run(run_daemon(config_path(ctx.config).resolve(), settings, fmt)))
