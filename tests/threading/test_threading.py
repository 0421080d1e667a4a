"""The threading suite: conversations from fixtures/emails/threading/ delivered through the
real CLI (`mailgate deliver`), one misfiling case per test. Placeholders {{ACK_ID}},
{{REPLY_TO}} and {{TICKET}} are filled from what the gateway really sent."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import FIXTURES, Gateway, write_config

THREADING = FIXTURES / "threading"


def deliver(gateway: Gateway, name: str, **subs: object) -> None:
    raw = (THREADING / name).read_bytes()
    for key, value in subs.items():
        raw = raw.replace(b"{{" + key.encode() + b"}}", str(value).encode())
    assert b"{{" not in raw, f"{name}: unfilled placeholder"
    result = gateway.deliver(raw)
    assert result.exit_code == 0, result.output


def sent_to(gateway: Gateway, ticket: int, kind: str = "ack") -> list[email.message.EmailMessage]:
    return [email.message_from_string(o["message"], policy=email.policy.default)
            for o in gateway.outbox() if o["ticket"] == ticket and o["kind"] == kind]


def ack(gateway: Gateway, ticket: int) -> dict[str, str]:
    [mail] = sent_to(gateway, ticket)
    return {"ACK_ID": mail["Message-ID"].strip("<>"), "REPLY_TO": mail["Reply-To"], "TICKET": str(ticket)}


def inbound(gateway: Gateway, ticket: int) -> list[dict]:
    return [m for m in gateway.ticket(ticket)["messages"] if m["direction"] == "in"]


def signal_of(gateway: Gateway, message_id: str) -> tuple[int, str, str]:
    """(ticket, thread_signal, auto_class) of a stored message."""
    for t in gateway.tickets():
        for m in inbound(gateway, t["id"]):
            if m["message_id"] == message_id:
                return t["id"], m["thread_signal"], m["auto_class"]
    raise AssertionError(f"{message_id} not stored")


def set_status(gateway: Gateway, ticket: int, status: str, days_ago: float = 0) -> None:
    """Test setup only: put a ticket in a state (and age) no mail command can fake."""
    from mailgate.config import load_settings
    from mailgate.db.connect import open_database
    from mailgate.db.models import Ticket

    open_database(load_settings(gateway.config).database_url)
    when = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days_ago)
    Ticket.update(status=status, updated_at=when).where(Ticket.id == ticket).execute()


def configure(gateway: Gateway, threading: str) -> None:
    write_config(gateway.dir, extra="\n[threading]\n" + threading)


@pytest.fixture
def carol(gateway: Gateway) -> dict[str, str]:
    """Carol's ticket #1 and the acknowledgement the gateway sent her."""
    deliver(gateway, "01_new_request.eml")
    return ack(gateway, 1)


def test_reply_token_threads_when_client_drops_headers_and_tag(gateway: Gateway, carol: dict) -> None:
    assert "+t1p" in carol["REPLY_TO"]
    deliver(gateway, "02_reply_token_only.eml", **carol)
    assert signal_of(gateway, "carol-2@customer.example") == (1, "reply-token", "")
    assert len(gateway.tickets()) == 1


def test_message_id_chain_root_only_and_changed_subject(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "03_reply_root_reference_only.eml", **carol)
    deliver(gateway, "04_reply_changed_subject.eml", **carol)
    assert signal_of(gateway, "carol-3@customer.example")[:2] == (1, "message-id")
    assert signal_of(gateway, "carol-4@customer.example")[:2] == (1, "message-id")
    assert len(gateway.tickets()) == 1


def test_outgoing_references_start_with_the_ticket_root(gateway: Gateway, carol: dict) -> None:
    [mail] = sent_to(gateway, 1)
    refs = mail["References"].split()
    assert refs[0] == "<carol-1@customer.example>"
    assert "=?" not in mail["References"] and "=?" not in mail["Message-ID"]


def test_subject_tag_survives_prefixes_from_requester(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "05_tag_from_requester.eml", **carol)
    assert signal_of(gateway, "carol-5@customer.example")[:2] == (1, "subject-tag")


