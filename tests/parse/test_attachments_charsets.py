"""Attachments and charsets through the real pipe (`mailgate deliver`): every non-body part
is stored content-addressed with its decoded name, and text is never stored as mojibake."""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, Gateway, write_config

PARSE = FIXTURES / "parse"


def only_message(gateway: Gateway, name: str) -> tuple[dict, dict]:
    result = gateway.deliver((PARSE / name).read_bytes())
    assert result.exit_code == 0, result.output
    [t] = gateway.tickets()
    [m] = [m for m in gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]
    return t, m


def test_every_kind_of_attachment_is_stored(gateway: Gateway) -> None:
    _, m = only_message(gateway, "attachments_all_kinds.eml")
    by_name = {a["filename"]: a for a in m["attachments"]}
    assert set(by_name) == {"image001.png", "Grüße und Angebot.pdf", "月次報告.xlsx", "Original offer.eml",
                            "notes.txt"}
    image = by_name["image001.png"]
    assert image["content_type"] == "image/png" and image["content_id"] == "image001.png@01DB0000.12345678"
    assert by_name["Original offer.eml"]["content_type"] == "message/rfc822"
    root = gateway.dir / "store" / "attachments"
    for a in m["attachments"]:  # content-addressed: the file's name is its sha256
        data = (root / a["sha256"][:2] / a["sha256"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == a["sha256"] and len(data) == a["size"]
    notes = by_name["notes.txt"]
    assert (root / notes["sha256"][:2] / notes["sha256"]).read_bytes() == b"Hello Zammad\n"
    offer = (root / by_name["Original offer.eml"]["sha256"][:2] / by_name["Original offer.eml"]["sha256"])
    assert b"Message-ID: <dave-offer@customer.example>" in offer.read_bytes()
    # the uuencoded block left the visible text; the text around it stayed
    assert "begin 644" not in m["body"] and "See the screenshot below" in m["body"]


@pytest.mark.parametrize(("name", "subject", "sender", "text"), [
    ("charset_utf8_labelled_latin1.eml", "Drucker im Büro", "joerg@customer.example",
     "Grüße aus dem Büro: der Drucker druckt nur noch Streifen. Straße 5"),
    ("charset_missing_cp1252.eml", "Problème d'accès", "renee@customer.example",
     "je n'arrive plus à me connecter depuis la mise à jour. Le message d'erreur est « accès refusé »"),
    ("charset_ks_c_5601.eml", "프린터 오류", "minsu@customer.example.kr", "3층 프린터가 작동하지 않습니다. 똠방각하"),
    ("charset_gb18030.eml", "打印机故障", "liwei@customer.example.cn", "您好，三楼的打印机坏了。𠀀"),
    ("headers_8bit_raw.eml", "Überweisung fehlgeschlagen – bitte prüfen", "zoe@customer.example",
     "Die Überweisung an Müller & Söhne ist fehlgeschlagen."),
    ("headers_8bit_latin1.eml", "Schlüssel für Raum 3", "joerg.weiss@customer.example",
     "Ich brauche einen Schlüssel für Raum 3."),
])
def test_text_is_decoded_without_mojibake(gateway: Gateway, name: str, subject: str, sender: str,
                                          text: str) -> None:
    t, m = only_message(gateway, name)
    assert t["subject"] == subject
    assert m["from"] == sender
    assert text in m["body"] + m["signature"]
    for garbage in ("Ã", "Â", "\ufffd", "ï¿½"):
        assert garbage not in m["body"] + t["subject"]


def test_sender_names_in_legacy_charsets(gateway: Gateway) -> None:
    only_message(gateway, "charset_ks_c_5601.eml")
    gateway.deliver((PARSE / "headers_8bit_raw.eml").read_bytes())
    gateway.deliver((PARSE / "charset_utf8_labelled_latin1.eml").read_bytes())
    [ack] = [o for o in gateway.outbox() if o["recipients"] == ["minsu@customer.example.kr"]]
    assert "김민수" in _decoded_body(ack["message"])
    [ack] = [o for o in gateway.outbox() if o["recipients"] == ["zoe@customer.example"]]
    assert "Zoë Ångström" in _decoded_body(ack["message"])


def _decoded_body(text: str) -> str:
    import email
    import email.policy

    return email.message_from_string(text, policy=email.policy.default).get_content()


def test_oversized_mail_from_import_is_held_and_sender_told(gateway: Gateway, tmp_path: Path) -> None:
    write_config(gateway.dir, extra="")
    gateway.config.write_text(gateway.config.read_text().replace(
        'secret = "test-secret"', 'secret = "test-secret"\nmax_message_size = 3000'))
    big = (PARSE / "attachments_all_kinds.eml").read_bytes().replace(
        b"--outer--", b"--outer\r\nContent-Type: application/octet-stream\r\n\r\n" + b"x" * 5000 + b"\r\n--outer--")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "big.eml").write_bytes(big)
    (folder / "big-auto.eml").write_bytes(big.replace(b"Message-ID: <attachments-1",
                                                      b"Auto-Submitted: auto-replied\r\nMessage-ID: <auto-1"))
    summary = json.loads(gateway.cli("import", str(folder), "--json").stdout)
    assert summary["quarantined"] == 2 and gateway.tickets() == []
    held = gateway.json("quarantine", "list")
    assert all(q["stage"] == "parse" and "over gateway.max_message_size (3000)" in q["error"] for q in held)
    [notice] = gateway.outbox()  # only to the person; never to the automatic mail
    assert notice["recipients"] == ["carol@customer.example"] and notice["kind"] == "refused-too-large"
    body = _decoded_body(notice["message"])
    assert "accepts messages of up to 0.0 MB" not in body
    assert "Screenshots and the offer" in body and "was not added to a ticket" in body
    [reference] = re.findall(r"reference Q(\d+)", body)
    assert int(reference) in {q["id"] for q in held}
    assert "Auto-Submitted: auto-replied" in notice["message"]
    # kept whole: raising the limit and retrying stores it with every attachment
    gateway.config.write_text(gateway.config.read_text().replace("max_message_size = 3000", ""))
    retry = gateway.cli("quarantine", "retry", reference)
    assert retry.exit_code == 0, retry.output
    [t] = gateway.tickets()
    [m] = [m for m in gateway.ticket(t["id"])["messages"] if m["direction"] == "in"]
    assert len(m["attachments"]) == 6


def test_uudecode_tolerates_sloppy_padding() -> None:
    from mailgate.mimeparts import split_uuencoded

    line = binascii.b2a_uu(b"abc").decode().rstrip("\n").rstrip()
    text, [att] = split_uuencoded(f"before\nbegin 600 a.bin\n{line}\n`\nend\nafter\n")
    assert att.filename == "a.bin" and att.payload == b"abc"
    assert text == "before\nafter\n"


def test_winmail_dat_is_unpacked_and_kept(gateway: Gateway) -> None:
    _, m = only_message(gateway, "winmail_tnef.eml")
    by_name = {a["filename"]: a for a in m["attachments"]}
    assert set(by_name) == {"report.txt", "diagram.png", "winmail.dat"}
    assert by_name["diagram.png"]["content_type"] == "image/png"
    root = gateway.dir / "store" / "attachments"
    report = by_name["report.txt"]["sha256"]
    assert (root / report[:2] / report).read_bytes() == b"quarterly numbers\n"
