"""Other projects' mail corpora through the real pipeline (`mailgate import`): nothing
escapes as an exception, nothing is lost or stored twice, and for zammad the parsed sender,
subject and attachment count agree with zammad's own expected results."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from mailgate.cli.importer import iter_messages
from mailgate.parse import content_hash, message_ids, parse_headers, parse_message
from tests.conftest import CORPUS, Gateway

CORPORA = {
    "zammad": ("**/*.box", "**/*.eml"),
    "mikel_mail_ruby": ("**/*.eml",),
    "nodemailer_mailparser": ("**/*.eml",),
}


def corpus_files(name: str) -> list[Path]:
    root = CORPUS / name
    return sorted({p for pattern in CORPORA[name] for p in root.glob(pattern) if p.is_file()})


def link_folder(tmp: Path, files: list[Path]) -> Path:
    """A folder holding only the mail files (the corpora also hold .yml/.json expectations)."""
    folder = tmp / "mail"
    folder.mkdir()
    for i, path in enumerate(files):
        (folder / f"{i:04d}-{path.name}").symlink_to(path)
    return folder


def stored_messages(gateway: Gateway) -> list[dict]:
    return [m for t in gateway.tickets() for m in gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]


def raw_messages(path: Path) -> list[bytes]:
    """The bytes `mailgate import` takes from a file (a .box starting "From " is an mbox)."""
    return [raw for _, raw in iter_messages(path)]


def message_key(raw: bytes) -> tuple[str, str]:
    """(Message-ID, content hash): the pipeline's identity of a message."""
    ids = next((message_ids(v) for k, v in parse_headers(raw) if k.lower() == "message-id"), ())
    chash = content_hash(raw)
    return (ids[0] if ids else f"{chash[:32]}@no-message-id.mailgate.invalid"), chash


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_corpus_every_message_accounted_for(gateway: Gateway, tmp_path: Path, name: str) -> None:
    if not (CORPUS / name).is_dir():
        pytest.skip(f"corpus {name} not present")
    files = corpus_files(name)
    assert files, name
    result = gateway.cli("import", str(link_folder(tmp_path, files)), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["messages"] == len(files)
    raws = [raw for p in files for raw in raw_messages(p)]
    assert len(raws) == len(files)
    distinct = {message_key(raw) for raw in raws}
    # duplicates are only genuinely the same message (same Message-ID and content)
    assert summary["duplicates"] == len(files) - len(distinct) - summary["empty"], summary
    stored = stored_messages(gateway)
    quarantined = gateway.json("quarantine", "list")
    accounted = len(stored) + len(quarantined) + summary["discarded"] + summary["duplicates"] + summary["empty"]
    assert accounted == len(files), (summary, len(stored), len(quarantined))
    # everything quarantined says why, and kept its raw bytes
    for q in quarantined:
        assert q["error"] and q["stage"]
    raw_hashes = {hashlib.sha256(raw).hexdigest() for raw in raws}
    assert {q["sha256"] for q in quarantined} <= raw_hashes
    # no exception escaped a stage: the quarantine holds only policy decisions, never a crash
    crashes = [q for q in quarantined if "Traceback" in (q.get("traceback") or "")
               or re.match(r"(\w+Error|\w+Exception):", q["error"])]
    assert crashes == [], crashes


def _norm_addr(value: str | None) -> str:
    return re.sub(r'[\s"<>]', "", value or "").lower()


def test_zammad_from_subject_attachments_agree(gateway: Gateway, tmp_path: Path) -> None:
    root = CORPUS / "zammad"
    if not root.is_dir():
        pytest.skip("zammad corpus not present")
    expected: dict[str, dict] = json.loads((root / "expected_parsed.json").read_text())
    files = {key: next(iter(root.rglob(Path(key).name))) for key in expected}
    gateway.cli("import", str(link_folder(tmp_path, sorted(files.values()))), "--json")
    stored: dict[str, list[dict]] = {}
    for m in stored_messages(gateway):
        stored.setdefault(m["message_id"], []).append(m)
    held = {q["sha256"] for q in gateway.json("quarantine", "list") if q["error"].startswith("Unattributable:")}
    agree, disagree = 0, []
    for key, exp in sorted(expected.items()):
        mid, _ = message_key(raw_messages(files[key])[0])
        wanted = [a for a in exp["attachments"] if not (a.get("preferences") or {}).get("original-format")]
        raw = raw_messages(files[key])[0]
        if mid not in stored:
            # held on purpose (a bounce for no ticket of ours): compare what the pipeline parsed
            assert hashlib.sha256(raw).hexdigest() in held, key
            p = parse_message(raw)
            stored[mid] = [{"from": p.from_addr, "subject": p.subject, "attachments": p.attachments}]
        ok = any(_norm_addr(got["from"]) == _norm_addr(exp["from_email"])
                 and " ".join(got["subject"].split()) == " ".join((exp["subject"] or "").split())
                 and len(got["attachments"]) == len(wanted) for got in stored.get(mid, []))
        if ok:
            agree += 1
        else:
            disagree.append(key)
    # known disagreements, where we differ on purpose: mail117/118 put an RFC 2047 encoded
    # word in the address (forbidden by RFC 2047 5; we keep the address as written instead
    # of decoding it into a spoofed one); mail087's second part has no Content-Type, so it is
    # text/plain body for us and a file for zammad; mail025's uuencoded block is a file for
    # us and body text for zammad. `bench/parse_corpus.py` prints the figure.
    assert agree / len(expected) >= 0.95, disagree
