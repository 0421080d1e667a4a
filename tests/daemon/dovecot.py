"""A throw-away Dovecot for IMAP tests (see /work/shared/notes/dovecot-for-tests.md): its own
folder, a free port, started and stopped (or killed) by the test."""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)

CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
{extra}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class Dovecot:
    def __init__(self, directory: Path, user: str = "helpdesk", password: str = "secret",
                 extra_conf: str = "", tls: bool = False) -> None:
        """`tls`: also IMAPS on `imaps_port`, with a self-signed certificate for 127.0.0.1
        in `cert` (its own CA)."""
        assert DOVECOT is not None
        self.dir = directory
        self.user, self.password = user, password
        self.port = free_port()
        self.imaps_port = free_port() if tls else 0
        self.cert = directory / "cert.pem"
        for sub in ("run", "state", "mail"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        for d in (directory, directory / "run"):
            d.chmod(0o755)
        # the mail user is `nobody`: it must be able to create its maildir
        (directory / "mail").chmod(0o1777)
        parent = directory
        while parent != parent.parent and parent != Path("/tmp"):
            parent = parent.parent
            try:
                parent.chmod(parent.stat().st_mode | 0o011)  # traversable by nobody / dovenull
            except PermissionError:
                break
        (directory / "users").write_text(f"{user}:{{PLAIN}}{password}\n")
        ssl_conf = "ssl = no"
        if tls:
            key = directory / "key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", str(key), "-out", str(self.cert)], check=True, capture_output=True, timeout=60)
            ssl_conf = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}"
        self.conf = directory / "dovecot.conf"
        self.conf.write_text(CONF.format(dir=directory, port=self.port, extra=extra_conf, ssl=ssl_conf,
                                         imaps_port=self.imaps_port))

    def start(self) -> None:
        subprocess.run([DOVECOT, "-c", str(self.conf)], check=True, timeout=30)
        wait_port(self.port)

    def stop(self) -> None:
        subprocess.run([DOVECOT, "-c", str(self.conf), "stop"], timeout=30, capture_output=True)
        deadline = time.monotonic() + 10
        while (self.dir / "run" / "master.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def kill(self) -> None:
        """A crash: kill -9 of the master and of every process it started."""
        pid = int((self.dir / "run" / "master.pid").read_text().split()[0])
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for p in [pid, *map(int, out)]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        (self.dir / "run" / "master.pid").unlink(missing_ok=True)

    def client(self) -> imaplib.IMAP4:
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        c.login(self.user, self.password)
        return c

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        c = self.client()
        try:
            c.create(folder)
            typ, data = c.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            c.logout()

    def uids(self, folder: str = "INBOX", criteria: str = "ALL") -> list[int]:
        c = self.client()
        try:
            typ, _ = c.select(folder)
            if typ != "OK":
                return []
            typ, data = c.uid("SEARCH", None, criteria)
            return [int(x) for x in data[0].split()]
        finally:
            c.logout()
