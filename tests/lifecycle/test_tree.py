"""Parent and child tickets by email: `children:`/`parent:` build a tree, cycles are refused
with a receipt, resolving or closing a parent cascades to its open children (each told), a
wait-for-children queue refuses until forced with `status: closed!`, and `ticket show`
prints the tree (text and JSON)."""

from __future__ import annotations

from collections.abc import Callable

from tests.lifecycle.conftest import ALICE, BOB, CAROL, events, staff_mail
from tests.outbox.sink import Desk, body_text


def three_tickets(desk: Desk) -> str:
    """#1 new phone (Bob), #2 order (Bob), #3 set-up (Carol); returns Bob's reply address
    for #1 (his acknowledgement's Reply-To)."""
    desk.mail(BOB, "I need a new phone.", subject="New phone for Bob")
    desk.mail(BOB, "Please order the handset.", subject="Order handset")
    desk.mail(CAROL, "Set up the phone for Bob.", subject="Phone set-up")
    [ack] = [m for m in desk.to(BOB, desk.send()) if m["X-Mailgate-Ticket"] == "1"]
    return str(ack["Reply-To"])


def receipt(desk: Desk, address: str = ALICE) -> str:
    [mail] = [m for m in desk.to(address, desk.send()) if m["Auto-Submitted"] == "auto-replied"]
    return body_text(mail)


def test_children_build_a_tree_shown_in_text_and_json(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    three_tickets(desk)
    staff_mail(desk, 1, "children: +#2 +#3\n\nSplitting this up.")
    assert "children: - -> +#2 +#3" in receipt(desk)
    t1 = desk.ticket(1)
    assert t1["children"] == [2, 3]  # the existing field, unchanged
    assert [c["id"] for c in t1["tree"]["children"]] == [2, 3] and t1["tree"]["id"] == 1
    t3 = desk.ticket(3)
    assert t3["parent"] == 1 and t3["tree"]["id"] == 1  # a child shows the whole tree from its root
    assert events(t3, "parent") == [(ALICE, None, "#1")]
    text = desk.gw.cli("ticket", "show", "3").output
    assert "tree:\n   #1 [new] New phone for Bob\n     #2 [new] Order handset\n    *#3 [new] Phone set-up" in text


def test_cycles_are_refused_with_a_receipt(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    three_tickets(desk)
    staff_mail(desk, 1, "children: +#2")
    staff_mail(desk, 2, "children: +#3")
    desk.send()
    staff_mail(desk, 3, "children: +#1")
    assert "#1 is this ticket or one of its parents; that would make a cycle" in receipt(desk)
    staff_mail(desk, 1, "parent: #3")
    assert "#3 is this ticket or one of its children; that would make a cycle" in receipt(desk)
    staff_mail(desk, 2, "children: +#2")
    assert "that would make a cycle" in receipt(desk)
    assert (desk.ticket(1)["parent"], desk.ticket(2)["parent"], desk.ticket(3)["parent"]) == (None, 1, 2)


def test_resolving_a_parent_resolves_open_children_and_tells_their_nosy(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    three_tickets(desk)
    staff_mail(desk, 1, "children: +#2 +#3")
    staff_mail(desk, 2, "status: rejected")  # a finished child is left as it is
    desk.send()
    staff_mail(desk, 1, "status: resolved\n\nPhone delivered and set up.")
    assert "status: new -> resolved (and child ticket #3)" in receipt_and_keep(desk)
    assert [desk.ticket(n)["status"] for n in (1, 2, 3)] == ["resolved", "rejected", "resolved"]
    assert events(desk.ticket(3), "status") == [(ALICE, "new", "resolved")]
    mails = desk.sent_now
    [carol] = desk.to(CAROL, mails)  # the child's requester hears about her ticket
    assert carol["X-Mailgate-Ticket"] == "3"
    assert "Parent ticket #1 was resolved by alice@example.com" in body_text(carol)
    assert "status: new -> resolved" in body_text(carol)


def receipt_and_keep(desk: Desk) -> str:
    mails = desk.send()
    desk.sent_now = mails  # type: ignore[attr-defined]
    [mail] = [m for m in desk.to(ALICE, mails) if m["Auto-Submitted"] == "auto-replied"]
    return body_text(mail)


def test_wait_for_children_refuses_until_forced_and_force_cascades(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(general="wait_for_children = true\n")
    bob_reply = three_tickets(desk)
    staff_mail(desk, 1, "children: +#2 +#3")
    desk.send()
    staff_mail(desk, 1, "status: closed")
    text = receipt(desk)
    assert ("ticket #1 waits for its open child tickets #2, #3; finish them first, or write "
            "'status: closed!' to close it and them now") in text
    assert desk.ticket(1)["status"] == "new"
    # the requester may resolve her own ticket, but not force past the children
    desk.mail(BOB, "status: resolved!", subject="Re: [Helpdesk #1] phone", to=bob_reply)
    assert "not permitted: only staff may force a status with '!'" in receipt(desk, BOB)
    desk.mail(BOB, "status: resolved", subject="Re: [Helpdesk #1] phone", to=bob_reply)
    assert "ticket #1 waits for its open child tickets #2, #3" in receipt(desk, BOB)
    assert desk.ticket(1)["status"] == "new"
    staff_mail(desk, 1, "status: closed!")
    assert "status: new -> closed (and child tickets #2, #3)" in receipt(desk)
    assert [desk.ticket(n)["status"] for n in (1, 2, 3)] == ["closed", "closed", "closed"]


def test_closing_a_child_first_lets_the_parent_close(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(general="wait_for_children = true\n")
    three_tickets(desk)
    staff_mail(desk, 1, "children: +#2")
    staff_mail(desk, 2, "status: resolved")
    desk.send()
    staff_mail(desk, 1, "status: closed")
    assert "status: new -> closed" in receipt(desk)
    assert desk.ticket(2)["status"] == "resolved"  # resolved children are not re-closed


def test_parent_nosy_hears_child_status_changes_only_by_default(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    three_tickets(desk)
    staff_mail(desk, 1, "children: +#3")
    desk.send()
    desk.mail(CAROL, "The desk phone model is X200.", subject="Re: [Helpdesk #3] Phone set-up")
    assert desk.to(BOB, desk.send()) == []  # Bob (on #1 only) does not hear of text on #3
    staff_mail(desk, 3, "status: resolved\n\nPhone is set up.")
    [alert] = desk.to(BOB, desk.send())
    assert alert["X-Mailgate-Ticket"] == "3" and "status: new -> resolved" in body_text(alert)
    assert "Phone is set up." not in body_text(alert)


def test_parent_nosy_hears_everything_or_nothing_as_configured(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(general='parent_sees = "all"\n', ops='parent_sees = "none"\n')
    three_tickets(desk)
    staff_mail(desk, 1, "children: +#3")
    desk.send()
    desk.mail(CAROL, "The desk phone model is X200.", subject="Re: [Helpdesk #3] Phone set-up")
    [alert] = desk.to(BOB, desk.send())
    assert alert["X-Mailgate-Ticket"] == "3" and "The desk phone model is X200." in body_text(alert)
    staff_mail(desk, 1, "queue: ops")  # the parent's queue decides: ops says none
    desk.send()
    staff_mail(desk, 3, "status: resolved")
    assert desk.to(BOB, desk.send()) == []
