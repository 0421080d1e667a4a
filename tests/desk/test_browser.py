"""A technician and a requester in a real browser: sign in by link, the queue shows a
ticket that just came in by SMTP, a note and a reply from the page (the reply is mailed like
an email reply by the same person), the status changed with a form control, the requester's
link showing their ticket and not the note, an edited URL showing nothing, the phone layout."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from tests.api.conftest import ALICE, Site
from tests.daemon.conftest import wait_until
from tests.desk.conftest import DESKTOP, PHONE, sign_in
from tests.outbox.sink import HEADERS_DMARC_PASS

DORA, ERIC = "dora@customer.example", "eric@customer.example"
PER_MAIL = ("Message-ID", "In-Reply-To", "References", "Date", "Reply-To", "Subject", "To", "X-Mailgate-Ticket")


def _headers(site: Site, outbox_row: dict) -> dict[str, str]:
    mail = email.message_from_string(outbox_row["message"], policy=email.policy.default)
    return {k: str(v) for k, v in mail.items() if k not in PER_MAIL and not k.startswith("Content")
            and k != "MIME-Version"}


def test_a_technician_works_a_ticket_from_the_page(desk_site: Site, browser: object, shots: Path) -> None:
    site = desk_site
    number = site.mail(DORA, "The scanner on floor 2 jams on every page.", subject="Scanner jams")
    other = site.mail(ERIC, "My account is locked.", subject="Locked out")
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[attr-defined]
    sign_in(site, page, ALICE)
    row = page.locator("table.tickets tbody tr", has_text="Scanner jams")
    assert row.count() == 1 and "unowned" in row.inner_text()
    page.screenshot(path=str(shots / "queue-desktop.png"), full_page=True)
    page.keyboard.press("j")  # the keyboard: j moves to the first row, o opens it
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    page.goto(f"{site.url}/tickets/{number}")
    assert "The scanner on floor 2 jams" in page.locator("article.message").first.inner_text()

    page.fill("#note-text", "Dora's unit is out of warranty; order rollers.")
    page.get_by_role("button", name="Add note").click()
    assert "Internal note added" in page.get_by_role("status").inner_text()
    page.fill("#reply-text", "We have ordered new rollers; a technician comes on Monday.")
    page.get_by_role("button", name="Send reply").click()
    assert "Reply sent" in page.get_by_role("status").inner_text()

    page.select_option("#ctl-status", "stalled")
    assert page.locator("#ctl-status-cmd").inner_text() == "status: stalled"  # the control says its command
    page.select_option("#ctl-owner", "me")
    page.get_by_role("button", name="Apply").click()
    notice = page.get_by_role("status").inner_text()
    assert "status: new -> stalled" in notice and "owner: - -> alice@example.com" in notice
    page.screenshot(path=str(shots / "ticket-desktop.png"), full_page=True)
    history = page.locator("ol.history").inner_text()
    assert "via web" in history and "status: new → stalled" in history

    # the reply went to the requester as an email reply by Alice would: compare with one
    web_reply = wait_until(lambda: [o for o in site.outbox("alert") if o["ticket"] == number
                                    and "We have ordered new rollers" in o["message"]], what="the web reply's mail")
    assert [o["recipients"] for o in web_reply] == [[DORA]]
    site.mail(ALICE, "Please restart the laptop.", subject=f"Re: [Helpdesk #{other}] Locked out", name="Alice Admin",
              headers="".join(h + "\r\n" for h in HEADERS_DMARC_PASS))
    by_mail = wait_until(lambda: [o for o in site.outbox("alert") if o["ticket"] == other
                                  and "restart the laptop" in o["message"]], what="the mail reply's mail")
    assert _headers(site, web_reply[0]) == _headers(site, by_mail[0])
    assert "Dora's unit is out of warranty" not in web_reply[0]["message"]


def test_the_requester_sees_their_ticket_and_nothing_else(desk_site: Site, browser: object) -> None:
    site = desk_site
    mine = site.mail("fay@customer.example", "The projector shows no picture.", subject="Projector")
    theirs = site.mail("gus@customer.example", "Private: salary question.", subject="Salary")
    with site.client(site.token(ALICE)) as api:
        api.post(f"/api/v1/tickets/{mine}/notes", json={"text": "Fay broke it last time too."})
    ack = wait_until(lambda: [o for o in site.outbox("ack") if o["ticket"] == mine], what="Fay's acknowledgement")[0]
    link = re.search(rf"{re.escape(site.url)}/t/{mine}\?k=\S+", ack["message"]).group(0)
    page = browser.new_page(viewport=DESKTOP)  # type: ignore[attr-defined]
    page.goto(link)
    page.wait_for_url(f"{site.url}/tickets/{mine}")
    body = page.locator("main").inner_text()
    assert "The projector shows no picture." in body and "Fay broke it" not in body
    assert page.locator("#note-text").count() == 0 and page.locator("#ctl-owner").count() == 0
    page.fill("#reply-text", "It works again after a restart.")
    page.get_by_role("button", name="Send reply").click()
    assert "Reply sent" in page.get_by_role("status").inner_text()
    for n in (theirs, theirs + 1, 1):
        response = page.goto(f"{site.url}/tickets/{n}")
        assert response.status == 404 and "Salary" not in page.content()
    assert page.goto(f"{site.url}/admin/outbox").status == 403


def test_the_phone_layout_has_no_horizontal_scroll(desk_site: Site, browser: object, shots: Path) -> None:
    site = desk_site
    number = site.mail(DORA, "A very long line without spaces: " + "x" * 300, subject="Phone " + "long " * 20)
    page = browser.new_page(viewport=PHONE)  # type: ignore[attr-defined]
    sign_in(site, page, ALICE)
    for path, name in (("/", "queue-phone.png"), (f"/tickets/{number}", "ticket-phone.png")):
        page.goto(f"{site.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path}: {width}px wide on a {PHONE['width']}px phone"
        page.screenshot(path=str(shots / name), full_page=True)
