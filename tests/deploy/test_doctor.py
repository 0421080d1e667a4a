"""`mailgate doctor` on [commands] trusted_authserv_ids: unsafe until the operator says the MX
strips incoming Authentication-Results (deploy/postfix/authres.*), and useless while no
received mail carries the MX's own header."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Gateway, write_config

TRUSTING = '\n[commands]\ntrusted_authserv_ids = ["mx.example.com"]\n'


def inbound(n: int, *headers: str) -> bytes:
    return "\r\n".join([*headers, "From: Bob <bob@customer.example>", "To: helpdesk@example.com",
                        f"Subject: Doctor {n}", f"Message-ID: <doc{n}@customer.example>", "", "Hello.", ""]).encode()


def test_no_trusted_ids_nothing_to_report(gateway: Gateway) -> None:
    result = gateway.cli("doctor")
    assert result.exit_code == 0 and "OK: nothing to report" in result.output
    assert "reply address only" in result.output


def test_trusted_ids_without_the_mx_stripping_them_is_a_warning(tmp_path: Path) -> None:
    gw = Gateway(tmp_path, write_config(tmp_path, TRUSTING))
    result = gw.cli("doctor")
    assert result.exit_code == 1
    assert "warning [authentication-results]: commands.trusted_authserv_ids = [mx.example.com]" in result.output
    assert "deploy/postfix/authres.main.cf.example" in result.output
    assert "mx_strips_authentication_results = true" in result.output


def test_with_the_mx_stripping_it_looks_for_the_mx_own_header_in_received_mail(tmp_path: Path) -> None:
    gw = Gateway(tmp_path, write_config(tmp_path, TRUSTING + "mx_strips_authentication_results = true\n"))
    assert gw.cli("doctor").exit_code == 0  # nothing received yet: nothing to judge by
    assert gw.deliver(inbound(1, "Authentication-Results: other.example; spf=pass")).exit_code == 0
    done = gw.cli("doctor", "--json")
    result = json.loads(done.stdout)
    assert done.exit_code == 1
    assert result["facts"] == ["0 of the last 1 received mail(s) carry an Authentication-Results header of mx.example.com"]
    [finding] = result["findings"]
    assert finding["text"].startswith("none of the last 1 received mails carries an Authentication-Results header")

    assert gw.deliver(inbound(2, "Authentication-Results: mx.example.com; dmarc=pass header.from=customer.example")
                      ).exit_code == 0
    result = gw.cli("doctor")
    assert result.exit_code == 0
    assert "1 of the last 2 received mail(s) carry an Authentication-Results header of mx.example.com" in result.output