def test_stranger_with_known_ticket_number_gets_new_linked_ticket(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "06_tag_from_stranger.eml", **carol)
    ticket, signal, _ = signal_of(gateway, "mallory-1@elsewhere.example")
    assert ticket == 2 and signal == "new-stranger-tag"
    assert [m["message_id"] for m in inbound(gateway, 1)] == ["carol-1@customer.example"]
    detail = gateway.ticket(2)
    assert detail["links"] == [{"ticket": 1, "kind": "related"}]
    assert detail["requester"] == "mallory@elsewhere.example"
    [mail] = sent_to(gateway, 2)
    assert "mentioned ticket #1, which belongs to someone else" in mail.get_content()
    assert "mallory" not in " ".join(m["message_id"] for m in inbound(gateway, 1))


def test_forged_token_is_ignored(gateway: Gateway, carol: dict, caplog: pytest.LogCaptureFixture) -> None:
    deliver(gateway, "20_forged_token.eml")
    ticket, signal, _ = signal_of(gateway, "mallory-2@elsewhere.example")
    assert ticket == 2 and signal == "new"
    assert "invalid reply token" in caplog.text


def test_stale_token_for_missing_ticket_is_ignored(gateway: Gateway, carol: dict) -> None:
    from mailgate.tokens import reply_address

    stale = reply_address("helpdesk@example.com", "test-secret", 99, 1)
    raw = (THREADING / "02_reply_token_only.eml").read_bytes().replace(b"{{REPLY_TO}}", stale.encode())
    assert gateway.deliver(raw).exit_code == 0
    ticket, signal, _ = signal_of(gateway, "carol-2@customer.example")
    assert ticket == 2 and signal == "new"


def test_out_of_office_on_resolved_ticket_is_a_note(gateway: Gateway, carol: dict) -> None:
    set_status(gateway, 1, "resolved")
    outbox_before = len(gateway.outbox())
    deliver(gateway, "07_out_of_office.eml", **carol)
    assert signal_of(gateway, "carol-oof-1@customer.example") == (1, "message-id", "auto-reply")
    detail = gateway.ticket(1)
    assert detail["status"] == "resolved"  # not reopened, and the "Status: open" line did nothing
    assert len(gateway.outbox()) == outbox_before  # no acknowledgement, no alert
    assert len(gateway.tickets()) == 1


def test_bounce_of_ack_is_attached_and_marks_the_address(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "08_bounce_of_ack.eml", **carol)
    assert signal_of(gateway, "bounce-1@mx.customer.example") == (1, "bounce:message-id", "bounce")
    assert len(gateway.tickets()) == 1
    detail = gateway.ticket(1)
    assert detail["status"] == "new"
    assert any(e["field"] == "bounce" and e["new"] == "carol@customer.example" for e in detail["events"])
    bounce = [m for m in inbound(gateway, 1) if m["auto_class"] == "bounce"][0]
    assert {a["content_type"] for a in bounce["attachments"]} >= {"message/delivery-status"}
    from mailgate.db.models import Person

    set_status(gateway, 1, "new")  # opens the database for the check below
    assert Person.get(Person.address == "carol@customer.example").bouncing is True


def test_bounce_naming_an_unsent_recipient_marks_nobody(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "10_bounce_forged_recipient.eml", **carol)
    assert signal_of(gateway, "bounce-3@mx.customer.example")[0] == 1
    from mailgate.db.models import Person

    set_status(gateway, 1, "new")
    assert not Person.select().where(Person.bouncing == True).exists()  # noqa: E712


def test_unattributable_bounce_is_held_not_a_ticket(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "09_bounce_unknown.eml")
    assert len(gateway.tickets()) == 1
    [q] = gateway.json("quarantine", "list")
    assert q["stage"] == "thread" and q["error"].startswith("Unattributable: a bounce")
    # delivered again: still one held copy
    deliver(gateway, "09_bounce_unknown.eml")
    assert len(gateway.json("quarantine", "list")) == 1


def test_foreign_helpdesk_tag_is_kept_and_threads(gateway: Gateway) -> None:
    deliver(gateway, "11_foreign_helpdesk.eml")
    [t] = gateway.tickets()
    assert t["subject"] == "[Acme #77] Printer jam in building B"
    [mail] = sent_to(gateway, t["id"])
    assert mail["Subject"] == f"[Helpdesk #{t['id']}] [Acme #77] Printer jam in building B"
    deliver(gateway, "12_foreign_helpdesk_reply.eml", TICKET=t["id"])
    assert signal_of(gateway, "acme-77-2@acme.example")[:2] == (t["id"], "subject-tag")
    assert gateway.ticket(t["id"])["subject"] == "[Acme #77] Printer jam in building B"


