"""`merge: #N`: messages, nosy and history move to #N; mail that still names the old ticket
(its subject tag, its reply address, its Message-IDs) threads to the new one."""

from __future__ import annotations

from collections.abc import Callable

from tests.lifecycle.conftest import ALICE, BOB, CAROL, events, staff_mail
from tests.outbox.sink import Desk, body_text


def duplicate_pair(desk: Desk) -> dict[str, str]:
    """#1 from Bob, #2 from Carol about the same outage; returns each one's ack."""
    desk.mail(BOB, "The VPN is down.", subject="VPN down")
    root2 = desk.mail(CAROL, "I cannot connect to the VPN either.", subject="vpn not working",
                      cc="dave@customer.example")
    mails = desk.send()
    [carol_ack] = desk.to(CAROL, mails)
    return {"carol_reply": str(carol_ack["Reply-To"]), "carol_ack_id": str(carol_ack["Message-ID"]).strip("<>"),
            "root2": root2}


def test_merge_moves_messages_nosy_and_history(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    duplicate_pair(desk)
    staff_mail(desk, 2, "owner: me\nmerge: #1\npriority: 2\n\nSame outage as #1.")
    t1, t2 = desk.ticket(1), desk.ticket(2)
    assert t2["status"] == "merged" and t2["merged_into"] == 1 and t2["messages"] == []
    assert t1["merged_from"] == [2]
    assert {CAROL, "dave@customer.example", BOB} <= set(t1["nosy"])
    bodies = [m["body"] for m in t1["messages"] if m["direction"] == "in"]
    assert "I cannot connect to the VPN either." in bodies and "Same outage as #1." in bodies
    assert ("carol@customer.example", None, "vpn not working") in events(t1, "created")
    assert (ALICE, None, ALICE) in events(t1, "owner")  # history moved, with the original actor
    assert (ALICE, "#2", "#1") in events(t1, "merged") and events(t2, "merged") == [(ALICE, "new", "#1")]
    assert t1["priority"] == 2  # commands after merge: change the surviving ticket
    receipt = [m for m in desk.to(ALICE, desk.send()) if m["Auto-Submitted"] == "auto-replied"]
    assert "merge: #2 merged into #1" in body_text(receipt[0])
    listed = [r["id"] for r in desk.gw.json("ticket", "list")]
    assert listed == [1]
    assert [r["id"] for r in desk.gw.json("ticket", "list", "--all")] == [2, 1]


def test_mail_to_the_old_number_threads_to_the_new(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    ids = duplicate_pair(desk)
    staff_mail(desk, 2, "merge: #1")
    desk.send()
    # her reply address for #2, a reply to her acknowledgement, a subject tag naming #2,
    # a reply quoting only the first message's id (the old ticket's root)
    desk.mail(CAROL, "Still down (reply address).", to=ids["carol_reply"], subject="Re: vpn")
    desk.mail(CAROL, "Still down (In-Reply-To).", in_reply_to=ids["carol_ack_id"], subject="Re: x")
    desk.mail(CAROL, "Still down (subject tag).", subject="Re: [Helpdesk #2] vpn not working")
    desk.mail("dave@customer.example", "Me too (References).", in_reply_to=ids["root2"], subject="Re: vpn")
    assert [t["id"] for t in desk.gw.json("ticket", "list", "--all")] == [2, 1]  # no new ticket
    t1 = desk.ticket(1)
    texts = [m["body"] for m in t1["messages"] if m["direction"] == "in"]
    for word in ("reply address", "In-Reply-To", "subject tag", "References"):
        assert any(word in t for t in texts), word
    assert desk.ticket(2)["messages"] == []
    alerts = [m for m in desk.to(BOB, desk.send())]
    assert alerts and all(m["X-Mailgate-Ticket"] == "1" for m in alerts)  # nosy of #1 hear of it


def test_merge_refusals(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    duplicate_pair(desk)
    staff_mail(desk, 1, "merge: #1")
    staff_mail(desk, 1, "merge: #9")
    staff_mail(desk, 2, "merge: #1")
    staff_mail(desk, 1, "merge: #2")  # #2 now lives on in #1: that is merging into itself
    receipts = "\n".join(body_text(m) for m in desk.to(ALICE, desk.send()) if m["Auto-Submitted"] == "auto-replied")
    assert receipts.count("a ticket cannot be merged into itself") == 2
    assert "there is no ticket #9" in receipts
    assert desk.ticket(1)["status"] == "new"
