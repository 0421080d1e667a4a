"""Sign-in by a mailed link: single use, short-lived, one click (a POST) to use it, CSRF on
every form, an HttpOnly session cookie; and the per-recipient links in mail."""

from __future__ import annotations

import re

from tests.api.conftest import ALICE, BOB, Site
from tests.daemon.conftest import wait_until

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/login/(mgl_\S+))")


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, page
    return m.group(1)


def _mailed_link(site: Site, address: str, before: int) -> str:
    mails = wait_until(lambda: [o for o in site.outbox("login-link") if o["id"] > before and address in o["recipients"]],
                       what=f"a sign-in mail to {address}")
    m = LINK.search(mails[-1]["message"])
    assert m, mails[-1]["message"]
    return m.group(1)


def _last_outbox(site: Site) -> int:
    return max((o["id"] for o in site.outbox()), default=0)


def test_sign_in_by_mail_link_once(site: Site) -> None:
    with site.client(follow_redirects=False) as browser:
        form = browser.get("/login")
        assert form.status_code == 200 and "mailgate_csrf" in browser.cookies
        assert browser.post("/login", data={"address": ALICE}).status_code == 403  # no CSRF token: refused
        before = _last_outbox(site)
        sent = browser.post("/login", data={"address": ALICE, "csrf": _csrf(form.text)})
        assert sent.status_code == 200 and "a sign-in link is on its way" in sent.text
        link = _mailed_link(site, ALICE, before)
        confirm = browser.get(link)  # a mail scanner fetching the link uses nothing up
        assert confirm.status_code == 200 and "Sign in to" in confirm.text
        assert browser.get(link).status_code == 200
        signed = browser.post(link, data={"csrf": _csrf(confirm.text)})
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = signed.headers["set-cookie"]
        assert "mailgate_session=mgs_" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        again = browser.post(link, data={"csrf": _csrf(confirm.text)})
        assert again.status_code == 410 and "unknown, used or expired" in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(site: Site) -> None:
    with site.client() as browser:
        form = browser.get("/login")
        before = _last_outbox(site)
        sent = browser.post("/login", data={"address": "nobody@nowhere.example", "csrf": _csrf(form.text)})
        assert sent.status_code == 200 and "a sign-in link is on its way" in sent.text
    assert [o for o in site.outbox("login-link") if o["id"] > before] == []


def test_an_expired_link_does_not_sign_in(site: Site) -> None:
    printed = site.gw.cli("login-link", ALICE)
    assert printed.exit_code == 0
    link = LINK.search(printed.stdout).group(1)
    with site.db() as c:
        c.execute("UPDATE login_link SET expires_at = '2000-01-01 00:00:00' WHERE prefix = ?",
                  (link.rsplit("/", 1)[1].split("_")[1],))
    with site.client(follow_redirects=False) as browser:
        page = browser.get(link)
        assert page.status_code == 410 and "unknown, used or expired" in page.text


def test_the_link_in_an_acknowledgement_opens_that_ticket_only(site: Site) -> None:
    number = site.mail(BOB, "Where is my order?", subject="Order")
    ack = wait_until(lambda: [o for o in site.outbox("ack") if o["ticket"] == number], what="the acknowledgement")[0]
    link = re.search(rf"({re.escape(site.url)}/t/{number}\?k=\S+)", ack["message"]).group(1)
    with site.client(follow_redirects=False) as browser:
        opened = browser.get(link)
        assert opened.status_code == 303 and opened.headers["location"] == f"/tickets/{number}"
        assert "mailgate_session=" in opened.headers["set-cookie"]
    forged = link.replace(f"/t/{number}?", f"/t/{number + 1}?")
    with site.client(follow_redirects=False) as browser:
        assert browser.get(forged).status_code == 410  # another ticket's number: the signature fails


def _signed_in(site: Site, address: str, browser: object) -> None:
    link = LINK.search(site.gw.cli("login-link", address).stdout).group(1)
    confirm = browser.get(link)  # type: ignore[attr-defined]
    assert browser.post(link, data={"csrf": _csrf(confirm.text)}).status_code == 303  # type: ignore[attr-defined]


def test_a_person_makes_and_revokes_their_own_api_token_on_the_web(site: Site) -> None:
    with site.client(follow_redirects=False) as browser:
        _signed_in(site, ALICE, browser)
        page = browser.get("/tokens")
        made = browser.post("/tokens", data={"csrf": _csrf(page.text), "name": "chat-bot"})
        token = re.search(r'id="new-token">(mgt_[^<]+)<', made.text).group(1)
        with site.client(token) as api:
            assert api.get("/api/v1/tickets").status_code == 200
        number = re.search(r"Token #(\d+)", made.text).group(1)
        someone_else = browser.post("/tokens", data={"csrf": _csrf(made.text), "address": BOB})
        assert someone_else.status_code == 403  # only admins make tokens for others
        browser.post(f"/tokens/{number}/revoke", data={"csrf": _csrf(made.text)})
        with site.client(token) as api:
            assert api.get("/api/v1/tickets").status_code == 401
