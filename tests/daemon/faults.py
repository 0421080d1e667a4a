"""The kill -9 fault run, shared by the test (500 messages) and bench/daemon_faults.py:
a client sends messages over SMTP the way an MTA does (retry until 250), while the daemon is
killed with SIGKILL at random moments and restarted. Afterwards every message that got a 250
must be stored exactly once, and no message twice."""

from __future__ import annotations

import random
import re
import smtplib
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass

from tests.daemon.conftest import DaemonProc, message


@dataclass
class FaultFigures:
    sent: int
    acknowledged: int
    stored: int
    duplicates: int
    lost: int  # acknowledged, yet neither stored nor quarantined
    quarantined: int  # acknowledged and quarantined by the crash counter (kept, retryable)
    kills: int
    attempts: int
    most_in_hand: int  # the most claimed entries (spool/processing/) a kill caught: >1 = mid-group
    seconds: float
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)


def _client(d: DaemonProc, numbers: list[int], acked: set[int], attempts: list[int], done: threading.Event) -> None:
    i = 0
    while i < len(numbers):
        attempts[0] += 1
        try:
            with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
                while i < len(numbers):
                    n = numbers[i]
                    s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n, subject="Fault"))
                    acked.add(n)  # reached only on 250
                    i += 1
        except (OSError, smtplib.SMTPException):
            time.sleep(0.02)  # refused, reset, 421 or 451: an MTA keeps the mail and retries
    done.set()


def _in_hand(d: DaemonProc) -> int:
    folder = d.spool / "processing"
    return len(list(folder.glob("*.json"))) if folder.exists() else 0


def kill_loop(d: DaemonProc, count: int = 500, seed: int | None = None, max_seconds: float = 240.0,
              max_kills: int = 15, clients: int = 1, kill_during_drain: bool = True,
              aim_mid_group: bool = False) -> FaultFigures:
    """`clients` concurrent SMTP sessions (several fill the queue faster than the worker
    drains it); with `kill_during_drain` the kills go on after the last 250 while a backlog
    remains; with `aim_mid_group` each kill waits (up to 5 s) for the daemon to hold more
    than one claimed entry: a group being prepared or committed."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    acked: set[int] = set()
    attempts = [0]
    events = [threading.Event() for _ in range(clients)]
    started = time.monotonic()
    lanes = [list(range(count))[k::clients] for k in range(clients)]
    threads = [threading.Thread(target=_client, args=(d, lane, acked, attempts, ev), daemon=True)
               for lane, ev in zip(lanes, events, strict=True)]
    for t in threads:
        t.start()

    def busy() -> bool:
        return not all(ev.is_set() for ev in events) or (kill_during_drain and d.backlog() > 0)

    kills = most_in_hand = 0
    # bounded, so the test's time is too: after max_kills the client finishes undisturbed
    while busy() and time.monotonic() - started < max_seconds and kills < max_kills:
        # random points: during start-up, in SMTP sessions, in spool fsyncs, mid-transaction.
        # Mostly after some more 250s rather than after some time: a faster daemon must not
        # make the run too short to be interrupted
        if all(ev.is_set() for ev in events):  # draining: the backlog may be gone in a second
            time.sleep(rng.uniform(0.02, 0.15))
        elif rng.random() < 0.3:
            # some time, but never more than a slice of the messages: a faster daemon must not
            # finish the run before it has been interrupted often enough
            until = time.monotonic() + rng.uniform(0.05, 1.2 if rng.random() < 0.5 else 0.3)
            cap = len(acked) + max(1, count // max(1, max_kills))
            while time.monotonic() < until and len(acked) < cap and busy():
                time.sleep(0.005)
        else:
            target = len(acked) + rng.randint(1, max(1, count // max(1, max_kills)))
            progress_until = time.monotonic() + 10.0
            while len(acked) < target and busy() and time.monotonic() < progress_until:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.15))  # not always just as the client gets going again
        # aiming waits for a group in hand, but not past half a slice more of acknowledged
        # messages: the clients must not finish while the kills are still waiting to aim
        aim_until = time.monotonic() + (5.0 if aim_mid_group else 0.0)
        aim_cap = len(acked) + max(1, count // (2 * max(1, max_kills)))
        while (_in_hand(d) < 2 and time.monotonic() < aim_until and busy()
               and (len(acked) < aim_cap or all(ev.is_set() for ev in events))):
            time.sleep(0.002)
        if not busy():
            break
        most_in_hand = max(most_in_hand, _in_hand(d))
        d.kill9()
        kills += 1
        d.start(wait=rng.random() < 0.5)  # sometimes kill it again while it is still starting
    for t in threads:
        t.join(30)
    if not d.running():
        d.start()
    d.wait_ready()
    d.wait_idle(timeout=180)
    ids = Counter(d.inbound_ids())
    wanted = {f"m{n}@customer.example" for n in acked}
    stored = sum(1 for mid in ids if mid in wanted)
    quarantined = _quarantined_ids(d) & (wanted - set(ids))
    return FaultFigures(sent=count, acknowledged=len(acked), stored=stored,
                        duplicates=sum(c - 1 for c in ids.values() if c > 1),
                        lost=len(wanted - set(ids) - quarantined), quarantined=len(quarantined),
                        kills=kills, attempts=attempts[0], most_in_hand=most_in_hand, seconds=round(time.monotonic() - started, 1), seed=seed)


def _quarantined_ids(d: DaemonProc) -> set[str]:
    with d.db() as c:
        shas = [r[0] for r in c.execute("SELECT raw_sha256 FROM quarantine")]
    found = set()
    for sha in shas:
        m = re.search(rb"Message-ID: <([^>]+)>", (d.spool / "raw" / sha[:2] / sha).read_bytes())
        if m:
            found.add(m.group(1).decode())
    return found
