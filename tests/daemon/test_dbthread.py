"""The database thread's shared commit for the API's writes: what is queued together commits
together, and one write that fails is rolled back alone."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import peewee as pw
import pytest

from mailgate.daemon.dbthread import DbThread


@pytest.fixture
def db(tmp_path: Path) -> pw.SqliteDatabase:
    database = pw.SqliteDatabase(str(tmp_path / "t.db"), check_same_thread=False)
    database.execute_sql("CREATE TABLE note (text TEXT NOT NULL)")
    return database


def test_writes_queued_together_share_a_commit_and_a_failure_is_rolled_back_alone(db: pw.SqliteDatabase) -> None:
    thread = DbThread("test-db", transaction=lambda: db.atomic())
    gate = threading.Event()
    statements: list[str] = []

    def busy() -> None:  # on the thread's own connection: what it says to SQLite from now on
        db.connection().set_trace_callback(statements.append)
        gate.wait()

    def write(text: str) -> str:
        db.execute_sql("INSERT INTO note (text) VALUES (?)", (text,))
        if text == "bad":
            raise ValueError("refused")
        return text

    async def main() -> list[object]:
        occupied = asyncio.ensure_future(thread.run(busy))  # the thread is busy: the next queue up
        await asyncio.sleep(0.05)
        writes = [asyncio.ensure_future(thread.run_together(write, t)) for t in ("a", "bad", "b", "c")]
        await asyncio.sleep(0.05)
        gate.set()
        await occupied
        return await asyncio.gather(*writes, return_exceptions=True)

    try:
        answers = asyncio.run(main())
    finally:
        thread.stop()
    assert answers[0] == "a" and answers[2:] == ["b", "c"]
    assert isinstance(answers[1], ValueError)
    said = [s.split()[0] for s in statements if not s.startswith("INSERT")]
    assert said.count("BEGIN") == 1 and said.count("COMMIT") == 1  # one transaction, one commit
    assert said.count("SAVEPOINT") == 4 and said.count("ROLLBACK") == 1  # the bad one alone
    assert sorted(r[0] for r in db.execute_sql("SELECT text FROM note")) == ["a", "b", "c"]


def test_a_failed_commit_fails_every_write_of_it(db: pw.SqliteDatabase) -> None:
    class Broken:
        def __init__(self) -> None:
            self.inner = db.atomic()
            self.outer = db.transaction_depth() == 0

        def __enter__(self) -> None:
            self.inner.__enter__()

        def __exit__(self, *exc: object) -> None:
            if self.outer and exc[0] is None:  # the commit itself fails (disk full, I/O error)
                self.inner.__exit__(RuntimeError, RuntimeError("disk full"), None)
                raise RuntimeError("disk full")
            self.inner.__exit__(*exc)

    thread = DbThread("test-db", transaction=Broken)

    def write(text: str) -> str:
        db.execute_sql("INSERT INTO note (text) VALUES (?)", (text,))
        return text

    async def main() -> list[object]:
        return await asyncio.gather(thread.run_together(write, "a"), thread.run_together(write, "b"),
                                    return_exceptions=True)

    try:
        answers = asyncio.run(main())
    finally:
        thread.stop()
    assert all(isinstance(a, RuntimeError) for a in answers)  # nobody hears "done"
    assert db.execute_sql("SELECT count(*) FROM note").fetchone()[0] == 0
