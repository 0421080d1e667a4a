"""The background threads one Spool owns: a pool that fsyncs many files at once, and a
thread that forgets (unlinks) finished entries off the database writer's path.

Imported only when a spool first needs one of them: `mailgate deliver` (one message, two
files) needs neither, and must not pay for concurrent.futures, queue or threading. Both are
made on first use and stopped when their Spool is collected (or at exit, after the last
forgotten entry is gone), so a process that builds many Spools does not collect threads.
"""

from __future__ import annotations

import os
import queue
import threading
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SYNC_THREADS = 8


def _unlink_all(jobs: queue.Queue) -> None:
    while True:
        paths = jobs.get()
        if paths is None:  # the owner is gone
            jobs.task_done()
            return
        for path in paths:
            try:
                os.unlink(path)
            except OSError:  # gone already, or left for recovery: reprocessing finds it stored
                pass
        jobs.task_done()


def _stop_forgetter(pid: int, jobs: queue.Queue, thread: threading.Thread) -> None:
    """The owner was collected, or the process exits: finish the unlinks, then stop."""
    if pid != os.getpid():  # a forked child never had this thread: nothing to wait for
        return
    jobs.put(None)
    if threading.current_thread() is not thread:  # a collection inside the thread must not wait for itself
        jobs.join()


class SpoolThreads:
    """The sync pool and the forgetter of one Spool (`owner`). A forked child (the daemon's
    preparing workers) starts its own forgetter: threads do not survive a fork."""

    def __init__(self, owner: object) -> None:
        self._owner = weakref.ref(owner)
        self._pool: ThreadPoolExecutor | None = None
        self._forget: tuple[int, queue.Queue] | None = None  # (pid, jobs)
        self._lock = threading.Lock()

    def each(self, fn: Callable[[Any], object], items: list) -> None:
        """fn on every item, from the sync threads."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="mailgate-spool-sync")
                owner = self._owner()
                if owner is not None:
                    weakref.finalize(owner, self._pool.shutdown, wait=False)
            pool = self._pool
        for _ in pool.map(fn, items):
            pass

    def forget(self, paths: Iterable[Path]) -> None:
        with self._lock:
            if self._forget is None or self._forget[0] != os.getpid():
                jobs: queue.Queue = queue.Queue()
                thread = threading.Thread(target=_unlink_all, args=(jobs,), name="mailgate-spool-forget",
                                          daemon=True)
                thread.start()
                self._forget = (os.getpid(), jobs)
                owner = self._owner()
                if owner is not None:  # at collection, and at exit (weakref.finalize's atexit)
                    weakref.finalize(owner, _stop_forgetter, os.getpid(), jobs, thread)
            jobs = self._forget[1]
        jobs.put(list(paths))

    def flush(self) -> None:
        """Wait until every path handed to `forget()` in this process is gone."""
        forget = self._forget
        if forget is not None and forget[0] == os.getpid():
            forget[1].join()
