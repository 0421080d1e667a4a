"""Parser bombs (issue 17, item 13): a MIME structure nested 500 levels deep cost 16 s and
ended in RecursionError; one with thousands of parts builds a tree of as many objects. Both
are measured before the parse ([gateway] max_mime_depth, max_mime_parts) and quarantined
with the reason; the raw bytes are kept, so a retry after raising a limit stores the mail.
bench/hostile_mime.py times them."""

from __future__ import annotations

from tests.conftest import Gateway, fixture_bytes, write_config


def held(gw: Gateway) -> list[dict]:
    return gw.json("quarantine", "list")  # type: ignore[return-value]


def test_mime_nested_500_levels_deep_is_quarantined_with_the_limit_named(gateway: Gateway) -> None:
    assert gateway.deliver(fixture_bytes("hostile/mime_nested_500.eml")).exit_code == 0
    [q] = held(gateway)
    assert q["stage"] == "parse"
    assert q["error"] == ("MimeLimitExceeded: MIME structure nested more than 50 levels deep "
                          "(over gateway.max_mime_depth)")
    assert gateway.tickets() == []
    # the daemon keeps serving: the next mail is stored as usual
    ok = b"From: bob@customer.example\r\nTo: helpdesk@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
    assert gateway.deliver(ok).exit_code == 0 and len(gateway.tickets()) == 1


def test_a_message_of_2000_parts_is_quarantined_and_retried_after_raising_the_limit(tmp_path) -> None:
    gw = Gateway(tmp_path, write_config(tmp_path))
    assert gw.deliver(fixture_bytes("hostile/mime_2000_parts.eml")).exit_code == 0
    [q] = held(gw)
    assert q["error"] == "MimeLimitExceeded: MIME message with more than 1000 parts (over gateway.max_mime_parts)"
    gw.config.write_text(gw.config.read_text().replace('secret = "test-secret"',
                                                       'secret = "test-secret"\nmax_mime_parts = 5000'))
    retried = Gateway(tmp_path, gw.config).cli("quarantine", "retry", str(q["id"]))
    assert retried.exit_code == 0 and "stored: ticket #1" in retried.output
    [ticket] = Gateway(tmp_path, gw.config).tickets()
    assert ticket["subject"] == "2000 parts"


def test_the_limits_are_validated_naming_the_key(tmp_path) -> None:
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('secret = "test-secret"', 'secret = "test-secret"\nmax_mime_depth = 500'))
    result = Gateway(tmp_path, cfg).cli("ticket", "list")
    assert result.exit_code == 78 and "gateway.max_mime_depth: expected 1 to 100 levels, got 500" in result.stderr
