"""Shared helpers of the benchmarks: a throw-away gateway, ground-truth lookups, figures."""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import socket
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / "work"
RESULTS = BENCH / "results"
MAILGATE = Path(sys.executable).with_name("mailgate")

CONFIG = """\
templates = "{root}/templates"
rules = "{root}/rules"

[gateway]
name = "Helpdesk"
address = "helpdesk@example.com"
subject_tag = "Helpdesk"
secret = "bench-secret"

[store]
database = "sqlite:///store/mailgate.db"
spool = "store/spool"
attachments = "store/attachments"

[listen.smtp]
port = {smtp_port}

[listen.lmtp]
enabled = false

[listen.http]
port = 0

[relay]                  # nothing listens there: a benchmark's acknowledgements must never
host = "127.0.0.1"       # reach the machine's own MTA (localhost:25)
port = 9

[[queue]]
name = "general"
address = "helpdesk@example.com"

[[person]]
address = "alice@example.com"
name = "Alice Admin"
role = "admin"
queues = ["general"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_gateway(folder: Path, smtp_port: int = 0) -> Path:
    """A fresh gateway (config + empty store) in folder; returns the config path."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    config = folder / "mailgate.toml"
    config.write_text(CONFIG.format(root=ROOT, smtp_port=smtp_port or free_port()))
    return config


def ticket_of(db_path: Path) -> dict[str, int | None]:
    """Message-ID → ticket for every incoming message the gateway recorded, including alerts
    kept as compact occurrences instead of stored messages (issue 6)."""
    con = sqlite3.connect(str(db_path))
    try:
        found: dict[str, int | None] = {}
        for mid, ticket in con.execute("SELECT message_id, ticket_id FROM message WHERE direction = 'in'"):
            found[mid] = ticket
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alert_occurrence" in tables:
            for mid, ticket in con.execute("SELECT message_id, ticket_id FROM alert_occurrence"):
                found.setdefault(mid, ticket)
        return found
    finally:
        con.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def latency_ms(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50) * 1000, 1), "p99_ms": round(percentile(values, 99) * 1000, 1)}


def children_peak_rss_mb() -> float:
    """Peak RSS of the largest child process waited for so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def self_peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb(pid: int) -> float:
    """Current RSS of a running process and its children (the daemon's pool, if any)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_before": os.getloadavg()[0]}


def median_run(runs: list[dict], key: str) -> dict:
    """The run whose `key` is the median (odd count) or the lower middle one."""
    ordered = sorted(runs, key=lambda r: r[key])
    return ordered[(len(ordered) - 1) // 2]


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A plain text table: columns are (key, heading)."""
    cells = [[h for _, h in columns]] + [[_fmt(r.get(k, "")) for k, _ in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
    return str(v)


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def run_json(cmd: list[str], cwd: Path, retries: int = 1) -> dict:
    """Run a child that prints one JSON line last; show its stderr when it fails. One retry:
    the tree is shared with people editing it, and a half-saved module fails an import."""
    import subprocess

    for attempt in range(retries + 1):
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
        if done.returncode == 0:
            return json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  child failed ({done.returncode}): {done.stderr.strip()[-1500:]}", file=sys.stderr)
        if attempt < retries:
            time.sleep(5)
    raise RuntimeError(f"{cmd[:4]} failed")


def in_lanes(messages: list[bytes], truth: list[dict], lanes: int, send) -> list[float]:
    """Call send(raw) for every message from `lanes` threads, as an MTA runs several pipe
    deliveries (or an SMTP client several sessions) at once. All messages of one thread go
    through the same lane in corpus order: a reply is written after what it answers.
    Returns each call's duration; send raises to fail the run."""
    import threading
    import zlib

    queues: list[list[bytes]] = [[] for _ in range(lanes)]
    for raw, t in zip(messages, truth, strict=False):
        queues[zlib.crc32(t["thread"].encode()) % lanes].append(raw)
    took: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def lane(items: list[bytes]) -> None:
        try:
            for raw in items:
                t0 = time.perf_counter()
                send(raw)
                with lock:
                    took.append(time.perf_counter() - t0)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=lane, args=(q,)) for q in queues if q]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return took


def timed_run(cmd: list[str], **kwargs: object) -> tuple[object, float, float]:
    """subprocess.run under GNU time: (completed process, peak RSS in MB, CPU seconds)."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        done = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", out.name, *cmd], **kwargs)
        fields = out.read().split()[-3:]
    try:
        rss_kb, user, system = int(fields[0]), float(fields[1]), float(fields[2])
    except (IndexError, ValueError):
        return done, 0.0, 0.0
    return done, rss_kb / 1024, user + system
