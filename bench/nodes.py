"""Several nodes on one PostgreSQL (issue 16): how the drain grows with processes, what
PostgreSQL spends, and the SMTP front end in listener processes against a bare server.

    ./.venv/bin/python bench/nodes.py [-n 5000] [--processes 1,2,3] [--smtp-n 3000] [--tag T]

drain    a backlog of N messages (the corpus of bench/corpus.py) appears in the database
         spool at once; 1, 2, 3 `mailgate serve` processes (nodes, `workers = 0`: one
         interpreter each) drain it; the rate counts until the last entry is committed.
         CPU of the nodes and of every PostgreSQL process in that time; the threading
         accuracy of the result (a reply must land on its ticket, whichever node took it).
smtp     8 SMTP client threads send N messages to one node with `[daemon] listeners = 2`
         (spool in the database), then to a bare aiosmtpd server (this file, --bare) that
         only writes each message to a file and fsyncs it, in the same run.

PostgreSQL is started here with fsync on (the tests' server runs with fsync off), on this
machine, so its commits cost what they cost. Results: bench/results/nodes[-TAG].json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import smtplib
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus as corpus_mod  # noqa: E402
import harness as h  # noqa: E402

from tests.pg import PostgresServer  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
NODE = """
[daemon]
workers = {workers}
listeners = {listeners}
heartbeat_interval = 1.0
spool_poll_interval = 0.1

[outbox]
poll_interval = 3600.0   # the relay is a dead port: no sending passes during the run
"""


class DurablePostgres(PostgresServer):
    """The tests' throw-away server, with fsync on and room for a few nodes."""

    def start(self) -> DurablePostgres:
        if os.geteuid() == 0:
            import shutil

            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", self.user)
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")
        return self

    def pids(self) -> list[int]:
        master = int((self.data / "postmaster.pid").read_text().split()[0])
        return [master, *_children(master)]


def _children(pid: int) -> list[int]:
    out = []
    for p in (int(n) for n in os.listdir("/proc") if n.isdigit()):
        try:
            if int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(p)
        except (OSError, ValueError, IndexError):
            continue
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / TICK


