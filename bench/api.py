"""HTTP benchmarks of issues 13 and 14: the API and the web desk on a store of 100,000
tickets and 1,000,000 messages (bench/api_store.py, built once and reused), served by a
real `mailgate serve`, measured with concurrent httpx clients in threads.

    python bench/api.py                          # reads and writes, 3 rounds
    python bench/api.py --compare /tmp/base/.venv/bin/mailgate   # the same rounds, two builds

Reads (--read-clients at once, random tickets): GET /api/v1/tickets/{id}, the queue page
GET /api/v1/tickets?limit=50, the web desk's queue `/` and ticket page `/tickets/{id}`
(signed in through `mailgate login-link` and a POST to the link).
Writes: POST /api/v1/tickets/{id}/notes from 8 clients (one token each) while 8 SMTP
clients send mail to the same daemon, against the same mail sent with no API load and the
notes posted with no mail, in one round. Each round restarts the daemon; with --compare
each round runs both builds, so every figure has its baseline from the same minutes.
Figures: medians over rounds (p50/p99 per round, then the median). Results:
bench/results/api[-TAG].json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import smtplib
import statistics
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_store  # noqa: E402
import corpus as corpus_mod  # noqa: E402
import harness as h  # noqa: E402
import httpx  # noqa: E402
from daemon_runs import _cpu_seconds, _family, _status_kb  # noqa: E402

STORE = h.WORK / "api-store"
TICKETS = api_store.SHAPE["tickets"]  # --tickets makes a smaller store for a quick look


class Served:
    """`mailgate serve` (of the given build) on the benchmark store, fresh ports."""

    def __init__(self, mailgate: Path) -> None:
        self.mailgate = mailgate
        self.smtp_port, self.http_port = h.free_port(), h.free_port()
        self.config = STORE / "mailgate.toml"
        self.config.write_text(api_store.config_text(self.smtp_port, self.http_port))
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.peak_rss = 0.0

    def cli(self, *args: str) -> str:
        return subprocess.run([str(self.mailgate), "--config", str(self.config), *args], check=True,
                              capture_output=True, text=True, cwd=STORE).stdout

    def start(self) -> None:
        self.log = (STORE / "daemon.log").open("ab")
        self.proc = subprocess.Popen([str(self.mailgate), "--config", str(self.config), "serve"], cwd=STORE,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mailgate serve exited {self.proc.returncode}: see {STORE / 'daemon.log'}")
            try:
                if httpx.get(f"{self.base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("mailgate serve did not answer HTTP within 60 s")
        time.sleep(1.0)  # let start-up work (warm-up, scheduler's first pass) settle

    def cpu(self) -> float:
        return sum(_cpu_seconds(p) for p in _family(self.proc.pid))

    def rss(self) -> float:
        self.peak_rss = max(self.peak_rss, sum(_status_kb(p, "VmRSS:") for p in _family(self.proc.pid)) / 1024)
        return self.peak_rss

    def backlog(self) -> int:
        spool = STORE / "store" / "spool"
        return sum(len([n for n in os.listdir(spool / d) if n.endswith(".json")])
                   for d in ("queue", "processing") if (spool / d).exists())

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def tokens(served: Served) -> list[str]:
    """One API token per agent, made once with `mailgate token create` and kept."""
    path = STORE / "tokens.json"
    if path.exists():
        return json.loads(path.read_text())
    values = [json.loads(served.cli("token", "create", a, "--name", "api bench", "--json"))["token"]
              for a in api_store.AGENTS]
    path.write_text(json.dumps(values))
    return values


def web_cookie(served: Served) -> dict[str, str]:
    """A session as a person gets one: `mailgate login-link`, the confirm page, its POST."""
    link = served.cli("login-link", api_store.AGENTS[0]).strip()
    path = "/" + link.split("/", 3)[3]
    with httpx.Client(base_url=served.base) as client:
        page = client.get(path)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if csrf is None:
            raise RuntimeError(f"no csrf field on {path}: {page.status_code}")
        done = client.post(path, data={"csrf": csrf.group(1)})
        if done.status_code != 303:
            raise RuntimeError(f"sign-in POST answered {done.status_code}")
        return {k: v for k, v in client.cookies.items()}


def hammer(base: str, clients: int, count: int, request: Callable[[httpx.Client, int, int], httpx.Response],
           headers: list[dict[str, str]], cookies: dict[str, str] | None = None,
           until: Callable[[], bool] | None = None) -> tuple[list[float], float, dict[str, int]]:
    """`clients` threads, each with its own keep-alive connection, sending `count` requests
    in all (or, with `until`, until it says stop). (latencies, seconds, errors by status and
    problem type: an error rate alone hides whether it is a 429, a 409 or a 500)."""
    took: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    seq = iter(range(10**9))

    def one(k: int) -> None:
        with httpx.Client(base_url=base, headers=headers[k % len(headers)], cookies=cookies, timeout=60) as client:
            while True:
                with lock:
                    i = next(seq)
                if (until is None and i >= count) or (until is not None and until()):
                    return
                t0 = time.perf_counter()
                r = request(client, k, i)
                dt = time.perf_counter() - t0
                with lock:
                    took.append(dt)
                    if r.status_code >= 400:
                        kind = f"{r.status_code} {_problem_type(r)}"
                        errors[kind] = errors.get(kind, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return took, time.perf_counter() - started, errors


def _problem_type(r: httpx.Response) -> str:
    try:
        return str(r.json().get("type", "")).rsplit("/", 1)[-1]
    except ValueError:
        return ""


def ticket_id(i: int) -> int:
    return (i * 7919 + 13) % TICKETS + 1  # spread over the whole store, the same in every round


READS: dict[str, Callable[[httpx.Client, int, int], httpx.Response]] = {
    "api ticket": lambda c, k, i: c.get(f"/api/v1/tickets/{ticket_id(i)}"),
    "api queue page": lambda c, k, i: c.get("/api/v1/tickets?limit=50"),
    "web queue": lambda c, k, i: c.get("/"),
    "web ticket": lambda c, k, i: c.get(f"/tickets/{ticket_id(i)}"),
}


def measure_reads(served: Served, auth: list[dict[str, str]], cookie: dict[str, str], n: int,
                  clients: int) -> dict[str, dict]:
    out = {}
    for name, request in READS.items():
        web = name.startswith("web")
        hammer(served.base, clients, max(8, n // 10), request, [{}] if web else auth, cookie if web else None)  # warm
        cpu0 = served.cpu()
        took, seconds, errors = hammer(served.base, clients, n, request, [{}] if web else auth,
                                       cookie if web else None)
        served.rss()
        out[name] = {**h.latency_ms(took), "rps": round(len(took) / seconds, 1), "errors": errors,
                     "server_cpu_ms": round((served.cpu() - cpu0) / len(took) * 1000, 2)}
    return out


def send_mail(served: Served, messages: list[bytes], truth: list[dict], clients: int = 8) -> float:
    """SMTP from `clients` sessions; seconds until the daemon has committed all of it."""
    lanes: list[list[bytes]] = [[] for _ in range(clients)]
    for raw, t in zip(messages, truth, strict=True):
        lanes[zlib.crc32(t["thread"].encode()) % clients].append(raw)

    def client(lane: list[bytes]) -> None:
        with smtplib.SMTP("127.0.0.1", served.smtp_port, timeout=120) as smtp:
            for raw in lane:
                smtp.sendmail("sender@bench.test", ["helpdesk@example.com"], raw)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(lane,)) for lane in lanes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    while served.backlog():
        served.rss()
        time.sleep(0.02)
    return time.perf_counter() - started


def live_tickets() -> list[int]:
    """Tickets a note can go to: the store's archived ones are read-only (409), as a
    technician's tool would not write to them."""
    import sqlite3

    with sqlite3.connect(f"file:{STORE / 'store' / 'mailgate.db'}?mode=ro", uri=True) as db:
        return [r[0] for r in db.execute("SELECT id FROM ticket WHERE status != 'archived' ORDER BY id")]


