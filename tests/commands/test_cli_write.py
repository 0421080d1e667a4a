"""`mailgate ticket command|note|reply`: the shell is one more door to the ticket service.
The same change by mail and by the CLI leaves the same history (but its source) and the
same mail to the nosy list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailgate.core.changes import COMMAND_NAMES
from tests.outbox.sink import HEADERS_DMARC_PASS, Desk, body_text, make_desk

BOB = "bob@customer.example"
ALICE = "alice@example.com"
CAROL = "carol@customer.example"
# what differs between any two mails by nature: their own ids, time and reply token
PER_MAIL = ("Message-ID", "In-Reply-To", "References", "Date", "Reply-To")


def _opened(desk: Desk) -> None:
    desk.mail(BOB, "The printer only prints blank pages.", name="Bob Jones", cc=CAROL)
    desk.send()


def _changes(desk: Desk) -> list[tuple]:
    t = desk.ticket(1)
    return [(e["actor"], e["field"], e["old"], e["new"], e["source"]) for e in t["events"] if e["field"] != "created"]


def _mails(desk: Desk, kind: str, after: int = 0) -> list[dict]:
    rows = [o for o in desk.gw.json("outbox", "list") if o["kind"] == kind and o["id"] > after]
    out = []
    for o in sorted(rows, key=lambda o: o["recipients"]):
        head, _, body = o["message"].partition("\r\n\r\n")
        headers = [line for line in re.split(r"\r\n(?![ \t])", head) if line.split(":")[0] not in PER_MAIL]
        out.append({"recipients": o["recipients"], "headers": sorted(headers), "body": body})
    return out


@pytest.fixture
def desks(tmp_path: Path):  # noqa: ANN201
    for sub in ("mail", "cli"):
        (tmp_path / sub).mkdir()
    by_mail, by_cli = make_desk(tmp_path / "mail"), make_desk(tmp_path / "cli")
    yield next(by_mail), next(by_cli)
    for gen in (by_mail, by_cli):
        gen.close()


def test_a_command_by_cli_is_the_same_change_as_by_mail(desks: tuple[Desk, Desk]) -> None:
    mail, cli = desks
    commands = "status: resolved\nowner: me\npriority: urgent\n\nNew toner cartridge installed."
    for desk in desks:
        _opened(desk)
    opened = max(o["id"] for o in mail.gw.json("outbox", "list"))
    assert opened == max(o["id"] for o in cli.gw.json("outbox", "list"))
    mail.mail(ALICE, commands, name="Alice Admin", subject="Re: [Helpdesk #1] printer", headers=HEADERS_DMARC_PASS)
    result = cli.gw.cli("ticket", "command", "1", "--as", ALICE, commands, "--json")
    assert result.exit_code == 0, result.output
    receipt = json.loads(result.stdout)
    assert [a["result"] for a in receipt["applied"]] == ["status: new -> resolved", "owner: - -> alice@example.com",
                                                          "priority: 3 -> 1"]
    assert receipt["refused"] == [] and receipt["verified_by"] == "cli"
    by_mail, by_cli = _changes(mail), _changes(cli)
    assert [c[:4] for c in by_mail] == [c[:4] for c in by_cli] and by_mail
    assert {c[4] for c in by_mail} == {"mail"} and {c[4] for c in by_cli} == {"cli"}
    # the nosy list's mail is the same mail; a receipt goes only to a mail (the CLI printed it)
    alerts = _mails(mail, "alert", opened)
    assert alerts == _mails(cli, "alert", opened) and [a["recipients"] for a in alerts] == [[BOB], [CAROL]]
    assert "New toner cartridge installed." in alerts[0]["body"]
    assert [m["recipients"] for m in _mails(mail, "receipt")] == [[ALICE]] and _mails(cli, "receipt") == []
    # and the stored text is the same: command lines out, the rest kept
    assert [m["body"] for m in mail.ticket(1)["messages"] if m["from"] == ALICE] == \
        [m["body"] for m in cli.ticket(1)["messages"] if m["from"] == ALICE] == ["New toner cartridge installed."]


def test_a_note_reaches_staff_only_and_a_reply_reaches_the_requester(desk: Desk, tmp_path: Path) -> None:
    _opened(desk)
    desk.mail(BOB, "nosy: +tom@example.com", subject="Re: [Helpdesk #1] x")  # refused: not his to add
    desk.gw.cli("ticket", "command", "1", "--as", ALICE, "nosy: +tom@example.com")
    desk.send()
    note = desk.gw.cli("ticket", "note", "1", "--as", ALICE, input="Customer is on the old driver.\n")
    assert note.exit_code == 0 and "internal note" in note.output
    mails = desk.send()
    assert desk.to(BOB, mails) == [] and desk.to(CAROL, mails) == []
    [to_tom] = desk.to("tom@example.com", mails)
    assert "Internal note by Alice Admin" in body_text(to_tom) and "old driver" in body_text(to_tom)
    text = tmp_path / "reply.txt"
    text.write_text("status: closed\nPlease try again now.")  # a reply is text: never commands
    attachment = tmp_path / "driver-notes.txt"
    attachment.write_text("use v2.1")
    reply = desk.gw.cli("ticket", "reply", "1", "--as", ALICE, "--file", str(text), "--attach", str(attachment))
    assert reply.exit_code == 0, reply.output
    mails = desk.send()
    [to_bob] = desk.to(BOB, mails)
    assert "Please try again now." in body_text(to_bob) and to_bob["From"] == "Alice Admin via Helpdesk <helpdesk@example.com>"
    assert [p.get_filename() for p in to_bob.iter_attachments()] == ["driver-notes.txt"]
    t = desk.ticket(1)
    assert t["status"] == "new" and [m["internal"] for m in t["messages"] if m["from"] == ALICE] == [True, False]  # commands alone store no message
    assert {e["source"] for e in t["events"] if e["actor"] == ALICE} == {"cli"}


def test_the_cli_refuses_what_mail_would_refuse_and_says_why(desk: Desk) -> None:
    _opened(desk)
    desk.gw.cli("ticket", "command", "1", "--as", ALICE, "queue: ops")  # out of Alice's queues now
    refused = desk.gw.cli("ticket", "command", "1", "--as", ALICE, "status: resolved", "--json")
    assert refused.exit_code == 0
    [(line, reason)] = [(r["line"], r["reason"]) for r in json.loads(refused.stdout)["refused"]]
    assert line == "status: resolved" and reason.startswith("not permitted: as someone who is not staff")
    assert desk.ticket(1)["status"] == "new"
    not_staff = desk.gw.cli("ticket", "note", "1", "--as", BOB, "hello")
    assert not_staff.exit_code == 77 and "not a technician or admin" in not_staff.output
    missing = desk.gw.cli("ticket", "reply", "99", "--as", ALICE, "hello")
    assert missing.exit_code == 66 and "there is no ticket #99" in missing.output
    empty = desk.gw.cli("ticket", "reply", "1", "--as", ALICE, input="  \n")
    assert empty.exit_code == 65 and "nothing to add" in empty.output


def test_help_from_the_cli_lists_the_registered_commands(desk: Desk) -> None:
    from mailgate.commands import default_commands

    _opened(desk)
    result = desk.gw.cli("ticket", "command", "1", "--as", ALICE, "help")
    assert result.exit_code == 0
    assert list(default_commands()) == list(COMMAND_NAMES)  # the configuration checks by these names
    for cmd in default_commands().values():
        assert f"  {cmd.name}: {cmd.argument}" in result.output


def test_commands_alone_do_not_reopen_a_resolved_ticket_by_any_door(desks: tuple[Desk, Desk]) -> None:
    mail, cli = desks
    for desk in desks:
        _opened(desk)
        assert desk.gw.cli("ticket", "command", "1", "--as", ALICE, "status: resolved").exit_code == 0
    mail.mail(ALICE, "status: closed", name="Alice Admin", subject="Re: [Helpdesk #1] printer", headers=HEADERS_DMARC_PASS)
    assert cli.gw.cli("ticket", "command", "1", "--as", ALICE, "status: closed").exit_code == 0
    for desk in desks:
        statuses = [(e["old"], e["new"]) for e in desk.ticket(1)["events"] if e["field"] == "status"]
        assert statuses == [("new", "resolved"), ("resolved", "closed")]  # never a detour through open
