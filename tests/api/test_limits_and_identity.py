"""A token over its rate limit gets 429 with Retry-After; and the same change by mail, by
the CLI and by the API leaves the same history (but the source) and the same alert mail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import ALICE, BOB, Site, start_site
from tests.daemon.conftest import wait_until
from tests.outbox.sink import HEADERS_DMARC_PASS

PER_MAIL = ("Message-ID", "In-Reply-To", "References", "Date", "Reply-To")


@pytest.fixture(scope="module")
def strict_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site, sink = start_site(tmp_path_factory.mktemp("strict"), extra="\n[api]\nrate_limit = 5\n\n[alerts]\nattach_max_bytes = 100\n")
    try:
        yield site
    finally:
        site.daemon.kill9()
        sink.stop()


def test_a_token_over_its_rate_limit_is_told_when_to_come_back(strict_site: Site) -> None:
    busy, other = strict_site.token(ALICE), strict_site.token(ALICE)
    with strict_site.client(busy) as api:
        answers = [api.get("/api/v1/tickets") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[0].headers["x-ratelimit-limit"] == "5" and answers[4].headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(answers[5].headers["retry-after"]) <= 60
    assert answers[5].json()["type"] == "/api/v1/problems/rate-limited"
    with strict_site.client(other) as api:  # the limit is per token, not per site
        assert api.get("/api/v1/tickets").status_code == 200


def _alert_mails(outbox: list[dict], ticket: int) -> list[dict]:
    out = []
    rows = [o for o in outbox if o["kind"] == "alert" and o["ticket"] == ticket]
    for o in sorted(rows, key=lambda o: o["recipients"]):
        head, _, body = o["message"].partition("\r\n\r\n")
        headers = [h for h in re.split(r"\r\n(?![ \t])", head) if h.split(":")[0] not in PER_MAIL]
        # a link is signed per ticket and recipient, and dated: equal in shape, not in bytes
        out.append({"to": o["recipients"], "headers": sorted(headers),
                    "body": re.sub(r"\?k=\S+", "?k=KEY", body)})
    return out


def test_mail_cli_and_api_make_the_same_change(tmp_path: Path, site: Site) -> None:
    from tests.outbox.sink import make_desk

    text = "status: resolved\npriority: urgent\n\nThe toner was empty."
    subject = "Identity check"
    by_api = site.mail(BOB, "Printer prints blank pages.", subject=subject)
    before = [o["id"] for o in site.outbox("alert") if o["ticket"] == by_api]
    desks = []
    for name in ("mail", "cli"):
        (tmp_path / name).mkdir()
        gen = make_desk(tmp_path / name)
        desk = next(gen)
        desks.append((gen, desk))
        desk.mail(BOB, "Printer prints blank pages.", subject=subject)
    (_, by_mail), (_, by_cli) = desks
    by_mail.mail(ALICE, text, name="Alice Admin", subject=f"Re: [Helpdesk #1] {subject}", headers=HEADERS_DMARC_PASS)
    assert by_cli.gw.cli("ticket", "command", "1", "--as", ALICE, text).exit_code == 0
    with site.client(site.token(ALICE)) as api:
        assert api.post(f"/api/v1/tickets/{by_api}/commands", json={"text": text}).status_code == 200
    wait_until(lambda: [o for o in site.outbox("alert") if o["ticket"] == by_api and o["id"] not in before],
               what="the API change's alert")

    def history(gw: object, number: int) -> tuple[list[tuple], set[str]]:
        events = [e for e in gw.ticket(number)["events"] if e["actor"] == ALICE]  # type: ignore[attr-defined]
        return [(e["field"], e["old"], e["new"]) for e in events], {e["source"] for e in events}

    changes = [history(by_mail.gw, 1), history(by_cli.gw, 1), history(site.gw, by_api)]
    assert changes[0][0] == changes[1][0] == changes[2][0] != []
    assert [c[1] for c in changes] == [{"mail"}, {"cli"}, {"api"}]
    mails = [m for m in _alert_mails(site.outbox(), by_api) if "The toner was empty." in m["body"]]
    for _, desk in desks:
        theirs = [m for m in _alert_mails(desk.gw.outbox(), 1) if "The toner was empty." in m["body"]]
        assert _numbered(theirs, 1) == _numbered(mails, by_api) and theirs
    for gen, _ in desks:
        gen.close()


def _numbered(mails: list[dict], number: int) -> list[dict]:
    """The same mail about ticket #1 and about ticket #N: the number and the ports aside."""
    def norm(text: str) -> str:
        return re.sub(r"127\.0\.0\.1:\d+", "HOST", text.replace(f"#{number}", "#N").replace(f"/t/{number}?", "/t/N?")
                      .replace(f"X-Mailgate-Ticket: {number}", "X-Mailgate-Ticket: N"))
    return [{"to": m["to"], "headers": sorted(norm(h) for h in m["headers"]), "body": norm(m["body"])} for m in mails]


def test_a_file_too_large_to_attach_comes_as_the_recipients_own_link(strict_site: Site) -> None:
    import base64

    site = strict_site
    number = site.mail(BOB, "Send me the manual please.", subject="Manual")
    manual, secret = b"%PDF manual " * 100, b"internal only " * 100
    with site.client(site.token(ALICE)) as api:
        for how, name, data in (("replies", "manual.pdf", manual), ("notes", "secret.txt", secret)):
            answer = api.post(f"/api/v1/tickets/{number}/{how}", json={"text": f"{name} attached", "attachments": [
                {"filename": name, "content_type": "application/pdf", "content_base64": base64.b64encode(data).decode()}]})
            assert answer.status_code == 201, answer.text
        files = {a["filename"]: a["id"] for m in api.get(f"/api/v1/tickets/{number}").json()["messages"]
                 for a in m["attachments"]}
    [alert] = wait_until(lambda: [o for o in site.outbox("alert") if o["ticket"] == number
                                  and BOB in o["recipients"] and "manual.pdf" in o["message"]], what="the alert")
    link = re.search(rf"manual\.pdf \(1200 bytes, too large to attach\): ({re.escape(site.url)}/t/{number}/"
                     rf"attachments/\d+\?k=\S+)", alert["message"]).group(1)
    with site.client() as anyone:
        got = anyone.get(link)
        assert got.status_code == 200 and got.content == manual
        # the same key for the note's file: Bob's view of the ticket has no internal note
        assert anyone.get(link.replace(f"/attachments/{files['manual.pdf']}?",
                                       f"/attachments/{files['secret.txt']}?")).status_code == 404
        assert anyone.get(link.replace(f"/t/{number}/", f"/t/{number + 1}/")).status_code == 404
