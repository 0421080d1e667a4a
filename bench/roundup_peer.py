"""Roundup's mail gateway on the same corpus, in the same run (`bench/ingest.py --peer roundup`).

Roundup is installed from PyPI into its own virtual environment under bench/work/ (never
into mailgate's), a `classic` tracker on SQLite is built per run, and `roundup-mailgw` is
timed as an MTA pipe (one process per message) and over an mbox (one process). Outgoing
nosy mail goes to a file ([mail] debug), as mailgate's goes to its outbox table.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import corpus as corpus_mod
import harness as h

ROUNDUP_VERSION = "2.6.0"
VENV = h.WORK / "roundup-venv"
BIN = VENV / "bin"

_TICKETS = """
import json, sys
from roundup import instance
db = instance.open(sys.argv[1]).open('admin')
found = {}
for issue_id in db.issue.list():
    for msg_id in db.issue.get(issue_id, 'messages'):
        mid = (db.msg.get(msg_id, 'messageid') or '').strip().strip('<>')
        if mid:
            found[mid] = int(issue_id)
print(json.dumps(found))
"""


def ensure_installed() -> None:
    if (BIN / "roundup-mailgw").exists():
        return
    print(f"installing roundup=={ROUNDUP_VERSION} into {VENV.relative_to(h.ROOT)}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(BIN / "pip"), "install", "-q", f"roundup=={ROUNDUP_VERSION}"], check=True)


def _set(config: str, section: str, key: str, value: str) -> str:
    start = config.index(f"\n[{section}]\n")
    end = config.find("\n[", start + 1)
    end = len(config) if end < 0 else end
    block, n = re.subn(rf"(?m)^#?{key} =.*$", f"{key} = {value}", config[start:end], count=1)
    if not n:
        raise RuntimeError(f"roundup config: no {section}.{key}")
    return config[:start] + block + config[end:]


def make_tracker(folder: Path) -> Path:
    """A fresh `classic` tracker on SQLite; unknown senders become users (Roundup's default)."""
    if folder.exists():
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    admin = str(BIN / "roundup-admin")
    subprocess.run([admin, "-i", str(folder), "install", "classic", "sqlite"], check=True, capture_output=True)
    ini = folder / "config.ini"
    config = ini.read_text()
    config = _set(config, "tracker", "web", "http://localhost:8917/bench/")
    config = _set(config, "mail", "domain", "example.com")
    config = _set(config, "mail", "host", "localhost")
    config = _set(config, "mail", "debug", str(folder / "outgoing-mail.log"))
    ini.write_text(config)
    # the classic schema's documented switch: anyone may mail in and becomes a user, as in
    # a help desk (mailgate takes mail from unknown requesters too)
    schema = folder / "schema.py"
    text = schema.read_text()
    switch = "#db.security.addPermissionToRole('Anonymous', 'Email Access')"
    if switch not in text:
        raise RuntimeError("roundup classic schema: Email Access switch not found")
    schema.write_text(text.replace(switch, switch[1:]))
    subprocess.run([admin, "-i", str(folder), "initialise", "bench-admin"], check=True, capture_output=True)
    return folder


def ticket_of(tracker: Path) -> dict[str, int | None]:
    out = subprocess.run([str(BIN / "python"), "-c", _TICKETS, str(tracker)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def run_pipe(messages: list[bytes], truth: list[dict], concurrency: int = 1) -> dict:
    tracker = make_tracker(h.WORK / "roundup-pipe")
    failed = []

    usage: list[tuple[float, float]] = []

    def deliver(raw: bytes) -> None:
        done, rss, cpu = h.timed_run([str(BIN / "roundup-mailgw"), str(tracker)], input=raw, capture_output=True)
        usage.append((rss, cpu))
        failed.append(done.returncode != 0)

    started = time.perf_counter()
    latencies = h.in_lanes(messages, truth, concurrency, deliver)
    elapsed = time.perf_counter() - started
    return {"messages": len(messages), "seconds": round(elapsed, 2), "rate": round(len(messages) / elapsed, 1),
            **h.latency_ms(latencies), "peak_rss_mb": round(max(r for r, _ in usage), 1), "failed": sum(failed),
            "cpu_ms_per_msg": round(sum(c for _, c in usage) / len(messages) * 1000, 2),
            "tracker": tracker, "concurrency": concurrency}


def run_mbox(folder: Path, messages: list[bytes]) -> dict:
    tracker = make_tracker(h.WORK / "roundup-mbox")
    mbox = tracker / "in.mbox"  # roundup empties the mbox it read: give it a copy
    sub = corpus_mod.Corpus(messages, [])
    corpus_mod.write(sub, tracker / "corpus") if len(messages) else None
    mbox.write_bytes((tracker / "corpus" / "corpus.mbox").read_bytes())
    started = time.perf_counter()
    done, rss, cpu = h.timed_run([str(BIN / "roundup-mailgw"), str(tracker), "mailbox", str(mbox)],
                                 capture_output=True)
    elapsed = time.perf_counter() - started
    return {"messages": len(messages), "seconds": round(elapsed, 2), "rate": round(len(messages) / elapsed, 1),
            "p50_ms": "", "p99_ms": "", "peak_rss_mb": round(rss, 1),
            "cpu_ms_per_msg": round(cpu / len(messages) * 1000, 2),
            "failed": int(done.returncode != 0), "tracker": tracker}


MODES = ("roundup pipe", "roundup mbox")


def one_run(mode: str, folder: Path, messages: list[bytes], truth: list[dict], args: object) -> dict:
    """One run of a Roundup mode, scored against the same ground truth as mailgate's."""
    if mode == "roundup pipe":
        result = run_pipe(messages[: args.pipe_n], truth, args.pipe_concurrency)  # type: ignore[attr-defined]
    elif mode == "roundup mbox":
        result = run_mbox(folder, messages[: args.roundup_n or len(messages)])  # type: ignore[attr-defined]
    else:
        raise ValueError(mode)
    acc = corpus_mod.score(truth[: result["messages"]], ticket_of(result.pop("tracker")))
    result.update(accuracy=acc["accuracy"], reply_accuracy=acc["reply_accuracy"],
                  alert_repeat_accuracy=acc["alert_repeat_accuracy"], threading=acc)
    return result


# which mailgate mode is compared with which Roundup mode
PAIRS = {"batch": "roundup mbox", "batch-1cpu": "roundup mbox", "smtp": "roundup mbox",
         "pipe": "roundup pipe", "pipe-inline": "roundup pipe"}


def add_ratios(rows: list[dict]) -> None:
    """Each mailgate row against the Roundup row of the same corpus profile."""
    by_mode = {(r.get("profile"), r["mode"]): r for r in rows}
    for row in rows:
        peer = by_mode.get((row.get("profile"), PAIRS.get(row["mode"], "")))
        if peer and peer.get("rate"):
            row["ratio"] = f"{row['rate'] / peer['rate']:.1f}x {peer['mode'].split()[1]}"