LIVE: list[int] = []


def note(c: httpx.Client, k: int, i: int) -> httpx.Response:
    return c.post(f"/api/v1/tickets/{LIVE[(i * 7919 + k * 31) % len(LIVE)]}/notes",
                  json={"text": f"Checked the logs (bench note {i}); the switch port flaps. Escalating to network."})


def measure_writes(served: Served, auth: list[dict[str, str]], mail_n: int, notes_n: int, seed: int) -> dict:
    """Mail alone, mail with 8 note-posting clients, notes alone: one round."""
    alone = corpus_mod.generate_profile("mix", mail_n, seed)
    loaded = corpus_mod.generate_profile("mix", mail_n, seed + 1)
    mail_alone_s = send_mail(served, alone.messages, alone.truth)
    done = threading.Event()
    result: dict = {}

    def notes_during() -> None:
        took, seconds, errors = hammer(served.base, 8, 0, note, auth, until=done.is_set)
        result.update(took=took, seconds=seconds, errors=errors)

    poster = threading.Thread(target=notes_during)
    poster.start()
    mail_loaded_s = send_mail(served, loaded.messages, loaded.truth)
    done.set()
    poster.join()
    cpu0 = served.cpu()
    took, seconds, errors = hammer(served.base, 8, notes_n, note, auth)
    note_cpu_ms = (served.cpu() - cpu0) / max(1, len(took)) * 1000
    served.rss()
    return {"mail_alone_rate": round(mail_n / mail_alone_s, 1), "mail_with_api_rate": round(mail_n / mail_loaded_s, 1),
            "mail_kept": round(mail_alone_s / mail_loaded_s, 3),
            "notes_with_mail_rate": round(len(result["took"]) / result["seconds"], 1),
            "notes_with_mail_p99_ms": h.latency_ms(result["took"])["p99_ms"], "notes_with_mail_errors": result["errors"],
            "notes_sent_with_mail": len(result["took"]), "notes_sent_alone": len(took),
            "notes_alone_rate": round(len(took) / seconds, 1), **{f"notes_alone_{k}": v
                                                                for k, v in h.latency_ms(took).items()},
            "notes_alone_errors": errors, "notes_alone_server_cpu_ms": round(note_cpu_ms, 2)}


