"""The MTA pipe's fast path (mailgate.console, mailgate.pipe_config) against the click
command: the same exit codes, the same one-line messages and the same spool entry, with a
daemon holding the real spool lock so both only spool. And the pipe's record of a validated
configuration never outlives a change of the file or of MAILGATE_SECRET."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from mailgate.console import parse_deliver_argv
from mailgate.pipe_config import RECORD_NAME
from mailgate.spool import Spool
from mailgate.tokens import reply_address
from tests.conftest import MAILGATE_BIN, Gateway, fixture_bytes

RAW = fixture_bytes("new_plain.eml")


@pytest.fixture
def daemon_lock(gateway: Gateway) -> Iterator[Spool]:
    """The spool lock a running `mailgate serve` holds: deliveries only spool."""
    spool = Spool(gateway.dir / "store" / "spool")
    fd = spool.hold_daemon_lock()
    yield spool
    os.close(fd)


def queued(spool: Spool) -> list[dict]:
    entries = [json.loads((spool.queue_dir / n).read_text()) for n in spool.pending()]
    for e in entries:
        e["raw"] = spool.read_raw(e["sha256"])
    return entries


def fast(gateway: Gateway, raw: bytes, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return gateway.pipe(raw, *extra, env=env)


def via_click(gateway: Gateway, raw: bytes, *extra: str) -> tuple[int, str]:
    result = gateway.deliver(raw, *extra)
    return result.exit_code, result.stderr


@pytest.mark.parametrize("extra", [(), ("--recipient", "ops@example.com", "--source", "postfix"),
                                   ("-rhelpdesk@example.com",)])
def test_fast_and_click_spool_the_same_entry(gateway: Gateway, daemon_lock: Spool, extra: tuple[str, ...]) -> None:
    proc = fast(gateway, RAW, *extra)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    [by_fast] = queued(daemon_lock)
    for n in daemon_lock.pending():
        os.unlink(daemon_lock.queue_dir / n)
    assert via_click(gateway, RAW, *extra) == (0, "")
    [by_click] = queued(daemon_lock)
    for key in ("name", "received_at"):
        by_fast.pop(key), by_click.pop(key)
    assert by_fast == by_click
    assert by_fast["raw"] == RAW and by_fast["attempts"] == 0
    assert gateway.tickets() == []  # spooled for the daemon, not processed here


def test_same_exit_codes_and_messages_for_refusals(gateway: Gateway, daemon_lock: Spool) -> None:
    cases = [
        ((RAW, "--recipient", "nobody@example.com"), 67, "nobody@example.com: no such queue or reply address"),
        ((RAW, "-r", "helpdesk+t1p1-aaaaaaaaaaaaaaaa@example.com"), 67, "no such queue or reply address"),
        ((b"  \r\n",), 65, "empty message on stdin"),
    ]
    for _ in range(2):  # the second round runs on the pipe's record of the validated config
        for args, code, text in cases:
            proc = fast(gateway, *args)
            assert proc.returncode == code, proc.stderr
            assert text in proc.stderr.decode()
            click_code, click_err = via_click(gateway, *args)
            assert (click_code, click_err) == (code, proc.stderr.decode())
    assert (daemon_lock.root / RECORD_NAME).stat().st_mode & 0o777 == 0o600
    assert daemon_lock.pending() == []


def test_size_limit_read_from_the_current_file(gateway: Gateway, daemon_lock: Spool) -> None:
    assert fast(gateway, RAW).returncode == 0  # writes the record for the first file
    text = gateway.config.read_text().replace('secret = "test-secret"',
                                              'secret = "test-secret"\nmax_message_size = 1000')
    gateway.config.write_text(text)
    big = RAW + b"x" * 2000
    for _ in range(2):
        proc = fast(gateway, big)
        assert proc.returncode == 65
        assert proc.stderr.decode() == f"mailgate: message of {len(big)} bytes exceeds the limit of 1000 bytes\n"
        assert via_click(gateway, big) == (65, proc.stderr.decode())
    assert len(daemon_lock.pending()) == 1


def test_config_broken_after_a_good_delivery_exits_75(gateway: Gateway, daemon_lock: Spool) -> None:
    assert fast(gateway, RAW).returncode == 0
    assert (daemon_lock.root / RECORD_NAME).exists()
    good = gateway.config.read_text()
    gateway.config.write_text(good.replace('name = "ops"', 'name = "ops"\ndefault_priority = 9'))
    proc = fast(gateway, RAW)
    assert proc.returncode == 75
    line = proc.stderr.decode()
    assert line.startswith("mailgate: configuration error: ") and line.count("\n") == 1
    assert "queue[1].default_priority: expected 1 to 4, got 9" in line
    assert via_click(gateway, RAW) == (75, line)
    gateway.config.write_text(good + "\n[gateway2]\n")
    proc = fast(gateway, RAW)
    assert proc.returncode == 75 and "gateway2: unknown section" in proc.stderr.decode()
    gateway.config.write_text(good)
    assert fast(gateway, RAW).returncode == 0
    assert len(daemon_lock.pending()) == 2


def test_missing_config_exits_75(gateway: Gateway) -> None:
    proc = subprocess.run([str(MAILGATE_BIN), "--config", str(gateway.dir / "nope.toml"), "deliver"],
                          input=RAW, capture_output=True, timeout=60)
    assert proc.returncode == 75
    assert b"configuration file not found" in proc.stderr


def test_reply_address_checked_with_the_secret_in_force(gateway: Gateway, daemon_lock: Spool) -> None:
    good = reply_address("helpdesk@example.com", "test-secret", 7, 3)
    other = reply_address("helpdesk@example.com", "rotated", 7, 3)
    for _ in range(2):
        assert fast(gateway, RAW, "-r", good).returncode == 0
        assert fast(gateway, RAW, "-r", other).returncode == 67
    # MAILGATE_SECRET overrides the file: the record made with the file's secret must not count
    env = {"MAILGATE_SECRET": "rotated"}
    for _ in range(2):
        assert fast(gateway, RAW, "-r", other, env=env).returncode == 0
        assert fast(gateway, RAW, "-r", good, env=env).returncode == 67
    # the file's secret changes while the record of the old one is still there
    gateway.config.write_text(gateway.config.read_text().replace('"test-secret"', '"rotated"'))
    assert fast(gateway, RAW, "-r", good).returncode == 67
    assert fast(gateway, RAW, "-r", other).returncode == 0
    assert [e["recipients"] for e in queued(daemon_lock)] == [[good]] * 2 + [[other]] * 3


def test_a_record_that_does_not_match_is_ignored(gateway: Gateway, daemon_lock: Spool) -> None:
    assert fast(gateway, RAW).returncode == 0
    record_path = daemon_lock.root / RECORD_NAME
    record = json.loads(record_path.read_text())
    record.update(fingerprint="0" * 64, max_message_size=10)
    record_path.write_text(json.dumps(record))
    assert fast(gateway, RAW).returncode == 0  # the file's limit (25 MB), not the record's
    assert json.loads(record_path.read_text())["max_message_size"] == 25 * 1024 * 1024  # rewritten
    record_path.write_text("{not json")
    assert fast(gateway, RAW).returncode == 0


def test_spool_unwritable_is_tempfail_on_the_fast_path(gateway: Gateway) -> None:
    spool = gateway.dir / "store" / "spool"
    spool.parent.mkdir(parents=True)
    spool.write_text("a file where the spool folder should be")
    proc = fast(gateway, RAW)
    assert proc.returncode == 75
    assert b"spool" in proc.stderr


def test_spooling_pipe_imports_neither_click_nor_the_settings_classes(gateway: Gateway, daemon_lock: Spool) -> None:
    """The point of the fast path: with a daemon running and the record in place, a
    delivery never builds the configuration dataclasses, click or the pipeline."""
    assert fast(gateway, RAW).returncode == 0  # the record
    code = ("import sys\n"
            "from mailgate.console import main\n"
            f"sys.argv = ['mailgate', '--config', {str(gateway.config)!r}, 'deliver', '-r', 'ops@example.com']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "heavy = ('click', 'mailgate.config', 'mailgate.pipeline', 'peewee', 'talon')\n"
            "print(sorted(m for m in sys.modules if m in heavy))\n")
    proc = subprocess.run([sys.executable, "-c", code], input=RAW, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == "[]"
    assert len(daemon_lock.pending()) == 2


def test_help_and_unusual_arguments_go_to_click() -> None:
    help_ = subprocess.run([str(MAILGATE_BIN), "deliver", "--help"], capture_output=True, timeout=60)
    assert help_.returncode == 0
    assert b"Usage: mailgate deliver [OPTIONS]" in help_.stdout and b"--recipient ADDR" in help_.stdout
    bogus = subprocess.run([str(MAILGATE_BIN), "deliver", "--bogus"], capture_output=True, timeout=60)
    assert bogus.returncode == 2 and b"No such option '--bogus'" in bogus.stderr


@pytest.mark.parametrize("argv, expected", [
    (["deliver"], (None, False, (), "pipe")),
    (["--config", "/etc/m.toml", "-v", "deliver", "-r", "a@x", "--recipient=b@x", "-rc@x", "--source", "postfix"],
     ("/etc/m.toml", True, ("a@x", "b@x", "c@x"), "postfix")),
    (["--config=/etc/m.toml", "deliver", "--source=lmtp"], ("/etc/m.toml", False, (), "lmtp")),
])
def test_plain_deliver_arguments_are_parsed_by_hand(argv: list[str], expected: tuple) -> None:
    args = parse_deliver_argv(argv)
    assert args is not None
    assert (args.config, args.verbose, args.recipients, args.source) == expected


@pytest.mark.parametrize("argv", [
    [], ["deliver", "--help"], ["deliver", "-h"], ["--help", "deliver"], ["--version"], ["import", "x"],
    ["deliver", "extra"], ["deliver", "-r"], ["deliver", "-r", "-v"], ["deliver", "-v"],
    ["--config"], ["-x", "deliver"], ["deliver", "deliver"], ["deliver", "--"], ["deliver", "--recipients", "a"],
])
def test_anything_else_is_left_to_click(argv: list[str]) -> None:
    assert parse_deliver_argv(argv) is None


def test_inline_processing_on_the_fast_path(gateway: Gateway) -> None:
    """No daemon: the fast path loads the full configuration and processes the message,
    as the click command does (the record is irrelevant here)."""
    runs = [subprocess.run([str(MAILGATE_BIN), "--config", str(gateway.config), "-v", "deliver"],
                           input=RAW, capture_output=True, timeout=120) for _ in range(2)]
    assert [p.returncode for p in runs] == [0, 0], runs[0].stderr
    assert b"ticket=1" in runs[0].stderr  # the verbose outcome line
    [t] = gateway.tickets()
    assert t["subject"] == "Printer on 3rd floor prints blank pages"
    assert len([m for m in gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]) == 1
    assert Spool(gateway.dir / "store" / "spool").pending() == []
