"""The one database thread. peewee is synchronous and SQLite takes one writer at a time, so
all database work (and the pipeline, which runs inside transactions) goes through here and
the event loop never blocks on it.

A daemon thread, not a ThreadPoolExecutor: when the grace period runs out the process must
be able to exit with a transaction still open (the spool entry is retried on the next start),
and executor threads would be joined at interpreter exit.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
MAX_TOGETHER = 64  # jobs in one shared transaction: a bound on how long the first one waits


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    fut: asyncio.Future
    loop: asyncio.AbstractEventLoop
    together: bool = False

    def answer(self, ok: bool, value: Any) -> None:
        self.loop.call_soon_threadsafe(_set_result if ok else _set_exception, self.fut, value)


class DbThread:
    """`transaction`: a factory for a write transaction that nests as a savepoint (the
    project's write_transaction); with it, run_together shares one commit between jobs."""

    def __init__(self, name: str = "mailgate-db",
                 transaction: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._transaction = transaction
        self._next: _Job | None = None  # taken from the queue while gathering, run next
        self.together_at = 0.0  # monotonic time of the last run_together (the worker reads it)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job, self._next = (self._next, None) if self._next is not None else (self._jobs.get(), None)
            if job is None:
                return
            if job.together and self._transaction is not None:
                self._run_together(self._gather(job))
                continue
            try:
                result = job.fn(*job.args)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                job.answer(False, exc)
            else:
                job.answer(True, result)

    def _gather(self, first: _Job) -> list[_Job]:
        """`first` and the together-jobs queued right behind it (up to MAX_TOGETHER)."""
        jobs = [first]
        while len(jobs) < MAX_TOGETHER:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._jobs.put(None)  # the stop stays queued, behind these
                break
            if not job.together:
                self._next = job  # keeps its place: it runs next
                break
            jobs.append(job)
        return jobs

    def _run_together(self, jobs: list[_Job]) -> None:
        """One transaction for all of them, each in its own savepoint: a job that fails is
        rolled back alone and the others commit. Answers go out after the commit, so no
        caller hears "done" for a change that is not durable."""
        assert self._transaction is not None
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._transaction():
                for job in jobs:
                    try:
                        with self._transaction():
                            outcomes.append((True, job.fn(*job.args)))
                    except Exception as exc:  # noqa: BLE001 - that job's answer
                        outcomes.append((False, exc))
        except BaseException as exc:  # noqa: BLE001 - the commit failed: nothing of it holds
            outcomes = [(False, exc)] * len(jobs)
        for job, (ok, value) in zip(jobs, outcomes, strict=False):
            job.answer(ok, value)
        for job in jobs[len(outcomes):]:  # an interrupt before every job ran
            job.answer(False, RuntimeError("the shared transaction stopped before this change ran"))

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._submit(fn, args, together=False)

    async def run_together(self, fn: Callable[..., T], *args: Any) -> T:
        """Like run, for short independent writes (the API's and the web desk's): when
        several are queued at once they share one transaction and one commit (each in a
        savepoint), as the pipeline's group commit does for mail. Only where the writes never
        wait for each other's locks: on SQLite there is one writer anyway."""
        self.together_at = time.monotonic()
        return await self._submit(fn, args, together=True)

    async def _submit(self, fn: Callable[..., T], args: tuple[Any, ...], *, together: bool) -> T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, args, fut, loop, together))
        # shield: cancelling the caller must not abandon a job that is already running
        return await asyncio.shield(fut)

    def stop(self) -> None:
        self._jobs.put(None)


def http_writer(db: DbThread, settings: Any) -> Callable[..., Any]:
    """How the API and the web desk write. SQLite: writes queued together share a commit
    (with 8 clients posting notes, one fsync for several notes; bench/api.py). PostgreSQL:
    one transaction each, because a change there waits for its ticket's row lock (wait=True)
    and a shared transaction would hold the earlier tickets' locks meanwhile: two nodes could
    then wait for each other."""
    return db.run if settings.store.database.startswith("postgres") else db.run_together


def _set_result(fut: asyncio.Future, value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
