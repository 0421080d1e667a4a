"""Does ingest slow down as the store grows? Ingest rate and threading lookup time with 1k,
100k and 1M messages already stored.

    python bench/scale.py                     # sizes 1000,100000,1000000
    python bench/scale.py --sizes 1000,100000 --fresh 500

The stored history is written directly with bulk inserts (tickets with a requester, an
event, a nosy entry and an acknowledgement in the outbox; four messages per ticket), far
faster than ingesting it. Then a fresh corpus of --fresh messages (another seed, so none
of it is stored yet) goes through the batch ingest in one process, and the thread stage's
Message-ID lookup is timed for stored messages and for unknown ids. Pass: the rate with
the largest store is at least 80% of the rate with the smallest, counted per CPU-second
of the ingest process (the wall-clock rate is printed too; on a machine shared with other
work it mostly measures the neighbours).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as corpus_mod  # noqa: E402
import harness as h  # noqa: E402

MESSAGES_PER_TICKET = 4
CHUNK = 20_000
WHEN = "2025-06-01 12:00:00"


def _columns(con: sqlite3.Connection, table: str) -> list[tuple[str, str, bool]]:
    return [(name, ctype.upper(), bool(notnull)) for _, name, ctype, notnull, _, pk
            in con.execute(f'PRAGMA table_info("{table}")') if not pk]


def _filler(ctype: str) -> object:
    if "INT" in ctype or "BOOL" in ctype:
        return 0
    if "REAL" in ctype or "FLOAT" in ctype or "NUMERIC" in ctype or "DECIMAL" in ctype:
        return 0.0
    if "DATE" in ctype or "TIME" in ctype:
        return WHEN
    return ""


def _bulk(con: sqlite3.Connection, table: str, rows: list[dict]) -> None:
    """Insert dicts; NOT NULL columns a row does not name (other issues' additions) get a
    neutral value of their type, so the history stays valid as the schema grows."""
    cols = _columns(con, table)
    names = [c for c, _, _ in cols]
    fill = {c: (_filler(t) if notnull else None) for c, t, notnull in cols}
    sql = f'INSERT INTO "{table}" ({", ".join(chr(34) + n + chr(34) for n in names)}) VALUES ({", ".join("?" * len(names))})'
    con.executemany(sql, [tuple(r.get(n, fill[n]) for n in names) for r in rows])


def build_history(db: Path, messages: int, seed: int = 99) -> float:
    """Write `messages` stored messages (and their tickets) straight into the database."""
    rng = random.Random(seed)
    started = time.perf_counter()
    con = sqlite3.connect(str(db))
    con.execute("PRAGMA journal_mode=wal")
    con.execute("PRAGMA synchronous=off")  # history only: the measured ingest runs with FULL
    queue_id = con.execute("SELECT id FROM queue WHERE name = 'general'").fetchone()
    if queue_id is None:
        con.execute("INSERT INTO queue (name, address) VALUES ('general', 'helpdesk@example.com')")
        queue_id = con.execute("SELECT id FROM queue WHERE name = 'general'").fetchone()
    queue_id = queue_id[0]
    tickets = max(1, messages // MESSAGES_PER_TICKET)
    people = max(10, tickets // 5)
    base_person = (con.execute("SELECT COALESCE(MAX(id), 0) FROM person").fetchone()[0]) + 1
    _bulk(con, "person", [{"id": base_person + i, "address": f"user{i}@history.test", "name": f"User {i}",
                           "role": "requester", "created_at": WHEN} for i in range(people)])
    msg_id = 1
    for start in range(0, tickets, CHUNK):
        trows, mrows, erows, nrows, orows = [], [], [], [], []
        for t in range(start, min(tickets, start + CHUNK)):
            tid = t + 1
            person = base_person + rng.randrange(people)
            root = f"{rng.getrandbits(64):016x}@history.test"
            trows.append({"id": tid, "queue_id": queue_id, "subject": f"Stored request {tid}", "status": "closed",
                          "priority": 3, "requester_id": person, "root_message_id": root,
                          "created_at": WHEN, "updated_at": WHEN})
            for k in range(MESSAGES_PER_TICKET):
                mid = root if k == 0 else f"{rng.getrandbits(64):016x}@history.test"
                mrows.append({"id": msg_id, "ticket_id": tid, "message_id": mid,
                              "content_hash": f"{rng.getrandbits(128):032x}", "direction": "in",
                              "sender": f"user{person - base_person}@history.test", "recipients": "[]",
                              "subject": f"Re: Stored request {tid}", "body": "Stored history text.",
                              "raw_sha256": f"{rng.getrandbits(128):032x}", "source": "history",
                              "thread_signal": "new" if k == 0 else "message-id", "created_at": WHEN})
                msg_id += 1
            erows.append({"ticket_id": tid, "at": WHEN, "actor": "history", "field": "created", "new": "x"})
            nrows.append({"ticket_id": tid, "person_id": person})
            orows.append({"ticket_id": tid, "kind": "ack", "sender": "helpdesk@example.com",
                          "recipients": f'["user{person - base_person}@history.test"]',
                          "message_id": f"ack.{tid}@example.com", "message": "stored ack", "state": "sent",
                          "next_attempt_at": WHEN, "created_at": WHEN})
        _bulk(con, "ticket", trows)
        _bulk(con, "message", mrows)
        _bulk(con, "event", erows)
        _bulk(con, "nosy", nrows)
        _bulk(con, "outbox", orows)
        con.commit()
    # no ANALYZE: mailgate never runs it, so a real store has no planner statistics either
    con.close()
    return time.perf_counter() - started


def lookup_times(config: Path, db: Path, samples: int = 2000) -> dict:
    """Median/p99 of the thread stage's Message-ID lookup: stored ids, and unknown ones."""
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.stages import thread

    def lookup(ids: tuple[str, ...]) -> object:
        # the stage's own lookup, given what a reply carries: the gateway's ack as
        # In-Reply-To (never stored here) and the stored message in References
        return thread.by_message_ids(SimpleNamespace(in_reply_to=ids[:1], references=ids[1:]))
    build_env(load_settings(config))
    con = sqlite3.connect(str(db))
    top = con.execute("SELECT MAX(id) FROM message").fetchone()[0] or 1
    rng = random.Random(5)
    stored = [con.execute("SELECT message_id FROM message WHERE id = ?", (rng.randint(1, top),)).fetchone()[0]
              for _ in range(samples)]
    con.close()
    result = {}
    for name, ids in (("stored", stored), ("unknown", [f"nope{i}@x.test" for i in range(samples)])):
        took = []
        for mid in ids:
            t0 = time.perf_counter()
            lookup((f"unknown-ack-{mid}", mid))
            took.append(time.perf_counter() - t0)
        result[f"lookup_{name}_p50_us"] = round(statistics.median(took) * 1e6, 1)
        result[f"lookup_{name}_p99_us"] = round(h.percentile(took, 99) * 1e6, 1)
    return result


def run_size(size: int, fresh_folder: Path, fresh: int) -> dict:
    gw = h.WORK / f"gw-scale-{size}"
    config = h.make_gateway(gw)
    subprocess.run([str(h.MAILGATE), "--config", str(config), "ticket", "list", "--json"], check=True,
                   capture_output=True, cwd=gw)  # creates the schema through the migrations
    db = gw / "store" / "mailgate.db"
    built = build_history(db, size)
    ingest = h.run_json([sys.executable, str(h.BENCH / "batch_child.py"), str(config), str(fresh_folder), "1"],
                        cwd=gw)
    lookups = h.run_json([sys.executable, __file__, "--lookups", str(config), str(db)], cwd=gw)
    row = {"stored": size, "history_build_s": round(built, 1), "rate": ingest["rate"],
           "cpu_ms_per_msg": ingest["cpu_ms_per_msg"], "cpu_rate": round(1000 / ingest["cpu_ms_per_msg"], 1),
           "p50_ms": ingest["p50_ms"], "p99_ms": ingest["p99_ms"], "db_mb": round(db.stat().st_size / 2**20, 1),
           **lookups}
    print(f"  {size:>9,} stored: {row['rate']} msg/s, lookup {row['lookup_stored_p50_us']} µs", file=sys.stderr)
    return row


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--lookups":
        import json

        print(json.dumps(lookup_times(Path(sys.argv[2]), Path(sys.argv[3]))))
        return
    ap = argparse.ArgumentParser(description="ingest cost against store size")
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--fresh", type=int, default=1000, help="messages ingested per size")
    ap.add_argument("--repeat", type=int, default=1, help="ingest runs per size (median by rate)")
    args = ap.parse_args()
    fresh_folder = h.WORK / f"corpus-{args.fresh}-s7"
    if not (fresh_folder / "truth.json").exists():
        corpus_mod.write(corpus_mod.generate(args.fresh, seed=7), fresh_folder)
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        runs = [run_size(size, fresh_folder, args.fresh) for _ in range(args.repeat)]
        rows.append(h.median_run(runs, "rate"))
    base = rows[0]["cpu_rate"]
    for row in rows:
        row["vs_smallest"] = f"{row['cpu_rate'] / base:.0%}"
    print(f"fresh corpus: {args.fresh} messages, batch ingest in one process (no pool), durable commits")
    print(h.table(rows, [("stored", "stored msgs"), ("db_mb", "DB MB"), ("rate", "msg/s wall"),
                         ("cpu_rate", "msg/CPU-s"), ("vs_smallest", "vs smallest"),
                         ("p50_ms", "p50 ms"), ("lookup_stored_p50_us", "lookup µs p50"),
                         ("lookup_stored_p99_us", "lookup µs p99"), ("lookup_unknown_p50_us", "unknown µs p50")]))
    verdict = rows[-1]["cpu_rate"] >= 0.8 * base
    print(f"largest store at {rows[-1]['cpu_rate'] / base:.0%} of the smallest store's rate per CPU-second: "
          f"{'PASS' if verdict else 'FAIL'} (target >= 80%)")
    path = h.write_result("scale", {"fresh": args.fresh, "rows": rows, "pass": verdict})
    print(f"written {path.relative_to(h.ROOT)}")


if __name__ == "__main__":
    main()
