"""The composition root: settings in, a ready Env (database, spool, templates, the command
registry) out. The daemon, the CLI and the tests build what they run from here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mailgate.commands import default_commands
from mailgate.config import Settings
from mailgate.core.spool import SpoolStore
from mailgate.db.connect import open_database
from mailgate.db.migrations import one_at_a_time
from mailgate.env import Env, template_env, utc_clock
from mailgate.people import sync_staff
from mailgate.spools import open_spool

__all__ = ["build_env", "template_env", "utc_clock"]


def build_env(settings: Settings, clock: Callable[[], datetime] = utc_clock, spool: SpoolStore | None = None) -> Env:
    """`spool`: the daemon's own (its claims carry the daemon's node name)."""
    db = open_database(settings.database_url)
    with one_at_a_time(db):  # several nodes starting at once
        sync_staff(settings)
    return Env(settings=settings, spool=spool or open_spool(settings), templates=template_env(settings),
               clock=clock, commands=default_commands())
