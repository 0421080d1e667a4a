"""The MTA pipe end to end: a new mail becomes a ticket, the reply to the acknowledgement
lands on it, duplicates are stored once, broken mail is quarantined with its raw bytes."""

from __future__ import annotations

import email

from tests.conftest import Gateway, fixture_bytes


def reply_to(outgoing: str, sender: str, body: str, *, keep_ids: bool = True, subject: str | None = None) -> bytes:
    ack = email.message_from_string(outgoing)
    lines = [
        f"From: Bob Jones <{sender}>",
        "To: helpdesk@example.com",
        f"Subject: {subject if subject is not None else 'Re: ' + ack['Subject']}",
        "Date: Mon, 23 Nov 2026 12:00:00 +0100",
        "Message-ID: <reply-1@customer.example>",
    ]
    if keep_ids:
        lines += [f"In-Reply-To: {ack['Message-ID']}", f"References: {ack['Message-ID']}"]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, "",
              "On Mon, 23 Nov 2026 at 09:15, Helpdesk <helpdesk@example.com> wrote:",
              "> Thank you for writing to Helpdesk.", ""]
    return "\r\n".join(lines).encode()


def test_new_mail_creates_ticket_and_acknowledgement(gateway: Gateway) -> None:
    result = gateway.deliver(fixture_bytes("new_plain.eml"))
    assert result.exit_code == 0, result.output
    [t] = gateway.tickets()
    assert t["subject"] == "Printer on 3rd floor prints blank pages"
    assert t["status"] == "new" and t["requester"] == "bob.jones@customer.example"
    detail = gateway.ticket(t["id"])
    inbound = [m for m in detail["messages"] if m["direction"] == "in"]
    assert "only prints blank pages" in inbound[0]["body"]
    assert "Bob Jones | Accounting" not in inbound[0]["body"]
    assert detail["nosy"] == ["bob.jones@customer.example"]
    [ack] = gateway.outbox()
    assert ack["recipients"] == ["bob.jones@customer.example"]
    assert f"Subject: [Helpdesk #{t['id']}] Printer on 3rd floor" in ack["message"]
    assert "In-Reply-To: <CAK7d1fQ3x9@mail.customer.example>" in ack["message"]
    assert "Auto-Submitted: auto-replied" in ack["message"]


def test_reply_to_acknowledgement_threads_by_in_reply_to(gateway: Gateway) -> None:
    gateway.deliver(fixture_bytes("new_plain.eml"))
    [ack] = gateway.outbox()
    # the subject tag is removed too: only the Message-ID chain can thread it
    raw = reply_to(ack["message"], "bob.jones@customer.example", "Toner is fine now.", subject="Re: printer")
    assert gateway.deliver(raw).exit_code == 0
    [t] = gateway.tickets()
    detail = gateway.ticket(t["id"])
    reply = [m for m in detail["messages"] if m["message_id"] == "reply-1@customer.example"][0]
    assert reply["thread_signal"] == "message-id"
    assert reply["body"] == "Toner is fine now."
    assert "Thank you for writing" in reply["quoted"]


def test_same_bytes_twice_store_one_message(gateway: Gateway) -> None:
    raw = fixture_bytes("new_plain.eml")
    assert gateway.deliver(raw).exit_code == 0
    assert gateway.deliver(raw).exit_code == 0
    # relayed again by another hop: a new Received header, same message
    assert gateway.deliver(b"Received: from relay2.example by mx.example.com; Mon, 23 Nov 2026 09:20:00 +0100\r\n" + raw).exit_code == 0
    [t] = gateway.tickets()
    inbound = [m for m in gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]
    assert len(inbound) == 1
    assert len(gateway.outbox()) == 1


def test_broken_mail_is_quarantined_with_exact_raw_bytes(gateway: Gateway) -> None:
    raw = fixture_bytes("broken_not_a_message.eml")
    assert gateway.deliver(raw).exit_code == 0
    assert gateway.tickets() == []
    [q] = gateway.json("quarantine", "list")
    assert q["stage"] == "parse" and "no RFC 5322 header block" in q["error"]
    shown = gateway.cli("quarantine", "show", str(q["id"]), "--raw")
    assert shown.stdout_bytes == raw
    detail = gateway.cli("quarantine", "show", str(q["id"]))
    assert "Traceback" in detail.stdout and "stage: parse" in detail.stdout


