"""Ingest cost must not grow with the store: every query a message causes finds its rows
through an index, never by scanning a table that grows with the history (the 1M-message
figure is bench/scale.py's; this guards the property it depends on)."""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# tables that grow with every message, ticket or alert
GROWING = {"message", "ticket", "outbox", "person", "event", "attachment", "nosy", "alert_occurrence",
           "rule_match", "quarantine", "ticket_link", "ticket_merge", "alert_group"}


class _Queries(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, tuple] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            sql, params = record.msg
            if sql.lstrip().upper().startswith("SELECT"):
                self.seen.setdefault(re.sub(r"\s+", " ", sql), tuple(params or ()))


def test_no_query_of_an_import_scans_a_growing_table(gateway, tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("mailgate_bench_corpus_idx", ROOT / "bench" / "corpus.py")
    corpus = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = corpus  # dataclasses look their module up while it loads
    spec.loader.exec_module(corpus)
    shutil.copytree(ROOT / "rules", gateway.dir / "rules", dirs_exist_ok=True)
    c = corpus.generate(80, seed=21)
    corpus.write(c, tmp_path / "corpus")
    queries = _Queries()
    peewee_log = logging.getLogger("peewee")
    old_level = peewee_log.level
    peewee_log.setLevel(logging.DEBUG)
    peewee_log.addHandler(queries)
    try:
        result = gateway.cli("import", "--workers", "1", str(tmp_path / "corpus" / "corpus.mbox"))
    finally:
        peewee_log.removeHandler(queries)
        peewee_log.setLevel(old_level)
    assert result.exit_code == 0, result.output
    assert len(queries.seen) > 10  # the import really ran its lookups through peewee
    con = sqlite3.connect(str(gateway.dir / "store" / "mailgate.db"))
    scans = []
    for sql, params in queries.seen.items():
        for *_, detail in con.execute("EXPLAIN QUERY PLAN " + sql, params):
            m = re.match(r"SCAN (\w+)", detail)
            # "SCAN t1 USING INDEX ..." walks an index in order: bounded by the WHERE
            if m and "USING" not in detail:
                table = re.search(rf'"(\w+)" AS "{m.group(1)}"', sql) or re.search(r'FROM "(\w+)"', sql)
                if table and table.group(1) in GROWING:
                    scans.append((table.group(1), sql[:200]))
    assert not scans, scans