def sql(url: str, query: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


class Node:
    def __init__(self, folder: Path, url: str, workers: int = 0, listeners: int = 0) -> None:
        self.port = h.free_port()
        self.config = h.make_gateway(folder, smtp_port=self.port)
        text = self.config.read_text().replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"')
        text = text.replace('spool = "store/spool"\n', "") + NODE.format(workers=workers, listeners=listeners)
        self.config.write_text(text)
        self.folder = folder
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log = open(self.folder / "daemon.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([str(h.MAILGATE), "--config", str(self.config), "serve"], stderr=self.log,
                                     stdout=subprocess.DEVNULL, cwd=self.folder)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while b"daemon running" not in (self.folder / "daemon.log").read_bytes():
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise RuntimeError((self.folder / "daemon.log").read_text()[-2000:])
            time.sleep(0.05)

    def pids(self) -> list[int]:
        return [self.proc.pid, *_children(self.proc.pid)] if self.proc else []

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


def stage(url: str, messages: list[bytes]) -> None:
    """The backlog, held by a claim no node can take until `release`."""
    import hashlib
    import json

    import psycopg2

    from mailgate.spool_db import conversation_key, origin_key

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        for raw in messages:
            sha = hashlib.sha256(raw).hexdigest()
            cur.execute("INSERT INTO spool_raw (sha256, raw) VALUES (%s, %s) ON CONFLICT DO NOTHING", (sha, raw))
            cur.execute("INSERT INTO spool_entry (sha256, source, recipients, conv, origin, received_at, claimed_by,"
                        " claimed_until) VALUES (%s, 'bench', %s, %s, %s, %s, 'bench-stage', '3000-01-01')",
                        (sha, json.dumps(["helpdesk@example.com"]),
                         conversation_key(raw, ("helpdesk@example.com",), sha), origin_key(raw), time.time()))
    conn.close()


def fresh_database(pg: DurablePostgres, name: str) -> str:
    from mailgate.db.connect import open_database

    url = pg.create_database(name)
    open_database(url).close()  # migrated before the nodes start
    return url


def accuracy(url: str, truth: list[dict]) -> dict:
    found: dict[str, int | None] = {}
    for mid, ticket in sql(url, "SELECT message_id, ticket_id FROM message WHERE direction = 'in'"):
        found[mid] = ticket
    for mid, ticket in sql(url, "SELECT message_id, ticket_id FROM alert_occurrence"):
        found.setdefault(mid, ticket)
    score = corpus_mod.score(truth, found)
    keys = ("accuracy", "reply_accuracy", "alert_repeat_accuracy", "threads_merged_wrongly", "threads_without_ticket")
    return {**{k: score[k] for k in keys}, "examples_wrong": score["examples_wrong"][:3]}


def run_drain(pg: DurablePostgres, messages: list[bytes], truth: list[dict], processes: int, tag: str) -> dict:
    url = fresh_database(pg, f"drain_{processes}_{tag}_{os.getpid()}")
    stage(url, messages)
    nodes = [Node(h.WORK / f"node-drain-{i}", url) for i in range(processes)]
    try:
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        pg_cpu0, nodes_cpu0 = cpu_seconds(pg.pids()), cpu_seconds([p for n in nodes for p in n.pids()])
        started = time.perf_counter()
        sql(url, "UPDATE spool_entry SET claimed_by = NULL, claimed_until = NULL")  # the backlog appears
        while sql(url, "SELECT count(*) FROM spool_entry")[0][0]:
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        pg_cpu, nodes_cpu = cpu_seconds(pg.pids()) - pg_cpu0, cpu_seconds([p for n in nodes for p in n.pids()]) - nodes_cpu0
        shares = [int(r[0]) for r in sql(url, "SELECT processed FROM daemon_state ORDER BY started_at")]
    finally:
        for node in nodes:
            node.stop()
    n = len(messages)
    return {"processes": processes, "messages": n, "seconds": round(seconds, 2), "rate": round(n / seconds, 1),
            "postgres_cpu_s": round(pg_cpu, 2), "postgres_cpu_ms_per_msg": round(pg_cpu / n * 1000, 2),
            "postgres_cores": round(pg_cpu / seconds, 2), "nodes_cpu_ms_per_msg": round(nodes_cpu / n * 1000, 2),
            "per_node_processed": shares, **accuracy(url, truth)}


def send_all(port: int, messages: list[bytes], truth: list[dict], clients: int = 8) -> float:
    """accepted/s: `clients` sessions, a thread's messages in one session in corpus order."""
    lanes: list[list[bytes]] = [[] for _ in range(clients)]
    for raw, t in zip(messages, truth, strict=True):
        lanes[zlib.crc32(t["thread"].encode()) % clients].append(raw)
    errors: list[str] = []

    def client(lane: list[bytes]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                for raw in lane:
                    s.sendmail("sender@bench.test", ["helpdesk@example.com"], raw)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=client, args=(lane,)) for lane in lanes]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[:3])
    return len(messages) / (time.perf_counter() - started)


def run_smtp(pg: DurablePostgres, messages: list[bytes], truth: list[dict], listeners: int, tag: str) -> dict:
    url = fresh_database(pg, f"smtp_{listeners}_{tag}_{os.getpid()}")
    node = Node(h.WORK / "node-smtp", url, workers=-1, listeners=listeners)
    node.start()
    try:
        node.wait_ready()
        rate = send_all(node.port, messages, truth)
        while sql(url, "SELECT count(*) FROM spool_entry")[0][0]:
            time.sleep(0.05)
    finally:
        node.stop()
    return {"listeners": listeners, "messages": len(messages), "accepted_per_s": round(rate, 1), **accuracy(url, truth)}


