"""Alert storm: monitoring mail for 50 host/service pairs over a simulated hour, pushed
through the real pipeline (spool accept + process, a temporary SQLite store, the shipped
rules/), checking the promises of alert grouping after every message.

Run from the repository root:  ./.venv/bin/python bench/alert_storm.py [--mails 10000]

Prints the figures and writes bench/results/alert_storm.json. The scenario (Nagios mails
from one monitoring host, the team is one technician):

- storm:      30 pairs fail within 2.5 minutes (a switch died), recover after ~20 minutes;
- steady:     10 pairs fail one by one, recover after 15 minutes, fail again 15 minutes
              later (past the flap window: a new ticket);
- flapping:   5 pairs alternate problem/recovery every 3 minutes for 40 minutes;
- persistent: 5 pairs fail at half past and never recover;
- repeats of open problems fill the rest up to --mails, and 1% of all mails are delivered
  twice (an MTA retry), which must change nothing.

Checked after each message against a reference model: at most one open ticket per
fingerprint, every ticket open exactly while its problem is (resolved when the recovery
arrived, never otherwise); at the end: every distinct mail is accounted for (a Message row
or a RuleMatch row, raw bytes in the spool), nothing left in the spool queue.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SOURCE = "nagios@mon01.example.net"
START = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)

CONFIG = """\
templates = "{root}/templates"
rules = "{root}/rules"

[gateway]
address = "helpdesk@example.com"
secret = "bench-secret"

[store]
database = "sqlite:///store/mailgate.db"
spool = "store/spool"
attachments = "store/attachments"

[monitoring]
renotify_interval = {renotify}
flap_window = {flap}
storm_threshold = {storm_threshold}
storm_window = {storm_window}

[[queue]]
name = "general"
address = "helpdesk@example.com"

[[queue]]
name = "ops"
address = "ops@example.com"

