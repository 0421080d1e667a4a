"""mailgate installed as on a host: a folder of its own owned by the daemon's user, and every
mailgate process (the daemon, the pipe's `deliver`, the CLI) run as that user. The tests use
`nobody` as that user: the Postfix pipe refuses root, and a store written by one user and
read by another is not what docs/deploy.md sets up.

The program is this checkout's venv. Where the venv's interpreter cannot be run by `nobody`
(a pyenv Python under root's 0700 home, as on the CI machines), the site gets a launcher,
`bin/mailgate`: Debian's own python3 of the same minor version with the venv's packages
(the same wheels: the extension modules' ABI is per minor version), which is also what a
fresh Debian host runs."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from tests.conftest import MAILGATE_BIN, ROOT
from tests.daemon.conftest import wait_until
from tests.daemon.dovecot import free_port

USER = "nobody"
GROUP = "nogroup"

CONFIG = """\
templates = "{root}/templates"
rules = "rules"

[gateway]
name = "Helpdesk"
address = "helpdesk@example.com"
subject_tag = "Helpdesk"
secret = "e2e-secret"

[store]
database = "sqlite:///store/mailgate.db"
spool = "store/spool"
attachments = "store/attachments"

[relay]                       # Postfix, as `localhost:25` on a host
host = "127.0.0.1"
port = {relay_port}
timeout = 10.0

[outbox]
poll_interval = 0.2
backoff_initial = 1.0
backoff_max = 2.0

[commands]
trusted_authserv_ids = ["mx.example.com"]
mx_strips_authentication_results = true   # authres.* of deploy/postfix, in the LMTP tests

[daemon]
grace_period = 5.0
spool_poll_interval = 0.1
heartbeat_interval = 1.0

[listen.smtp]
port = {smtp_port}
hostname = "gate.example.com"

[listen.lmtp]
enabled = true
hostname = "gate.example.com"
{lmtp}

[[queue]]
name = "general"
address = "helpdesk@example.com"
watchers = ["alice@staff.example"]   # hears of every new ticket and reply: a staff mailbox to read

[[person]]
address = "alice@staff.example"
name = "Alice Tech"
role = "technician"
queues = ["general"]
"""


SYSTEM_PYTHON = Path("/usr/bin/python3")
LAUNCHER = """#!{python}
import site
import sys

site.addsitedir({site_packages!r})
from mailgate.console import main

sys.exit(main())
"""


def _runs_as_user(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=60, user=USER, group=GROUP,
                              extra_groups=[]).returncode == 0
    except PermissionError:
        return False


@cache
def how_to_run() -> str:
    """"venv", "launcher", or why neither can run as the unprivileged user."""
    if _runs_as_user([str(MAILGATE_BIN), "--version"]):
        return "venv"
    same = f"import sys; sys.exit(sys.version_info[:2] != {tuple(sys.version_info[:2])})"
    if SYSTEM_PYTHON.exists() and _runs_as_user([str(SYSTEM_PYTHON), "-c", same]):
        return "launcher"
    return (f"{MAILGATE_BIN} cannot be run by {USER} (its Python is not readable) and there is no "
            f"{SYSTEM_PYTHON} {sys.version_info.major}.{sys.version_info.minor} to run it with")


def skip_reason() -> str | None:
    how = how_to_run()
    return None if how in ("venv", "launcher") else how


class Site:
    def __init__(self, relay_port: int, lmtp: str = "", extra: str = "") -> None:
        """`lmtp`: the [listen.lmtp] lines that say where (port or socket)."""
        self.dir = Path(tempfile.mkdtemp(prefix="mailgate-site-"))
        self.smtp_port = free_port()
        self.lmtp_port = free_port()
        (self.dir / "rules").mkdir()
        self.config = self.dir / "mailgate.toml"
        self.bin = self._program()
        self.config.write_text(CONFIG.format(root=ROOT, relay_port=relay_port, smtp_port=self.smtp_port,
                                             lmtp=lmtp or f"port = {self.lmtp_port}") + extra)
        self.user = pwd.getpwnam(USER)
        for path in (self.dir, self.dir / "rules", self.config):
            os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self.dir.chmod(0o755)
        self.proc: subprocess.Popen | None = None
        self.log = self.dir / "daemon.log"

    def _program(self) -> Path:
        if how_to_run() == "venv":
            return MAILGATE_BIN
        (self.dir / "bin").mkdir()
        launcher = self.dir / "bin" / "mailgate"
        site_packages = next((MAILGATE_BIN.parent.parent / "lib").glob("python3*/site-packages"))
        launcher.write_text(LAUNCHER.format(python=SYSTEM_PYTHON, site_packages=str(site_packages)))
        launcher.chmod(0o755)
        return launcher

    def _env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.dir), "PYTHONUNBUFFERED": "1"}

    def run(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return self.run_argv([str(self.bin), "--config", str(self.config), *args], input=input)

    def run_argv(self, argv: list[str], env: dict[str, str] | None = None,
                 input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(argv, input=input, capture_output=True, timeout=120, user=USER, group=GROUP,
                              extra_groups=[], env={**self._env(), **(env or {})}, cwd=self.dir)

    def json(self, *args: str) -> object:
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    def ticket_with_subject(self, subject: str) -> dict:
        [summary] = [t for t in self.json("ticket", "list") if subject in t["subject"]]  # type: ignore[union-attr]
        return self.json("ticket", "show", str(summary["id"]))  # type: ignore[return-value]

    def start(self) -> Site:
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen([str(self.bin), "--config", str(self.config), "serve"],
                                         stdout=subprocess.DEVNULL, stderr=err, user=USER, group=GROUP,
                                         extra_groups=[], env=self._env(), cwd=self.dir)

        def running() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"daemon exited:\n{self.log_text()}"
            return "daemon running" in self.log_text()

        wait_until(running, 30, what="the daemon to start")
        return self

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def raw_messages(self) -> list[bytes]:
        """Every raw message in the spool's content store (read as root; nothing is written)."""
        raw = self.dir / "store" / "spool" / "raw"
        return [p.read_bytes() for p in raw.rglob("*") if p.is_file()] if raw.exists() else []

