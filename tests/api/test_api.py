"""The API over real HTTP: the ticket-tool case (a note, a command), the receipt, the same
history and alert mail as email, problem documents for every kind of bad request."""

from __future__ import annotations

import base64

from tests.api.conftest import ALICE, BOB, Site
from tests.daemon.conftest import wait_until


def test_a_tool_adds_a_note_and_closes_the_ticket(site: Site) -> None:
    number = site.mail(BOB, "The printer prints blank pages.", subject="Blank pages")
    with site.client(site.token(ALICE, "--name", "deploy-bot")) as api:
        note = api.post(f"/api/v1/tickets/{number}/notes", json={"text": "Deploy 4711 rolled out the driver."})
        assert note.status_code == 201 and note.json()["internal"] is True
        done = api.post(f"/api/v1/tickets/{number}/commands", json={"text": "status: resolved\nowner: me"})
        assert done.status_code == 200
        receipt = done.json()
        assert [a["result"] for a in receipt["applied"]] == ["status: new -> resolved", "owner: - -> alice@example.com"]
        assert receipt["refused"] == [] and receipt["verified_by"] == "api-token"
        ticket = api.get(f"/api/v1/tickets/{number}").json()
    assert (ticket["status"], ticket["owner"]) == ("resolved", ALICE)
    assert {e["source"] for e in ticket["events"] if e["actor"] == ALICE} == {"api"}
    assert [m["body"] for m in ticket["messages"] if m["internal"]] == ["Deploy 4711 rolled out the driver."]
    # the requester hears of the status change (not the note), with a link to the ticket's page
    site.sink.wait_for(1)
    wait_until(lambda: [m for m in site.sink.received if BOB in m.rcpt_tos and b"resolved" in m.data],
               what="the alert to the requester")
    alert = next(m for m in site.sink.received if BOB in m.rcpt_tos and b"resolved" in m.data)
    text = alert.message.get_body(preferencelist=("plain",)).get_content()
    assert "Deploy 4711" not in text and "status: new -> resolved" in text
    assert f"{site.url}/t/{number}?k=" in text


def test_refused_commands_say_why_in_the_receipt(site: Site) -> None:
    number = site.mail(BOB, "Need a new keyboard.", subject="Keyboard")
    with site.client(site.token(BOB)) as api:  # the requester's own token
        answer = api.post(f"/api/v1/tickets/{number}/commands", json={"text": "priority: urgent\nstatus: resolved"})
        assert answer.status_code == 200
        receipt = answer.json()
        assert [a["result"] for a in receipt["applied"]] == ["status: new -> resolved"]
        assert [r["line"] for r in receipt["refused"]] == ["priority: urgent"]
        assert receipt["refused"][0]["reason"].startswith("not permitted: as the requester of this ticket")
        note = api.post(f"/api/v1/tickets/{number}/notes", json={"text": "sneaky"})
        assert note.status_code == 403 and note.headers["content-type"] == "application/problem+json"


def test_open_a_ticket_for_a_requester_with_an_attachment(site: Site) -> None:
    pdf = b"%PDF-1.4 fake"
    with site.client(site.token(ALICE)) as api:
        made = api.post("/api/v1/tickets", json={
            "subject": "Laptop for the new hire", "text": "Please prepare one for Monday.",
            "requester": {"address": "dora@customer.example", "name": "Dora"},
            "attachments": [{"filename": "order.pdf", "content_type": "application/pdf",
                             "content_base64": base64.b64encode(pdf).decode()}]})
        assert made.status_code == 201, made.text
        number = made.json()["ticket"]
        assert made.headers["location"] == f"/api/v1/tickets/{number}"
        ticket = api.get(f"/api/v1/tickets/{number}").json()
        assert (ticket["requester"], ticket["subject"]) == ("dora@customer.example", "Laptop for the new hire")
        [att] = ticket["messages"][0]["attachments"]
        got = api.get(f"/api/v1/tickets/{number}/attachments/{att['id']}")
        assert got.status_code == 200 and got.content == pdf
        assert got.headers["content-disposition"].startswith('attachment; filename="order.pdf"')
    acks = wait_until(lambda: [o for o in site.outbox("ack") if o["ticket"] == number], what="the acknowledgement")
    assert acks[0]["recipients"] == ["dora@customer.example"]


def test_listing_pages_by_cursor_and_filters(site: Site) -> None:
    numbers = [site.mail("erin@customer.example", f"Problem {n}", subject=f"Erin {n}") for n in range(5)]
    with site.client(site.token(ALICE)) as api:
        seen, cursor = [], None
        while True:
            page = api.get("/api/v1/tickets", params={"requester": "erin@customer.example", "limit": 2,
                                                      **({"cursor": cursor} if cursor else {})}).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == sorted(numbers, reverse=True)
        assert api.get("/api/v1/tickets", params={"status": "gone"}).status_code == 422
        assert api.get("/api/v1/tickets", params={"cursor": "garbage!"}).status_code == 422
        unowned = api.get("/api/v1/tickets", params={"owner": "none", "requester": "erin@customer.example"}).json()
        assert {t["id"] for t in unowned["items"]} == set(numbers)


