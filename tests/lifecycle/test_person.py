"""`mailgate person show ADDRESS` (text and --json) and the acknowledgement mentioning the
requester's other open tickets."""

from __future__ import annotations

from collections.abc import Callable

from tests.lifecycle.conftest import ALICE, BOB, CAROL, staff_mail
from tests.outbox.sink import Desk, body_text


def test_person_show_lists_open_and_past_tickets(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    desk.mail(BOB, "Printer jam.", subject="Printer jam")
    desk.mail(BOB, "Printer jam again.", subject="Printer jam again")
    desk.mail(CAROL, "Monitor flickers.", subject="Monitor", cc=BOB)
    staff_mail(desk, 1, "owner: me\nstatus: resolved\n\nCleared the jam.")
    data = desk.gw.json("person", "show", "Bob@Customer.example")
    assert (data["address"], data["total"], data["open"]) == (BOB, 3, 2)
    rows = {r["id"]: r for r in data["tickets"]}
    assert [r["id"] for r in data["tickets"]] == [3, 2, 1]
    assert rows[1]["status"] == "resolved" and rows[1]["relations"] == ["requester", "nosy"]
    assert rows[3]["relations"] == ["nosy"] and rows[3]["requester"] == CAROL
    text = desk.gw.cli("person", "show", BOB).output
    assert text.startswith(f"Bob <{BOB}>  role: requester  tickets: 3 (2 open)")
    assert "Printer jam again" in text and "resolved" in text
    alice = desk.gw.json("person", "show", ALICE)
    assert [r["relations"] for r in alice["tickets"]] == [["owner", "nosy"]]


def test_person_show_unknown_address_says_so(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    result = desk.gw.cli("person", "show", "nobody@example.org")
    assert result.exit_code == 1
    assert "no person 'nobody@example.org' in the store" in result.output


def test_acknowledgement_mentions_other_open_tickets(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    desk.mail(BOB, "Printer jam.", subject="Printer jam")
    desk.mail(BOB, "VPN down.", subject="VPN")
    desk.mail(BOB, "Old thing.", subject="Old thing")
    staff_mail(desk, 3, "status: resolved")
    desk.send()
    desk.mail(BOB, "Monitor flickers.", subject="Monitor")
    [ack] = [m for m in desk.to(BOB, desk.send()) if m["X-Mailgate-Ticket"] == "4"]
    text = body_text(ack)
    assert "Your other open tickets:\n  #1 Printer jam (new)\n  #2 VPN (new)\n" in text
    assert "Old thing" not in text
    [first_ack] = [m for m in desk.to(BOB, desk.sink.received) if m["X-Mailgate-Ticket"] == "1"]
    assert "Your other open tickets" not in body_text(first_ack)  # nothing else open then


def test_acknowledgement_lists_at_most_ten_other_tickets(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk()
    # 13 acknowledgements to one sender within the hour: over the default rate limit of 5
    desk.gw.config.write_text(desk.gw.config.read_text().replace(
        'secret = "test-secret"', 'secret = "test-secret"\nack_rate_limit = 20', 1))
    for i in range(12):
        desk.mail(BOB, f"Problem {i}.", subject=f"Problem {i}")
    desk.send()
    desk.mail(BOB, "One more.", subject="One more")
    [ack] = [m for m in desk.to(BOB, desk.send()) if m["X-Mailgate-Ticket"] == "13"]
    text = body_text(ack)
    listed = [line for line in text.splitlines() if line.startswith("  #")]
    assert len(listed) == 10 and listed[0].startswith("  #3 ") and listed[-1].startswith("  #12 ")
    assert "… and older ones." in text
