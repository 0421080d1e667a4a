"""Mail as the tests' requesters write it."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate

TOKEN_RE = r"helpdesk\+t(\d+)p(\d+)-[0-9a-z]+@example\.com"


def mail(sender: str, subject: str, message_id: str, body: str = "It prints blank pages.",
         to: str = "helpdesk@example.com", in_reply_to: str = "", headers: tuple[str, ...] = ()) -> bytes:
    """`headers`: raw header lines put on top, as a forger would write them (folding kept)."""
    lines = [*headers, f"From: {sender.split('@')[0].title()} <{sender}>", f"To: {to}", f"Subject: {subject}",
             f"Date: {formatdate()}", f"Message-ID: {message_id}", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8"]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def reply_address(msg: EmailMessage) -> str:
    """The signed Reply-To of a mail we sent, checked for the documented form."""
    [address] = [a.addr_spec for a in msg["Reply-To"].addresses]
    assert re.fullmatch(TOKEN_RE, address), address
    return address


def assert_documented_headers(msg: EmailMessage, ticket: int, auto_submitted: str) -> None:
    """docs/commands.md, "Header layout": what every mail we send carries."""
    assert msg["Subject"].startswith(f"[Helpdesk #{ticket}] "), msg["Subject"]
    assert msg["Auto-Submitted"] == auto_submitted
    assert msg["X-Loop"] == "helpdesk@example.com"
    assert msg["X-Mailgate-Ticket"] == str(ticket)
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Message-ID"].startswith(f"<mailgate.{ticket}.")
    assert re.fullmatch(TOKEN_RE, reply_address(msg)).group(1) == str(ticket)  # type: ignore[union-attr]


def ask_and_answer(postfix: object, site: object, subject: str, ids: tuple[str, str], answer: str,
                   watcher: str = "alice@staff.example") -> tuple[EmailMessage, EmailMessage, str]:
    """The requester's round trip through Postfix: a mail by `sendmail`, its acknowledgement
    in the requester's mailbox (documented headers), an answer to that acknowledgement's
    Reply-To, and the watcher's alert about the answer. Returns (ack, alert, reply address)."""
    bob = "bob@customer.example"
    postfix.sendmail(mail(bob, subject, f"<{ids[0]}>"), bob, "helpdesk@example.com")  # type: ignore[attr-defined]
    ack = postfix.wait_mail(bob, lambda m: subject[:12] in m["Subject"], what="the acknowledgement")  # type: ignore[attr-defined]
    number = site.ticket_with_subject(subject[:12])["id"]  # type: ignore[attr-defined]
    assert_documented_headers(ack, number, "auto-replied")
    token = reply_address(ack)
    postfix.sendmail(mail(bob, f"Re: {ack['Subject']}", f"<{ids[1]}>", body=answer, to=token,  # type: ignore[attr-defined]
                          in_reply_to=ack["Message-ID"]), bob, token)
    alert = postfix.wait_mail(watcher, lambda m: answer[:12] in m.get_content(),  # type: ignore[attr-defined]
                              what="the watcher's alert about the reply")
    assert_documented_headers(alert, number, "auto-generated")
    return ack, alert, token
