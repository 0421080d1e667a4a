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
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DbThread:
    def __init__(self, name: str = "mailgate-db") -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future, asyncio.AbstractEventLoop] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, fut, loop = job
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                loop.call_soon_threadsafe(_set_exception, fut, exc)
            else:
                loop.call_soon_threadsafe(_set_result, fut, result)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, args, fut, loop))
        # shield: cancelling the caller must not abandon a job that is already running
        return await asyncio.shield(fut)

    def stop(self) -> None:
        self._jobs.put(None)


def _set_result(fut: asyncio.Future, value: Any) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future, exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)
