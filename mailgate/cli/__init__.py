"""The `mailgate` command. Subcommands live in small modules; heavy imports (the pipeline,
talon) happen inside commands so that `mailgate deliver` starts fast."""

from __future__ import annotations

import importlib
import sys

import click

from mailgate.cli.context import Context, pass_ctx
from mailgate.core.errors import ConfigError, MailgateError, TransientError

# Subcommands whose module is imported only when the command runs (or --help lists it):
# `mailgate deliver` runs once per message as the MTA pipe and must not pay for the
# imports of the others (peewee models, asyncio, ...).
LAZY_COMMANDS = {
    "deliver": "mailgate.cli.deliver:deliver",
    "import": "mailgate.cli.importer:import_",
    "ticket": "mailgate.cli.tickets:ticket",
    "outbox": "mailgate.cli.outbox:outbox",
    "quarantine": "mailgate.cli.quarantine:quarantine",
    "process": "mailgate.cli.tickets:process",
    "serve": "mailgate.cli.serve:serve",
    "status": "mailgate.cli.status:status",
    "person": "mailgate.cli.person:person",  # issue 7
    "rules": "mailgate.cli.rules:rules",  # issue 6
    "alerts": "mailgate.cli.rules:alerts",  # issue 6
    "token": "mailgate.cli.tokens:token",  # issue 13
    "login-link": "mailgate.cli.tokens:login_link",
    "web": "mailgate.cli.web:web",
    "doctor": "mailgate.cli.doctor:doctor",  # issue 17
    "search": "mailgate.cli.search:search",  # issue 15
    "report": "mailgate.cli.reports:report",
}


class MailgateGroup(click.Group):
    """Turns mailgate's errors into one line on stderr and a meaningful exit status, the same
    whether run as a program or from tests."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(f"configuration error: {exc}", 78)  # EX_CONFIG
        except TransientError as exc:
            _fail(f"temporary failure: {exc}", 75)  # EX_TEMPFAIL
        except MailgateError as exc:
            _fail(str(exc), 1)
        return None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in LAZY_COMMANDS:
            module, attribute = LAZY_COMMANDS[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


def _fail(text: str, code: int) -> None:
    click.echo(f"mailgate: {text}", err=True)
    sys.exit(code)


@click.group(cls=MailgateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar="MAILGATE_CONFIG",
              help="Configuration file (default: ./mailgate.toml; env MAILGATE_CONFIG).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.version_option(package_name="mailgate")
@click.pass_context
def cli(click_ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """mailgate: the email conversation is the ticket."""
    click_ctx.obj = Context(config_path, verbose)


__all__ = ["cli", "main", "pass_ctx"]


def main() -> None:
    cli.main(prog_name="mailgate")
