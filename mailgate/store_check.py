"""Can this process use the store? Checked when the daemon starts, so a folder it cannot
write is one line naming the key and the path (exit 78), not a traceback at the first
message, and a spool shared wrongly between users is refused before it takes any mail."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from mailgate.core.errors import ConfigError, TransientError
from mailgate.spool_owner import user_name as _user

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mailgate.config import Settings


def _writable_folder(path: Path, key: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(key, f"cannot create {path}", exc)
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}: {path} is not writable by {_user(os.geteuid())}")


def _fail(key: str, what: str, exc: OSError) -> None:
    text = f"{key}: {what}: {exc.strerror or exc}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.ENOTDIR, errno.EEXIST):
        raise ConfigError(text) from None  # fixed by the administrator: exit 78
    raise TransientError(text) from None  # full or failing disk: exit 75, try again


def check_store(settings: Settings) -> None:
    """Raise ConfigError (exit 78) or TransientError (exit 75) with one line when the spool or
    the attachments folder cannot be used by this process."""
    from mailgate.spool import Spool

    if settings.spool_in_database:  # the spool is rows of the database: only attachments are files here
        _writable_folder(settings.attachments_dir, "store.attachments")
        return
    spool = Spool(settings.spool_dir)
    _writable_folder(spool.root, "store.spool")
    try:
        spool.pending()  # makes the folders, and refuses a spool another user owns
    except OSError as exc:
        _fail("store.spool", f"cannot use {spool.root}", exc)
    except TransientError as exc:
        raise ConfigError(f"store.spool: {exc}") from None
    # raw/ab/ folders made by another user (an MTA pipe run as root before this check
    # existed) would answer 451 to every message whose hash starts with their name
    shards = [p for p in spool.raw_dir.iterdir() if p.is_dir()]
    for folder in (spool.queue_dir, spool.processing_dir, spool.unreadable_dir, spool.raw_dir, *shards):
        if not os.access(folder, os.W_OK | os.X_OK):
            me = _user(os.geteuid())
            raise ConfigError(f"store.spool: {folder} is not writable by {me} (it belongs to "
                              f"{_user(folder.stat().st_uid)}); fix: chown -R {me} {spool.root}")
    _writable_folder(settings.attachments_dir, "store.attachments")