def run_bare(messages: list[bytes], truth: list[dict]) -> dict:
    port, folder = h.free_port(), h.WORK / "bare-smtp"
    folder.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen([sys.executable, __file__, "--bare", str(port), str(folder)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                smtplib.SMTP("127.0.0.1", port, timeout=2).quit()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        rate = send_all(port, messages, truth)
    finally:
        server.terminate()
        server.wait(10)
    return {"server": "bare aiosmtpd: write + fsync per message", "messages": len(messages),
            "accepted_per_s": round(rate, 1)}


def bare_server(port: int, folder: Path) -> None:
    """The comparison: aiosmtpd on one loop, each message written to a file and fsync'd (in
    the loop's executor, as mailgate spools) before the 250; nothing else."""
    from aiosmtpd.smtp import SMTP

    class Handler:
        count = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
            self.count += 1
            path = folder / f"{os.getpid()}-{self.count}.eml"

            def write() -> None:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
                try:
                    os.write(fd, envelope.original_content)
                    os.fsync(fd)
                finally:
                    os.close(fd)

            await asyncio.get_running_loop().run_in_executor(None, write)
            return "250 OK"

    async def main() -> None:
        handler = Handler()
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(handler, hostname="bare", decode_data=False), "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        bare_server(int(sys.argv[2]), Path(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description="several nodes on one PostgreSQL")
    ap.add_argument("-n", type=int, default=5000, help="backlog to drain (default 5000)")
    ap.add_argument("--processes", default="1,2,3")
    ap.add_argument("--smtp-n", type=int, default=3000, help="messages sent by SMTP (0: no SMTP part)")
    ap.add_argument("--listeners", default="1,2", help="listener process counts to try")
    ap.add_argument("--tag", default="")
    ap.add_argument("--repeat", type=int, default=1, help="rounds, interleaved (1, 2, 3, 1, 2, 3, ...); medians")
    args = ap.parse_args()
    corpus = corpus_mod.generate(max(args.n, args.smtp_n), seed=1)
    messages, truth = corpus.messages, corpus.truth
    pg = DurablePostgres().start()
    runs: dict[str, list[dict]] = {}
    try:
        for rep in range(args.repeat):
            for p in (int(x) for x in args.processes.split(",") if x):
                run = run_drain(pg, messages[:args.n], truth[:args.n], p, f"{args.tag or 'run'}{rep}")
                runs.setdefault(f"drain-{p}", []).append(run)
                print(f"round {rep + 1}: {p} process(es): {run['rate']} msg/s, accuracy {run['accuracy']}", flush=True)
            if args.smtp_n:
                subset, subtruth = messages[:args.smtp_n], truth[:args.smtp_n]
                for listeners in (int(x) for x in args.listeners.split(",") if x):
                    run = run_smtp(pg, subset, subtruth, listeners, f"{args.tag or 'run'}{rep}")
                    runs.setdefault(f"smtp-{listeners}", []).append(run)
                    print(f"round {rep + 1}: {listeners} listener(s): {run['accepted_per_s']} accepted/s", flush=True)
                runs.setdefault("bare", []).append(run_bare(subset, subtruth))
                print(f"round {rep + 1}: bare: {runs['bare'][-1]['accepted_per_s']} accepted/s", flush=True)
    finally:
        pg.stop()
    print(h.write_result("nodes" + (f"-{args.tag}" if args.tag else ""), summarise(args, runs)))


def summarise(args: argparse.Namespace, runs: dict[str, list[dict]]) -> dict:
    """Medians by rate, each beside every run's figure; speedups against 1 process and
    listeners against the bare server of the same rounds."""
    drain = [{**h.median_run(v, "rate"), "rates": [r["rate"] for r in v]} for k, v in runs.items()
             if k.startswith("drain-")]
    base = next((d["rate"] for d in drain if d["processes"] == 1), None)
    for d in drain:
        d["speedup"] = round(d["rate"] / base, 2) if base else None
    smtp = [{**h.median_run(v, "accepted_per_s"), "rates": [r["accepted_per_s"] for r in v]}
            for k, v in runs.items() if k.startswith("smtp-") or k == "bare"]
    bare = next((s["accepted_per_s"] for s in smtp if "server" in s), None)
    for s in smtp:
        s["share_of_bare"] = round(s["accepted_per_s"] / bare, 2) if bare else None
    print(h.table(drain, [("processes", "processes"), ("rate", "msg/s (median)"), ("rates", "runs"),
                          ("speedup", "x"), ("postgres_cores", "PG cores"), ("postgres_cpu_ms_per_msg", "PG ms/msg"),
                          ("nodes_cpu_ms_per_msg", "nodes ms/msg"), ("accuracy", "accuracy")]))
    print(h.table(smtp, [("listeners", "listeners"), ("server", "server"), ("accepted_per_s", "accepted/s"),
                         ("rates", "runs"), ("share_of_bare", "of bare")]))
    return {"command": " ".join(sys.argv), "repeat": args.repeat, "drain": drain, "smtp": smtp, "runs": runs}


if __name__ == "__main__":
    main()
