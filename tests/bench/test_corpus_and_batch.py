"""The benchmark corpus is reproducible, and batch import (the process pool feeding one
database writer) threads it exactly as the ground truth says, without losing or
duplicating anything when killed mid-way. No timing is asserted here: figures come from
bench/ingest.py."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"mailgate_bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


corpus = _load("corpus")
harness = _load("harness")  # ticket_of: Message-ID -> ticket, alert occurrences included


@pytest.fixture
def desk(gateway):
    """The test gateway with the shipped rules (Nagios alerts group by host/service)."""
    shutil.copytree(ROOT / "rules", gateway.dir / "rules", dirs_exist_ok=True)
    return gateway


def _stored_counts(db: Path) -> tuple[int, int]:
    """(distinct incoming Message-IDs recorded, rows recorded twice). An alert that opens a
    ticket is both a message and the group's first occurrence: that is not a double."""
    con = sqlite3.connect(str(db))
    try:
        tables = [("message", "WHERE direction = 'in'")]
        if "alert_occurrence" in {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}:
            tables.append(("alert_occurrence", ""))
        seen: set[str] = set()
        doubled = 0
        for table, where in tables:
            ids = [r[0] for r in con.execute(f"SELECT message_id FROM {table} {where}")]
            doubled += len(ids) - len(set(ids))
            seen.update(ids)
        return len(seen), doubled
    finally:
        con.close()


def test_corpus_is_deterministic_and_has_the_documented_mix() -> None:
    a, b = corpus.generate(200, seed=3), corpus.generate(200, seed=3)
    assert a.messages == b.messages and a.truth == b.truth
    assert corpus.generate(200, seed=4).messages != a.messages
    kinds = [t["kind"] for t in a.truth]
    assert (kinds.count("new"), kinds.count("reply"), kinds.count("alert")) == (80, 90, 30)
    assert len({t["message_id"] for t in a.truth}) == 200
    # a reply never comes before the message it answers
    first_seen = {}
    for i, t in enumerate(a.truth):
        first_seen.setdefault(t["thread"], i)
        if t["kind"] == "reply":
            assert first_seen[t["thread"]] < i
    # replies carry what a real client has: the original's Message-ID in References, and the
    # gateway's acknowledgement (unknown to the generator) as In-Reply-To
    replies = [raw for raw, t in zip(a.messages, a.truth, strict=True) if t["kind"] == "reply"]
    assert all(b"\r\nReferences: <" in r and b"\r\nIn-Reply-To: <ack." in r for r in replies)
    assert any(b"\r\n> " in r for r in replies) and any(b"-----Original Message-----" in r for r in replies)


def test_write_gives_the_same_files_and_an_mbox(tmp_path: Path) -> None:
    c = corpus.generate(30, seed=2)
    corpus.write(c, tmp_path / "one")
    corpus.write(corpus.generate(30, seed=2), tmp_path / "two")
    for name in ("corpus.mbox", "truth.json", "eml/000030.eml"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert (tmp_path / "one" / "corpus.mbox").read_bytes().count(b"\nFrom ") == 29


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_import_threads_every_reply_and_alert_repeat(desk, tmp_path: Path, workers: str) -> None:
    gateway = desk
    c = corpus.generate(60, seed=11)
    corpus.write(c, tmp_path / "corpus")
    result = gateway.cli("import", "--workers", workers, str(tmp_path / "corpus" / "corpus.mbox"), "--json")
    assert result.exit_code == 0, result.output
    score = corpus.score(c.truth, harness.ticket_of(gateway.dir / "store" / "mailgate.db"))
    assert score["follow_ups"] > 20  # the corpus really has replies and alert repeats
    assert score["accuracy"] == 1.0, score["examples_wrong"]
    assert score["threads_merged_wrongly"] == 0 and score["threads_without_ticket"] == 0
    spool = gateway.dir / "store" / "spool"
    assert not os.listdir(spool / "queue") and not os.listdir(spool / "processing")
    # importing the same mailbox again stores nothing twice
    again = gateway.cli("import", "--workers", workers, str(tmp_path / "corpus" / "corpus.mbox"), "--json")
    assert again.exit_code == 0
    assert _stored_counts(gateway.dir / "store" / "mailgate.db") == (60, 0)


@pytest.mark.timeout(120)
def test_kill_9_during_import_loses_and_duplicates_nothing(desk, tmp_path: Path) -> None:
    gateway = desk
    c = corpus.generate(400, seed=5)
    corpus.write(c, tmp_path / "corpus")
    mbox = str(tmp_path / "corpus" / "corpus.mbox")
    base = [sys.executable, "-c", "from mailgate.cli import main; main()", "--config", str(gateway.config)]
    proc = subprocess.Popen([*base, "import", "--workers", "2", mbox], cwd=gateway.dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    db = gateway.dir / "store" / "mailgate.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once some groups are committed, mid-run
        try:
            if db.exists() and _stored_counts(db)[0] >= 100:
                break
        except sqlite3.OperationalError:  # the schema is still being created
            pass
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the writer and its pool
    proc.wait()
    assert _stored_counts(db)[0] < 400, "the import finished before the kill: nothing was tested"
    # every message the dead run had accepted into the spool (an entry exists: raw bytes
    # alone mean the accept had not returned) is recovered from the spool alone
    spool = gateway.dir / "store" / "spool"
    shas = {json.loads(e.read_bytes())["sha256"] for d in ("queue", "processing") for e in (spool / d).glob("*.json")}
    spooled = {re.search(rb"(?mi)^Message-ID: <([^>]+)>", (spool / "raw" / sha[:2] / sha).read_bytes()).group(1).decode()
               for sha in shas}
    assert spooled, "the kill left no claimed entries: the recovery was not tested"
    subprocess.run([*base, "process"], cwd=gateway.dir, check=True, capture_output=True)
    assert spooled <= set(harness.ticket_of(db)), "a spooled message was lost"
    assert _stored_counts(db)[1] == 0
    # the operator runs the import again for the rest: nothing is stored twice
    subprocess.run([*base, "import", "--workers", "2", mbox], cwd=gateway.dir, check=True, capture_output=True)
    assert _stored_counts(db) == (400, 0)
    assert corpus.score(c.truth, harness.ticket_of(db))["accuracy"] == 1.0
