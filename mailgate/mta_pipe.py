"""`mailgate deliver`, the MTA pipe: read one message on stdin and accept it durably.

Exit codes follow sysexits.h so the MTA does the right thing: 0 accepted, 75 try again
later (the MTA keeps the mail), 67 no such recipient, 65 refused (too large, empty).

This is the one implementation of the command: the click command (mailgate/cli/deliver.py)
and the console script's fast path (mailgate/console.py) both call `deliver`. An MTA starts
one process per message, so this module imports nothing heavy at the top; the pipeline
(and the clean stage) is imported only when no daemon runs and the message is processed here.
"""

from __future__ import annotations

import sys

from mailgate.core.errors import ConfigError, TransientError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on the hot path
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mailgate.config import Settings
    from mailgate.core.spool import SpoolStore
    from mailgate.env import Env
    from mailgate.pipe_config import PipeSettings

EX_OK, EX_DATAERR, EX_NOUSER, EX_TEMPFAIL = 0, 65, 67, 75


def _say(text: str) -> None:
    # sys.stderr looked up at call time: click's test runner swaps it per invocation
    print(f"mailgate: {text}", file=sys.stderr, flush=True)


def deliver(load_settings: Callable[[], Settings | PipeSettings], recipients: Sequence[str], source: str,
            verbose: bool = False, build_env: Callable[[Settings | PipeSettings], Env] | None = None) -> int:
    """Accept the message on stdin; returns the exit status for the MTA.

    `load_settings` raises ConfigError for a bad configuration: that exits 75, never a
    bounce, so the MTA keeps the mail and retries after the fix. `build_env` makes the
    processing environment when no daemon runs (the click command passes its cached one).
    """
    try:
        settings = load_settings()
    except ConfigError as exc:
        _say(f"configuration error: {exc}")
        return EX_TEMPFAIL
    if recipients:
        from mailgate.recipients import recipient_known

        try:
            unknown = [a for a in recipients if not recipient_known(settings, a)]
        except ConfigError as exc:  # the pipe's record may need the loader for the secret
            _say(f"configuration error: {exc}")
            return EX_TEMPFAIL
        if unknown:
            _say(f"{unknown[0]}: no such queue or reply address")
            return EX_NOUSER
    raw = sys.stdin.buffer.read()
    limit = settings.gateway.max_message_size
    if len(raw) > limit:
        _say(f"message of {len(raw)} bytes exceeds the limit of {limit} bytes")
        return EX_DATAERR
    if not raw.strip():
        _say("empty message on stdin")
        return EX_DATAERR
    try:
        spool = _spool(settings)
        try:
            entry = spool.accept(raw, source, tuple(recipients))
        except TransientError as exc:
            if not _no_schema(exc):
                raise
            _create_schema(settings)  # a new database no daemon has started on yet
            entry = spool.accept(raw, source, tuple(recipients))
    except TransientError as exc:
        _say(str(exc))
        return EX_TEMPFAIL
    try:
        running = spool.daemon_running()
    except Exception as exc:  # noqa: BLE001 - accepted: whether a daemon runs only decides who processes it
        _say(f"accepted; could not tell whether a daemon runs ({exc}): it stays queued")
        return EX_OK
    if running:
        return EX_OK  # the daemon's worker (any node's, with the spool in the database) picks it up
    # Accepted durably: from here on any failure leaves the entry queued for the next run,
    # so the exit status stays 0 and the MTA does not deliver it twice.
    try:
        _process_inline(settings, entry.name, verbose, build_env)
    except Exception as exc:  # noqa: BLE001 - the message is safe in the spool
        _say(f"accepted, processing deferred: {exc}")
    return EX_OK


def _spool(settings: Settings | PipeSettings) -> SpoolStore:
    """The spool folder, or the database's spool through psycopg2 alone (no peewee here)."""
    if settings.spool_in_database:
        from mailgate.spool_db import DbSpool, PlainPostgres

        return DbSpool(PlainPostgres(settings.database_url), lease=settings.daemon.lease)
    from mailgate.spool import Spool

    return Spool(settings.spool_dir)


def _no_schema(exc: BaseException) -> bool:
    """The database spool's tables are not there (42P01: undefined table)."""
    return getattr(exc.__cause__, "pgcode", None) == "42P01"


def _create_schema(settings: Settings | PipeSettings) -> None:
    from mailgate.db.connect import open_database

    open_database(settings.database_url)  # migrates, one process at a time


def _process_inline(settings: Settings | PipeSettings, name: str, verbose: bool,
                    build_env: Callable[[Settings | PipeSettings], Env] | None) -> None:
    from mailgate.pipeline import process_entry

    if build_env is None:  # a caller without a pipe record passes full Settings
        from mailgate.app import build_env
    env = build_env(settings)  # type: ignore[arg-type]
    claimed = env.spool.claim(name)
    if claimed is None:
        return
    try:
        outcome = process_entry(claimed, env)
    except TransientError:
        env.spool.release(claimed)
        raise
    if verbose:
        print(f"{outcome.status} ticket={outcome.ticket_id} {outcome.detail}", file=sys.stderr)
