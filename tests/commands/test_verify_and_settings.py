"""Sender verification on parsed headers, and the issue-4 settings' validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailgate.config import CommandSettings, load_settings
from mailgate.core.errors import ConfigError
from mailgate.parse import parse_message
from mailgate.verify import parse_authentication_results, verify_sender
from tests.conftest import write_config

TRUSTED = CommandSettings(trusted_authserv_ids=("mx.example.com",))


def parsed(*headers: str, sender: str = "alice@example.com"):  # noqa: ANN201
    raw = "\r\n".join([*headers, f"From: Alice <{sender}>", "To: helpdesk@example.com", "Subject: x",
                       "Message-ID: <v@example.com>", "", "status: resolved", ""])
    return parse_message(raw.encode())


@pytest.mark.parametrize(("header", "how"), [
    ("mx.example.com; dmarc=pass (p=reject) header.from=example.com", "dmarc"),
    ("mx.example.com 1; dkim=pass (2048-bit key) header.d=example.com header.s=sel", "dkim"),
    ("mx.example.com; dkim=pass header.i=@mail.example.com", "dkim"),  # relaxed alignment
    ("MX.Example.COM; DMARC=pass header.from=example.com", "dmarc"),
])
def test_trusted_pass_verifies(header: str, how: str) -> None:
    verdict = verify_sender(parsed(f"Authentication-Results: {header}"), 1, None, TRUSTED)
    assert verdict.verified and verdict.how == how


@pytest.mark.parametrize("header", [
    "mx.example.com; dkim=pass header.d=evil.example",  # signed, but by someone else
    "mx.example.com; dmarc=pass header.from=evil.example",  # DMARC for another From domain
    "mx.example.com; dkim=fail header.d=example.com; dmarc=fail header.from=example.com",
    "mx.example.com; dkim=pass header.d=notexample.com",  # a suffix is not alignment
    "mx.example.com; spf=pass smtp.mailfrom=example.com",  # SPF alone says nothing about From:
])
def test_trusted_non_pass_does_not_verify(header: str) -> None:
    assert not verify_sender(parsed(f"Authentication-Results: {header}"), 1, None, TRUSTED).verified


def test_only_the_topmost_trusted_header_counts() -> None:
    msg = parsed("Authentication-Results: mx.example.com; dmarc=fail header.from=example.com",
                 "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com")
    assert not verify_sender(msg, 1, None, TRUSTED).verified
    # an untrusted server's header above ours is skipped, ours is read
    msg = parsed("Authentication-Results: relay.evil.example; dmarc=fail",
                 "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com")
    assert verify_sender(msg, 1, None, TRUSTED).verified


def test_nothing_trusted_configured_means_only_reply_tokens() -> None:
    msg = parsed("Authentication-Results: mx.example.com; dmarc=pass header.from=example.com")
    assert not verify_sender(msg, 1, None, CommandSettings()).verified
    assert verify_sender(msg, 7, 7, CommandSettings()).how == "reply-token"
    wrong_person = verify_sender(msg, 7, 8, CommandSettings())
    assert not wrong_person.verified and "made for someone else" in wrong_person.reason
    assert verify_sender(msg, 7, None, CommandSettings(trust_from_header=True)).how == "trusted-from"


def test_parse_authentication_results_strips_comments() -> None:
    serv, results = parse_authentication_results(
        "mx.example.com (Postfix (nested)); dkim=pass (good sig) header.d=Example.com; dmarc=pass")
    assert serv == "mx.example.com"
    assert results == [("dkim", "pass", {"header.d": "example.com"}), ("dmarc", "pass", {})]


@pytest.mark.parametrize(("extra", "message"), [
    ('[commands]\ntrusted_authserv_ids = "mx.example.com"\n', "commands.trusted_authserv_ids: expected a list of a string"),
    ('[commands]\nrequester_statuses = ["closed", "gone"]\n', "commands.requester_statuses: expected some of"),
    ('[[permission]]\nrole = "boss"\ncommands = ["status"]\n', "permission[0].role: expected requester, technician or anyone"),
    ('[[permission]]\nrole = "requester"\ncommands = ["status", "delete"]\n', "permission[0].commands: unknown command 'delete'"),
    ('[[permission]]\nrole = "requester"\nqueue = "sales"\ncommands = ["help"]\n', "permission[0].queue: unknown queue 'sales'"),
    ('[[permission]]\nrole = "requester"\n', "permission[0].commands: required key is missing"),
    ("[alerts]\nattach_max_bytes = -1\n", "alerts.attach_max_bytes: expected 0 or a positive number"),
    ("[alerts]\nhtml = 1\n", "alerts.html: expected true or false"),
    ("[outbox]\nbackoff_initial = 0\n", "outbox.backoff_initial: expected a positive number of seconds"),
    ("[outbox]\nmax_attempts = 0\n", "outbox.max_attempts: expected at least 1"),
    ("[outbox]\nretries = 3\n", "outbox.retries: unknown key"),
])
def test_invalid_settings_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(write_config(tmp_path, extra))


def test_queue_watchers_must_be_addresses(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace('name = "ops"\naddress = "ops@example.com"',
                                                 'name = "ops"\naddress = "ops@example.com"\nwatchers = ["lead"]'))
    with pytest.raises(ConfigError, match=r"queue\[1\]\.watchers\[0\]: expected an email address"):
        load_settings(config)


def test_documented_defaults_load(tmp_path: Path) -> None:
    from tests.conftest import ROOT

    settings = load_settings(ROOT / "mailgate.toml")
    assert settings.commands == CommandSettings()
    assert settings.outbox.max_attempts == 8 and settings.alerts.attach_max_bytes == 1024 * 1024


def test_a_lookalike_authserv_id_in_non_ascii_letters_is_not_trusted() -> None:
    # "\u212a" (KELVIN SIGN) lower-cases to "k": an MX that strips its own id by byte
    # comparison lets this header through, so it must not match "mx.kernel.example"
    kernel = CommandSettings(trusted_authserv_ids=("mx.kernel.example",))
    forged = parsed("Authentication-Results: mx.\u212aernel.example; dmarc=pass header.from=example.com")
    assert not verify_sender(forged, 1, None, kernel).verified
    genuine = parsed("Authentication-Results: MX.KERNEL.example; dmarc=pass header.from=example.com")
    assert verify_sender(genuine, 1, None, kernel).verified
