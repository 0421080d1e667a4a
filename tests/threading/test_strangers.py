"""Knowing a Message-ID is not a seat on the ticket (issue 17, item 17): a stranger who
answers the requester's own Message-ID (anyone in Cc, a list archive) gets a new, linked
ticket and never the ticket's further mail; only a Message-ID of our own outgoing mail, or a
sender the ticket knows, threads. A "bounce" that names a ticket only by our
X-Mailgate-Ticket header, which anyone can write, adds nothing to that ticket."""

from __future__ import annotations

from tests.outbox.sink import HEADERS_DMARC_PASS, Desk, body_text

BOB, MALLORY, CAROL, ALICE = "bob@customer.example", "mallory@elsewhere.example", "carol@customer.example", "alice@example.com"


def test_a_stranger_answering_the_requesters_message_id_gets_a_linked_ticket(desk: Desk) -> None:
    original = desk.mail(BOB, "My salary slip is wrong.", subject="Salary slip")
    desk.send()
    desk.mail(MALLORY, "Please send it to me instead.", subject="Re: Salary slip", in_reply_to=original)
    victim, new = desk.ticket(1), desk.ticket(2)
    assert MALLORY not in victim["nosy"]
    assert [m["from"] for m in victim["messages"] if m["direction"] == "in"] == [BOB]
    assert new["requester"] == MALLORY and {"ticket": 1, "kind": "related"} in new["links"]
    assert [m["thread_signal"] for m in new["messages"] if m["direction"] == "in"] == ["new-stranger-reply"]
    desk.send()
    desk.mail(ALICE, "Corrected slip attached.", name="Alice Admin", subject="Re: [Helpdesk #1] Salary slip",
              headers=HEADERS_DMARC_PASS)
    later = desk.send()
    assert desk.to(MALLORY, later) == [] and len(desk.to(BOB, later)) == 1


def test_people_the_ticket_knows_and_answers_to_our_mail_still_thread(desk: Desk) -> None:
    original = desk.mail(BOB, "The VPN drops every hour.", subject="VPN", cc=CAROL)
    [alert] = desk.to(CAROL, desk.send())  # in Cc of the opening mail: on the nosy list
    assert "VPN drops" in body_text(alert)
    desk.mail(CAROL, "Same here since Monday.", subject="Re: VPN", in_reply_to=original)
    assert [m["from"] for m in desk.ticket(1)["messages"] if m["direction"] == "in"] == [BOB, CAROL]
    ack = desk.ticket(1)["messages"]
    ours = next(m["message_id"] for m in ack if m["direction"] == "out")
    desk.mail("dave@customer.example", "Forwarded to me; also affected.", subject="Re: VPN", in_reply_to=ours)
    # our own outgoing Message-ID reached only people we mailed: it threads
    assert [m["from"] for m in desk.ticket(1)["messages"] if m["direction"] == "in"][-1] == "dave@customer.example"
    assert len(desk.gw.tickets()) == 1


def test_a_bounce_naming_a_ticket_only_by_our_header_is_held(desk: Desk) -> None:
    desk.mail(BOB, "Printer is broken.", subject="Printer")
    desk.send()
    fake = "\r\n".join([
        "From: MAILER-DAEMON <mailer-daemon@elsewhere.example>", "To: helpdesk@example.com",
        "Subject: Undelivered Mail Returned to Sender", "Message-ID: <fake-bounce-1@elsewhere.example>",
        "Auto-Submitted: auto-replied", "MIME-Version: 1.0", "Content-Type: text/plain", "",
        "This is a delivery failure.", "X-Mailgate-Ticket: 1", "<bob@customer.example>: user unknown", ""])
    assert desk.gw.deliver(fake.encode(), "--recipient", "helpdesk@example.com").exit_code == 0
    ticket = desk.ticket(1)
    assert [m["from"] for m in ticket["messages"] if m["direction"] == "in"] == [BOB]
    assert not any(e["field"] == "bounce" for e in ticket["events"])
    [held] = desk.gw.json("quarantine", "list")
    assert held["error"].startswith("Unattributable: a bounce")
