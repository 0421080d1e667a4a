"""Benchmark runs that involve `mailgate serve`: the MTA pipe next to a daemon, and SMTP
with concurrent clients. Each run gets a fresh gateway under bench/work/."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import threading
import time
import zlib
from pathlib import Path

import harness as h

RECIPIENT = "helpdesk@example.com"


class Daemon:
    """`mailgate serve` on a fresh gateway, its RSS sampled while it runs."""

    def __init__(self, folder: Path) -> None:
        self.port = h.free_port()
        self.config = h.make_gateway(folder, smtp_port=self.port)
        self.folder = folder
        self.peak_rss = 0.0  # the daemon and its worker processes together
        self.peak_daemon_rss = 0.0
        self.peak_workers_rss = 0.0  # all worker processes together
        self.peak_pss = 0.0  # proportional: pages the fork shares counted once
        self.workers = 0
        self.cpus = ""  # taskset CPU list for the daemon (and its workers); "" = any
        self.proc: subprocess.Popen | None = None
        self._sampling = False

    def start(self) -> None:
        self.log = (self.folder / "daemon.log").open("wb")
        pin = ["taskset", "-c", self.cpus] if self.cpus else []
        self.proc = subprocess.Popen([*pin, str(h.MAILGATE), "--config", str(self.config), "serve"],
                                     cwd=self.folder, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mailgate serve exited: {(self.folder / 'daemon.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("mailgate serve did not open its SMTP port within 30 s")
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()
        # the start-up (talon's import, the warm-up message) is not per-message work: wait
        # until the daemon idles and count CPU from there
        self.cpu_base = 0.0
        deadline = time.monotonic() + 20
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.cpu_seconds()
            if now - before < 0.05:
                break
            before = now
        self.cpu_base = now
        self.cpu_base_split = self.cpu_split()

    def _sample(self) -> None:
        tick = 0
        while self._sampling and self.proc and self.proc.poll() is None:
            pids = _family(self.proc.pid)
            self.workers = max(self.workers, len(pids) - 1)
            rss = [_status_kb(p, "VmRSS:") / 1024 for p in pids]
            self.peak_rss = max(self.peak_rss, sum(rss))
            self.peak_daemon_rss = max(self.peak_daemon_rss, rss[0])
            self.peak_workers_rss = max(self.peak_workers_rss, sum(rss[1:]))
            if tick % 5 == 0:  # smaps_rollup walks every mapping: twice a second is enough
                self.peak_pss = max(self.peak_pss, sum(_pss_kb(p) for p in pids) / 1024)
            tick += 1
            time.sleep(0.1)

    def backlog(self) -> int:
        spool = self.folder / "store" / "spool"
        return sum(len([n for n in os.listdir(spool / d) if n.endswith(".json")])
                   for d in ("queue", "processing") if (spool / d).exists())

    def wait_drained(self, timeout: float = 600) -> float:
        """Until the spool is empty: every accepted message has been committed."""
        deadline = time.monotonic() + timeout
        while self.backlog() and time.monotonic() < deadline:
            time.sleep(0.02)
        return time.perf_counter()

    def cpu_seconds(self) -> float:
        """User + system CPU time the daemon and its worker processes have used since they
        went idle after start-up."""
        if not self.proc:
            return 0.0
        return sum(_cpu_seconds(p) for p in _family(self.proc.pid)) - getattr(self, "cpu_base", 0.0)

    def cpu_split(self) -> tuple[float, float]:
        """(daemon, workers) CPU seconds since start-up: what each core was asked to do."""
        if not self.proc:
            return 0.0, 0.0
        pids = _family(self.proc.pid)
        base = getattr(self, "cpu_base_split", (0.0, 0.0))
        return (_cpu_seconds(pids[0]) - base[0], sum(_cpu_seconds(p) for p in pids[1:]) - base[1])

    def stop(self) -> None:
        self._sampling = False
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    @property
    def db(self) -> Path:
        return self.folder / "store" / "mailgate.db"


def _family(pid: int) -> list[int]:
    """The daemon first, then its child processes (the preparing workers)."""
    try:
        return [pid, *(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    except OSError:
        return [pid]


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_pipe(messages: list[bytes], with_daemon: bool, truth: list[dict], concurrency: int = 1) -> dict:
    """`mailgate deliver` once per message, `concurrency` at a time (an MTA runs several
    pipe deliveries at once; 1 = one after the other)."""
    folder = h.WORK / ("gw-pipe" if with_daemon else "gw-pipe-inline")
    daemon = Daemon(folder)
    if with_daemon:
        daemon.start()
    cmd = [str(h.MAILGATE), "--config", str(daemon.config), "deliver", "--recipient", RECIPIENT]

    usage: list[tuple[float, float]] = []  # (peak RSS MB, CPU s) of each deliver process

    def deliver(raw: bytes) -> None:
        done, rss, cpu_s = h.timed_run(cmd, input=raw, capture_output=True, cwd=folder)
        usage.append((rss, cpu_s))
        if done.returncode != 0:
            raise RuntimeError(f"deliver exited {done.returncode}: {done.stderr.decode()[-500:]}")

    started = time.perf_counter()
    try:
        latencies = h.in_lanes(messages, truth, concurrency, deliver)
        accepted = time.perf_counter()
        finished = daemon.wait_drained() if with_daemon else accepted
        cpu = daemon.cpu_seconds() if with_daemon else 0.0
    finally:
        daemon.stop()
    n = len(messages)
    return {"messages": n, "seconds": round(finished - started, 2), "rate": round(n / (finished - started), 1),
            "accepted_rate": round(n / (accepted - started), 1), **h.latency_ms(latencies),
            "peak_rss_mb": round(max([daemon.peak_rss] + [r for r, _ in usage]), 1), "truth_db": str(daemon.db),
            "cpu_ms_per_msg": round((sum(c for _, c in usage) + cpu) / n * 1000, 2),
            "daemon_cpu_ms_per_msg": round(cpu / n * 1000, 2) if with_daemon else "", "concurrency": concurrency,
            # one `mailgate deliver` process: its CPU (user + system) and peak RSS, medians
            "deliver_cpu_ms_p50": round(h.percentile([c for _, c in usage], 50) * 1000, 1),
            "deliver_rss_mb_p50": round(h.percentile([r for r, _ in usage], 50), 1)}


def _thread_key(truth: dict) -> str:
    return truth["thread"]


def run_smtp(messages: list[bytes], clients: int, truth: list[dict]) -> dict:
    """`clients` concurrent SMTP sessions. All messages of one thread go through the same
    client in corpus order, as in life a reply is written after the message it answers."""
    daemon = Daemon(h.WORK / "gw-smtp")
    daemon.start()
    lanes: list[list[bytes]] = [[] for _ in range(clients)]
    for raw, t in zip(messages, truth, strict=True):
        lanes[zlib.crc32(_thread_key(t).encode()) % clients].append(raw)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(lane: list[bytes]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", daemon.port, timeout=60) as smtp:
                for raw in lane:
                    t0 = time.perf_counter()
                    smtp.sendmail("sender@bench.test", [RECIPIENT], raw)
                    took = time.perf_counter() - t0
                    with lock:
                        latencies.append(took)
        except Exception as exc:  # noqa: BLE001 - reported with the result
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(lane,)) for lane in lanes]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        accepted = time.perf_counter()
        finished = daemon.wait_drained()
        cpu = daemon.cpu_seconds()
        cpu_daemon, cpu_workers = daemon.cpu_split()
    finally:
        daemon.stop()
    if errors:
        raise RuntimeError(f"SMTP clients failed: {errors[:3]}")
    n = len(messages)
    return {"messages": n, "seconds": round(finished - started, 2), "rate": round(n / (finished - started), 1),
            "accepted_rate": round(n / (accepted - started), 1), **h.latency_ms(latencies),
            "peak_rss_mb": round(daemon.peak_rss, 1), "truth_db": str(daemon.db), "clients": clients,
            "cpu_ms_per_msg": round(cpu / n * 1000, 2), "workers": daemon.workers,
            "daemon_cpu_ms_per_msg": round(cpu_daemon / n * 1000, 2),
            "workers_cpu_ms_per_msg": round(cpu_workers / n * 1000, 2),
            # RSS counts the pages a fork shares in every process; PSS splits them
            "daemon_rss_mb": round(daemon.peak_daemon_rss, 1), "workers_rss_mb": round(daemon.peak_workers_rss, 1),
            "peak_pss_mb": round(daemon.peak_pss, 1)}


def run_drain(messages: list[bytes], truth: list[dict], workers: int | None = None, cpus: str = "") -> dict:
    """The daemon's worker alone: a backlog of N messages appears in the spool's queue at
    once (as after an outage of the database, or `mailgate deliver` during a burst) and the
    rate counts until the last one is committed. `workers` overrides `[daemon] workers`;
    `cpus` pins the daemon with taskset."""
    import json

    from mailgate.spool import Spool

    daemon = Daemon(h.WORK / "gw-drain")
    daemon.cpus = cpus
    if workers is not None:
        text = daemon.config.read_text()
        daemon.config.write_text(text.replace("[daemon]\n", f"[daemon]\nworkers = {workers}\n", 1)
                                 if "[daemon]\n" in text else text + f"\n[daemon]\nworkers = {workers}\n")
    spool = Spool(daemon.folder / "store" / "spool")
    staged = daemon.folder / "staged"
    staged.mkdir()
    names = []
    for i, raw in enumerate(messages):  # raw bytes first (fsync'd), entries staged aside
        sha = spool.store_raw(raw)
        name = f"{i:020d}-{sha[:16]}-bench.json"
        (staged / name).write_text(json.dumps({"name": name, "sha256": sha, "source": "bench",
                                                "recipients": [RECIPIENT], "received_at": time.time(),
                                                "attempts": 0, "extra": {}}))
        names.append(name)
    daemon.start()
    started = time.perf_counter()
    for name in names:  # the whole backlog appears within milliseconds
        os.rename(staged / name, spool.queue_dir / name)
    try:
        finished = daemon.wait_drained()
        cpu = daemon.cpu_seconds()
        cpu_daemon, cpu_workers = daemon.cpu_split()
    finally:
        daemon.stop()
    n = len(messages)
    return {"messages": n, "seconds": round(finished - started, 2), "rate": round(n / (finished - started), 1),
            "peak_rss_mb": round(daemon.peak_rss, 1), "truth_db": str(daemon.db), "workers": daemon.workers,
            "cpu_ms_per_msg": round(cpu / n * 1000, 2),
            "daemon_cpu_ms_per_msg": round(cpu_daemon / n * 1000, 2),
            "workers_cpu_ms_per_msg": round(cpu_workers / n * 1000, 2),
            "daemon_rss_mb": round(daemon.peak_daemon_rss, 1), "workers_rss_mb": round(daemon.peak_workers_rss, 1),
            "peak_pss_mb": round(daemon.peak_pss, 1)}