def test_outlook_thread_index_off_by_default(gateway: Gateway) -> None:
    deliver(gateway, "13_outlook_new.eml")
    deliver(gateway, "14_outlook_reply.eml")
    assert signal_of(gateway, "AM0PR01MB0002.erik@customer.example")[:2] == (2, "new")


def test_outlook_thread_index_on(gateway: Gateway) -> None:
    configure(gateway, "outlook_thread_index = true\n")
    deliver(gateway, "13_outlook_new.eml")
    deliver(gateway, "14_outlook_reply.eml")
    assert signal_of(gateway, "AM0PR01MB0002.erik@customer.example")[:2] == (1, "thread-index")


def test_japanese_mail_and_fullwidth_tag(gateway: Gateway) -> None:
    deliver(gateway, "15_japanese_new.eml")
    [t] = gateway.tickets()
    assert t["subject"] == "プリンターが動きません"
    [m] = inbound(gateway, 1)
    assert "三階のプリンターが紙詰まりで動きません。" in m["body"]
    assert m["from"] == "yamada@customer.example.jp"
    deliver(gateway, "16_japanese_reply_fullwidth_tag.eml")
    assert signal_of(gateway, "yamada-2@customer.example.jp")[:2] == (1, "subject-tag")
    reply = inbound(gateway, 1)[1]
    assert "ありがとうございました。①" in reply["body"] + reply["signature"]
    assert reply["subject"] == "返信: ［Helpdesk ＃１］ プリンターが動きません"


def test_reply_reopens_resolved_but_bare_thanks_does_not(gateway: Gateway, carol: dict) -> None:
    set_status(gateway, 1, "resolved")
    deliver(gateway, "17_thanks.eml", **carol)
    assert gateway.ticket(1)["status"] == "resolved"
    deliver(gateway, "18_still_broken.eml", **carol)
    assert gateway.ticket(1)["status"] == "open"


def test_thanks_reopens_when_configured(gateway: Gateway, carol: dict) -> None:
    configure(gateway, "thanks_reopens = true\n")
    set_status(gateway, 1, "resolved")
    deliver(gateway, "17_thanks.eml", **carol)
    assert gateway.ticket(1)["status"] == "open"


def test_reply_to_long_closed_ticket_opens_linked_ticket(gateway: Gateway, carol: dict) -> None:
    set_status(gateway, 1, "closed", days_ago=40)
    deliver(gateway, "18_still_broken.eml", **carol)
    ticket, signal, _ = signal_of(gateway, "carol-again@customer.example")
    assert ticket == 2 and signal == "new-after-closed:message-id"
    assert gateway.ticket(2)["links"] == [{"ticket": 1, "kind": "follows-up"}]
    assert gateway.ticket(1)["status"] == "closed"


def test_reply_to_recently_closed_ticket_reopens_it(gateway: Gateway, carol: dict) -> None:
    set_status(gateway, 1, "closed", days_ago=3)
    deliver(gateway, "18_still_broken.eml", **carol)
    assert signal_of(gateway, "carol-again@customer.example")[0] == 1
    assert gateway.ticket(1)["status"] == "open"


def test_out_of_office_to_long_closed_ticket_stays_a_note(gateway: Gateway, carol: dict) -> None:
    set_status(gateway, 1, "closed", days_ago=40)
    deliver(gateway, "07_out_of_office.eml", **carol)
    assert signal_of(gateway, "carol-oof-1@customer.example")[0] == 1
    assert len(gateway.tickets()) == 1 and gateway.ticket(1)["status"] == "closed"


def test_same_subject_without_window_is_a_new_ticket(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "19_same_subject_no_refs.eml")
    assert signal_of(gateway, "carol-resend@customer.example")[:2] == (2, "new")


def test_same_subject_window_on(gateway: Gateway) -> None:
    configure(gateway, "subject_window_hours = 24\n")
    deliver(gateway, "01_new_request.eml")
    deliver(gateway, "19_same_subject_no_refs.eml")
    assert signal_of(gateway, "carol-resend@customer.example")[:2] == (1, "subject-window")


def test_own_ack_coming_back_is_discarded(gateway: Gateway, carol: dict) -> None:
    [o] = gateway.outbox()
    assert gateway.deliver(o["message"].encode()).exit_code == 0
    assert [m["message_id"] for m in inbound(gateway, 1)] == ["carol-1@customer.example"]
    assert len(gateway.outbox()) == 1


