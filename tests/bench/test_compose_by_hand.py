"""The outgoing mail's plain-ASCII fast path writes exactly what the email package writes
(mailgate.outgoing._plain_by_hand against _with_email_package), and declines what it cannot."""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta, timezone

import pytest

from mailgate.outgoing import _plain_by_hand, _with_email_package, format_datetime

DATE = format_datetime(datetime(2026, 11, 24, 14, 0, tzinfo=timezone(timedelta(hours=1))))
HEADERS = [("Auto-Submitted", "auto-replied"), ("X-Loop", "helpdesk@example.com"), ("X-Mailgate-Ticket", "12"),
           ("Precedence", "auto_reply"), ("X-Auto-Response-Suppress", "All"),
           ("X-Mailgate-Originator", "alice@example.com")]
ACK = ("Hello Bob,\n\nThank you for writing to Helpdesk. Your request has been received and is now\n"
       'ticket #12: "Printer on fire".\n\n-- \nHelpdesk\n')


def _top(subject: str, to: list[str], reply_to: str | None) -> list[tuple[str, str]]:
    top = [("To", ", ".join(to))]
    if reply_to:
        top.append(("Reply-To", reply_to))
    return [*top, ("Subject", subject), ("Date", DATE), *HEADERS]


def _same_or_declined(subject: str, body: str, to: list[str] | None = None,
                      reply_to: str | None = "helpdesk+12.3.abcdef0123@example.com") -> bool:
    to = to or ["bob@example.org"]
    top = _top(subject, to, reply_to)
    fast = _plain_by_hand(top, to, reply_to, body)
    if fast is None:
        return False
    assert fast == _with_email_package(top, body, None, ()), (subject, body)
    return True


@pytest.mark.parametrize("subject", [
    "[Helpdesk #12] Printer on fire", "Re: [Helpdesk #12]  two  spaces", 'quotes "and" (comments) <x@y>',
    "back\\slash; semi: colon, comma", "a" * 300, "#1", "100% done? yes!", "x" * 880,
])
def test_plain_subjects_take_the_fast_path_and_match(subject: str) -> None:
    assert _same_or_declined(subject, ACK)


@pytest.mark.parametrize("body", [
    ACK, "", "\n", "one line without end", "cr\ronly\rlines", "crlf\r\nlines\r\n\r\n", "form\x0cfeed\x0bvt\n",
    "From the start\n.dot line\n", "trailing  \nspaces\t\n", "y" * 899 + "\n",
])
def test_plain_bodies_take_the_fast_path_and_match(body: str) -> None:
    assert _same_or_declined("Subject", body)


@pytest.mark.parametrize("subject,body,to", [
    ("Grüße", ACK, None), ("Subject", "Grüße\n", None), (" leading blank", ACK, None),
    ("trailing blank ", ACK, None), ("tab\there", ACK, None), ("=?utf-8?q?x?=", ACK, None), ("", ACK, None),
    ("Subject", "z" * 1200 + "\n", None), ("Subject", ACK, ['"Bob" <bob@example.org>']),
    ("Subject", ACK, ["bob@exämple.org"]), ("s" * 990, ACK, None),
])
def test_anything_else_is_left_to_the_email_package(subject: str, body: str, to: list[str] | None) -> None:
    assert not _same_or_declined(subject, body, to)


def test_random_ascii_matches_or_is_declined() -> None:
    rng = random.Random(8)
    alphabet = string.printable + "  =?"
    subject_alphabet = string.ascii_letters + string.digits + string.punctuation + "    \t"
    taken = 0
    for _ in range(400):
        subject = "".join(rng.choice(subject_alphabet) for _ in range(rng.randint(1, 120)))
        body = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        to = [f"user{rng.randint(1, 9)}@example.org" for _ in range(rng.randint(1, 3))]
        taken += _same_or_declined(subject, body, to, rng.choice([None, "helpdesk+1.2.ab@example.com"]))
    assert taken > 100  # the fast path is not declining everything
