"""Batch ingest: many messages through the full pipeline, using every core.

    worker pool:    spool.accept_claimed (durability point 1), then pipeline.prepare:
                    parse → addressing → classify → rules → clean, attachment files written
    this process:   pipeline.precheck / finish, one database writer       (durability point 2)

(With one process, `--workers 1`, a feeder thread spools while this thread prepares and
commits.)

The guarantees are the pipeline's own: a message is in the spool before anything else
happens to it, and its spool entry is forgotten only after the database commit that
stores it. The writer commits a group of messages per transaction (group commit, one
fsync for many messages); each message still runs in its own savepoint, so one that fails
is quarantined alone, and the group's spool entries are forgotten only after the group's
commit. A crash before that leaves them in processing/, from where `mailgate process` or
the daemon recovers them; the (Message-ID, content hash) check makes the retry a no-op for
whatever had been committed.

Results come back in input order (a reply must not overtake the message it answers).
Anything that cannot cross the process boundary is prepared again in this process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import peewee as pw

from mailgate.core.entry import SpoolEntry
from mailgate.core.errors import LockBusy, TransientError
from mailgate.core.message import Inbound
from mailgate.db.locks import wait_for
from mailgate.db.models import database_proxy
from mailgate.db.transaction import write_transaction
from mailgate.env import Env
from mailgate.pipeline import finish, precheck, prepare
from mailgate.prepare_worker import init_import_worker, spool_and_prepare, unpickle_prepared
from mailgate.spool import Spool

log = logging.getLogger("mailgate.batch")

POOL_MIN = 200  # fewer messages than this: a pool's start-up costs more than it saves
GROUP_SIZE = 64  # messages per database transaction
SPOOL_BATCH = 16  # messages per spool folder sync
WINDOW = 256  # messages spooled but not yet committed: bounds memory and the redo on a crash


@dataclass(frozen=True)
class Item:
    label: str
    entry: SpoolEntry
    raw: bytes


class _DeferredSpool:
    """The spool as the database stages see it inside a group transaction: `done()` waits
    for the group's commit, so no entry is forgotten before its message is durable."""

    def __init__(self, spool: Spool) -> None:
        self._spool = spool
        self.finished: list[SpoolEntry] = []

    def done(self, entry: SpoolEntry) -> None:
        self.finished.append(entry)

    def __getattr__(self, name: str) -> object:
        return getattr(self._spool, name)


# --- the writer side -------------------------------------------------------------------


