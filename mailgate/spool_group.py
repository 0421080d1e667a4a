"""Claiming a group from a spool folder (the daemon's worker): what is pending now, oldest
first, with the crash counter's rule that an entry claimed before comes alone.

Entries this process cannot read are set aside on the way (mailgate/spool_aside.py) and
put back once readable, at most every UNREADABLE_RETRY seconds.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Protocol

from mailgate.core.entry import SpoolEntry
from mailgate.core.spool import Claimed
from mailgate.spool_aside import Spool as AsideSpool
from mailgate.spool_aside import UnreadableEntry, describe, requeue_readable, set_aside


class Spool(AsideSpool, Protocol):
    """What this needs of mailgate.spool.Spool (which calls it, so it is described here)."""

    next_requeue: float  # monotonic time to look at the entries set aside again

    def pending(self) -> list[str]: ...

    def claim(self, name: str) -> SpoolEntry | None: ...

    def read_raw(self, sha256: str) -> bytes: ...

log = logging.getLogger("mailgate.daemon.worker")

# entries set aside because this user cannot read them are looked at again this often, and
# go back to the queue once their owner has fixed the permissions
UNREADABLE_RETRY = 10.0


def claim_group(spool: Spool, limit: int, alone: bool) -> tuple[Claimed, int]:
    """Claim (attempt counted) and read what is pending now; see SpoolStore.claim_group.

    An entry that was in hand before (its process died, or its group was deferred) is
    claimed alone: were it the message that kills the process, a group would count the
    crash against every innocent message with it, and after MAX_ATTEMPTS quarantine them
    all. Alone, the crash counter points at the culprit, as with one message at a time."""
    group: Claimed = []
    _requeue_readable(spool)
    names = spool.pending()
    for name in names:
        if len(group) >= limit:
            break
        suspect = _attempts_so_far(spool.queue_dir / name) > 0
        if suspect and (group or not alone):
            break  # its turn comes when nothing else is in hand
        try:
            entry = spool.claim(name)
        except UnreadableEntry as exc:
            _log_set_aside(exc, name[21:33])
            continue
        if entry is None:
            continue  # `mailgate process` or another worker took it
        try:
            group.append((entry, spool.read_raw(entry.sha256)))
        except OSError as exc:  # the raw file is unreadable: out of the queue's way, say why
            set_aside(spool, name)
            _log_set_aside(UnreadableEntry(name, describe(exc)), entry.sha256[:12], entry.source)
            continue
        if suspect:
            break
    return group, len(names)


def _requeue_readable(spool: Spool) -> None:
    """Every UNREADABLE_RETRY seconds: entries set aside that are readable now go back."""
    if time.monotonic() < spool.next_requeue:
        return
    spool.next_requeue = time.monotonic() + UNREADABLE_RETRY
    for name in requeue_readable(spool):
        log.info("spool entry %s is readable now; queued again", name,
                 extra={"message_id": name[21:33], "stage": "claim", "outcome": "requeued"})


def _log_set_aside(exc: UnreadableEntry, message_id: str, source: str = "") -> None:
    log.error("%s; the queue goes on without it. Fix the file's owner or mode (the daemon's user must read"
              " it): it is queued again within %.0fs, `mailgate status` counts it meanwhile", exc,
              UNREADABLE_RETRY, extra={"message_id": message_id, "stage": "claim", "outcome": "set-aside",
                                       "source": source})


def _attempts_so_far(queued: Path) -> int:
    try:
        return int(json.loads(queued.read_bytes()).get("attempts", 0))
    except (OSError, ValueError):
        return 0  # gone (claimed elsewhere) or unreadable: claim() decides