def test_every_error_is_a_problem_document(site: Site) -> None:
    number = site.mail(BOB, "Another one.", subject="Another")
    with site.client() as anonymous:
        missing = anonymous.get(f"/api/v1/tickets/{number}")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
        assert missing.json()["type"] == "/api/v1/problems/unauthorized"
        bad = anonymous.get(f"/api/v1/tickets/{number}", headers={"Authorization": "Bearer mgt_nope_nope"})
        assert bad.status_code == 401
    with site.client(site.token(ALICE)) as api:
        assert api.get("/api/v1/tickets/999999").status_code == 404
        invalid = api.post(f"/api/v1/tickets/{number}/notes", json={"txt": "typo"})
        assert invalid.status_code == 422
        assert {e["field"] for e in invalid.json()["errors"]} == {"text", "txt"}
        broken = api.post(f"/api/v1/tickets/{number}/notes", content=b"{not json", headers={"content-type": "application/json"})
        assert broken.status_code == 400 and broken.json()["detail"] == "the body is not valid JSON"
        big = api.post(f"/api/v1/tickets/{number}/notes", json={"text": "x" * 300_000})
        assert big.status_code == 413 and big.json()["status"] == 413
        for response in (invalid, broken, big):
            assert response.headers["content-type"] == "application/problem+json"
            assert "Traceback" not in response.text


def test_a_retried_post_with_an_idempotency_key_changes_nothing_twice(site: Site) -> None:
    number = site.mail(BOB, "Please call me.", subject="Call")
    with site.client(site.token(ALICE)) as api:
        url, body = f"/api/v1/tickets/{number}/notes", {"text": "Called, no answer."}
        first = api.post(url, json=body, headers={"Idempotency-Key": "call-1"})
        again = api.post(url, json=body, headers={"Idempotency-Key": "call-1"})
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
        other = api.post(url, json={"text": "Something else."}, headers={"Idempotency-Key": "call-1"})
        assert other.status_code == 422 and other.json()["type"] == "/api/v1/problems/idempotency-mismatch"
        notes = [m for m in api.get(f"/api/v1/tickets/{number}").json()["messages"] if m["internal"]]
    assert [m["body"] for m in notes] == ["Called, no answer."]


def test_the_spec_and_the_docs_are_served(site: Site) -> None:
    with site.client() as anonymous:
        spec = anonymous.get("/api/v1/openapi.json").json()
        assert {"/api/v1/tickets", "/api/v1/tickets/{ticket_id}/notes", "/api/v1/tickets/{ticket_id}/commands",
                "/api/v1/people/{address}"} <= set(spec["paths"])
        docs = anonymous.get("/api/v1/docs")
        assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
        assert "script-src 'self'" in docs.headers["content-security-policy"]


def test_status_is_for_staff(site: Site) -> None:
    with site.client(site.token(ALICE)) as staff:
        status = staff.get("/api/v1/status")
        assert status.status_code == 200
        assert status.json()["daemon"] == "running" and status.json()["errors"] == []
    with site.client(site.token(BOB)) as requester:
        assert requester.get("/api/v1/status").status_code == 403


def test_notes_posted_at_once_all_land_once_and_a_bad_one_fails_alone(site: Site) -> None:
    """Writes queued together share one commit (SQLite): each still gets its own answer, a
    refused one takes nothing of the others with it, and a key retried at the same moment
    still changes the ticket once."""
    from concurrent.futures import ThreadPoolExecutor

    number = site.mail(BOB, "The VPN drops every hour.", subject="VPN drops")
    token = site.token(ALICE)

    def post(i: int) -> tuple[int, int, bool]:
        with site.client(token) as api:
            target = 999_999 if i % 8 == 7 else number  # every eighth to a ticket that does not exist
            key = {"Idempotency-Key": "same-retry"} if i in (28, 29, 30) else {}
            text = "Retried note." if key else f"Note {i}."
            r = api.post(f"/api/v1/tickets/{target}/notes", json={"text": text}, headers=key)
            return i, r.status_code, r.headers.get("idempotent-replayed") == "true"

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(post, range(32)))
    assert sorted(i for i, status, _ in answers if status == 404) == [7, 15, 23, 31]
    assert all(status == 201 for i, status, _ in answers if i % 8 != 7)
    assert sum(1 for i, _, replayed in answers if i in (28, 29, 30) and not replayed) == 1
    with site.client(token) as api:
        bodies = [m["body"] for m in api.get(f"/api/v1/tickets/{number}").json()["messages"] if m["internal"]]
    expected = {f"Note {i}." for i in range(28) if i % 8 != 7} | {"Retried note."}
    assert sorted(bodies) == sorted(expected)  # each once
