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
    seconds: float
    seed: int

    def as_dict(self) -> dict:
        return asdict(self)


def _client(d: DaemonProc, count: int, acked: set[int], attempts: list[int], done: threading.Event) -> None:
    n = 0
    while n < count:
        attempts[0] += 1
        try:
            with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
                while n < count:
                    s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n, subject="Fault"))
                    acked.add(n)  # reached only on 250
                    n += 1
        except (OSError, smtplib.SMTPException):
            time.sleep(0.02)  # refused, reset, 421 or 451: an MTA keeps the mail and retries
    done.set()


def kill_loop(d: DaemonProc, count: int = 500, seed: int | None = None, max_seconds: float = 240.0,
              max_kills: int = 15) -> FaultFigures:
    seed = seed if seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    acked: set[int] = set()
    attempts = [0]
    done = threading.Event()
    started = time.monotonic()
    client = threading.Thread(target=_client, args=(d, count, acked, attempts, done), daemon=True)
    client.start()
    kills = 0
    # bounded, so the test's time is too: after max_kills the client finishes undisturbed
    while not done.is_set() and time.monotonic() - started < max_seconds and kills < max_kills:
        # random points: during start-up, in SMTP sessions, in spool fsyncs, mid-transaction
        done.wait(rng.uniform(0.05, 1.2))
        if done.is_set():
            break
        d.kill9()
        kills += 1
        d.start(wait=rng.random() < 0.5)  # sometimes kill it again while it is still starting
    client.join(30)
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
                        kills=kills, attempts=attempts[0], seconds=round(time.monotonic() - started, 1), seed=seed)


def _quarantined_ids(d: DaemonProc) -> set[str]:
    with d.db() as c:
        shas = [r[0] for r in c.execute("SELECT raw_sha256 FROM quarantine")]
    found = set()
    for sha in shas:
        m = re.search(rb"Message-ID: <([^>]+)>", (d.spool / "raw" / sha[:2] / sha).read_bytes())
        if m:
            found.add(m.group(1).decode())
    return found
