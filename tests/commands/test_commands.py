"""Commands by email, end to end: mail in through the MTA pipe, ticket changes in the store,
the receipt and alerts out through a real SMTP relay."""

from __future__ import annotations

from tests.outbox.sink import HEADERS_DMARC_PASS, Desk, body_text

BOB = "bob@customer.example"
ALICE = "alice@example.com"


def open_ticket(desk: Desk, **kw: str) -> str:
    """Bob opens ticket #1; returns the reply address of his acknowledgement."""
    desk.mail(BOB, "The printer only prints blank pages.", name="Bob Jones", **kw)
    [ack] = desk.to(BOB, desk.send())
    return str(ack["Reply-To"])


def receipt_for(desk: Desk, address: str) -> str:
    mails = [m for m in desk.to(address, desk.send()) if m["Auto-Submitted"] == "auto-replied"]
    assert len(mails) == 1, [m["Subject"] for m in mails]
    return body_text(mails[0])


def test_technician_commands_are_applied_recorded_and_confirmed(desk: Desk) -> None:
    open_ticket(desk)
    mid = desk.mail(ALICE, "status: resolved\nOwner: me\npriority: urgent\nnosy: +carol@customer.example\n"
                    "subject: Printer 3F blank pages\n\nReplaced the toner, please try again.",
                    name="Alice Admin", subject="Re: [Helpdesk #1] Printer", headers=HEADERS_DMARC_PASS)
    t = desk.ticket(1)
    assert (t["status"], t["owner"], t["priority"], t["subject"]) == ("resolved", ALICE, 1, "Printer 3F blank pages")
    assert set(t["nosy"]) == {BOB, ALICE, "carol@customer.example"}
    [stored] = [m for m in t["messages"] if m["message_id"] == mid]
    assert stored["body"] == "Replaced the toner, please try again."  # command lines taken out
    changes = {(e["field"], e["old"], e["new"]) for e in t["events"] if e["message_id"] == mid}
    assert {("status", "new", "resolved"), ("owner", None, ALICE), ("priority", "3", "1"),
            ("nosy", None, "carol@customer.example"),
            ("subject", "Printer on 3rd floor prints blank pages", "Printer 3F blank pages")} <= changes
    assert all(e["actor"] == ALICE for e in t["events"] if e["message_id"] == mid)
    mails = desk.send()
    [receipt] = [m for m in desk.to(ALICE, mails)]
    text = body_text(receipt)
    assert "status: new -> resolved" in text and "priority: 3 -> 1" in text and "Refused" not in text
    [alert] = desk.to(BOB, mails)
    assert "Replaced the toner" in body_text(alert) and "status: new -> resolved" in body_text(alert)
    assert len(desk.to("carol@customer.example", mails)) == 1


def test_requester_may_resolve_own_ticket_and_nothing_else(desk: Desk) -> None:
    reply_address = open_ticket(desk)
    desk.mail(BOB, "status: resolved\nowner: alice\npriority: 1\n\nWorks now, thanks!", to=reply_address,
              subject="Re: printer")
    t = desk.ticket(1)
    assert (t["status"], t["owner"], t["priority"]) == ("resolved", None, 3)
    text = receipt_for(desk, BOB)
    assert "status: new -> resolved" in text
    assert "owner: alice\n      not permitted: as the requester of this ticket you may use: status, nosy, help" in text
    assert "priority: 1\n      not permitted" in text


def test_requester_may_not_close_or_reject(desk: Desk) -> None:
    reply_address = open_ticket(desk)
    desk.mail(BOB, "status: closed", to=reply_address, subject="Re: printer")
    assert desk.ticket(1)["status"] == "new"
    assert "you may set the status to resolved or open only" in receipt_for(desk, BOB)


