"""The composition root: settings in, a ready Env (database, spool, templates) out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import jinja2

from mailgate.config import Settings
from mailgate.db.connect import open_database
from mailgate.people import sync_staff
from mailgate.spool import Spool
from mailgate.stages.base import Env


def utc_clock() -> datetime:
    return datetime.now(UTC)


def template_env(settings: Settings) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(settings.templates_dir)),
        autoescape=jinja2.select_autoescape(["html.j2"], default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
    )


def build_env(settings: Settings, clock: Callable[[], datetime] = utc_clock) -> Env:
    open_database(settings.database_url)
    sync_staff(settings)
    return Env(settings=settings, spool=Spool(settings.spool_dir), templates=template_env(settings), clock=clock)
