"""Debian's Postfix with the pipe transport (pipe.main.cf, pipe.master.cf, pipe.transport
as shipped): first the pipe-only set-up, where `mailgate deliver` processes each mail itself
and deploy/mailgate-outbox.service (run by its timer) sends the outbox; then the same pipe
with `mailgate serve` running, where `deliver` only spools and the daemon does the rest."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.daemon.conftest import wait_until
from tests.deploy.mail import assert_documented_headers, mail, reply_address
from tests.deploy.postfix import Postfix, skip_reason
from tests.deploy.site import GROUP, USER, Site
from tests.deploy.site import skip_reason as site_skip_reason
from tests.deploy.units import INSTALLED_BIN, INSTALLED_CONFIG, command

SKIP = skip_reason() or site_skip_reason()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=str(SKIP))


@pytest.fixture(scope="module")
def mx() -> Iterator[tuple[Postfix, Site]]:
    postfix = Postfix()
    site = Site(postfix.port)
    try:
        postfix.add_main("main.cf.example")
        postfix.add_main("pipe.main.cf.example")
        postfix.add_master("pipe.master.cf.example", subs={
            INSTALLED_BIN: str(site.bin), INSTALLED_CONFIG: str(site.config),
            "user=mailgate:mailgate": f"user={USER}:{GROUP}"})
        postfix.add_example_map("pipe.transport.example", "mailgate_transport")
        postfix.start()
        yield postfix, site
    finally:
        site.close()
        postfix.stop()


def piped(postfix: Postfix) -> list[str]:
    """Recipients the pipe service delivered (`mailgate deliver` exited 0), in order."""
    return re.findall(r"to=<([^>]+)>, relay=mailgate, .*status=sent", postfix.log())


def send_outbox(site: Site) -> None:
    """What mailgate-outbox.timer does: run mailgate-outbox.service's ExecStart as its User=."""
    argv, env = command("mailgate-outbox.service", site.bin, site.config)
    done = site.run_argv(argv, env)
    assert done.returncode == 0 and done.stdout.startswith(b"sent "), done.stdout + done.stderr


def test_pipe_only_site_with_the_outbox_timer(mx) -> None:
    postfix, site = mx
    postfix.sendmail(mail("bob@customer.example", "Monitor flickers", "<pipe-1@customer.example>"),
                     "bob@customer.example", "helpdesk@example.com")
    wait_until(lambda: piped(postfix) == ["helpdesk@example.com"], 60, what=f"the pipe delivery\n{postfix.log()}")
    assert postfix.mailbox("bob@customer.example") == []  # no daemon: the acknowledgement waits in the outbox
    send_outbox(site)
    ack = postfix.wait_mail("bob@customer.example", lambda m: "Monitor flickers" in m["Subject"],
                            what="the acknowledgement")
    number = site.ticket_with_subject("Monitor flickers")["id"]
    assert_documented_headers(ack, number, "auto-replied")

    token = reply_address(ack)
    postfix.sendmail(mail("bob@customer.example", f"Re: {ack['Subject']}", "<pipe-2@customer.example>",
                          body="It is the cable.", to=token, in_reply_to=ack["Message-ID"]),
                     "bob@customer.example", token)
    wait_until(lambda: len(piped(postfix)) == 2, 60, what=f"the reply's pipe delivery\n{postfix.log()}")
    send_outbox(site)
    postfix.wait_mail("alice@staff.example", lambda m: "It is the cable." in m.get_content(), what="the reply's alert")
    ticket = site.ticket_with_subject("Monitor flickers")
    assert [m["thread_signal"] for m in ticket["messages"] if m["direction"] == "in"] == ["new", "reply-token"]
    # the pipe's flags: Delivered-To and X-Original-To (threading reads them), Return-Path
    [raw] = [r for r in site.raw_messages() if b"<pipe-2@customer.example>" in r]
    assert f"Delivered-To: {token}".encode() in raw and f"X-Original-To: {token}".encode() in raw
    assert b"Return-Path: <bob@customer.example>" in raw


def test_the_same_pipe_with_the_daemon_running(mx) -> None:
    postfix, site = mx
    site.start()
    try:
        before = len(piped(postfix))
        postfix.sendmail(mail("carol@customer.example", "Badge reader offline", "<pipe-3@customer.example>"),
                         "carol@customer.example", "helpdesk@example.com")
        # deliver only spools; the daemon makes the ticket and sends the acknowledgement itself
        ack = postfix.wait_mail("carol@customer.example", lambda m: "Badge reader" in m["Subject"],
                                what="the acknowledgement sent by the daemon")
        assert len(piped(postfix)) == before + 1
        assert re.search(r"message_id=pipe-3@customer.example stage=pipeline .*outcome=stored source=pipe",
                         site.log_text()), site.log_text()
        assert_documented_headers(ack, site.ticket_with_subject("Badge reader")["id"], "auto-replied")
    finally:
        site.stop()
