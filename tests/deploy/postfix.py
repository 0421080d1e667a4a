"""A throw-away Debian Postfix for the end-to-end tests, configured from the files in
deploy/postfix/ as shipped, with the substitutions a sysadmin makes (docs/deploy.md):

    /etc/postfix/                      -> this instance's config folder
    127.0.0.1:2424 (LMTP port)         -> the test daemon's LMTP port
    /opt/mailgate/.venv/bin/mailgate   -> this checkout's venv
    /etc/mailgate/mailgate.toml        -> the test's config file
    user=mailgate:mailgate             -> user=nobody:nogroup (the test's "mailgate" user)

Around them a base configuration of the test's own: its own config_directory,
queue_directory and data_directory; listening on 127.0.0.1 only, on a free port; every
destination that is not a helpdesk address, a test mailbox or a test domain is an `error`
transport, local delivery included, so nothing leaves the machine or lands in /var/mail.
The requesters' and staff mailboxes are Maildirs (virtual(8)) the test reads.

Started with `postfix check` (creates the queue folders, validates the files) and `master -w`
(returns once master listens): about half a second, so one instance per test module."""

from __future__ import annotations

import email
import email.policy
import os
import pwd
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from tests.conftest import ROOT
from tests.daemon.dovecot import free_port

EXAMPLES = ROOT / "deploy" / "postfix"
POSTFIX = Path("/usr/sbin/postfix")
POSTMAP = Path("/usr/sbin/postmap")
POSTCONF = Path("/usr/sbin/postconf")
SENDMAIL = Path("/usr/sbin/sendmail")
MASTER = Path("/usr/lib/postfix/sbin/master")
MASTER_CF = Path("/usr/share/postfix/master.cf.dist")  # Debian's master.cf as installed
MAILBOXES = {f"{name}@customer.example": name for name in ("bob", "carol", "dave")} | {"alice@staff.example": "alice"}
OUTSIDE = "127.0.0.2"  # a client that is not in mynetworks: "the internet" of these tests

DEBIAN_MAIN_CF = Path("/usr/share/postfix/main.cf.debian")  # what Debian's package starts main.cf from
BASE_MAIN_CF = """\
config_directory = {dir}/conf
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/postfix.log
maillog_file_prefixes = {dir}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.example.com
mydomain = example.com
mydestination = example.com, localhost
mynetworks = 127.0.0.1/32
alias_maps =
alias_database =
# nothing leaves this machine: no relaying, no DNS; local(8) stays (local_recipient_maps
# is what main.cf.example changes) but writes only into this folder: no commands, no
# files, no .forward, mailboxes under {dir}/var-mail instead of /var/mail
default_transport = error:5.7.1 test Postfix: no mail leaves this machine
relay_transport = error:5.7.1 test Postfix: no mail leaves this machine
mail_spool_directory = {dir}/var-mail
forward_path =
allow_mail_to_commands =
allow_mail_to_files =
disable_dns_lookups = yes
smtp_dns_support_level = disabled
virtual_mailbox_domains = customer.example, staff.example
virtual_mailbox_base = {dir}/mail
virtual_mailbox_maps = inline:{{ {mailboxes} }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
# test timing only: a probe answer is looked at after 1 s (default 3 s), a deferred
# message is retried within seconds (default: minutes)
address_verify_poll_delay = 1s
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


def skip_reason() -> str | None:
    if not (POSTFIX.exists() and MASTER.exists() and SENDMAIL.exists()):
        return "Debian's postfix is not installed (`make debs` installs it)"
    if os.geteuid() != 0:
        return "Postfix's master process must be started as root; run the deploy tests as root"
    return None


def _alive(pid: int) -> bool:
    """Running, not a zombie: `master -w` daemonizes, so init reaps it, when it gets to it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def example(name: str) -> str:
    return (EXAMPLES / name).read_text()