def test_unknown_values_are_refused_with_what_would_work(desk: Desk) -> None:
    open_ticket(desk)
    desk.mail(ALICE, "status: done\npriority: 9\nowner: mallory\nqueue: nowhere\nparent: #99\nlink: #1\n"
              "nosy: +not-an-address", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    t = desk.ticket(1)
    assert (t["status"], t["priority"], t["owner"], t["queue"], t["parent"]) == ("new", 3, None, "general", None)
    text = receipt_for(desk, ALICE)
    assert "unknown status 'done'; expected one of open, stalled, resolved, closed, rejected" in text
    assert "unknown priority '9'; expected 1 to 4" in text
    assert "'mallory' is not a technician or admin; expected me, none or one of: alice@example.com" in text
    assert "unknown queue 'nowhere'; expected one of general, ops" in text
    assert "there is no ticket #99" in text
    assert "a ticket cannot be linked to itself" in text
    assert "'not-an-address' is neither an email address nor a staff name" in text
    assert "Known commands:" in text  # refused commands come with the help text


def test_forged_from_runs_no_command_but_keeps_the_text(desk: Desk) -> None:
    open_ticket(desk)
    mid = desk.mail(ALICE, "status: rejected\n\nClosing this.", subject="Re: [Helpdesk #1] x")
    t = desk.ticket(1)
    assert t["status"] == "new"
    [stored] = [m for m in t["messages"] if m["message_id"] == mid]
    assert stored["body"] == "status: rejected\n\nClosing this."
    assert not [e for e in t["events"] if e["message_id"] == mid]
    text = receipt_for(desk, ALICE)
    assert "were NOT run: the From: address could not be verified" in text
    assert "status: rejected\n      sender not verified" in text


def test_forged_authentication_results_lower_in_the_header_is_ignored(desk: Desk) -> None:
    open_ticket(desk)
    ours = "Authentication-Results: mx.example.com; dkim=none; dmarc=fail header.from=example.com"
    forged = "Authentication-Results: mx.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"
    desk.mail(ALICE, "status: rejected", headers=(ours, "Received: from evil.example by mx.example.com", forged),
              subject="Re: [Helpdesk #1] x")
    assert desk.ticket(1)["status"] == "new"
    assert "mail server's check (mx.example.com) did not show a DMARC pass" in receipt_for(desk, ALICE)


def test_untrusted_authserv_id_is_not_believed(desk: Desk) -> None:
    open_ticket(desk)
    desk.mail(ALICE, "status: rejected", subject="Re: [Helpdesk #1] x",
              headers=("Authentication-Results: mx.evil.example; dmarc=pass header.from=example.com",))
    assert desk.ticket(1)["status"] == "new"


def test_commands_in_quoted_text_or_after_text_are_ignored(desk: Desk) -> None:
    reply_address = open_ticket(desk)
    mid = desk.mail(BOB, "Thanks, I will try.\nstatus: resolved\n\nOn Tue, 24 Nov 2026, Helpdesk wrote:\n"
                    "> status: closed\n> owner: alice\n", to=reply_address, subject="Re: printer")
    t = desk.ticket(1)
    assert t["status"] == "new" and t["owner"] is None
    [stored] = [m for m in t["messages"] if m["message_id"] == mid]
    assert stored["body"] == "Thanks, I will try.\nstatus: resolved"
    assert "> status: closed" in stored["quoted"]
    assert not [m for m in desk.to(BOB, desk.send()) if m["Auto-Submitted"] == "auto-replied"]  # no receipt


def test_unknown_word_line_is_ordinary_text(desk: Desk) -> None:
    reply_address = open_ticket(desk)
    mid = desk.mail(BOB, "Note: the printer is a HP 4050.\nstatus: resolved", to=reply_address,
                    subject="Re: printer")
    t = desk.ticket(1)
    assert t["status"] == "new"
    [stored] = [m for m in t["messages"] if m["message_id"] == mid]
    assert stored["body"].startswith("Note: the printer")


def test_subject_suffix_commands(desk: Desk) -> None:
    open_ticket(desk)
    desk.mail(ALICE, "Done.", headers=HEADERS_DMARC_PASS,
              subject="Re: [Helpdesk #1] Printer [status=resolved; priority=high]")
    t = desk.ticket(1)
    assert (t["status"], t["priority"], t["subject"]) == ("resolved", 2, "Printer on 3rd floor prints blank pages")
    assert "priority: 3 -> 2" in receipt_for(desk, ALICE)


def test_new_ticket_with_subject_suffix_gets_a_clean_title(desk: Desk) -> None:
    desk.mail(ALICE, "Disk full on db1.", headers=HEADERS_DMARC_PASS, subject="db1 disk full [priority=1]")
    [t] = desk.gw.tickets()
    assert (t["subject"], t["priority"]) == ("db1 disk full", 1)


def test_comment_is_an_internal_note_for_staff_only(desk: Desk) -> None:
    open_ticket(desk)
    desk.mail(ALICE, "nosy: +tom@example.com", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    desk.send()
    mid = desk.mail(ALICE, "comment: customer is on the old driver\n\nWill update next week.",
                    headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x", name="Alice Admin")
    t = desk.ticket(1)
    [stored] = [m for m in t["messages"] if m["message_id"] == mid]
    assert stored["body"] == "customer is on the old driver\n\nWill update next week."
    mails = desk.send()
    assert desk.to(BOB, mails) == []  # the requester hears nothing
    [note] = desk.to("tom@example.com", mails)
    assert "Internal note by Alice Admin" in body_text(note) and "old driver" in body_text(note)


def test_help_is_generated_from_the_registry(desk: Desk) -> None:
    from mailgate.commands import default_commands

    COMMANDS = default_commands()  # noqa: N806 - the registry the daemon runs
    open_ticket(desk)
    desk.mail(ALICE, "help", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    text = receipt_for(desk, ALICE)
    for cmd in COMMANDS.values():
        assert f"  {cmd.name}: {cmd.argument}" in text and cmd.description in text


def test_registry_refuses_duplicates() -> None:
    import pytest

    from mailgate.commands import default_commands
    from mailgate.commands.status import Status

    with pytest.raises(RuntimeError, match="duplicate command 'status'"):
        default_commands().register(Status())


def test_parent_link_and_cycles(desk: Desk) -> None:
    open_ticket(desk)
    desk.mail("dora@customer.example", "Same problem on the 4th floor.", subject="4th floor printer")
    desk.mail(ALICE, "parent: #1\nlink: #1", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #2] x")
    t2 = desk.ticket(2)
    assert t2["parent"] == 1 and {"ticket": 1, "kind": "related"} in t2["links"]
    assert desk.ticket(1)["children"] == [2]
    desk.send()
    desk.mail(ALICE, "parent: #2", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    assert desk.ticket(1)["parent"] is None
    assert "#2 is this ticket or one of its children; that would make a cycle" in receipt_for(desk, ALICE)


def test_queue_move_takes_the_ticket_out_of_a_technicians_reach(desk: Desk) -> None:
    open_ticket(desk)
    desk.mail(ALICE, "queue: ops", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    assert desk.ticket(1)["queue"] == "ops"
    desk.send()
    # alice is a technician of "general" only
    desk.mail(ALICE, "status: stalled", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    assert desk.ticket(1)["status"] == "new"
    assert "not permitted: as someone who is not staff for this queue nor the requester" in receipt_for(desk, ALICE)


def test_nosy_add_remove_and_remove_yourself(desk: Desk) -> None:
    reply_address = open_ticket(desk)
    desk.mail(BOB, "nosy: +carol@customer.example, +dave@customer.example", to=reply_address,
              subject="Re: printer")
    assert set(desk.ticket(1)["nosy"]) == {BOB, "carol@customer.example", "dave@customer.example"}
    desk.mail(BOB, "nosy: -dave@customer.example", to=reply_address, subject="Re: printer")
    assert "dave@customer.example" not in desk.ticket(1)["nosy"]
    # carol is neither staff nor requester: she may only take herself off, through her own reply address
    mails = desk.send()
    [carol_alert] = desk.to("carol@customer.example", mails) or [None]
    assert carol_alert is None  # commands-only nosy edits alert nobody
    desk.mail(ALICE, "Looking into it.", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    [alert] = desk.to("carol@customer.example", desk.send())
    desk.mail("carol@customer.example", "nosy: +eve@customer.example", to=str(alert["Reply-To"]), subject="Re: x")
    assert "eve@customer.example" not in desk.ticket(1)["nosy"]
    desk.mail("carol@customer.example", "nosy: -me", to=str(alert["Reply-To"]), subject="Re: x")
    assert "carol@customer.example" not in desk.ticket(1)["nosy"]


def test_commands_only_message_alerts_only_for_status_or_owner(desk: Desk) -> None:
    open_ticket(desk)
    desk.mail(ALICE, "priority: 2", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    mails = desk.send()
    assert desk.to(BOB, mails) == [] and len(desk.to(ALICE, mails)) == 1  # the receipt only
    desk.mail(ALICE, "status: resolved", headers=HEADERS_DMARC_PASS, subject="Re: [Helpdesk #1] x")
    [alert] = desk.to(BOB, desk.send())
    assert "status: new -> resolved" in body_text(alert)


def test_automatic_mail_never_runs_commands(desk: Desk) -> None:
    reply_address = open_ticket(desk)
    desk.mail(BOB, "status: resolved\n\nI am out of the office.", to=reply_address, subject="Automatic reply: x",
              headers=("Auto-Submitted: auto-replied",))
    assert desk.ticket(1)["status"] == "new"
    assert desk.send() == []


def test_permissions_are_configurable_per_queue(tmp_path) -> None:  # noqa: ANN001
    from tests.outbox.sink import make_desk

    extra = '\n[[permission]]\nqueue = "general"\nrole = "requester"\ncommands = ["help"]\n'
    for desk in make_desk(tmp_path, extra):
        reply_address = open_ticket(desk)
        desk.mail(BOB, "status: resolved", to=reply_address, subject="Re: printer")
        assert desk.ticket(1)["status"] == "new"
        assert "you may use: help" in receipt_for(desk, BOB)
