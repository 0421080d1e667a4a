"""The spool's contract: where an accepted message waits for its commit.

Two implementations: a folder of this host (mailgate/spool.py, the default with SQLite) and
rows of the shared PostgreSQL (mailgate/spool_db.py, `[store] spool = "database"`, so any
node finishes what another accepted). The pipeline, the group commit and the daemon's worker
see only this, and never branch on which one it is.
"""

from __future__ import annotations

from typing import Protocol

from mailgate.core.entry import SpoolEntry

# an entry claimed this many times is quarantined instead of processed again: the process
# died with it in hand every time (a message that kills the parser, or the node)
MAX_ATTEMPTS = 3

Claimed = list[tuple[SpoolEntry, bytes]]


class SpoolStore(Protocol):
    def accept(self, raw: bytes, source: str, recipients: tuple[str, ...] = (), **extra: object) -> SpoolEntry:
        """The first durability point: returns once the message survives a crash (raises
        TransientError, for a 451 / exit 75, when it cannot)."""
        ...

    def accept_claimed(self, batch: list[tuple[bytes, str]]) -> list[SpoolEntry]:
        """Accept many and claim them for this process at once (`mailgate import`)."""
        ...

    def store_raw(self, raw: bytes) -> str: ...

    def read_raw(self, sha256: str) -> bytes: ...

    def pending(self) -> list[str]:
        """Names of the entries waiting (not claimed), oldest first."""
        ...

    def claim(self, name: str) -> SpoolEntry | None:
        """Claim one entry, counting the attempt; None when another process has it."""
        ...

    def claim_group(self, limit: int, alone: bool) -> tuple[Claimed, int]:
        """Claim up to `limit` waiting entries, oldest first, with their bytes, and the
        number that were waiting. An entry claimed before (its process died) comes alone,
        and only when `alone` (nothing else is in hand): the crash counter then points at
        the message that kills, not at the innocent ones of its group."""
        ...

    def hold(self, entries: list[SpoolEntry]) -> set[str]:
        """At the start of the transaction that commits them: the names of the entries that
        are still this process's (a claim another node took over after its lease is not)."""
        ...

    def settle(self, entries: list[SpoolEntry]) -> None:
        """Inside that transaction, just before its commit: entries whose messages it stores."""
        ...

    def done(self, entry: SpoolEntry) -> None:
        """The message is committed: forget the entry."""
        ...

    def forget(self, entries: list[SpoolEntry]) -> None:
        """`done` for many, after their group's commit (may finish in the background)."""
        ...

    def flush(self) -> None: ...

    def release(self, entry: SpoolEntry) -> None:
        """Put a claimed entry back (a transient failure): it is retried."""
        ...

    def recover(self) -> int:
        """At start-up: what a dead process of this spool had claimed goes back to the queue."""
        ...

    def backlog(self) -> int: ...

    def counts(self) -> dict[str, int]: ...

    def daemon_running(self) -> bool:
        """A daemon will process what is accepted now (so `mailgate deliver` only spools)."""
        ...

    def hold_daemon_lock(self) -> int | None:
        """What a daemon holds while it runs; None where several may run at once."""
        ...