def test_quarantine_retry_and_discard(gateway: Gateway) -> None:
    gateway.deliver(fixture_bytes("broken_not_a_message.eml"))
    [q] = gateway.json("quarantine", "list")
    retry = gateway.cli("quarantine", "retry", str(q["id"]))
    assert retry.exit_code == 1 and "still failing" in retry.stdout
    held = gateway.json("quarantine", "list")
    assert [h["id"] for h in held] == [q["id"] + 1]
    assert gateway.cli("quarantine", "discard", str(held[0]["id"])).exit_code == 0
    assert gateway.json("quarantine", "list") == []
    assert len(gateway.json("quarantine", "list", "--all")) == 2


def test_unknown_recipient_exits_67(gateway: Gateway) -> None:
    result = gateway.deliver(fixture_bytes("new_plain.eml"), "--recipient", "nobody@example.com")
    assert result.exit_code == 67
    assert "nobody@example.com: no such queue" in result.stderr
    assert gateway.tickets() == []


def test_forged_reply_token_recipient_exits_67(gateway: Gateway) -> None:
    result = gateway.deliver(fixture_bytes("new_plain.eml"), "--recipient", "helpdesk+t1p1-aaaaaaaaaaaaaaaa@example.com")
    assert result.exit_code == 67


def test_recipient_selects_queue(gateway: Gateway) -> None:
    assert gateway.deliver(fixture_bytes("new_plain.eml"), "--recipient", "ops@example.com").exit_code == 0
    assert gateway.tickets()[0]["queue"] == "ops"


def test_spool_unwritable_is_tempfail(gateway: Gateway) -> None:
    import os

    gateway.cli("ticket", "list")  # create the store
    spool = gateway.dir / "store" / "spool"
    (spool / "queue").mkdir(parents=True, exist_ok=True)
    os.chmod(spool / "queue", 0o500)
    try:
        if os.geteuid() == 0:
            # root ignores permissions: make the queue path a file instead
            os.chmod(spool / "queue", 0o700)
            os.rename(spool / "queue", spool / "queue.away")
            (spool / "queue").write_text("not a dir")
        result = gateway.deliver(fixture_bytes("new_plain.eml"))
        assert result.exit_code == 75
        assert "spool" in result.stderr
    finally:
        if (spool / "queue").is_file():
            (spool / "queue").unlink()
            os.rename(spool / "queue.away", spool / "queue")
        os.chmod(spool / "queue", 0o700)


def test_oversized_message_refused_with_reason(gateway: Gateway) -> None:
    from tests.conftest import write_config

    write_config(gateway.dir, extra="")
    text = gateway.config.read_text().replace('secret = "test-secret"', 'secret = "test-secret"\nmax_message_size = 1000')
    gateway.config.write_text(text)
    result = gateway.deliver(fixture_bytes("attachments_inline.eml") + b"x" * 2000)
    assert result.exit_code == 65
    assert "exceeds the limit of 1000 bytes" in result.stderr


def test_own_mail_is_discarded_and_auto_reply_gets_no_ack(gateway: Gateway) -> None:
    gateway.deliver(fixture_bytes("new_plain.eml"))
    assert gateway.deliver(fixture_bytes("loop_own_mail.eml")).exit_code == 0
    assert gateway.deliver(fixture_bytes("auto_reply.eml")).exit_code == 0
    [t] = gateway.tickets()
    detail = gateway.ticket(t["id"])
    assert [m["auto_class"] for m in detail["messages"] if m["direction"] == "in"] == ["", "auto-reply"]
    assert len(gateway.outbox()) == 1  # only the first acknowledgement


def test_pipe_as_separate_process(gateway: Gateway) -> None:
    proc = gateway.pipe(fixture_bytes("multipart_alternative.eml"))
    assert proc.returncode == 0, proc.stderr
    [t] = gateway.tickets()
    assert t["subject"] == "VPN verbindet nicht – Fehler 809"
    [m] = [m for m in gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]
    assert "Fehler 809" in m["body"] and "Grüße" in m["body"] + m["signature"]
