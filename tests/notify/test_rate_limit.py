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


def test_limit_counts_by_indexed_recipient(desk: Desk) -> None:
    """The count must not scan every reply of the hour: SQLite's plan uses the index."""
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.db import fastsql
    from mailgate.db.models import Outbox, database_proxy
    from mailgate.ratelimit import count_sql

    desk.mail("someone@customer.example", "hello", subject="Hello")
    build_env(load_settings(desk.gw.config))
    plan = database_proxy.obj.execute_sql("EXPLAIN QUERY PLAN " + fastsql.cached(Outbox, "rate-count", count_sql),
                                          ["a@b.c", "ack", "2026-01-01"]).fetchall()
    assert "outbox_recipient_kind_created_at" in " ".join(str(row) for row in plan)
