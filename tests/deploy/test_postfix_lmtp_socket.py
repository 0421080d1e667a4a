"""LMTP over a unix socket, as lmtp.transport.example describes it for Debian's chrooted
Postfix: the socket folder made with the example's own `install` line, the path in the
transport relative to the chroot, mailgate (the unprivileged daemon user) creating the
socket there and Postfix's lmtp client (user postfix) connecting to it."""

from __future__ import annotations

import grp
import os
import re
import shlex
import stat
import subprocess
from collections.abc import Iterator

import pytest

from tests.deploy.mail import ask_and_answer
from tests.deploy.postfix import Postfix, example, skip_reason
from tests.deploy.site import USER, Site
from tests.deploy.site import skip_reason as site_skip_reason

SKIP = skip_reason() or site_skip_reason()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=str(SKIP))
SOCKET_DIR = "/var/spool/postfix/mailgate"


def commented(prefix: str) -> list[str]:
    """The example's commented-out lines that start with `prefix`, uncommented."""
    lines = [line.lstrip("#").strip() for line in example("lmtp.transport.example").splitlines()]
    return [line for line in lines if line.startswith(prefix)]


@pytest.fixture(scope="module")
def mx() -> Iterator[tuple[Postfix, Site]]:
    postfix = Postfix()
    spool_dir = str(postfix.queue)
    # the mailgate.toml lines the example gives, with Postfix's spool where this instance has it
    toml = [line.replace("/var/spool/postfix", spool_dir) for line in commented("socket")]
    assert toml == [f'socket = "{spool_dir}/mailgate/lmtp"', "socket_mode = 0o660"], toml
    site = Site(postfix.port, lmtp="\n".join(toml))
    try:
        postfix.add_main("main.cf.example")
        postfix.add_main("lmtp.main.cf.example")
        [transport] = [line for line in commented("helpdesk@") if "lmtp:unix:" in line]
        assert re.fullmatch(r"helpdesk@example\.com\s+lmtp:unix:mailgate/lmtp", transport), transport
        postfix.add_map("mailgate_transport", transport + "\n")
        postfix.start()
        # the folder, made as the example says (mailgate's user is `nobody` here)
        [install] = commented("install -d")
        argv = shlex.split(install.replace("-o mailgate", f"-o {USER}").replace(SOCKET_DIR, f"{spool_dir}/mailgate"))
        subprocess.run(argv, check=True)
        site.start()
        yield postfix, site
    finally:
        site.close()
        postfix.stop()


def test_lmtp_over_the_unix_socket_in_postfix_chroot(mx) -> None:
    postfix, site = mx
    folder = postfix.queue / "mailgate"
    sock = os.stat(folder / "lmtp")
    assert stat.S_ISSOCK(sock.st_mode) and stat.S_IMODE(sock.st_mode) == 0o660
    # the set-gid folder gave the socket Postfix's group: that is what lets Postfix connect
    assert grp.getgrgid(sock.st_gid).gr_name == "postfix"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o2750

    _, _, token = ask_and_answer(postfix, site, "Scanner jams on A3", ("sock-1@customer.example", "sock-2@customer.example"),
                                 "Only with the duplex unit.")
    ticket = site.ticket_with_subject("Scanner jams")
    assert [m["thread_signal"] for m in ticket["messages"] if m["direction"] == "in"] == ["new", "reply-token"]
    # Postfix's own record: both went through the socket, accepted by mailgate with 250
    delivered = re.findall(r"to=<([^>]+)>, relay=\S+\[mailgate/lmtp\].*status=sent \(250 ", postfix.log())
    assert delivered == ["helpdesk@example.com", token], postfix.log()
