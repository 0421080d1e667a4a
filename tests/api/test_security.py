"""Nobody sees or changes what is not theirs, whatever they type: requesters, tokens,
attachments, stored HTML, and every field that ends up in a header."""

from __future__ import annotations

import base64
import json

from tests.api.conftest import ALICE, BOB, CAROL, Site


def test_a_requester_cannot_read_anyone_elses_ticket_or_an_internal_note(site: Site) -> None:
    mine = site.mail(CAROL, "My own problem.", subject="Carol's")
    others = [site.mail(f"user{n}@customer.example", f"Private matter {n}.", subject=f"Private {n}")
              for n in range(3)]
    with site.client(site.token(ALICE)) as staff:
        assert staff.post(f"/api/v1/tickets/{mine}/notes", json={"text": "Carol is a VIP, be quick."}).status_code == 201
    with site.client(site.token(CAROL)) as carol:
        seen = {n for n in range(1, max(others) + 100) if carol.get(f"/api/v1/tickets/{n}").status_code == 200}
        assert seen == {mine}  # 100+ guessed numbers: one answer, her own; every other one is 404
        listing = carol.get("/api/v1/tickets").json()["items"]
        assert [t["id"] for t in listing] == [mine]
        own = carol.get(f"/api/v1/tickets/{mine}").json()
        assert "VIP" not in json.dumps(own)
        assert all(not m["internal"] and m["direction"] == "in" for m in own["messages"])
        assert all(e["field"] != "comment" for e in own["events"])
        assert carol.post(f"/api/v1/tickets/{others[0]}/replies", json={"text": "hi"}).status_code == 404
        assert carol.get(f"/api/v1/people/{BOB}").status_code == 404


def test_a_revoked_or_expired_token_fails_at_once(site: Site) -> None:
    token = site.token(ALICE)
    with site.client(token) as api:
        assert api.get("/api/v1/tickets").status_code == 200
        [row] = [t for t in json.loads(site.gw.cli("token", "list", "--json").stdout) if token.startswith(t["prefix"])]
        assert site.gw.cli("token", "revoke", str(row["id"])).exit_code == 0
        assert api.get("/api/v1/tickets").status_code == 401
    expiring = site.token(ALICE, "--expires", "1")
    with site.db() as c:
        c.execute("UPDATE api_token SET expires_at = '2000-01-01 00:00:00' WHERE prefix = ?",
                  (expiring.split("_")[1],))
    with site.client(expiring) as api:
        assert api.get("/api/v1/tickets").status_code == 401


def _note_with(site: Site, number: int, filename: str, content_type: str, data: bytes) -> dict:
    with site.client(site.token(ALICE)) as api:
        answer = api.post(f"/api/v1/tickets/{number}/replies", json={"text": "see attached", "attachments": [
            {"filename": filename, "content_type": content_type, "content_base64": base64.b64encode(data).decode()}]})
        assert answer.status_code == 201, answer.text
        ticket = api.get(f"/api/v1/tickets/{number}").json()
    return [a for m in ticket["messages"] for a in m["attachments"]][-1]


def test_an_attachment_is_never_served_as_a_page_and_its_name_cannot_break_headers(site: Site) -> None:
    number = site.mail(BOB, "Here is the page that breaks.", subject="Broken page")
    att = _note_with(site, number, "../../evil\r\nSet-Cookie: stolen=1.html", "text/html",
                     b"<script>alert(document.cookie)</script>")
    with site.client(site.token(ALICE)) as api:
        got = api.get(f"/api/v1/tickets/{number}/attachments/{att['id']}")
    assert got.status_code == 200 and got.content.startswith(b"<script>")
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "\r" not in got.headers["content-disposition"] and "/" not in got.headers["content-disposition"].split(";")[1]
    assert "set-cookie" not in got.headers and "sandbox" in got.headers["content-security-policy"]
    assert got.headers["x-content-type-options"] == "nosniff"


def test_stored_html_is_served_sanitized_without_remote_content(site: Site) -> None:
    html = ('<p>Hello <b>team</b></p><script>steal()</script><img src="https://tracker.example/p.gif">'
            '<a href="javascript:steal()">x</a><p onclick="steal()">click</p>')
    raw = ("From: Bob <bob@customer.example>\r\nTo: helpdesk@example.com\r\nSubject: Html only\r\n"
           "Message-ID: <html-1@customer.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           f"{html}\r\n").encode()
    import smtplib

    with smtplib.SMTP("127.0.0.1", site.daemon.smtp_port) as smtp:
        smtp.sendmail(BOB, ["helpdesk@example.com"], raw)
    from tests.daemon.conftest import wait_until

    number = wait_until(lambda: site.ticket_of("html-1@customer.example"), what="the HTML mail")
    with site.client(site.token(ALICE)) as api:
        [message] = [m for m in api.get(f"/api/v1/tickets/{number}").json()["messages"] if m["has_html"]]
        page = api.get(f"/api/v1/tickets/{number}/messages/{message['id']}/html")
    assert page.status_code == 200 and "<b>team</b>" in page.text
    for bad in ("<script", "steal()", "onclick", "javascript:"):
        assert bad not in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "https:" not in policy


def test_header_injection_through_a_subject_or_name_does_not_reach_a_header(site: Site) -> None:
    with site.client(site.token(ALICE)) as api:
        made = api.post("/api/v1/tickets", json={
            "subject": "Hello\r\nBcc: victim@example.net", "text": "x",
            "requester": {"address": "frank@customer.example", "name": "Frank\r\nBcc: victim@example.net"}})
        assert made.status_code in (201, 422), made.text
    import email
    import email.policy

    for o in site.outbox():
        assert "victim@example.net" not in o["recipients"]
        mail = email.message_from_string(o["message"], policy=email.policy.default)
        assert mail["Bcc"] is None and "victim" not in str(mail["To"]) + str(mail["Cc"] or "")
        assert all("\n" not in str(value) for value in mail.values())  # every header is one line
