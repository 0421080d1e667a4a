"""`mailgate web`: the API and the web desk alone, for sites that scale the web part apart
from the mail daemon. It writes to the same store; the mail it queues (alerts, receipts,
sign-in links) is sent by a `mailgate serve` on the same database, or by `mailgate outbox
send` from a timer. SIGTERM/SIGINT stop it; SIGHUP reloads the configuration."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.config import config_path

log = logging.getLogger("mailgate.web")


async def run_web(path: object, settings: object) -> int:
    from mailgate.app import build_env
    from mailgate.core.errors import ConfigError
    from mailgate.daemon.dbthread import DbThread, http_writer
    from mailgate.daemon.reload import reload_env
    from mailgate.db.transaction import write_transaction
    from mailgate.http.server import http_server

    db = DbThread("mailgate-web-db", transaction=write_transaction)
    env = await db.run(build_env, settings)
    server = http_server(env, http_writer(db, settings))
    if server is None:
        raise ConfigError("listen.http.enabled: is false; `mailgate web` has nothing to serve")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.stop)

    async def reload() -> None:
        try:
            await db.run(reload_env, env, path)
            log.info("configuration reloaded from %s", path, extra={"stage": "reload", "outcome": "ok"})
        except ConfigError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc, extra={"stage": "reload"})

    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload()))
    log.info("HTTP listening on %s (web desk and API: %s)", server.address, env.settings.web_base_url,
             extra={"stage": "startup"})
    try:
        await server.serve()
    finally:
        server.close()
        db.stop()
    return 0


@click.command()
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log line format on stderr (default: [daemon] log_format).")
@pass_ctx
def web(ctx: Context, log_format: str | None) -> None:
    """Serve the API and the web desk ([listen.http]) without the mail daemon."""
    from mailgate.daemon.logs import setup_logging

    settings = ctx.settings
    setup_logging(log_format or settings.daemon.log_format, ctx.verbose)
    raise SystemExit(asyncio.run(run_web(config_path(ctx.config).resolve(), settings)))