class BatchImporter:
    """Spool, prepare (in `workers` processes; 1 = in this process) and commit messages.

    `on_outcome(label, outcome)` is called for every message once its outcome is durable."""

    def __init__(self, env: Env, workers: int | None = None, group_size: int = GROUP_SIZE) -> None:
        self.env = env
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.group_size = max(1, group_size)

    def run(self, messages: Iterable[tuple[str, bytes]], source: str,
            on_outcome: Callable[[str, object], None]) -> None:
        try:
            self._run(messages, source, on_outcome)
        finally:
            self.env.spool.flush()  # committed entries are gone when we return

    def _run(self, messages: Iterable[tuple[str, bytes]], source: str,
             on_outcome: Callable[[str, object], None]) -> None:
        if self.workers == 1:
            items = self._spooled(messages, source)
            self._write(((item, None) for item in _ahead(items, 3 * SPOOL_BATCH)), on_outcome)
            return
        # fork (fast: the workers inherit our imports), and all of them now, from this thread,
        # before the feeder thread exists: a fork never copies a lock another thread holds
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self.workers, mp_context=context, initializer=init_import_worker,
                                 initargs=(self.env.settings,)) as pool:
            pool.submit(os.getpid)  # the first submit forks every worker (fork start method)
            self._write(self._prepared_by(pool, messages, source), on_outcome)

    # spool first: raw bytes and a claimed entry, fsync'd, in small batches (one folder
    # sync per batch); nothing is parsed before its batch is on disk
    def _spooled(self, messages: Iterable[tuple[str, bytes]], source: str) -> Iterator[Item]:
        spool: Spool = self.env.spool
        chunk: list[tuple[str, bytes]] = []

        def flush() -> list[Item]:
            entries = spool.accept_claimed([(raw, f"{source}:{label}" if source else label)
                                            for label, raw in chunk])
            return [Item(label, entry, raw) for (label, raw), entry in zip(chunk, entries, strict=True)]

        for pair in messages:
            chunk.append(pair)
            if len(chunk) >= SPOOL_BATCH:
                yield from flush()
                chunk = []
        if chunk:
            yield from flush()

    def _prepared_by(self, pool: ProcessPoolExecutor, messages: Iterable[tuple[str, bytes]],
                     source: str) -> Iterator[tuple[Item, bytes | None]]:
        """Keep up to WINDOW messages in flight. The workers spool each task's messages
        (raw bytes and claimed entries, fsync'd: `spool_and_prepare`) before they parse
        them, so the spool's writes cost this process nothing: it is the one writer, and on
        the realistic mix (bench/corpus_mix.py) spooling took ~0.8 of its ~2.1 CPU ms a
        message while the workers idled. Messages go to the workers SPOOL_BATCH at a time
        (one folder sync per task; a task per message cost the writer ~0.5 CPU ms a
        message in the executor's threads)."""
        window = threading.BoundedSemaphore(WINDOW)
        stop = threading.Event()  # the writer gave up: the feeder must not wait for room
        futures: list = []
        ready = threading.Condition()
        state = {"done": False, "error": None}

        def submit(chunk: list[tuple[str, bytes]]) -> None:
            fut = pool.submit(spool_and_prepare, [(raw, f"{source}:{label}" if source else label)
                                                  for label, raw in chunk])
            with ready:
                futures.extend((label, raw, fut, i) for i, (label, raw) in enumerate(chunk))
                ready.notify()

        def feed() -> None:
            try:
                chunk: list[tuple[str, bytes]] = []
                for pair in messages:
                    while not window.acquire(timeout=0.2):
                        if stop.is_set():
                            return
                    chunk.append(pair)
                    if len(chunk) >= SPOOL_BATCH:
                        submit(chunk)
                        chunk = []
                if chunk:
                    submit(chunk)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the writer
                state["error"] = exc
            finally:
                with ready:
                    state["done"] = True
                    ready.notify()

        feeder = threading.Thread(target=feed, name="mailgate-spool-feeder", daemon=True)
        feeder.start()
        position = 0
        try:
            while True:
                with ready:
                    while position >= len(futures) and not state["done"]:
                        ready.wait()
                    if position >= len(futures):
                        break
                    label, raw, fut, index = futures[position]
                    futures[position] = None  # type: ignore[call-overload]
                position += 1
                entry, payload = fut.result()[index]
                yield Item(label, entry, raw), payload
                window.release()
        finally:
            stop.set()
            feeder.join()
        if state["error"] is not None:
            raise state["error"]  # type: ignore[misc]

    def _write(self, prepared: Iterable[tuple[Item, bytes | None]],
               on_outcome: Callable[[str, object], None]) -> None:
        group: list[tuple[Item, bytes | None]] = []
        for pair in prepared:
            group.append(pair)
            if len(group) >= self.group_size:
                self._commit_group(group, on_outcome)
                group = []
        if group:
            self._commit_group(group, on_outcome)

    def _commit_group(self, group: list[tuple[Item, bytes | None]],
                      on_outcome: Callable[[str, object], None]) -> None:
        labels = {item.entry.name: item.label for item, _ in group}
        results = commit_group(self.env, [(item.entry, item.raw, payload) for item, payload in group])
        failed = None
        for entry, outcome in results:
            if isinstance(outcome, Exception):
                failed = failed or outcome  # released to the queue: `mailgate process` retries it
            else:
                on_outcome(labels[entry.name], outcome)
        if failed is not None:
            raise failed


