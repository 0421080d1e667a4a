"""How long the lifecycle's scheduler jobs take on a store with many tickets.

Run from the repository root:  ./.venv/bin/python bench/lifecycle_jobs.py [N]

Creates N tickets directly in a fresh SQLite store (60% open, 20% stalled with a snooze, 20%
resolved long ago; one requester per 5 tickets, a third owned by one of 5 technicians), an
[[sla]] target for every priority and escalation on, then runs each job twice with a clock
far enough ahead that every timer is due: the first run does the work (mails, events), the
second finds nothing left (what a restart would see). Prints one table and writes
bench/results/lifecycle_jobs.json. Numbers, never assertions.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results" / "lifecycle_jobs.json"

from mailgate.app import build_env  # noqa: E402
from mailgate.config import load_settings  # noqa: E402
from mailgate.db.models import Outbox, Person, Queue, Snooze, Ticket, database_proxy  # noqa: E402
from mailgate.schedule.jobs import TASKS, run_task  # noqa: E402

CONFIG = """
templates = "{templates}"
rules = "{rules}"
[gateway]
secret = "bench-secret"
[store]
database = "sqlite:///store/mailgate.db"
spool = "store/spool"
attachments = "store/attachments"
[lifecycle]
archive_after_days = 30
reminder_time = "08:00"
[calendar]
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "23:59"
[[queue]]
name = "general"
address = "helpdesk@example.com"
escalate_after_hours = 4.0
{people}
{sla}
"""


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="mailgate-lifecycle-bench-"))
    (tmp / "rules").mkdir()
    people = "\n".join(f'[[person]]\naddress = "tech{i}@example.com"\nrole = "technician"\n' for i in range(5))
    sla = "\n".join(f"[[sla]]\npriority = {p}\nfirst_response_hours = 2.0\nresolution_hours = 8.0\n"
                    for p in range(1, 5))
    (tmp / "mailgate.toml").write_text(CONFIG.format(templates=ROOT / "templates", rules=tmp / "rules",
                                                     people=people, sla=sla))
    start = datetime(2026, 11, 2, 9, 0)
    env = build_env(load_settings(tmp / "mailgate.toml"), clock=lambda: datetime.now(UTC))
    db = database_proxy.obj
    t0 = time.perf_counter()
    with db.atomic():
        queue = Queue.create(name="general", address="helpdesk@example.com")
        techs = [Person.get(Person.address == f"tech{i}@example.com") for i in range(5)]
        requesters = [Person.create(address=f"user{i}@customer.example") for i in range(n // 5 + 1)]
        for i in range(n):
            kind = i % 10
            status = "resolved" if kind >= 8 else ("stalled" if kind >= 6 else "open")
            t = Ticket.create(queue=queue, subject=f"ticket {i}", status=status, priority=1 + i % 4,
                              requester=requesters[i // 5], owner=techs[i % 5] if i % 3 == 0 else None,
                              created_at=start, updated_at=start)
            if status == "stalled":
                Snooze.create(ticket=t, wake_at=start + timedelta(days=1), set_at=start)
    setup = time.perf_counter() - t0
    clock_now = [datetime(2026, 12, 20, 8, 30, tzinfo=UTC)]
    env.clock = lambda: clock_now[0]
    rows = []
    for name in TASKS:
        runs, mails, busy, first, idle = 0, 0, 0.0, "", 0.0
        while runs <= 100:  # until a run finds nothing left (the SLA job stops after 500 mails a run)
            before = Outbox.select().count()
            t1 = time.perf_counter()
            result = run_task(env, name)
            took = time.perf_counter() - t1
            sent = Outbox.select().count() - before
            first = first or result
            if runs and not sent and "more" not in result:
                idle = took  # what every later tick costs
                break
            runs, mails, busy = runs + 1, mails + sent, busy + took
        rows.append({"job": name, "working_runs": runs, "working_s": round(busy, 3), "mails": mails,
                     "idle_run_s": round(idle, 3), "first_result": first[:60]})
    print(f"{n} tickets (setup {setup:.1f}s)")
    print(f"{'job':<20} {'runs':>4} {'work s':>7} {'mails':>6} {'idle run s':>10}  first result")
    for r in rows:
        print(f"{r['job']:<20} {r['working_runs']:>4} {r['working_s']:>7} {r['mails']:>6} {r['idle_run_s']:>10}  "
              f"{r['first_result']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"tickets": n, "jobs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