[[person]]
address = "alice@example.com"
name = "Alice Admin"
role = "technician"
queues = ["ops"]
"""


@dataclass(frozen=True)
class Mail:
    at: datetime
    host: str
    service: str
    kind: str  # PROBLEM | RECOVERY
    seq: int

    @property
    def fingerprint(self) -> str:
        return f"{self.host}/{self.service}"

    def raw(self) -> bytes:
        state = "CRITICAL" if self.kind == "PROBLEM" else "OK"
        stamp = self.at.strftime("%a, %d %b %Y %H:%M:%S +0000")
        return (
            f"Return-Path: <{SOURCE}>\n"
            f"Subject: ** {self.kind} Service Alert: {self.host}/{self.service} is {state} **\n"
            "To: <ops@example.com>\n"
            f"Message-Id: <{self.at:%Y%m%d%H%M%S}.{self.seq:06d}@mon01.example.net>\n"
            f"Date: {stamp}\n"
            f"From: {SOURCE}\n\n"
            "***** Nagios *****\n\n"
            f"Notification Type: {self.kind}\n\n"
            f"Service: {self.service}\nHost: {self.host}\nAddress: 192.0.2.{self.seq % 250}\n"
            f"State: {state}\n\nDate/Time: {self.at:%a %b %d %H:%M:%S UTC %Y}\n\n"
            f"Additional Info:\n\n{self.service} check {state.lower()} (sample {self.seq})\n"
        ).encode()


def scenario(pairs: int = 50, mails: int = 10_000, seed: int = 7, minutes: int = 60) -> list[Mail]:
    """Problems and recoveries by group (see the module docstring), then repeats of open
    problems at random moments until `mails` in total, sorted by time."""
    rng = random.Random(seed)
    hosts = [f"host-{h:02d}" for h in range(max(1, pairs // 5))]
    services = ["HTTP", "SSH", "disk /var", "load", "NTP"]
    names = [(hosts[i // 5], services[i % 5]) for i in range(pairs)]
    end = START + timedelta(minutes=minutes)
    storm, steady, flapping = int(pairs * 0.6), int(pairs * 0.2), int(pairs * 0.1)
    events: list[tuple[datetime, int, str]] = []
    open_spans: list[tuple[int, datetime, datetime]] = []

    def span(i: int, a: datetime, b: datetime | None) -> None:
        events.append((a, i, "PROBLEM"))
        if b is not None and b < end:
            events.append((b, i, "RECOVERY"))
        open_spans.append((i, a, min(b or end, end)))

    for i in range(storm):
        span(i, START + timedelta(seconds=5 * i), START + timedelta(minutes=20, seconds=3 * i))
    for k, i in enumerate(range(storm, storm + steady)):
        first = START + timedelta(minutes=10 + 2 * k)
        span(i, first, first + timedelta(minutes=15))
        span(i, first + timedelta(minutes=30), None)
    for i in range(storm + steady, storm + steady + flapping):
        t = START + timedelta(minutes=10, seconds=20 * (i % 5))
        while t < START + timedelta(minutes=50):
            span(i, t, t + timedelta(minutes=1, seconds=30))
            t += timedelta(minutes=3)
    for i in range(storm + steady + flapping, pairs):
        span(i, START + timedelta(minutes=30, seconds=10 * i), None)
    weights = [(b - a).total_seconds() for _, a, b in open_spans]
    while len(events) < mails:
        i, a, b = rng.choices(open_spans, weights=weights)[0]
        # strictly inside the span: a repeat never overtakes its own problem or recovery
        offset = rng.uniform(1.0, max(1.5, (b - a).total_seconds() - 1.0))
        events.append((a + timedelta(seconds=offset), i, "PROBLEM"))
    events.sort(key=lambda e: (e[0], e[2] == "RECOVERY"))
    return [Mail(at, names[i][0], names[i][1], kind, seq) for seq, (at, i, kind) in enumerate(events[:mails])]


class Model:
    """The reference: which fingerprints must have an open ticket after each mail."""

    def __init__(self) -> None:
        self.open: set[str] = set()

    def apply(self, mail: Mail) -> None:
        if mail.kind == "PROBLEM":
            self.open.add(mail.fingerprint)
        else:
            self.open.discard(mail.fingerprint)


def run(mails: list[Mail], workdir: Path, *, redeliver: float = 0.01, renotify: float = 14400.0,
        flap: float = 600.0, storm_threshold: int = 10, storm_window: float = 300.0, seed: int = 7,
        progress: bool = False) -> dict:
    from peewee import fn

    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.db.models import (
        ACTIVE_STATUSES,
        AlertGroup,
        AlertOccurrence,
        AlertStorm,
        Message,
        Outbox,
        RuleMatch,
        Ticket,
    )
    from mailgate.pipeline import drain

    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "mailgate.toml"
    config.write_text(CONFIG.format(root=ROOT, renotify=renotify, flap=flap, storm_threshold=storm_threshold,
                                    storm_window=storm_window))
    clock = {"now": START}
    env = build_env(load_settings(config), clock=lambda: clock["now"])
    rng = random.Random(seed + 1)
    model = Model()
    violations: list[str] = []
    outcomes: dict[str, int] = {}
    deliveries = 0
    busy = 0.0
    resolved_on_recovery = 0
    for n, mail in enumerate(mails):
        clock["now"] = mail.at
        raw = mail.raw()
        copies = 2 if rng.random() < redeliver else 1
        for _ in range(copies):
            t0 = time.perf_counter()
            env.spool.accept(raw, "bench", ("ops@example.com",))
            done = drain(env)
            busy += time.perf_counter() - t0
            deliveries += 1
            for o in done:
                outcomes[o.status] = outcomes.get(o.status, 0) + 1
        model.apply(mail)
        group = AlertGroup.get_or_none(AlertGroup.fingerprint == mail.fingerprint)
        ticket = Ticket.get_or_none(Ticket.id == group.ticket_id) if group and group.ticket_id else None
        is_open = ticket is not None and ticket.status in ACTIVE_STATUSES
        if is_open != (mail.fingerprint in model.open):
            violations.append(f"mail {n} ({mail.kind} {mail.fingerprint} at {mail.at:%H:%M:%S}): ticket "
                              f"{'open' if is_open else 'not open'}, expected the opposite")
        if mail.kind == "RECOVERY" and ticket is not None and ticket.status == "resolved":
            resolved_on_recovery += 1
        tickets_of_fp = (Ticket.select().distinct().join(AlertOccurrence, on=(AlertOccurrence.ticket == Ticket.id))
                         .where(AlertOccurrence.group == group, Ticket.status.in_(ACTIVE_STATUSES)).count()
                         if group else 0)
        if tickets_of_fp > 1:
            violations.append(f"mail {n}: {tickets_of_fp} open tickets for {mail.fingerprint}")
        if progress and n % 500 == 0:
            print(f"\r{n}/{len(mails)} mails", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    # every distinct mail must be accounted for, its raw bytes kept
    lost = 0
    for mail in mails:
        mid = f"{mail.at:%Y%m%d%H%M%S}.{mail.seq:06d}@mon01.example.net"
        found = (Message.select().where(Message.message_id == mid).exists()
                 or RuleMatch.select().where(RuleMatch.message_id == mid).exists())
        lost += 0 if found else 1
    left_in_spool = len(env.spool.pending())
    storm_tickets = AlertStorm.select().count()
    alert_tickets = (Ticket.select().where(Ticket.id.in_(AlertOccurrence.select(AlertOccurrence.ticket)
                                                         .where(AlertOccurrence.kind == "open"))).count())
    return {
        "mails": len(mails),
        "deliveries": deliveries,
        "fingerprints": len({m.fingerprint for m in mails}),
        "recoveries_sent": sum(1 for m in mails if m.kind == "RECOVERY"),
        "outcomes": outcomes,
        "tickets_opened": alert_tickets,
        "storm_incident_tickets": storm_tickets,
        "tickets_total": Ticket.select().count(),
        "inbound_messages_stored": Message.select().where(Message.direction == "in").count(),
        "occurrences_recorded": AlertOccurrence.select().count(),
        "reopened_by_flapping": AlertOccurrence.select().where(AlertOccurrence.kind == "reopen").count(),
        "resolved_on_recovery": resolved_on_recovery,
        "alert_mails_queued": Outbox.select().where(Outbox.kind.startswith("alert-")).count(),
        "alert_mails_by_kind": {o.kind: o.n for o in Outbox.select(Outbox.kind, fn.COUNT(Outbox.id).alias("n"))
                                .where(Outbox.kind.startswith("alert-")).group_by(Outbox.kind)},
        "other_mails_queued": Outbox.select().where(~Outbox.kind.startswith("alert-")).count(),
        "open_tickets_at_end": Ticket.select().where(Ticket.status.in_(ACTIVE_STATUSES)).count(),
        "lost": lost + left_in_spool,
        "violations": len(violations),
        "violation_examples": violations[:10],
        "seconds": round(busy, 2),
        "mails_per_second": round(deliveries / busy, 1) if busy else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mails", type=int, default=10_000)
    ap.add_argument("--pairs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="Keep the temporary store for inspection.")
    args = ap.parse_args()
    mails = scenario(args.pairs, args.mails, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="alert-storm-"))
    try:
        result = run(mails, workdir, seed=args.seed, progress=sys.stderr.isatty())
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    result = {"scenario": {"pairs": args.pairs, "mails": args.mails, "seed": args.seed, "minutes": 60,
                           "flap_window": 600.0, "storm_threshold": 10, "storm_window": 300.0,
                           "renotify_interval": 14400.0, "team": 1},
              **result}
    width = max(len(k) for k in result)
    for key, value in result.items():
        if key != "violation_examples":
            print(f"{key.ljust(width)}  {value}")
    for v in result["violation_examples"]:
        print(f"  violation: {v}")
    out = ROOT / "bench" / "results" / "alert_storm.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}" + (f" (store kept in {workdir})" if args.keep else ""))


if __name__ == "__main__":
    main()
