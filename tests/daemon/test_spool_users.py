"""A second user on the spool (issue 17, item 1): the daemon runs as an unprivileged user
(`setpriv`), while `mailgate deliver` runs as root or as a third user, as an MTA's pipe does.
Entries the daemon cannot read are set aside and counted, the rest keeps flowing; a pipe
that would write unreadable entries refuses with exit 75 unless the spool is shared with a
group; a task that keeps crashing makes `mailgate status` exit non-zero with the error."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import smtplib
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import MAILGATE_BIN
from tests.daemon.conftest import DaemonProc, message, wait_until
from tests.daemon.dovecot import wait_port

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="runs the daemon and the pipe as other users: needs root and setpriv")

DAEMON_UID = DAEMON_GID = 65534  # nobody / nogroup
SHARED_GID = 64100  # a group the daemon and the pipe's user share (no name needed)
PIPE_UID = PIPE_GID = 64001  # the MTA's pipe user in the shared set-up


def setpriv(uid: int, gid: int, groups: tuple[int, ...] = ()) -> list[str]:
    group_opt = f"--groups={','.join(map(str, groups))}" if groups else "--clear-groups"
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", group_opt]


def chown_tree(top: Path, uid: int, gid: int) -> None:
    for folder, _dirs, files in os.walk(top):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid)


@pytest.fixture
def site(make_daemon) -> Iterator[Callable[..., DaemonProc]]:
    """A gateway folder the daemon's user owns (tmp_path's parents are root-only)."""
    top = Path(tempfile.mkdtemp(prefix="mailgate-users-"))
    top.chmod(0o755)

    def make(groups: tuple[int, ...] = (), shared: bool = False, start: bool = True) -> DaemonProc:
        d = make_daemon(start=False, directory=top)
        d.spool.mkdir(parents=True)
        chown_tree(top, DAEMON_UID, DAEMON_GID)
        if shared:  # docs/daemon.md, "A second user on the spool"
            os.chown(d.spool, DAEMON_UID, SHARED_GID)
            d.spool.chmod(0o2770)
        d.prefix = setpriv(DAEMON_UID, DAEMON_GID, groups)
        if start:
            d.start()
            wait_port(d.smtp_port)
        return d

    yield make
    shutil.rmtree(top, ignore_errors=True)


def foreign_entry(spool: Path, n: int, readable_entry: bool) -> str:
    """What `mailgate deliver` run as root left before: root-owned 0600 files."""
    raw = message(f"foreign{n}")
    sha = hashlib.sha256(raw).hexdigest()
    shard = spool / "raw" / sha[:2]
    if not shard.exists():
        shard.mkdir()
        os.chown(shard, DAEMON_UID, DAEMON_GID)
    (shard / sha).write_bytes(raw)
    (shard / sha).chmod(0o600)
    name = f"{1000 + n:020d}-{sha[:16]}-1-abcdef.json"
    entry = spool / "queue" / name
    entry.write_text(json.dumps({"name": name, "sha256": sha, "source": "pipe", "recipients": [],
                                 "received_at": 0.0, "attempts": 0, "extra": {}}))
    entry.chmod(0o644 if readable_entry else 0o600)
    return name


def send(d: DaemonProc, n: int) -> None:
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=10) as s:
        s.sendmail("bob@customer.example", ["helpdesk@example.com"], message(n))


def test_entries_another_user_wrote_are_set_aside_and_the_rest_keeps_flowing(site) -> None:
    d = site()
    # six entries the daemon cannot open, one whose raw bytes it cannot read: before the fix
    # each crashed the worker once, and the backoff (1, 2, 4, ... s) stopped all mail for minutes
    foreign = [foreign_entry(d.spool, n, readable_entry=n == 6) for n in range(7)]
    for n in range(10):
        send(d, n)
    wait_until(lambda: len(d.inbound_ids()) == 10, timeout=20, what="the ten good mails stored")
    assert sorted(os.listdir(d.spool / "unreadable")) == sorted(foreign)
    log = d.log_text()
    assert log.count("set aside: Permission denied") == 7 and "the queue goes on without it" in log
    assert "crashed" not in log
    result = d.gateway.cli("status")
    assert result.exit_code == 0
    assert "7 set aside (unreadable by the daemon's user" in result.output
    assert d.gateway.json("status")["spool"] == {"queued": 0, "processing": 0, "set_aside": 7}
    # the owner fixes the files: they come back by themselves and nothing was lost
    chown_tree(d.spool, DAEMON_UID, DAEMON_GID)
    wait_until(lambda: len(d.inbound_ids()) == 17, timeout=30, what="the set-aside mails stored")
    assert os.listdir(d.spool / "unreadable") == []
    assert "is readable now; queued again" in d.log_text()


def pipe(d: DaemonProc, raw: bytes, prefix: list[str], umask: int = 0o022) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, str(MAILGATE_BIN), "--config", str(d.gateway.config), "deliver"],
                          input=raw, capture_output=True, timeout=60, preexec_fn=lambda: os.umask(umask))


def test_the_pipe_as_another_user_refuses_with_75_and_names_the_fix(site) -> None:
    d = site()
    r = pipe(d, message("as-root"), [])  # root, as a pipe transport without user= runs it
    assert r.returncode == 75
    err = r.stderr.decode()
    assert f"spool {d.spool} belongs to nobody, not to root" in err
    assert "Run mailgate as nobody" in err and "share the spool with a group" in err
    owners = {os.stat(os.path.join(f, n)).st_uid for f, dirs, files in os.walk(d.spool) for n in dirs + files}
    assert owners == {DAEMON_UID}  # nothing written that the daemon could not read
    send(d, 1)
    wait_until(lambda: len(d.inbound_ids()) == 1, what="SMTP mail still processed")


def test_a_group_shared_spool_takes_the_pipe_users_mail(site) -> None:
    d = site(groups=(SHARED_GID,), shared=True)
    # the pipe user's umask would make its files private: the spool makes them group-readable
    r = pipe(d, message("shared"), setpriv(PIPE_UID, PIPE_GID, (SHARED_GID,)), umask=0o077)
    assert r.returncode == 0, r.stderr.decode()
    wait_until(lambda: len(d.inbound_ids()) == 1, what="the pipe user's mail stored by the daemon")
    [shard] = [p for p in (d.spool / "raw").iterdir() if any(f.stat().st_uid == PIPE_UID for f in p.iterdir())]
    st = shard.stat()
    assert st.st_gid == SHARED_GID and st.st_mode & 0o7777 == 0o2770
    assert not any(os.listdir(d.spool / sub) for sub in ("queue", "processing", "unreadable"))


def test_status_reports_a_worker_that_keeps_crashing_and_exits_1(site) -> None:
    d = site()
    assert d.gateway.cli("status").exit_code == 0
    # the queue folder taken over by root: every claim fails, not one entry of it
    queue = d.spool / "queue"
    os.chown(queue, 0, 0)
    queue.chmod(0o755)
    (queue / f"{1:020d}-{'0' * 16}-1-abcdef.json").write_text("{}")
    wait_until(lambda: d.gateway.cli("status").exit_code == 1, timeout=20, what="status to report the crash")
    result = d.gateway.cli("status")
    assert "ERROR:       task worker is failing:" in result.output
    assert "PermissionError: [Errno 13] Permission denied" in result.output
    data = json.loads(d.gateway.cli("status", "--json").stdout)
    assert [t["task"] for t in data["failing_tasks"]] == ["worker"] and data["errors"]
    assert d.running()  # the listeners still answer meanwhile


@pytest.mark.parametrize("key", ["spool", "attachments"])
def test_a_store_folder_the_daemon_cannot_write_is_one_line_and_exit_78(site, key: str) -> None:
    """Issue 17, item 4: it was a PermissionError traceback (the spool at start-up, the
    attachments folder at the first mail with a file)."""
    d = site(start=False)
    folder = d.gateway.dir / "store" / key
    folder.mkdir(exist_ok=True)
    os.chown(folder, 0, 0)  # root's, mode 0755: the daemon's user cannot write it
    r = subprocess.run([*d.prefix, str(MAILGATE_BIN), "--config", str(d.gateway.config), "serve"],
                       capture_output=True, timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 78, err
    assert f"configuration error: store.{key}: {folder} is not writable by nobody" in err
    assert "Traceback" not in err and err.count(f"store.{key}") == 1
