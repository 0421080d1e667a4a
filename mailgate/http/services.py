"""What the HTTP routes need: the Env, a writer and readers for the database, the rate
limiter. Writes go to the one writer thread (the daemon's database thread when served by
`mailgate serve`, so SQLite keeps one writer); reads go to a few reader threads with their
own connections (SQLite's WAL lets them read while the writer writes), so a page never
waits for a group commit of incoming mail."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mailgate.env import Env

T = TypeVar("T")
READERS = 4


class Readers:
    """A few threads for read-only database work; peewee gives each its own connection."""

    def __init__(self, threads: int = READERS) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="mailgate-http-read")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RateLimiter:
    """Requests per token and minute, in fixed windows, kept by this node. Thread safe."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (window start, count)

    def take(self, key: str, now: float | None = None) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds until the window resets)."""
        now = time.time() if now is None else now
        start = int(now // 60 * 60)
        with self._lock:
            window, count = self._windows.get(key, (start, 0))
            if window != start:
                window, count = start, 0
                if len(self._windows) > 100_000:  # forget old windows rather than grow forever
                    self._windows = {k: v for k, v in self._windows.items() if v[0] == start}
            allowed = count < self.per_minute
            if allowed:
                count += 1
            self._windows[key] = (window, count)
        return allowed, max(0, self.per_minute - count), max(1, math.ceil(window + 60 - now))


class SharedRateLimiter:
    """RateLimiter's windows in the database, so every node counts a token's requests
    together (several nodes on one PostgreSQL). One upsert a request, committed without
    waiting for the disk (synchronous_commit = off): a count lost with the server's power
    lets a few more requests through, and a GET does not wait for an fsync. Call `take`
    from a reader thread, not the loop."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute

    def take(self, key: str, now: float | None = None) -> tuple[bool, int, int]:
        from mailgate.db.models import database_proxy

        now = time.time() if now is None else now
        start = int(now // 60 * 60)
        db = database_proxy.obj
        with db.atomic():
            db.execute_sql("SET LOCAL synchronous_commit = off")
            (count,) = db.execute_sql(
                "INSERT INTO rate_window (key, window_start, count) VALUES (%s, %s, 1) ON CONFLICT (key, window_start)"
                " DO UPDATE SET count = rate_window.count + 1 RETURNING count", (key[:100], start)).fetchone()
            if count == 1 and hash((key, start)) % 64 == 0:  # now and then: forget old windows
                db.execute_sql("DELETE FROM rate_window WHERE window_start < %s", (start - 120,))
        allowed = count <= self.per_minute
        return allowed, max(0, self.per_minute - count), max(1, math.ceil(start + 60 - now))


@dataclass
class HttpServices:
    env: Env
    write: Callable[..., Awaitable[Any]]  # run fn(*args) in the writer thread
    read: Callable[..., Awaitable[Any]]  # run fn(*args) in a reader thread
    limiter: RateLimiter | SharedRateLimiter
    # the address mails and pages link to (the configured [web] base_url, or where we listen)
    base_url: str = ""
    closers: list[Callable[[], None]] = field(default_factory=list)
    touched: dict[tuple[str, int], float] = field(default_factory=dict)  # (kind, id) -> when its use was last recorded
    page_env: tuple[Any, Any] | None = None  # (the Env's templates, their lenient overlay for pages)  # token id -> when last_used_at was written

    @property
    def settings(self) -> Any:
        return self.env.settings