def test_exchange_style_ndr_without_dsn_is_attributed(gateway: Gateway, carol: dict) -> None:
    deliver(gateway, "21_ndr_original_attached.eml", **carol)
    assert signal_of(gateway, "ndr-1@customer.example") == (1, "bounce:message-id", "bounce")
    assert len(gateway.tickets()) == 1
    from mailgate.db.models import Person

    set_status(gateway, 1, "new")
    assert Person.get(Person.address == "carol@customer.example").bouncing is True


def test_subject_tag_trusted_from_nosy_and_staff(gateway: Gateway) -> None:
    first = (THREADING / "01_new_request.eml").read_bytes().replace(
        b"To: Helpdesk <helpdesk@example.com>", b"To: Helpdesk <helpdesk@example.com>\r\nCc: Dave <dave@customer.example>")
    assert gateway.deliver(first).exit_code == 0
    assert "dave@customer.example" in gateway.ticket(1)["nosy"]
    for sender, mid in (("Dave <dave@customer.example>", "dave-1"), ("Alice Admin <alice@example.com>", "alice-1")):
        raw = (THREADING / "05_tag_from_requester.eml").read_bytes().replace(
            b"Carol Chen <carol@customer.example>", sender.encode()).replace(b"carol-5", mid.encode())
        assert gateway.deliver(raw.replace(b"{{TICKET}}", b"1")).exit_code == 0
        assert signal_of(gateway, f"{mid}@customer.example")[:2] == (1, "subject-tag")
    assert len(gateway.tickets()) == 1


@pytest.mark.parametrize(("setting", "message"), [
    ("closed_reopen_days = -1", "threading.closed_reopen_days: expected 0 or more days"),
    ("subject_window_hours = -2", "threading.subject_window_hours: expected 0 (off) or more hours"),
    ("outlook_thread_index = 1", "threading.outlook_thread_index: expected true or false"),
    ("thanks_reopen = true", "threading.thanks_reopen: unknown key"),
])
def test_threading_settings_are_validated(gateway: Gateway, setting: str, message: str) -> None:
    configure(gateway, setting + "\n")
    result = gateway.cli("ticket", "list")
    assert result.exit_code == 78
    assert message in result.output


def test_read_receipt_is_a_note_on_a_resolved_ticket(gateway: Gateway, carol: dict) -> None:
    set_status(gateway, 1, "resolved")
    deliver(gateway, "22_read_receipt.eml", **carol)
    assert signal_of(gateway, "carol-mdn-1@customer.example") == (1, "message-id", "auto-reply")
    assert gateway.ticket(1)["status"] == "resolved" and len(gateway.outbox()) == 1


def test_postmaster_writing_as_a_person_opens_a_ticket(gateway: Gateway) -> None:
    raw = (THREADING / "01_new_request.eml").read_bytes().replace(
        b"Carol Chen <carol@customer.example>", b"Postmaster <postmaster@customer.example>")
    assert gateway.deliver(raw).exit_code == 0
    assert signal_of(gateway, "carol-1@customer.example") == (1, "new", "")
    assert len(gateway.outbox()) == 1


def test_tag_of_a_merged_ticket_is_trusted_from_the_surviving_tickets_people(gateway: Gateway) -> None:
    deliver(gateway, "01_new_request.eml")  # ticket 1, Carol's
    deliver(gateway, "11_foreign_helpdesk.eml")  # ticket 2, requester support@acme.example
    from mailgate.app import build_env
    from mailgate.config import load_settings
    from mailgate.db.models import Ticket
    from mailgate.lifecycle.merge import merge

    env = build_env(load_settings(gateway.config))
    merge(env, Ticket.get_by_id(1), Ticket.get_by_id(2), "alice@example.com", source="cli")
    # Acme was never on ticket 1, but ticket 1 now lives on in Acme's ticket 2
    acme_on_old_tag = (THREADING / "05_tag_from_requester.eml").read_bytes().replace(b"{{TICKET}}", b"1").replace(
        b"Carol Chen <carol@customer.example>", b"Acme Support <support@acme.example>")
    assert gateway.deliver(acme_on_old_tag).exit_code == 0
    assert signal_of(gateway, "carol-5@customer.example")[:2] == (2, "subject-tag")
