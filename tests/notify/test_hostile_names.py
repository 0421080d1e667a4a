"""Hostile subjects and attachment names (issue 17, items 14-16): every header we write fits
on its lines and holds no line-breaking character, every file name we emit is a safe base
name while the original is stored for the record, and a legitimate mail whose file name is
folded over two lines is stored and alerted instead of quarantined."""

from __future__ import annotations

import base64

from mailgate.safe_text import MAX_FILENAME_LENGTH, MAX_SUBJECT_LENGTH
from tests.conftest import fixture_bytes
from tests.outbox.sink import Desk, Received

BOB, CAROL = "bob@customer.example", "carol@customer.example"


def deliver(desk: Desk, raw: bytes) -> list[Received]:
    result = desk.gw.deliver(raw)
    assert result.exit_code == 0, result.output
    assert desk.gw.json("quarantine", "list") == []  # stored, not held
    return desk.send()


def to_carol(mails: list[Received]) -> Received:
    [alert] = [m for m in mails if m.rcpt_tos == [CAROL]]
    return alert


def test_a_file_name_folded_over_two_lines_is_stored_unfolded_and_sent_along(desk: Desk) -> None:
    mails = deliver(desk, fixture_bytes("hostile/attachment_name_folded.eml"))
    [a] = desk.ticket(1)["messages"][0]["attachments"]
    assert a["filename"] == "Quarterly report for the board meeting 2026.pdf"
    [part] = list(to_carol(mails).message.iter_attachments())
    assert part.get_filename() == "Quarterly report for the board meeting 2026.pdf"
    assert part.get_content() == b"%PDF-1.4 report"


def test_line_breaking_characters_in_subject_and_file_name_never_reach_a_header(desk: Desk) -> None:
    mails = deliver(desk, fixture_bytes("hostile/line_breaking_characters.eml"))
    assert desk.ticket(1)["subject"] == "Printer broken again and Bcc: x@evil.example"
    assert {r for m in mails for r in m.rcpt_tos} == {BOB, CAROL}
    for m in mails:
        head = m.data.split(b"\r\n\r\n", 1)[0].decode()
        assert "\nBcc:" not in head and "\u2028" not in head and "\x85" not in head and "\x0c" not in head
        assert m.message["Subject"] == "[Helpdesk #1] Printer broken again and Bcc: x@evil.example"
    [part] = list(to_carol(mails).message.iter_attachments())
    assert part.get_filename() == "notes Bcc_ x@evil.example .txt"


def test_attachment_names_that_are_paths_devices_or_controls_go_out_as_safe_base_names(desk: Desk) -> None:
    mails = deliver(desk, fixture_bytes("hostile/attachment_names_paths.eml"))
    stored = [(a["filename"], a["safe_name"]) for a in desk.ticket(1)["messages"][0]["attachments"]]
    assert stored == [  # the original for the record, and what we emit
        ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("/etc/shadow", "shadow"),
        ("C:\\Windows\\win.ini", "win.ini"), ("CON.txt", "_CON.txt"), ("nul", "_nul"),
        ("\x1b[31mred.txt", "[31mred.txt"), ("report\ufffd.exe.txt", "report\ufffd.exe.txt"),
        (".hidden", "hidden"),
    ]
    alert = to_carol(mails)
    assert [p.get_filename() for p in alert.message.iter_attachments()] == [safe for _, safe in stored]
    assert b"filename=\"../" not in alert.data and b"\\boot" not in alert.data
    shown = desk.gw.cli("ticket", "show", "1").output
    assert "[attachment] passwd " in shown and "\x1b" not in shown


def test_a_100000_character_subject_and_a_5000_character_name_fit_rfc_5322_lines(desk: Desk) -> None:
    subject = ("Printer broken " * 7000)[:100_000]
    name = "n" * 4996 + ".pdf"
    raw = (f"From: Bob <{BOB}>\r\nTo: helpdesk@example.com\r\nCc: {CAROL}\r\nSubject: {subject}\r\n"
           "Message-ID: <long@customer.example>\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nSee file.\r\n'
           f'--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="{name}"\r\n'
           "Content-Transfer-Encoding: base64\r\n\r\n"
           f"{base64.b64encode(b'%PDF').decode()}\r\n--B--\r\n").encode()
    mails = deliver(desk, raw)
    assert len(mails) == 2
    for m in mails:  # RFC 5322 2.1.1: 998 octets a line, headers and body
        assert max(len(line) for line in m.data.split(b"\r\n")) <= 998
    ticket = desk.ticket(1)
    assert len(ticket["subject"]) == MAX_SUBJECT_LENGTH and ticket["subject"].endswith("…")
    [a] = ticket["messages"][0]["attachments"]
    assert len(a["filename"]) == MAX_FILENAME_LENGTH and a["filename"].endswith("….pdf")
    [part] = list(to_carol(mails).message.iter_attachments())
    assert part.get_filename().endswith("….pdf") and len(part.get_filename()) <= 120


def test_quarantine_retry_of_mails_held_for_the_header_value_error_succeeds(desk: Desk) -> None:
    """Mail that an earlier version held at the notify stage (ValueError: Header values may
    not contain linefeed or carriage return characters) goes through on retry."""
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.core.entry import SpoolEntry
    from mailgate.db.transaction import write_transaction
    from mailgate.pipeline import quarantine

    env = build_env(load_settings(desk.gw.config))
    with write_transaction():
        for fixture in ("attachment_name_folded", "line_breaking_characters"):
            sha = env.spool.store_raw(fixture_bytes(f"hostile/{fixture}.eml"))
            quarantine(SpoolEntry(f"held-{fixture}", sha, "pipe"), "notify",
                       "ValueError: Header values may not contain linefeed or carriage return characters")
    for number in (1, 2):
        result = desk.gw.cli("quarantine", "retry", str(number))
        assert result.exit_code == 0 and f"stored: ticket #{number}" in result.output
    assert [q["state"] for q in desk.gw.json("quarantine", "list", "--all")] == ["retried", "retried"]
    assert {m.rcpt_tos[0] for m in desk.send()} == {BOB, CAROL}