def summarize(rounds: list[dict]) -> dict:
    """Median over rounds of every figure."""
    out: dict = {}
    for key in rounds[0]:
        if key.endswith("errors"):  # counts by kind, summed over the rounds
            out[key] = {}
            for r in rounds:
                for kind, n in r[key].items():
                    out[key][kind] = out[key].get(kind, 0) + n
        elif isinstance(rounds[0][key], dict):
            out[key] = summarize([r[key] for r in rounds])
        else:
            out[key] = statistics.median(r[key] for r in rounds)
    return out


def main() -> None:
    global STORE, TICKETS  # noqa: PLW0603 - the one switch of a benchmark script, set once here
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reads", type=int, default=400, help="requests per read target and round")
    ap.add_argument("--read-clients", type=int, default=4)
    ap.add_argument("--mail", type=int, default=600, help="messages per mail phase")
    ap.add_argument("--notes", type=int, default=600, help="notes posted with no mail, per round")
    ap.add_argument("--skip", default="", help="reads or writes")
    ap.add_argument("--compare", type=Path, default=None, help="another build's mailgate script (a baseline)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--tickets", type=int, default=TICKETS, help="a smaller store, for a quick look")
    args = ap.parse_args()
    if args.tickets != TICKETS:
        api_store.SHAPE["tickets"] = TICKETS = args.tickets
        STORE = h.WORK / f"api-store-{args.tickets}"
    built = api_store.ensure(STORE)
    LIVE.extend(live_tickets())
    print(f"store: {STORE} ({f'built in {built:.0f} s' if built else 'reused'})", file=sys.stderr)
    builds = {"this": h.MAILGATE, **({"compare": args.compare} if args.compare else {})}
    per_build: dict[str, list[dict]] = {b: [] for b in builds}
    for r in range(args.rounds):
        for name, mailgate in builds.items():
            served = Served(mailgate)
            auth = [{"Authorization": f"Bearer {t}"} for t in tokens(served)]
            served.start()
            try:
                row: dict = {"load_1m": os.getloadavg()[0]}
                if args.skip != "reads":
                    row["reads"] = measure_reads(served, auth, web_cookie(served), args.reads, args.read_clients)
                if args.skip != "writes":
                    row["writes"] = measure_writes(served, auth, args.mail, args.notes, 1000 + 10 * r)
                row["peak_rss_mb"] = round(served.peak_rss, 1)
            finally:
                served.stop()
            per_build[name].append(row)
            print(f"round {r + 1} {name}: {json.dumps(row)}", file=sys.stderr)
    results = {b: summarize(rows) for b, rows in per_build.items()}
    for b, res in results.items():
        print(f"== {b} ({builds[b]}), median of {args.rounds} rounds")
        for target, fig in res.get("reads", {}).items():
            print(f"  {target:<15} p50 {fig['p50_ms']:7.1f} ms  p99 {fig['p99_ms']:7.1f} ms  {fig['rps']:7.1f} req/s  "
                  f"server CPU {fig['server_cpu_ms']:.2f} ms/req  errors {fig['errors']}")
        if "writes" in res:
            w = res["writes"]
            print(f"  notes: {w['notes_with_mail_rate']} /s with mail ({w['notes_alone_rate']} /s alone); mail "
                  f"{w['mail_with_api_rate']} msg/s with notes against {w['mail_alone_rate']} alone "
                  f"({w['mail_kept']:.0%} kept)")
        print(f"  peak RSS {res['peak_rss_mb']} MB")
    path = h.write_result(f"api-{args.tag}" if args.tag else "api",
                          {"argv": sys.argv[1:], "builds": {k: str(v) for k, v in builds.items()},
                           "results": results, "rounds": per_build})
    print(f"written {path.relative_to(h.ROOT)}")


if __name__ == "__main__":
    main()
