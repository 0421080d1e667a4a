"""The per-sender hourly limit on automatic replies: an autoresponder that slips past
classification, or someone forging a victim's address, gets at most
`gateway.ack_rate_limit` acknowledgements an hour, while every mail still becomes a ticket."""

from __future__ import annotations

import pytest

from tests.outbox.sink import Desk


@pytest.mark.parametrize("sender", ["loop@customer.example", "first_last@customer.example",
                                    "Mixed.Case@Customer.example"])
def test_acknowledgements_stop_at_the_hourly_limit(desk: Desk, sender: str) -> None:
    for n in range(7):  # default ack_rate_limit = 5
        desk.mail(sender, f"Out of office, occurrence {n}", subject=f"Automatic reply {n}")
    mails = desk.send()
    acks = desk.to(sender.lower(), mails)
    assert len(acks) == 5
    assert len(desk.gw.json("ticket", "list")) == 7  # nothing lost: only the replies stop


def test_limit_is_per_sender(desk: Desk) -> None:
    for n in range(6):
        desk.mail("noisy@customer.example", f"again {n}", subject=f"Noisy {n}")
    desk.mail("quiet@customer.example", "One question", subject="Quiet")
    mails = desk.send()
    assert len(desk.to("noisy@customer.example", mails)) == 5
    assert len(desk.to("quiet@customer.example", mails)) == 1


def test_like_pattern_escapes_wildcards() -> None:
    from mailgate.ratelimit import like_pattern

    assert like_pattern("A_b%c@x.example") == '%"a\\_b\\%c@x.example"%'
