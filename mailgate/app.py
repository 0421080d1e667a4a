"""The composition root: settings in, a ready Env (database, spool, templates, the command
registry) out. The daemon, the CLI and the tests build what they run from here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mailgate.commands import default_commands
from mailgate.config import Settings
from mailgate.db.connect import open_database
from mailgate.env import Env, template_env, utc_clock
from mailgate.people import sync_staff
from mailgate.spool import Spool

__all__ = ["build_env", "template_env", "utc_clock"]


def build_env(settings: Settings, clock: Callable[[], datetime] = utc_clock) -> Env:
    open_database(settings.database_url)
    sync_staff(settings)
    return Env(settings=settings, spool=Spool(settings.spool_dir), templates=template_env(settings), clock=clock,
               commands=default_commands())
