"""The threading, bounce and corpus paths on a real PostgreSQL server: the same queries,
stricter types (PostgreSQL text refuses NUL characters and checks lengths)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, CORPUS, ROOT, Gateway
from tests.pg import PostgresServer, pg_bindir

pytestmark = pytest.mark.skipif(pg_bindir() is None, reason="PostgreSQL server not installed (make test installs it)")

THREADING = ROOT / "fixtures" / "emails" / "threading"


@pytest.fixture
def pg(tmp_path: Path, postgres: PostgresServer) -> Gateway:
    url = postgres.create_database(f"mg_{uuid.uuid4().hex[:12]}")
    (tmp_path / "rules").mkdir()
    text = BASE_CONFIG.format(templates=ROOT / "templates", rules=tmp_path / "rules")
    text = text.replace('database = "sqlite:///store/mailgate.db"', f'database = "{url}"')
    (tmp_path / "mailgate.toml").write_text(text + "\n[threading]\noutlook_thread_index = true\n")
    return Gateway(tmp_path, tmp_path / "mailgate.toml")


def deliver(gateway: Gateway, name: str, **subs: object) -> None:
    raw = (THREADING / name).read_bytes()
    for key, value in subs.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", str(value).encode())
    assert gateway.deliver(raw).exit_code == 0


def signals(gateway: Gateway) -> dict[str, tuple[int, str, str]]:
    return {m["message_id"]: (t["id"], m["thread_signal"], m["auto_class"])
            for t in gateway.json("ticket", "list", "--all") for m in gateway.ticket(t["id"])["messages"]
            if m["direction"] == "in"}


def test_threading_signals_and_bounce_on_postgres(pg: Gateway) -> None:
    import email

    deliver(pg, "01_new_request.eml")
    [o] = pg.outbox()
    ack = email.message_from_string(o["message"])
    subs = {"ACK_ID": ack["Message-ID"].strip("<>"), "REPLY_TO": ack["Reply-To"], "TICKET": 1}
    for name in ("02_reply_token_only.eml", "04_reply_changed_subject.eml", "06_tag_from_stranger.eml",
                 "08_bounce_of_ack.eml", "13_outlook_new.eml", "14_outlook_reply.eml", "15_japanese_new.eml"):
        deliver(pg, name, **subs)
    found = signals(pg)
    assert found["carol-2@customer.example"] == (1, "reply-token", "")
    assert found["carol-4@customer.example"] == (1, "message-id", "")
    assert found["mallory-1@elsewhere.example"][1] == "new-stranger-tag"
    assert found["bounce-1@mx.customer.example"] == (1, "bounce:message-id", "bounce")
    assert found["AM0PR01MB0002.erik@customer.example"][1] == "thread-index"
    japanese = found["yamada-1@customer.example.jp"][0]
    assert pg.ticket(japanese)["subject"] == "プリンターが動きません"


@pytest.mark.parametrize(("corpus", "pattern"), [("zammad/test/data/mail", "*.box"), ("mikel_mail_ruby", "**/*.eml")])
def test_corpus_on_postgres_stores_or_holds_everything(pg: Gateway, tmp_path: Path, corpus: str,
                                                       pattern: str) -> None:
    root = CORPUS / corpus
    if not root.is_dir():
        pytest.skip(f"{corpus} not present")
    folder = tmp_path / "mail"
    folder.mkdir()
    files = sorted(root.glob(pattern))
    for i, path in enumerate(files):
        (folder / f"{i:04d}-{path.name}").symlink_to(path)
    result = pg.cli("import", str(folder), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    held = pg.json("quarantine", "list")
    assert all(q["error"].startswith("Unattributable:") for q in held), held
    assert summary["tickets_created"] + summary["messages_threaded"] + len(held) + summary["duplicates"] == len(files)


def test_nul_bytes_in_text_are_stored_on_postgres(pg: Gateway) -> None:
    raw = (b"From: Nul <nul@customer.example>\r\nTo: helpdesk@example.com\r\nSubject: binary\x00junk\r\n"
           b"Message-ID: <nul-1@customer.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"before\x00after\r\n")
    assert pg.deliver(raw).exit_code == 0
    [t] = pg.tickets()
    [m] = [m for m in pg.ticket(t["id"])["messages"] if m["direction"] == "in"]
    assert "before" in m["body"] and "after" in m["body"]


def test_overlong_message_ids_store_and_thread_on_postgres(pg: Gateway) -> None:
    long_id = "x" * 300 + "@customer.example"
    first = (f"From: carol@customer.example\r\nTo: helpdesk@example.com\r\nSubject: long id\r\n"
             f"Message-ID: <{long_id}>\r\n\r\nhello\r\n").encode()
    reply = (f"From: carol@customer.example\r\nTo: helpdesk@example.com\r\nSubject: other subject\r\n"
             f"Message-ID: <reply-{long_id}>\r\nIn-Reply-To: <{long_id}>\r\n\r\nagain\r\n").encode()
    assert pg.deliver(first).exit_code == 0 and pg.deliver(reply).exit_code == 0
    assert pg.deliver(first).exit_code == 0  # still recognised as the same message
    [t] = pg.tickets()
    inbound = [m for m in pg.ticket(t["id"])["messages"] if m["direction"] == "in"]
    assert [m["thread_signal"] for m in inbound] == ["new", "message-id"]
    assert pg.json("quarantine", "list") == []


def test_long_import_paths_and_names_fit_on_postgres(pg: Gateway, tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-folder-name-for-archived-mail"] * 8))
    deep.mkdir(parents=True)
    name = "N" * 300
    (deep / "ok.eml").write_bytes(f'From: "{name}" <n@customer.example>\r\nSubject: s\r\n'
                                  "Message-ID: <deep-1@customer.example>\r\n\r\nbody\r\n".encode())
    (deep / "broken.eml").write_bytes(b"not a message at all\r\n")
    summary = json.loads(pg.cli("import", str(tmp_path / "a-rather-long-folder-name-for-archived-mail"),
                                "--json").stdout)
    assert summary["tickets_created"] == 1 and summary["quarantined"] == 1
    [q] = pg.json("quarantine", "list")
    assert q["stage"] == "parse"
