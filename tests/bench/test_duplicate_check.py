"""The duplicate check before any stage runs (one statement since the second performance
pass): each of its three cases still ends a redelivery as a duplicate, and nothing else."""

from __future__ import annotations

from tests.conftest import Gateway, fixture_bytes


def test_same_broken_bytes_twice_are_held_once(gateway: Gateway) -> None:
    raw = fixture_bytes("broken_not_a_message.eml")
    assert gateway.deliver(raw).exit_code == 0
    assert gateway.deliver(raw).exit_code == 0
    assert len(gateway.json("quarantine", "list")) == 1


def test_redelivered_mail_is_a_duplicate_and_a_new_one_is_not(gateway: Gateway, tmp_path) -> None:
    raw = fixture_bytes("new_plain.eml")
    folder = tmp_path / "again"
    folder.mkdir()
    (folder / "1.eml").write_bytes(raw)
    first = gateway.json("import", str(folder), "--workers", "1")
    assert first["duplicates"] == 0
    again = gateway.json("import", str(folder), "--workers", "1")
    assert again["duplicates"] == 1
    # same text under another Message-ID is a different message
    (folder / "1.eml").write_bytes(raw.replace(b"Message-ID: <", b"Message-ID: <other-", 1))
    other = gateway.json("import", str(folder), "--workers", "1")
    assert other["duplicates"] == 0
    stored = [m for t in gateway.tickets() for m in gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]
    assert len(stored) == 2
