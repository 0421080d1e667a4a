"""The realistic mix of bench/corpus_mix.py (issue 19) is reproducible and has the documented
kinds of mail, and `mailgate import` with worker processes threads it exactly and keeps its
attachments and HTML as the one-process path does: the workers write the attachment files
(durably, before the commit) and sanitize the HTML, the writer only records them."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import sqlite3
import sys
from email import message_from_bytes
from pathlib import Path

import pytest

from mailgate.attachments import attachment_path
from mailgate.clean import sanitize_html
from mailgate.parse import parse_message

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # corpus_mix imports corpus by this name
    spec.loader.exec_module(module)
    return module


sys.path.insert(0, str(ROOT / "bench"))
corpus = _load("corpus")
harness = _load("harness")


def test_mix_is_deterministic_with_html_attachments_and_tagged_replies() -> None:
    a, b = corpus.generate_profile("mix", 400, 3), corpus.generate_profile("mix", 400, 3)
    assert a.messages == b.messages and a.truth == b.truth
    kinds = [t["kind"] for t in a.truth]
    assert (kinds.count("new"), kinds.count("reply"), kinds.count("alert")) == (160, 180, 60)
    new = [m for m, t in zip(a.messages, a.truth, strict=True) if t["kind"] == "new"]
    html = sum(b"text/html" in m for m in new) / len(new)
    attached = sum(b"Content-Disposition: attachment" in m for m in new) / len(new)
    assert 0.25 < html < 0.45 and 0.04 < attached < 0.18
    seen: set[bytes] = set()
    for raw, t in zip(a.messages, a.truth, strict=True):
        mail = message_from_bytes(raw)
        if t["kind"] == "reply":
            # the ticket number the gateway will give, and a parent it has stored
            assert re.fullmatch(rf"Re: \[Helpdesk #{t['ticket_number']}\] .+", mail["Subject"])
            assert mail["In-Reply-To"].encode() in seen
        seen.add(mail["Message-ID"].encode())


@pytest.mark.timeout(120)
def test_import_with_workers_keeps_attachments_and_html_of_the_mix(gateway, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rules", gateway.dir / "rules", dirs_exist_ok=True)
    c = corpus.generate_profile("mix", 220, 4)  # 200 or more: `import` starts its worker pool
    corpus.write(c, tmp_path / "corpus")
    result = gateway.cli("import", "--workers", "2", str(tmp_path / "corpus" / "corpus.mbox"), "--json")
    assert result.exit_code == 0, result.output
    db = gateway.dir / "store" / "mailgate.db"
    score = corpus.score(c.truth, harness.ticket_of(db))
    assert score["accuracy"] == 1.0, score["examples_wrong"]
    con = sqlite3.connect(str(db))
    rows = con.execute("SELECT m.message_id, a.sha256, a.size, a.filename FROM attachment a "
                       "JOIN message m ON m.id = a.message_id").fetchall()
    stored_html = dict(con.execute("SELECT message_id, html FROM message WHERE direction = 'in'"))
    con.close()
    sent = {}
    for raw in c.messages:
        p = parse_message(raw)
        for att in p.attachments:
            sent[p.message_id] = att
        if p.text_html and p.message_id in stored_html:
            assert stored_html[p.message_id] == sanitize_html(p.text_html)
    assert len(rows) == len(sent) > 0
    settings_dir = gateway.dir / "store" / "attachments"
    for message_id, sha, size, filename in rows:
        data = attachment_path(settings_dir, sha).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha and data == sent[message_id].payload
        assert size == len(data) and filename == sent[message_id].filename
