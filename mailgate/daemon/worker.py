"""Drain the spool through the pipeline in groups: one database transaction per group.

    claim (a thread)  →  prepare (a worker process, or here)  →  commit (the database thread)

The worker claims what is pending now, up to `[daemon] group_size` entries (it never waits
for a group to fill), has the pure stages run for them while the database thread commits
the previous group, then hands them to `batch.commit_group`: one transaction, one savepoint
per message, spool entries forgotten only after the commit. Groups are committed in queue
order, so a reply never overtakes the message it answers.

New entries come from our own listeners (they call `wake`) and from `mailgate deliver`
processes, which only spool while the daemon runs: a short poll of queue/ notices those.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from mailgate.batch import commit_group
from mailgate.core.entry import SpoolEntry
from mailgate.core.errors import TransientError
from mailgate.daemon.dbthread import DbThread
from mailgate.daemon.preparer import Preparer
from mailgate.env import Env
from mailgate.pipeline import Outcome
from mailgate.prepare_worker import warm_up

log = logging.getLogger("mailgate.daemon.worker")

# after a transient failure (database locked or down) wait before trying the queue again
TRANSIENT_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
# how often a group waiting for the listeners to go quiet looks ([daemon] yield_to_ingest)
YIELD_STEP = 0.01
# ... and the backlog above which it no longer waits (a few seconds of full-speed draining)
YIELD_BACKLOG = 2000

# While the API or the web desk writes, mail is committed in small groups: a note waits for
# the group ahead of it in the database thread, ~4 ms a message (64: a quarter second, 8:
# ~30 ms). bench/api.py, notes from 8 clients during SMTP ingest, 2,000-ticket store: 47
# notes/s with groups of 64.
SHARED_GROUP = 8
SHARED_FOR = 1.0  # seconds after the last HTTP write

Group = list[tuple[SpoolEntry, bytes]]


class Worker:
    def __init__(self, env: Env, db: DbThread, poll_interval: float, group_size: int = 64,
                 preparer: Preparer | None = None, accepting: Callable[[], bool] | None = None,
                 yield_max: float = 0.25, send_raw: bool = False) -> None:
        self.env = env
        self.db = db
        self.poll_interval = poll_interval
        self.group_size = max(1, group_size)
        self.preparer = preparer
        self.processed = 0
        self._wake = asyncio.Event()
        self._failures = 0
        self.busy = False  # messages are in hand (shutdown waits for them)
        self.on_outcome: list[Callable[[Outcome], None]] = []
        # True while listeners are taking mail: the next commit waits (at most YIELD_MAX), as
        # the commit and the SMTP sessions share one interpreter lock and a sender waiting
        # for its 250 matters more than a ticket appearing a fraction of a second sooner
        self.accepting = accepting or (lambda: False)
        self.yield_max = yield_max
        self.backlog_seen = 0  # queue entries at the last claim
        # the preparing workers get the bytes with the entries (the spool is in the database,
        # not in a folder they could read)
        self.send_raw = send_raw

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        if self.preparer is not None and not self.preparer.broken:
            await self.preparer.ready()
        else:
            await self.db.run(warm_up, self.env)
        loop = asyncio.get_running_loop()
        # three stages overlap: the next group is claimed (a thread: fsyncs) while this one is
        # prepared (a worker process) while the previous one commits (the database thread)
        claiming: asyncio.Future[Group] | None = None
        committing: asyncio.Future[bool] | None = None

        def claim_next(alone: bool) -> asyncio.Future[Group]:
            self._wake.clear()
            return asyncio.ensure_future(loop.run_in_executor(None, self._claim_group, alone, self._group_size()))

        async def settle() -> bool:
            """Wait for the commit in flight; False: it was deferred (back off)."""
            nonlocal committing
            if committing is None:
                return True
            ok, committing = await committing, None
            return ok

        async def hand_back(group: Group) -> None:
            """Release a group, and the one being claimed, to the queue."""
            nonlocal claiming
            if claiming is not None:
                group, claiming = group + await claiming, None
            await loop.run_in_executor(None, self._release, group)

        try:
            while not stop.is_set():
                if claiming is None:
                    await self._yield_to_ingest(stop)  # before claiming: nothing waits in hand
                ahead = claiming is not None  # claimed while other mail was in hand: no suspect in it
                group: Group = await (claiming or claim_next(alone=committing is None))
                claiming = None
                if not group:
                    if committing is not None or ahead:
                        if not await settle():
                            await self._backoff(stop)
                        continue  # mail (or a suspect) may be waiting: claim again at once
                    self.busy = False
                    await _wait_any(stop, self._wake, self.poll_interval)
                    continue
                self.busy = True
                suspect = group[0][0].attempts > 1
                if not suspect and not stop.is_set() and not (self.yield_max > 0 and self.accepting()):
                    claiming = claim_next(alone=False)
                payloads = await self._prepare(group)
                if not await settle():  # the queue is deferred: this group waits with it
                    await hand_back(group)
                    await self._backoff(stop)
                    continue
                if stop.is_set():  # shutting down: hand the group back rather than start on it
                    await hand_back(group)
                    break
                committing = asyncio.ensure_future(self.db.run(self._commit, group, payloads))
                if suspect and not await settle():  # nothing else in hand until it is done
                    await self._backoff(stop)
            await settle()
            if claiming is not None:
                await hand_back([])
        finally:
            self.busy = False

    async def _yield_to_ingest(self, stop: asyncio.Event) -> None:
        """While mail is arriving, let the sessions have the interpreter for up to yield_max
        before the next group is claimed (and not claim ahead meanwhile: a group is never
        held in hand while waiting, so a kill finds as little in hand as before). The spool already holds every message (they were
        acknowledged only after that), so waiting loses nothing; the backlog drains at full
        speed as soon as the senders pause, and at least one group per yield_max meanwhile.
        Once YIELD_BACKLOG messages wait, it stops yielding: a storm that never pauses must
        not leave its tickets ever further behind."""
        if self.backlog_seen >= YIELD_BACKLOG or self.yield_max <= 0:
            return
        deadline = time.monotonic() + self.yield_max
        while self.accepting() and time.monotonic() < deadline and not stop.is_set():
            await asyncio.sleep(YIELD_STEP)

    def _group_size(self) -> int:
        if time.monotonic() - self.db.together_at < SHARED_FOR:
            return min(self.group_size, SHARED_GROUP)
        return self.group_size

    def _claim_group(self, alone: bool = True, size: int = 0) -> Group:
        """Runs in an executor thread: claim (attempt counted durably) and read what is
        pending now, oldest first. `alone`: nothing else is in hand, a suspect may be taken
        (SpoolStore.claim_group: an entry claimed before comes alone, for the crash counter)."""
        group, self.backlog_seen = self.env.spool.claim_group(size or self.group_size, alone)
        return group

    def _release(self, group: Group) -> None:
        for entry, _ in group:
            self.env.spool.release(entry)

    async def _prepare(self, group: Group) -> list[bytes | None]:
        if self.preparer is None:
            return [None] * len(group)  # the database thread prepares each message itself
        raws = [raw for _, raw in group] if self.send_raw else None
        return await self.preparer.prepare(self.env, [entry for entry, _ in group], raws)

    def _commit(self, group: Group, payloads: list[bytes | None]) -> bool:
        """Runs in the database thread. False means: stop draining and back off."""
        try:
            results = commit_group(self.env, [(e, raw, p) for (e, raw), p in zip(group, payloads, strict=True)])
        except TransientError as exc:  # rolled back, every entry released
            log.warning("deferred %d message%s, will retry: %s", len(group), "" if len(group) == 1 else "s", exc,
                        extra={"message_id": _span(group), "stage": "commit", "outcome": "deferred"})
            return False
        except Exception:  # noqa: BLE001 - a bug outside the stages: keep the entries, keep running
            self._release(group)
            log.exception("group commit failed outside the stages; %d entries kept for retry", len(group),
                          extra={"message_id": _span(group), "stage": "commit", "outcome": "error"})
            return False
        ok = True
        for entry, outcome in results:
            if isinstance(outcome, Exception):
                ok = False  # released: retried after a back-off; the crash counter quarantines it eventually
                log.error("processing failed outside the stages; entry kept for retry (attempt %d): %s: %s",
                          entry.attempts, type(outcome).__name__, outcome, exc_info=outcome,
                          extra={"message_id": entry.sha256[:12], "stage": "commit", "outcome": "error",
                                 "source": entry.source})
                continue
            self._report(entry, outcome)  # type: ignore[arg-type]
        if ok:
            self._failures = 0
        if len(group) > 1:
            log.info("group of %d committed in one transaction", len(group),
                     extra={"message_id": _span(group), "stage": "commit"})
        return ok

    def _report(self, entry: SpoolEntry, outcome: Outcome) -> None:
        self.processed += 1
        stage = outcome.detail.split(":", 1)[0] if outcome.status == "quarantined" and ":" in outcome.detail else "pipeline"
        level = logging.WARNING if outcome.status == "quarantined" else logging.INFO
        log.log(level, "%s%s", outcome.status,
                f" ({outcome.detail})" if outcome.detail and outcome.status != "stored" else
                f" via {outcome.detail}" if outcome.detail else "",
                extra={"message_id": outcome.message_id or entry.sha256[:12], "stage": stage,
                       "ticket": outcome.ticket_id, "outcome": outcome.status, "source": entry.source})
        for hook in self.on_outcome:
            hook(outcome)

    async def _backoff(self, stop: asyncio.Event) -> None:
        delay = TRANSIENT_BACKOFF[min(self._failures, len(TRANSIENT_BACKOFF) - 1)]
        self._failures += 1
        await _wait_any(stop, asyncio.Event(), delay)


def _span(group: Group) -> str:
    """The log line's message id for a whole group: first..last spool hash."""
    first, last = group[0][0].sha256[:12], group[-1][0].sha256[:12]
    return first if len(group) == 1 else f"{first}..{last}"


async def _wait_any(stop: asyncio.Event, other: asyncio.Event, timeout: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
