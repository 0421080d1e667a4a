"""Which spool a configuration names: a folder of this host, or rows of the shared
PostgreSQL (`[store] spool = "database"`, the default there)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailgate.core.spool import SpoolStore

if TYPE_CHECKING:
    from mailgate.config import Settings


def open_spool(settings: Settings, owner: str = "") -> SpoolStore:
    """`owner`: the node name its claims carry (database spool; "" = this process)."""
    if settings.spool_in_database:
        from mailgate.db.models import database_proxy
        from mailgate.spool_db import DbSpool

        return DbSpool(database_proxy, owner, settings.daemon.lease)
    from mailgate.spool import Spool

    return Spool(settings.spool_dir)