def _ahead(items: Iterator[Item], depth: int) -> Iterator[Item]:
    """The items of `items`, produced by a thread up to `depth` ahead: with one process the
    spool's fsyncs (a thread waiting on the disk, not holding the interpreter) overlap the
    commits instead of alternating with them. bench/ingest.py batch-1cpu on the realistic
    mix: the spool write was ~30% of the wall time, nearly all of it waiting for fsyncs."""
    box: queue.Queue[tuple[str, object]] = queue.Queue(depth)
    stop = threading.Event()

    def feed() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        box.put(("item", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the writer
            box.put(("error", exc))

    feeder = threading.Thread(target=feed, name="mailgate-spool-feeder", daemon=True)
    feeder.start()
    try:
        while True:
            kind, value = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        while feeder.is_alive():  # unblock a feeder waiting for room, then let it finish
            try:
                box.get(timeout=0.05)
            except queue.Empty:
                pass
        feeder.join()


# --- the group commit, shared by `mailgate import` and the daemon's worker -------------------


def commit_group(env: Env, group: Sequence[tuple[SpoolEntry, bytes, bytes | None]]
                 ) -> list[tuple[SpoolEntry, object]]:
    """Run the database stages for claimed entries in one transaction (one commit fsync for
    the group), each message in its own savepoint; `payload` is `_prepare_remote`'s result,
    None to prepare in this process. Returns (entry, Outcome) per message in order, or
    (entry, exception) for a message that failed outside the stages: its savepoint is rolled
    back and its entry released for a retry, the others are committed.

    Spool entries are forgotten only after the commit (`_DeferredSpool`; a spool in the
    database deletes them inside it). A transient database error rolls the whole group back,
    releases every entry and raises TransientError.

    Several nodes: a message whose ticket, Message-ID or alert fingerprint another node's
    transaction holds (LockBusy) ends the transaction before it; the next one waits for
    that lock first, then goes on (mailgate/db/locks.py: so no two nodes wait for each other)."""
    results: list[tuple[SpoolEntry, object]] = []
    rest, waits = list(group), []
    while rest:
        done, rest, busy = _commit_part(env, rest, waits)
        results += done
        if busy is None:
            waits = []
        elif done:
            waits = [busy]  # progress: the next transaction waits for what stopped this one
        else:
            waits = [*waits, busy]  # the same message stopped again: keep what it waited for
    return results


def _commit_part(env: Env, group: list[tuple[SpoolEntry, bytes, bytes | None]], waits: list[LockBusy]
                 ) -> tuple[list[tuple[SpoolEntry, object]], list[tuple[SpoolEntry, bytes, bytes | None]],
                            LockBusy | None]:
    """One transaction of `commit_group`: (results, the entries left for the next, the lock
    that stopped it)."""
    deferred = _DeferredSpool(env.spool)
    group_env = replace(env, spool=deferred)  # type: ignore[type-var]
    results: list[tuple[SpoolEntry, object]] = []
    rest: list[tuple[SpoolEntry, bytes, bytes | None]] = []
    busy: LockBusy | None = None
    try:
        with write_transaction():
            db = database_proxy.obj
            for waiting in sorted(waits, key=lambda b: (b.wait_sql, repr(b.params))):
                wait_for(waiting)  # nothing else held yet but our spool rows: no deadlock
            ours = env.spool.hold([entry for entry, _, _ in group])
            for i, (entry, raw, payload) in enumerate(group):
                if entry.name not in ours:
                    continue  # another node took it over (the spool logged it)
                forgotten = len(deferred.finished)
                try:
                    with db.atomic():  # a savepoint: an unexpected error undoes this message only
                        results.append((entry, _commit_one(entry, raw, payload, group_env)))
                except LockBusy as exc:  # rolled back to the savepoint: commit what we have
                    del deferred.finished[forgotten:]
                    rest, busy = group[i:], exc
                    break
                except (TransientError, pw.OperationalError):
                    raise
                except Exception as exc:  # noqa: BLE001 - a bug outside the stages: kept for retry
                    del deferred.finished[forgotten:]
                    results.append((entry, exc))
            env.spool.settle(deferred.finished)
    except (TransientError, pw.OperationalError) as exc:
        # rolled back: every entry of the group goes back to the queue for a later run
        for entry, _, _ in group:
            env.spool.release(entry)
        raise TransientError(f"database: {exc}") from exc
    env.spool.forget(deferred.finished)  # committed: now the spool may forget them
    for entry, outcome in results:
        if isinstance(outcome, Exception):
            env.spool.release(entry)
    return results, rest, busy


def _commit_one(entry: SpoolEntry, raw: bytes, payload: bytes | None, env: Env) -> object:
    decided = precheck(entry, raw, env)
    if decided is not None:
        return decided
    msg, early = None, None
    if payload is not None:
        try:
            msg, early = unpickle_prepared(payload)
            msg.raw = raw
        except Exception:  # noqa: BLE001 - prepared again below
            msg = None
    if msg is None:
        msg = Inbound(entry=entry, raw=raw)
        early = prepare(msg, env)
    return finish(msg, env, early)