def _uncommented(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


class Postfix:
    def __init__(self) -> None:
        # on tmpfs where there is one: postmap and the queue fsync, and this queue's durability
        # is not what the tests are about (mailgate's own store stays on disk)
        shm = Path("/dev/shm")
        self.dir = Path(tempfile.mkdtemp(prefix="mailgate-postfix-", dir=shm if shm.is_dir() else None))
        self.dir.chmod(0o755)  # Postfix's unprivileged processes walk into it
        self.conf = self.dir / "conf"
        self.queue = self.dir / "queue"
        self.mail = self.dir / "mail"
        self.port = free_port()
        self.started = False
        nobody = pwd.getpwnam("nobody")
        for folder in (self.conf, self.queue, self.dir / "data", self.mail, self.dir / "var-mail"):
            folder.mkdir()
        shutil.chown(self.dir / "data", "postfix")
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        (self.dir / "var-mail").chmod(0o1777)
        self.main_cf = DEBIAN_MAIN_CF.read_text() + BASE_MAIN_CF.format(
            dir=self.dir, uid=nobody.pw_uid, gid=nobody.pw_gid,
            mailboxes=", ".join(f"{a}={m}/" for a, m in MAILBOXES.items()))
        # Debian's services, the SMTP listener moved from *:25 to a loopback address and a free port
        master = MASTER_CF.read_text().replace("\nsmtp      inet", f"\n127.0.0.1:{self.port} inet", 1)
        assert f"127.0.0.1:{self.port} inet" in master
        self.master_cf = master

    # --- configuration from the shipped examples ---------------------------------------------

    def substitute(self, text: str, subs: dict[str, str] | None = None) -> str:
        text = text.replace("/etc/postfix/", f"{self.conf}/")
        for old, new in (subs or {}).items():
            assert old in text, f"the example no longer contains {old!r}"
            text = text.replace(old, new)
        return text

    def add_main(self, name: str, subs: dict[str, str] | None = None) -> None:
        self.main_cf += f"\n# ---- {name} ----\n" + self.substitute(example(name), subs)

    def add_master(self, name: str, subs: dict[str, str] | None = None) -> None:
        self.master_cf += f"\n# ---- {name} ----\n" + self.substitute(example(name), subs)

    def add_map(self, target: str, text: str) -> None:
        """A lookup table file (e.g. mailgate_transport); start() runs postmap for hash: ones."""
        (self.conf / target).write_text(text)

    def add_example_map(self, name: str, target: str, pick: Callable[[str], str] = _uncommented,
                        subs: dict[str, str] | None = None) -> None:
        self.add_map(target, self.substitute(pick(example(name)), subs))

    # --- running ------------------------------------------------------------------------------

    def start(self) -> Postfix:
        (self.conf / "main.cf").write_text(self.main_cf)
        (self.conf / "master.cf").write_text(self.master_cf)
        # Postfix's commands wait until a configuration file they read is at least a second or
        # two old (a guard against reading it half-written): these are complete, date them back
        old = time.time() - 10
        for path in self.conf.iterdir():
            os.utime(path, (old, old))
        for path in list(self.conf.iterdir()):
            if f"hash:{path}" in self.main_cf and not path.name.endswith(".db"):
                self._run([str(POSTMAP), "-c", str(self.conf), f"hash:{path}"])
        self._run([str(POSTFIX), "-c", str(self.conf), "check"])
        # the examples leave no parameter Postfix does not use, and override none twice
        done = subprocess.run([str(POSTCONF), "-c", str(self.conf), "-n"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "warning" not in done.stderr + self.log(), done.stderr + self.log()
        self._run([str(MASTER), "-c", str(self.conf), "-w"])
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            pid = int((self.queue / "pid" / "master.pid").read_text().split()[0])
            # master leads its own session and process group (its children are in it); `postfix
            # stop` takes 1.5 s, and nothing in this throw-away queue needs a clean shutdown
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                subprocess.run([str(POSTFIX), "-c", str(self.conf), "stop"], capture_output=True, timeout=30)
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(argv, capture_output=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}\n{self.log()}")

    def log(self) -> str:
        path = self.dir / "postfix.log"
        return path.read_text(errors="replace") if path.exists() else "(no postfix.log)"

    # --- mail in and out ----------------------------------------------------------------------

    def sendmail(self, raw: bytes, sender: str, *recipients: str) -> None:
        """The local submission a user or script makes: Postfix's own sendmail(1)."""
        done = subprocess.run([str(SENDMAIL), "-C", str(self.conf), "-f", sender, "-oi", "--", *recipients],
                              input=raw, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr.decode()

    def smtp(self) -> smtplib.SMTP:
        """A client from outside mynetworks, as mail from the internet reaches port 25."""
        client = smtplib.SMTP("127.0.0.1", self.port, timeout=30, source_address=(OUTSIDE, 0))
        client.ehlo("client.customer.example")
        return client

    def queue_empty(self) -> bool:
        return not any(any((self.queue / d).iterdir()) for d in ("maildrop", "incoming", "active", "deferred")
                       if (self.queue / d).exists())

    def mailbox(self, address: str) -> list[EmailMessage]:
        new = self.mail / MAILBOXES[address] / "new"
        if not new.exists():
            return []
        paths = sorted(new.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]  # type: ignore[misc]

    def wait_mail(self, address: str, predicate: Callable[[EmailMessage], bool], timeout: float = 30.0,
                  what: str = "a mail") -> EmailMessage:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.mailbox(address) if predicate(m)]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} for {address} within {timeout}s; postfix log:\n{self.log()[-6000:]}")
            time.sleep(0.05)
