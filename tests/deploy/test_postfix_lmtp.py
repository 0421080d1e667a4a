"""Debian's Postfix in front of `mailgate serve`, LMTP over TCP, configured from
deploy/postfix/ as shipped (main.cf, lmtp.main.cf, lmtp.transport, authres.*): mail sent
with sendmail or from "the internet" (a client outside mynetworks) becomes a ticket, the
acknowledgement comes back through Postfix into the requester's Maildir, a reply to it
threads; port 25 refuses what mailgate would refuse; the MX strips forged
Authentication-Results."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest

from tests.daemon.conftest import wait_until
from tests.deploy.mail import ask_and_answer, mail, reply_address
from tests.deploy.postfix import Postfix, skip_reason
from tests.deploy.site import Site
from tests.deploy.site import skip_reason as site_skip_reason

SKIP = skip_reason() or site_skip_reason()
pytestmark = pytest.mark.skipif(SKIP is not None, reason=str(SKIP))


@pytest.fixture(scope="module")
def mx() -> Iterator[tuple[Postfix, Site]]:
    postfix = Postfix()
    site = Site(postfix.port)
    try:
        postfix.add_main("main.cf.example")
        postfix.add_main("lmtp.main.cf.example")
        postfix.add_main("authres.main.cf.example")
        postfix.add_example_map("lmtp.transport.example", "mailgate_transport",
                                subs={"127.0.0.1:2424": f"127.0.0.1:{site.lmtp_port}"})
        postfix.add_example_map("authres.header_checks.example", "mailgate_header_checks")
        postfix.start()
        site.start()
        yield postfix, site
    finally:
        site.close()
        postfix.stop()


def test_sendmail_to_ticket_acknowledgement_in_the_maildir_and_a_reply_threads(mx) -> None:
    postfix, site = mx
    # the requester answers the acknowledgement from their mail client: to the Reply-To
    ack, _, token = ask_and_answer(postfix, site, "Printer on floor 3 prints blank pages",
                                   ("lmtp-1@customer.example", "lmtp-2@customer.example"), "Still blank after a restart.")
    assert ack["Precedence"] == "auto_reply"
    assert "Received: from" in ack.as_string() and "by mx.example.com (Postfix)" in ack.as_string()
    ticket = site.ticket_with_subject("Printer on floor 3")
    assert [(m["message_id"], m["thread_signal"]) for m in ticket["messages"] if m["direction"] == "in"] == \
        [("lmtp-1@customer.example", "new"), ("lmtp-2@customer.example", "reply-token")]
    # it came in by LMTP from Postfix, with the recipient Postfix was given
    [raw] = [r for r in site.raw_messages() if b"<lmtp-2@customer.example>" in r]
    assert b"(mailgate) with LMTP" in raw and token.encode() in raw


def test_port_25_refuses_during_the_dialogue_what_mailgate_would_refuse(mx) -> None:
    postfix, site = mx
    with postfix.smtp() as client:
        client.sendmail("carol@customer.example", ["helpdesk@example.com"],
                        mail("carol@customer.example", "VPN drops every hour", "<lmtp-3@customer.example>"))
    ack = postfix.wait_mail("carol@customer.example", lambda m: "VPN drops" in m["Subject"], what="the acknowledgement")
    token = reply_address(ack)
    forged = token.split("-")[0] + "-0000forged@example.com"
    with postfix.smtp() as client:
        client.mail("carol@customer.example")
        assert client.rcpt("helpdesk@example.com")[0] == 250
        assert client.rcpt(token)[0] == 250  # recipient_delimiter: one transport line covers reply addresses
        # asked of mailgate by an LMTP probe (lmtp.main.cf.example), refused with 550, not bounced later
        code, text = client.rcpt(forged)
        assert (code, b"no such queue or reply address" in text) == (550, True), text
        # local_recipient_maps (main.cf.example): the local domain's other addresses are still checked
        code, text = client.rcpt("nosuchuser@example.com")
        assert (code, b"User unknown in local recipient table" in text) == (550, True), text
        code, text = client.rcpt("someone@elsewhere.example")
        assert code in (454, 554) and b"Relay access denied" in text, text
        client.rset()


FORGED = (
    "Authentication-Results: mx.example.com; dmarc=pass header.from=customer.example",
    "Authentication-Results:\r\n\tmx.example.com;\r\n\tdkim=pass header.d=customer.example",
    "Authentication-Results: (our mx) mx.example.com; dmarc=pass",
)


def test_the_mx_strips_forged_authentication_results_so_commands_need_a_real_check(mx) -> None:
    postfix, site = mx
    postfix.sendmail(mail("dave@customer.example", "Laptop fan is loud", "<lmtp-4@customer.example>"),
                     "dave@customer.example", "helpdesk@example.com")
    ack = postfix.wait_mail("dave@customer.example", lambda m: "fan is loud" in m["Subject"], what="the acknowledgement")
    number = site.ticket_with_subject("fan is loud")["id"]
    subject = f"Re: [Helpdesk #{number}] Laptop fan is loud"

    # someone else writes as dave, from outside, with a DMARC pass "from our MX" of their own
    with postfix.smtp() as client:
        client.sendmail("dave@customer.example", ["helpdesk@example.com"],
                        mail("dave@customer.example", subject, "<lmtp-5@customer.example>",
                             body="status: resolved\r\n\r\nNever mind.", headers=FORGED))
    receipt = postfix.wait_mail("dave@customer.example", lambda m: "could not be verified" in m.get_content(),
                                what="the receipt refusing the command")
    assert receipt["Subject"].startswith(f"[Helpdesk #{number}]") and ack["Message-ID"] != receipt["Message-ID"]
    [raw] = [r for r in site.raw_messages() if b"<lmtp-5@customer.example>" in r]
    assert b"Authentication-Results" not in raw and b"Never mind." in raw
    assert site.ticket_with_subject("fan is loud")["status"] != "resolved"

    # the same mail handed to mailgate without the MX in between: the forgery would have worked
    with smtplib.SMTP("127.0.0.1", site.smtp_port, timeout=30) as direct:
        direct.sendmail("dave@customer.example", ["helpdesk@example.com"],
                        mail("dave@customer.example", subject, "<lmtp-6@customer.example>",
                             body="status: resolved\r\n\r\nNever mind.", headers=FORGED))
    wait_until(lambda: site.ticket_with_subject("fan is loud")["status"] == "resolved", 30,
               what="the forged command to pass without the MX's header_checks")
