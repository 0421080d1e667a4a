"""Alert mails: who gets them, what they look like on the wire, and that a reply to one
threads back through its signed reply address alone."""

from __future__ import annotations

import re
from pathlib import Path

from mailgate.outgoing import id_headers_ok
from mailgate.tokens import reply_address
from tests.outbox.sink import HEADERS_DMARC_PASS, Desk, body_text, make_desk

BOB = "bob@customer.example"
ALICE = "alice@example.com"
TOM = "tom@example.com"


def person_id(desk: Desk, address: str) -> int:
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.db.models import Person

    build_env(load_settings(desk.gw.config))
    return Person.get(Person.address == address).id


def test_alert_headers_are_munged_exactly(desk: Desk) -> None:
    root = desk.mail(BOB, "The printer only prints blank pages.", name="Bob Jones",
                     subject="[JIRA-4711] Printer prints blank pages")
    desk.send()
    desk.mail(ALICE, "nosy: +tom@example.com", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    desk.send()
    reply = desk.mail(ALICE, "Please try again now.", name="Alice Smith", headers=HEADERS_DMARC_PASS,
                      subject="Re: [Helpdesk #1] [JIRA-4711] Printer prints blank pages")
    mails = desk.send()
    [to_bob] = desk.to(BOB, mails)
    [to_tom] = desk.to(TOM, mails)
    raw_bob = [m for m in mails if BOB in m.rcpt_tos][0].data.decode()
    head = raw_bob.split("\r\n\r\n", 1)[0]
    assert "\r\nFrom: \"Alice Smith via Helpdesk\" <helpdesk@example.com>\r\n" in head
    assert to_bob["Reply-To"] == reply_address("helpdesk@example.com", "test-secret", 1, person_id(desk, BOB))
    assert to_tom["Reply-To"] == reply_address("helpdesk@example.com", "test-secret", 1, person_id(desk, TOM))
    assert to_bob["Subject"] == "[Helpdesk #1] [JIRA-4711] Printer prints blank pages"  # foreign tag kept
    assert to_bob["To"] == BOB
    assert to_bob["Auto-Submitted"] == "auto-generated"
    assert to_bob["X-Loop"] == "helpdesk@example.com"
    assert to_bob["X-Mailgate-Ticket"] == "1"
    assert to_bob["In-Reply-To"] == f"<{reply}>"
    assert str(to_bob["References"]).split()[0] == f"<{root}>"
    assert id_headers_ok(raw_bob)
    # the originator's address goes to staff only: a requester never learns other addresses
    assert to_bob["X-Mailgate-Originator"] is None
    assert to_tom["X-Mailgate-Originator"] == ALICE
    # each alert's Message-ID is stored on the ticket, so replies thread by it too
    stored = {m["message_id"] for m in desk.ticket(1)["messages"] if m["direction"] == "out"}
    assert str(to_bob["Message-ID"]).strip("<>") in stored and str(to_tom["Message-ID"]).strip("<>") in stored
    text = body_text(to_bob)
    assert text.startswith("##- Please type your reply above this line -##")
    assert "Alice Smith wrote:\n\nPlease try again now." in text
    assert "Status: new | Priority: 3 | Owner: nobody | Queue: general" in text


def test_reply_to_an_alert_threads_by_its_reply_address_alone(desk: Desk) -> None:
    desk.mail(BOB, "The printer only prints blank pages.")
    desk.send()
    desk.mail(ALICE, "Which tray?", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    [alert] = desk.to(BOB, desk.send())
    # a client that drops In-Reply-To/References and a subject rewritten by hand
    desk.mail("dora@customer.example", "Unrelated new problem.", subject="printer again")
    mid = desk.mail(BOB, "Tray 2.", to=str(alert["Reply-To"]), subject="tray question")
    [t1, t2] = sorted(desk.gw.tickets(), key=lambda t: t["id"])
    [stored] = [m for m in desk.ticket(1)["messages"] if m["message_id"] == mid]
    assert stored["thread_signal"] == "reply-token" and stored["body"] == "Tray 2."
    assert t2["requester"] == "dora@customer.example"


def test_no_alert_in_reply_to_automatic_mail(desk: Desk) -> None:
    desk.mail(BOB, "The printer only prints blank pages.")
    desk.send()
    desk.mail(ALICE, "Which tray?", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    [alert] = desk.to(BOB, desk.send())
    desk.mail(BOB, "I am out of the office until Monday.", to=str(alert["Reply-To"]),
              subject="Automatic reply: [Helpdesk #1] x", headers=("Auto-Submitted: auto-replied",))
    assert [m["auto_class"] for m in desk.ticket(1)["messages"] if m["direction"] == "in"][-1] == "auto-reply"
    assert desk.send() == []
    assert [o for o in desk.gw.outbox() if o["state"] == "pending"] == []


def test_cc_of_the_opening_mail_and_queue_watchers_hear_about_it(tmp_path: Path) -> None:
    extra = ""
    for d in make_desk(tmp_path, extra):
        cfg = d.gw.config.read_text().replace('address = "helpdesk@example.com"\n\n[[queue]]',
                                              'address = "helpdesk@example.com"\nwatchers = ["lead@example.com"]\n\n[[queue]]')
        d.gw.config.write_text(cfg)
        d.mail(BOB, "The printer only prints blank pages.",
               cc="Carol <carol@customer.example>, ops@example.com, helpdesk+x@example.com")
        assert set(d.ticket(1)["nosy"]) == {BOB, "carol@customer.example"}  # never our own addresses
        mails = d.send()
        assert [m["Auto-Submitted"] for m in d.to(BOB, mails)] == ["auto-replied"]  # the ack, no alert
        [new] = d.to("carol@customer.example", mails)
        assert "New ticket #1 from Bob" in body_text(new)
        assert len(d.to("lead@example.com", mails)) == 1
        assert all(r not in ("ops@example.com", "helpdesk@example.com") for m in mails for r in m.rcpt_tos)
        # writers join the list; the author is not alerted about their own words
        d.mail("carol@customer.example", "Same on my floor.", subject="Re: [Helpdesk #1] x")
        mails = d.send()
        assert d.to("carol@customer.example", mails) == []
        assert len(d.to(BOB, mails)) == 1 and len(d.to("lead@example.com", mails)) == 1


def test_bouncing_addresses_get_no_alerts(desk: Desk) -> None:
    desk.mail(BOB, "The printer only prints blank pages.", cc="carol@customer.example")
    desk.sink.handler.refuse["carol@customer.example"] = "550 5.1.1 no such user"
    desk.send()
    assert [o["state"] for o in desk.gw.outbox() if o["recipients"] == ["carol@customer.example"]] == ["failed"]
    desk.mail(ALICE, "Which tray?", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    assert not [o for o in desk.gw.outbox() if o["recipients"] == ["carol@customer.example"] and o["state"] == "pending"]
    assert len(desk.to(BOB, desk.send())) == 1


def test_small_attachments_go_along_large_ones_are_listed(tmp_path: Path) -> None:
    for desk in make_desk(tmp_path, "\n[alerts]\nattach_max_bytes = 1000\nhtml = true\n"):
        desk.mail(BOB, "The printer only prints blank pages.")
        desk.send()
        boundary = "b0undary"
        body = "\r\n".join([
            f"--{boundary}", "Content-Type: text/plain; charset=utf-8", "", "Logs attached.", "",
            f"--{boundary}", "Content-Type: text/plain; name=small.log", "Content-Disposition: attachment; filename=small.log",
            "", "tiny log", "",
            f"--{boundary}", "Content-Type: application/octet-stream", "Content-Disposition: attachment; filename=big.bin",
            "Content-Transfer-Encoding: base64", "", "QUFB" * 700, "", f"--{boundary}--", ""])
        raw = ("From: Alice <alice@example.com>\r\nTo: helpdesk@example.com\r\nSubject: Re: [Helpdesk #1] x\r\n"
               f"{HEADERS_DMARC_PASS[0]}\r\nMessage-ID: <att1@example.com>\r\nMIME-Version: 1.0\r\n"
               f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{body}").encode()
        assert desk.gw.deliver(raw).exit_code == 0
        [alert] = desk.to(BOB, desk.send())
        files = {p.get_filename(): p.get_content().strip() for p in alert.iter_attachments()}
        assert files == {"small.log": "tiny log"}
        text = body_text(alert)
        # a file too large to attach comes as the recipient's own signed link (issue 13)
        assert "small.log (attached)" in text
        assert re.search(r"big\.bin \(2100 bytes, too large to attach\): http://127\.0\.0\.1:8025/t/1/attachments/\d+"
                         r"\?k=\d+\.\d+\.\S+", text), text
        html = alert.get_body(preferencelist=("html",))
        assert html is not None and "Logs attached." in html.get_content()
