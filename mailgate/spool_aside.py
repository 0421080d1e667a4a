"""Spool entries this process cannot read, set aside in `spool/unreadable/`.

Another user (an MTA pipe running as root, a restore from a backup) can leave an entry, or
the raw bytes it names, that the daemon's user may not read. Such an entry must not stop
the queue behind it: it is moved out of the way with a clear error, counted by `mailgate
status`, and put back in the queue as soon as it is readable (its owner fixed the
permissions), so nothing is lost and nothing needs replaying by hand.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol


class Spool(Protocol):
    """What this module needs of mailgate.spool.Spool (which imports this module when an
    entry cannot be read, so the type is described here rather than imported)."""

    queue_dir: Path
    processing_dir: Path
    unreadable_dir: Path

    def raw_path(self, sha256: str) -> Path: ...


class UnreadableEntry(Exception):
    """A queued entry (or its raw bytes) cannot be read by this process; it was set aside."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"spool entry {name} set aside: {reason}")
        self.name = name
        self.reason = reason


def describe(exc: Exception) -> str:
    if isinstance(exc, OSError):
        text = exc.strerror or str(exc)
        return f"{text}: {exc.filename}" if exc.filename else text
    return f"not a spool entry ({type(exc).__name__}: {exc})"


def set_aside(spool: Spool, name: str) -> None:
    """Move a claimed (or still queued) entry to unreadable/."""
    spool.unreadable_dir.mkdir(exist_ok=True)
    for folder in (spool.processing_dir, spool.queue_dir):
        try:
            os.rename(folder / name, spool.unreadable_dir / name)
            return
        except FileNotFoundError:
            continue


def set_aside_unreadable(spool: Spool, name: str, exc: Exception) -> UnreadableEntry:
    """Set the entry aside; the exception that says why, for the caller to log and raise."""
    set_aside(spool, name)
    return UnreadableEntry(name, describe(exc))


def requeue_readable(spool: Spool) -> list[str]:
    """Entries set aside that this process can read now, with their raw bytes: back in the
    queue. Returns their names."""
    back: list[str] = []
    try:
        names = sorted(n for n in os.listdir(spool.unreadable_dir) if n.endswith(".json"))
    except FileNotFoundError:
        return back
    for name in names:
        try:
            data = json.loads((spool.unreadable_dir / name).read_bytes())
            with open(spool.raw_path(str(data["sha256"])), "rb"):
                pass
            os.rename(spool.unreadable_dir / name, spool.queue_dir / name)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # still unreadable (or not an entry at all): it stays aside
        back.append(name)
    return back
