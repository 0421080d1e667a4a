"""Full-text search at scale (issue 15): query latency with N messages stored, the index's
size and build time, and what indexing costs the ingest.

    python bench/search.py                        # 1,000,000 messages
    python bench/search.py --messages 100000 --queries 300 --fresh 1000

1. A store of N messages (four per ticket, two queues, ~N/20 requesters, two years of
   dates, 2% with an attachment) is written straight into SQLite with bulk inserts; the
   text is drawn from a Zipf-distributed vocabulary (a few hundred everyday words and
   30,000 rarer terms), 20-70 words a message.
2. The index is built with `mailgate search reindex`'s code (batches of 20,000) and
   its size read from SQLite's dbstat.
3. Queries run through `mailgate.search.search` (what the CLI, the API and the page call:
   the index lookup, the filters, the hits' rows and snippets), 20 hits each: one word, two
   words, and operator queries (from:, queue:, is:open, after:, has:attachment, a phrase,
   -word, from: alone). Words are drawn log-uniformly from vocabulary ranks 20-30,000:
   mostly specific terms, some common ones. p50/p95/p99 per kind.
4. Ingest: a fresh corpus (bench/corpus.py) through the batch importer in this process,
   into the big store and into a byte copy of it with indexing off ([search] index),
   chunk by chunk, the same messages into both (which goes first alternates), so both
   rates come from the same run on the same data; per CPU-second and per wall-second.

Writes bench/results/search.json.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpus as corpus_mod  # noqa: E402
import harness as h  # noqa: E402
from scale import _bulk  # noqa: E402

MESSAGES_PER_TICKET = 4
CHUNK = 20_000
COMMON = ("the and to of a in is for on it with that this be from at not have are we please can you "
          "printer vpn email password login error server network laptop screen account access file "
          "update install broken slow working help issue problem office phone meeting share folder "
          "outlook teams wifi monitor keyboard mouse backup disk space license invoice report").split()
SYLLABLES = ("ka ri to na mo se lu vi pe da zo fi ne ta ro gu mi ha be lo sa ki du re po "
             "an el im or us ex al on er in").split()


def vocabulary(rng: random.Random, size: int = 30_000) -> list[str]:
    words: dict[str, None] = dict.fromkeys(COMMON)
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


def _zipf(n: int) -> list[float]:
    total, cum = 0.0, []
    for rank in range(1, n + 1):
        total += 1.0 / rank
        cum.append(total)
    return cum


def build_store(db: Path, messages: int, vocab: list[str], seed: int = 11) -> dict:
    rng = random.Random(seed)
    cum = _zipf(len(vocab))
    started = time.perf_counter()
    con = sqlite3.connect(str(db))
    con.execute("PRAGMA journal_mode=wal")
    con.execute("PRAGMA synchronous=off")  # the history only: the measured ingest runs with FULL
    con.execute("INSERT OR IGNORE INTO queue (name, address) VALUES ('general', 'helpdesk@example.com')")
    con.execute("INSERT OR IGNORE INTO queue (name, address) VALUES ('ops', 'ops@example.com')")
    queues = [r[0] for r in con.execute("SELECT id FROM queue WHERE name IN ('general', 'ops') ORDER BY name")]
    tickets = max(1, messages // MESSAGES_PER_TICKET)
    people = max(10, messages // 20)
    base = con.execute("SELECT COALESCE(MAX(id), 0) FROM person").fetchone()[0] + 1
    _bulk(con, "person", [{"id": base + i, "address": f"user{i}@example.org", "name": f"User {i}",
                           "role": "requester", "created_at": "2024-01-01 00:00:00"} for i in range(people)])
    t0 = 1_704_067_200  # 2024-01-01
    msg_id = 1
    for start in range(0, tickets, CHUNK // MESSAGES_PER_TICKET):
        trows, mrows, arows = [], [], []
        for t in range(start, min(tickets, start + CHUNK // MESSAGES_PER_TICKET)):
            tid = t + 1
            person = rng.randrange(people)
            when = t0 + int(t / tickets * 730 * 86400)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when))
            subject = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(3, 6))).capitalize()
            status = "open" if rng.random() < 0.1 else "closed"
            trows.append({"id": tid, "queue_id": queues[tid % 2], "subject": subject, "status": status, "priority": 3,
                          "requester_id": base + person, "root_message_id": f"r{tid}@example.org",
                          "created_at": stamp, "updated_at": stamp})
            for k in range(MESSAGES_PER_TICKET):
                body = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(20, 70)))
                sender = f"user{person}@example.org" if k % 2 == 0 else "alice@example.com"
                mstamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when + k * 3600))
                mrows.append({"id": msg_id, "ticket_id": tid, "message_id": f"m{msg_id}@example.org",
                              "content_hash": f"{msg_id:032x}", "direction": "in", "sender": sender,
                              "recipients": '["helpdesk@example.com"]', "date": mstamp,
                              "subject": subject if k == 0 else f"Re: {subject}", "body": body,
                              "quoted": "", "raw_sha256": f"{msg_id:064x}", "source": "history",
                              "created_at": mstamp})
                if rng.random() < 0.02:
                    arows.append({"message_id": msg_id, "filename": f"{rng.choice(vocab)}-{msg_id}.pdf",
                                  "content_type": "application/pdf", "size": 1000, "sha256": f"{msg_id:064x}"})
                msg_id += 1
        _bulk(con, "ticket", trows)
        _bulk(con, "message", mrows)
        _bulk(con, "attachment", arows)
        con.commit()
    con.close()
    return {"store_build_s": round(time.perf_counter() - started, 1), "tickets": tickets, "people": people}


def index_size_mb(db: Path) -> dict:
    con = sqlite3.connect(str(db))
    try:
        rows = dict(con.execute("SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE 'search_fts%' "
                                "GROUP BY name").fetchall())
        total = sum(rows.values())
    except sqlite3.OperationalError:  # no dbstat in this SQLite build: the index's own blocks
        rows, total = {}, None
    text = con.execute("SELECT SUM(LENGTH(subject) + LENGTH(body) + LENGTH(quoted)) FROM message").fetchone()[0]
    con.close()
    return {"index_mb": round(total / 2**20, 1) if total else None,
            "index_tables_mb": {k: round(v / 2**20, 1) for k, v in rows.items()},
            "indexed_text_mb": round((text or 0) / 2**20, 1)}


def _word(rng: random.Random, vocab: list[str]) -> str:
    rank = int(math.exp(rng.uniform(math.log(20), math.log(min(30_000, len(vocab))))))
    return vocab[min(rank, len(vocab) - 1)]


def queries(vocab: list[str], people: int, n: int, seed: int = 3) -> dict[str, list[str]]:
    rng = random.Random(seed)
    w = lambda: _word(rng, vocab)  # noqa: E731
    user = lambda: f"user{rng.randrange(people)}@example.org"  # noqa: E731
    ops = [lambda: f"{w()} from:{user()}", lambda: f"{w()} queue:ops", lambda: f"{w()} {w()} is:open",
           lambda: f"{w()} after:2025-06-01", lambda: f"{w()} has:attachment", lambda: f'"{w()} {w()}"',
           lambda: f"{w()} -{w()}", lambda: f"from:{user()}", lambda: f"{w()} status:closed before:2024-06-01"]
    return {"one_word": [w() for _ in range(n)], "two_words": [f"{w()} {w()}" for _ in range(n)],
            "operators": [rng.choice(ops)() for _ in range(n)]}


def time_queries(sets: dict[str, list[str]]) -> dict:
    from mailgate.search import OPERATOR, search

    out = {}
    for name, qs in sets.items():
        took, hits = [], []
        for q in qs:
            t = time.perf_counter()
            hits.append(len(search(q, OPERATOR, limit=20).hits))
            took.append(time.perf_counter() - t)
        out[name] = {"queries": len(qs), **h.latency_ms(took), "p95_ms": round(h.percentile(took, 95) * 1000, 2),
                     "mean_hits": round(statistics.mean(hits), 1), "examples": qs[:3]}
    return out


def ingest(config: Path, copy: Path, corpus: Path, chunk: int) -> dict:
    """The same messages into two copies of the big store, indexing on in one and off in the
    other, chunk by chunk (which copy goes first alternates), in this process."""
    import mailgate.stages.store as store_stage
    from mailgate.app import build_env
    from mailgate.batch import BatchImporter
    from mailgate.config import load_settings
    from mailgate.db.models import database_proxy
    from mailgate.search import index_message

    hook = [0.0, 0]  # CPU seconds inside the indexing hook, calls

    def timed(env: object, *args: object) -> None:
        started = time.process_time()
        index_message(env, *args)  # type: ignore[arg-type]
        if env.settings.search.index:  # type: ignore[attr-defined]  (the copy's calls do nothing)
            hook[0] += time.process_time() - started
            hook[1] += 1

    store_stage.index_message = timed  # what the store stage calls for each message
    stores = {}
    for which, path in (("on", config), ("off", copy)):
        env = build_env(load_settings(path))
        stores[which] = (env, database_proxy.obj)
    assert stores["on"][0].settings.search.index and not stores["off"][0].settings.search.index
    paths = sorted((corpus / "eml").glob("*.eml"))
    messages = [(p.name, p.read_bytes()) for p in paths]
    totals = {"on": [0, 0.0, 0.0], "off": [0, 0.0, 0.0]}  # messages, cpu s, wall s
    for n, i in enumerate(range(0, len(messages), chunk)):
        part = messages[i:i + chunk]
        for which in (("on", "off") if n % 2 else ("off", "on")):
            env, db = stores[which]
            database_proxy.initialize(db)
            cpu, wall = time.process_time(), time.perf_counter()
            BatchImporter(env, 1).run(iter(part), "import", lambda *_: None)
            if n == 0:
                continue  # the first chunk warms up imports (talon), caches and pages: not counted
            totals[which][0] += len(part)
            totals[which][1] += time.process_time() - cpu
            totals[which][2] += time.perf_counter() - wall
    rates = {k: {"messages": v[0], "per_cpu_s": round(v[0] / v[1], 1), "per_wall_s": round(v[0] / v[2], 1)}
             for k, v in totals.items()}
    rates["on_vs_off_cpu"] = round(rates["on"]["per_cpu_s"] / rates["off"]["per_cpu_s"], 3)
    rates["on_vs_off_wall"] = round(rates["on"]["per_wall_s"] / rates["off"]["per_wall_s"], 3)
    # from the inside: CPU time in the hook (the FTS5 insert; its segment is written at the
    # commit, which only the A/B rates above include) as a share of a message's ingest
    per_message = 1 / rates["on"]["per_cpu_s"]
    rates["hook_cpu_ms_per_message"] = round(hook[0] / max(1, hook[1]) * 1000, 3)
    rates["hook_calls"] = hook[1]
    rates["hook_share_of_ingest_cpu"] = round((hook[0] / max(1, hook[1])) / per_message, 4)
    return rates


def _copy(gw: Path, db: Path) -> Path:
    """A second gateway on a byte copy of the store, with indexing off."""
    con = sqlite3.connect(str(db))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    other = gw.with_name(gw.name + "-noindex")
    config = h.make_gateway(other)
    config.write_text((gw / "mailgate.toml").read_text() + "\n[search]\nindex = false\n")
    (other / "store").mkdir(exist_ok=True)
    shutil.copyfile(db, other / "store" / "mailgate.db")
    return config


def main() -> None:
    ap = argparse.ArgumentParser(description="search latency, index size and indexing cost")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500, help="queries of each kind")
    ap.add_argument("--fresh", type=int, default=3000, help="messages ingested into each copy")
    ap.add_argument("--chunk", type=int, default=250, help="messages per alternating ingest chunk")
    args = ap.parse_args()
    logging.getLogger("mailgate").setLevel(logging.ERROR)  # acks over the hourly limit and such
    gw = h.WORK / f"gw-search-{args.messages}"
    config = h.make_gateway(gw)
    config.write_text(config.read_text() + '\n[[queue]]\nname = "ops"\naddress = "ops@example.com"\n')
    from mailgate.app import build_env
    from mailgate.config import load_settings

    build_env(load_settings(config))  # the schema, through the migrations
    db = gw / "store" / "mailgate.db"
    vocab = vocabulary(random.Random(1))
    print(f"building a store of {args.messages:,} messages ...", file=sys.stderr)
    built = build_store(db, args.messages, vocab)
    from mailgate.search import reindex

    build_env(load_settings(config))
    started = time.perf_counter()
    indexed = reindex(batch=20_000, restart=True)
    built["index_build_s"] = round(time.perf_counter() - started, 1)
    built["indexed"] = indexed
    built.update(index_size_mb(db))
    built["db_mb"] = round(db.stat().st_size / 2**20, 1)
    print(f"  store {built['store_build_s']} s, index {built['index_build_s']} s, {built['index_mb']} MB",
          file=sys.stderr)
    latency = time_queries(queries(vocab, built["people"], args.queries))
    fresh = h.WORK / f"corpus-{args.fresh}-s21"
    if not (fresh / "truth.json").exists():
        corpus_mod.write(corpus_mod.generate(args.fresh, seed=21), fresh)
    copy = _copy(gw, db)
    rates = ingest(config, copy, fresh, args.chunk)
    targets = {"one_word_p95_under_50ms": latency["one_word"]["p95_ms"] < 50,
               "two_words_p95_under_50ms": latency["two_words"]["p95_ms"] < 50,
               "operators_p95_under_100ms": latency["operators"]["p95_ms"] < 100,
               "ingest_with_index_at_least_85pct": rates["on_vs_off_cpu"] >= 0.85}
    print(f"{args.messages:,} messages stored; index {built['index_mb']} MB "
          f"(text {built['indexed_text_mb']} MB), built in {built['index_build_s']} s")
    print(h.table([{"kind": k, **v} for k, v in latency.items()],
                  [("kind", "query"), ("queries", "n"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
                   ("p99_ms", "p99 ms"), ("mean_hits", "hits")]))
    print(f"ingest: {rates['on']['per_cpu_s']} msg/CPU-s with indexing, {rates['off']['per_cpu_s']} without "
          f"({rates['on_vs_off_cpu']:.0%}); wall {rates['on']['per_wall_s']} vs {rates['off']['per_wall_s']} msg/s; "
          f"the hook itself: {rates['hook_cpu_ms_per_message']} CPU ms a message "
          f"({rates['hook_share_of_ingest_cpu']:.1%} of a message's ingest CPU)")
    for name, ok in targets.items():
        print(f"  {name}: {'PASS' if ok else 'FAIL'}")
    path = h.write_result("search", {"messages": args.messages, "store": built, "latency": latency,
                                     "ingest": rates, "targets": targets})
    print(f"written {path.relative_to(h.ROOT)}")


if __name__ == "__main__":
    main()
