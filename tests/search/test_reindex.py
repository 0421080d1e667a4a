"""`mailgate search reindex`: a rebuild that stops half-way resumes where it stopped; mail
stored meanwhile is indexed once, by its own transaction; the results afterwards are those
before."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from mailgate.app import build_env
from mailgate.config import load_settings
from mailgate.search import reindex
from mailgate.search.index import pending
from tests.conftest import Gateway, write_config
from tests.pg import PostgresServer
from tests.search.conftest import M3, STAFF, Store, build

QUERIES = ("vpn", "printer", "diagram", "heute in:quoted", "cafe", "has:attachment")


def _found(store: Store, query: str) -> list[tuple[int, str, list[int]]]:
    # scores move a little with one more document in the index; what is found must not
    return sorted((h["message"], h["snippet"], h["quoted_in"]) for h in store.search(query))


def _gateway(tmp_path: Path, kind: str, request: pytest.FixtureRequest) -> Gateway:
    config = write_config(tmp_path, STAFF)
    if kind == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database(f"mg_{uuid.uuid4().hex[:12]}")
        config.write_text(config.read_text().replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"'))
    return Gateway(tmp_path, config)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_interrupted_rebuild_resumes_and_new_mail_is_indexed_once(tmp_path: Path, kind: str,
                                                                     request: pytest.FixtureRequest) -> None:
    store: Store = build(_gateway(tmp_path, kind, request), kind)
    before = {q: _found(store, q) for q in QUERIES}
    build_env(load_settings(store.gw.config))
    assert reindex(batch=2, restart=True, stop_after=1) == 2  # stopped after one batch of two
    left, upto = pending()
    assert left > 0
    assert len(store.search("vpn")) < len(before["vpn"])  # half-built: the rest is missing for now
    late = M3.replace("m3@other.example", "late@other.example").replace("Printer on floor 3", "Plotter on floor 4")
    assert store.gw.deliver(late.replace("\n", "\r\n").encode()).exit_code == 0  # beside the rebuild
    result = store.gw.cli("search", "reindex", "--batch", "10")
    assert result.exit_code == 0 and f"indexed {left} message(s)" in result.output
    assert {q: _found(store, q) for q in QUERIES} == before
    assert [h["message_id"] for h in store.search("plotter")] == ["late@other.example"]  # once
    assert upto < max(h["message"] for h in store.search("plotter"))  # the late one was not the rebuild's
