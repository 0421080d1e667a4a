"""STARTTLS with a configured certificate and AUTH for trusted submission."""

from __future__ import annotations

import shutil
import smtplib
import ssl
import subprocess
from pathlib import Path

import pytest

from tests.daemon.conftest import message, wait_until

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")


def make_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mx.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_auth_required_only_after_starttls_and_user_is_kept(make_daemon, tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    users = tmp_path / "users"
    users.write_text("# trusted submitters\nmonitor:s3cret\n")
    d = make_daemon(start=False)
    cfg = d.gateway.config
    cfg.write_text(cfg.read_text().replace('hostname = "mx.test"', f'''hostname = "mx.test"
tls_cert = "{cert}"
tls_key = "{key}"
auth_users_file = "{users}"
auth_required = true''', 1))
    d.start()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        code, features = s.ehlo("client.test")
        assert b"STARTTLS" in features and b"AUTH" not in features  # no passwords in clear text
        assert s.mail("bob@customer.example")[0] == 530  # authentication required
        s.starttls(context=client_context())
        s.ehlo("client.test")
        assert s.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login("monitor", "wrong")
        s.login("monitor", "s3cret")
        assert s.sendmail("nagios@monitoring.example", ["helpdesk@example.com"], message(1)) == {}
    wait_until(lambda: d.inbound_ids(), what="the submitted message")
    raw = next(p for p in (d.spool / "raw").rglob("*") if p.is_file()).read_bytes()
    assert b"with ESMTPSA" in raw.split(b"\r\n\r\n", 1)[0]
    assert "authenticated as monitor" in d.log_text()
