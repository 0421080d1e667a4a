"""The pure stages (parse → addressing → classify → rules → clean) in worker processes, so
the daemon uses a second core: while the database thread commits one group, a worker
prepares the next.

The workers are forked once, at start-up, before the daemon's first thread exists (a fork
never copies a lock another thread holds); when threads already run (a replacement), the
spawn start method is used instead. A worker imports the parser and the clean stage and runs the warm-up message before the
daemon serves, dies with the daemon (PR_SET_PDEATHSIG: a kill -9 of the daemon leaves no
orphan), and ignores the signals meant for the daemon (a terminal's Ctrl-C or systemd's
SIGTERM to the whole group must not break the pool during the grace period).

A SIGHUP reload replaces `env.settings` and `env.rules` with new objects; every call carries
the current snapshot's generation, and a worker that has an older one rebuilds its Env from
the snapshot (pickled once per reload), so rules, templates and settings reach the workers
without a restart. The worker side (its one state object, the initializer, the calls) is
mailgate/prepare_worker.py.

If a worker dies, the pool is broken: the daemon logs it, prepares in its own process
(slower, nothing lost) and starts new workers after RESTART_DELAY, at most MAX_RESTARTS
times within RESTART_WINDOW.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from mailgate.core.entry import SpoolEntry
from mailgate.env import Env
from mailgate.prepare_worker import init_daemon_worker, prepare_spooled, warm_up_worker

log = logging.getLogger("mailgate.daemon.preparer")

# a dead worker process is replaced after RESTART_DELAY seconds, at most MAX_RESTARTS times
# within RESTART_WINDOW seconds; meanwhile the daemon prepares messages itself
RESTART_DELAY = 2.0
MAX_RESTARTS = 5
RESTART_WINDOW = 600.0


def default_workers(configured: int) -> int:
    """-1 (the default): one worker per core beyond the first; 0: prepare in the daemon."""
    if configured >= 0:
        return configured
    return max(0, (os.cpu_count() or 1) - 1)


# --- the daemon side -------------------------------------------------------------------


class Preparer:
    """`workers` processes running the pure stages for the daemon's worker."""

    def __init__(self, settings: object, workers: int) -> None:
        self.workers = workers
        self.broken = False
        self._settings = settings
        self._snapshot_key: tuple[int, int] | None = None
        self._snapshot = b""
        self._generation = 0
        self._restarts: list[float] = []  # monotonic times of replacements, for the limit
        self._restart_at = 0.0
        self._start()

    def _start(self) -> None:
        import multiprocessing

        # fork while this is the only thread (start-up); spawn once threads run (a replacement):
        # a fork would copy locks other threads hold, and spawn's child is still our child,
        # so _init_child's parent check and PR_SET_PDEATHSIG hold for it too
        method = "fork" if threading.active_count() == 1 else "spawn"
        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                        initializer=init_daemon_worker, initargs=(os.getpid(), self._settings))
        # with fork, the first submit forks every worker, now, from this (the only) thread
        self._warming = [self.pool.submit(warm_up_worker) for _ in range(self.workers)]
        log.info("%d preparing worker process%s started (%s)", self.workers, "" if self.workers == 1 else "es",
                 method, extra={"stage": "startup"})

    async def ready(self) -> None:
        """Wait until every worker has imported the stages and prepared the warm-up message."""
        try:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in self._warming))
        except BrokenProcessPool as exc:
            self._give_up(exc)

    def pids(self) -> list[int]:
        return [p.pid for p in getattr(self.pool, "_processes", {}).values() if p.pid]

    def _current(self, env: Env) -> tuple[int, bytes]:
        key = (id(env.settings), id(env.rules))
        if key != self._snapshot_key:  # first call, or a SIGHUP replaced settings or rules
            try:
                self._snapshot = pickle.dumps((env.settings, env.rules), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - unpicklable rules: the worker loads the files itself
                self._snapshot = pickle.dumps((env.settings, None), protocol=pickle.HIGHEST_PROTOCOL)
            self._snapshot_key = key
            self._generation += 1
        return self._generation, self._snapshot

    async def prepare(self, env: Env, entries: Sequence[SpoolEntry],
                      raws: Sequence[bytes] | None = None) -> list[bytes | None]:
        """Pickled preparations in the order of `entries`; None where the daemon must prepare.
        `raws`: the messages' bytes, for workers that cannot read the spool (in the database)."""
        if self.broken:
            self._maybe_replace()
        if self.broken or not entries or not all(f.done() for f in self._warming):
            return [None] * len(entries)  # the daemon prepares meanwhile (a new pool is warming up)
        if any(f.exception() is not None for f in self._warming):
            self._give_up(next(f.exception() for f in self._warming if f.exception() is not None))  # type: ignore[arg-type]
            return [None] * len(entries)
        generation, snapshot = self._current(env)
        size = -(-len(entries) // self.workers)  # ceil: one chunk per worker, order kept
        starts = range(0, len(entries), size)
        chunks = [(list(entries[i:i + size]), list(raws[i:i + size]) if raws is not None else None) for i in starts]
        try:
            parts = await asyncio.gather(*(asyncio.wrap_future(self.pool.submit(
                prepare_spooled, generation, snapshot, chunk, chunk_raws)) for chunk, chunk_raws in chunks))
        except BrokenProcessPool as exc:
            self._give_up(exc)
            return [None] * len(entries)
        except Exception:  # noqa: BLE001 - e.g. a reload the worker could not apply: prepare here
            log.exception("preparing worker failed; this group is prepared in the daemon process",
                          extra={"stage": "prepare", "message_id": entries[0].sha256[:12], "outcome": "error"})
            return [None] * len(entries)
        return [payload for part in parts for payload in part]

    def _give_up(self, exc: BaseException) -> None:
        if not self.broken:
            replacing = self._may_replace()
            log.error("a preparing worker process died (%s); preparing in the daemon process %s", exc,
                      f"until new workers are up (in {RESTART_DELAY:.0f}s)" if replacing else
                      f"from now on ({MAX_RESTARTS} replacements within {RESTART_WINDOW:.0f}s)",
                      extra={"stage": "prepare", "outcome": "degraded"})
            self._restart_at = time.monotonic() + RESTART_DELAY
        self.broken = True

    def _may_replace(self) -> bool:
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW]
        return len(self._restarts) < MAX_RESTARTS

    def _maybe_replace(self) -> None:
        """A dead worker breaks its pool: start a new one after RESTART_DELAY, at most
        MAX_RESTARTS times within RESTART_WINDOW (a message that kills the parser every time
        is the crash counter's business, not a reason to fork forever)."""
        if time.monotonic() < self._restart_at or not self._may_replace():
            return
        self._restarts.append(time.monotonic())
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.broken = False
        self._start()
        log.warning("preparing worker processes replaced", extra={"stage": "prepare", "outcome": "recovered"})

    def close(self) -> None:
        self.pool.shutdown(wait=not self.broken, cancel_futures=True)
