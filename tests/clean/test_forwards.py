"""Class 6 of issue 18: a forward keeps the forwarded message visible, its header block as one
compact line (the block itself in `quoted`), with the forwarder's note first."""

from __future__ import annotations

from mailgate.clean import clean_text

GMAIL = (
    "Can you look at this? It came to my private address.\n\n"
    "---------- Forwarded message ---------\n"
    "From: Kim Larsen <kim@example.org>\n"
    "Date: Thu, Dec 5, 2024 at 10:15 AM\n"
    "Subject: Badge reader at door 4\n"
    "To: Jane Doe <jane@example.com>\n\n"
    "The badge reader at door 4 beeps but the door stays locked.\n"
)


def test_gmail_forward_keeps_the_message_with_a_compact_header_line() -> None:
    ct = clean_text(GMAIL)
    assert ct.visible == (
        "Can you look at this? It came to my private address.\n\n"
        "Forwarded message from Kim Larsen <kim@example.org>, Thu, Dec 5, 2024 at 10:15 AM: "
        "Badge reader at door 4\n\n"
        "The badge reader at door 4 beeps but the door stays locked."
    )
    assert ct.quoted.startswith("---------- Forwarded message ---------\nFrom: Kim Larsen")
    assert "To: Jane Doe <jane@example.com>" in ct.quoted


def test_translated_banner_and_keys() -> None:
    body = ("Zur Info.\n\n-------- Weitergeleitete Nachricht --------\nBetreff: Drucker\n"
            "Datum: Do, 5 Dez 2024 10:15\nVon: Erika Muster <erika@example.de>\nAn: it@example.de\n\n"
            "Der Drucker druckt nicht.\n")
    ct = clean_text(body)
    assert ct.visible == ("Zur Info.\n\nForwarded message from Erika Muster <erika@example.de>, "
                          "Do, 5 Dez 2024 10:15: Drucker\n\nDer Drucker druckt nicht.")


def test_forwarder_note_below_the_forward_comes_first() -> None:
    body = ("Begin forwarded message:\n\n> From: Kim Larsen <kim@example.org>\n"
            "> Subject: Badge reader\n>\n> The door stays locked.\n\nPlease handle this one first.\n")
    ct = clean_text(body)
    assert ct.visible == ("Please handle this one first.\n\n"
                          "Forwarded message from Kim Larsen <kim@example.org>: Badge reader\n\n"
                          "> The door stays locked.")


def test_forwarder_signature_goes_but_the_forwarded_message_stays_whole() -> None:
    ct = clean_text("FYI\n\n-- \nJane Doe\nIT desk\n\n" + GMAIL.split("\n\n", 1)[1] + "\n-- \nKim Larsen\n")
    assert ct.visible.startswith("FYI\n\nForwarded message from Kim Larsen")
    assert ct.visible.endswith("door stays locked.\n\n--\nKim Larsen")
    assert ct.signature == "--\nJane Doe\nIT desk"


def test_outlook_forward_is_recognised_by_the_subject() -> None:
    body = ("Please see below.\n\n________________________________\n"
            "From: Kim Larsen <kim@example.org>\nSent: Thursday, December 5, 2024 10:15 AM\n"
            "To: Jane Doe\nSubject: Badge reader\n\nThe door stays locked.\n")
    forward = clean_text(body, subject="FW: Badge reader")
    assert forward.visible == ("Please see below.\n\nForwarded message from Kim Larsen <kim@example.org>, "
                               "Thursday, December 5, 2024 10:15 AM: Badge reader\n\nThe door stays locked.")
    reply = clean_text(body, subject="RE: Badge reader")
    assert reply.visible == "Please see below."
    assert "The door stays locked." in reply.quoted


def test_a_forward_quoted_in_a_reply_is_a_quote() -> None:
    body = ("Done, thanks.\n\nOn Thu, Dec 5, 2024, Jane <jane@example.com> wrote:\n"
            "> ---------- Forwarded message ---------\n> From: Kim <kim@example.org>\n>\n> Door 4.\n")
    ct = clean_text(body)
    assert ct.visible == "Done, thanks."
    assert "Forwarded message" in ct.quoted
