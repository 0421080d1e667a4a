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
        self.peak_rss = 0.0
        self.proc: subprocess.Popen | None = None
        self._sampling = False

    def start(self) -> None:
        self.log = (self.folder / "daemon.log").open("wb")
        self.proc = subprocess.Popen([str(h.MAILGATE), "--config", str(self.config), "serve"],
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

    def _sample(self) -> None:
        while self._sampling and self.proc and self.proc.poll() is None:
            self.peak_rss = max(self.peak_rss, h.rss_mb(self.proc.pid))
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
        """User + system CPU time the daemon has used since it went idle after start-up."""
        if not self.proc:
            return 0.0
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") - getattr(self, "cpu_base", 0.0)

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
            "daemon_cpu_ms_per_msg": round(cpu / n * 1000, 2) if with_daemon else "", "concurrency": concurrency}


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
    finally:
        daemon.stop()
    if errors:
        raise RuntimeError(f"SMTP clients failed: {errors[:3]}")
    n = len(messages)
    return {"messages": n, "seconds": round(finished - started, 2), "rate": round(n / (finished - started), 1),
            "accepted_rate": round(n / (accepted - started), 1), **h.latency_ms(latencies),
            "peak_rss_mb": daemon.peak_rss, "truth_db": str(daemon.db), "clients": clients,
            "cpu_ms_per_msg": round(cpu / n * 1000, 2)}
