"""Incidents: made by email commands or by a critical alert, on the timeline with their
systems and engineer; the systems' subscribers get one mail per change, within their
hourly limit; the monthly report mail carries its chart as a real PNG, once per due time."""

from __future__ import annotations

import email
import email.policy
import io
import json
from pathlib import Path

from PIL import Image

from mailgate.reports.timeline import timeline_svg
from tests.reports.conftest import ALICE, Desk, build_fixture_store, mail, make_desk


def incidents(desk: Desk, *args: str) -> list[dict]:
    result = desk.gw.cli("report", "incidents", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["rows"]


def told(desk: Desk) -> list[tuple[str, str]]:
    """(recipient, first line of the text) of each incident mail so far."""
    out = []
    for o in desk.gw.outbox():
        if o["kind"] == "incident":
            body = email.message_from_string(o["message"], policy=email.policy.default).get_body().get_content()
            out.append((o["recipients"][0], body.strip().splitlines()[0]))
    return out


INCIDENT_MAIL = "incident: yes\nsystems: +vpn +mail\nimpact: No VPN for remote staff\nowner: me\n\nOn it."


def test_an_incident_by_email_is_on_the_timeline(desk: Desk) -> None:
    desk.at("2024-02-15T11:00:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", INCIDENT_MAIL, "i1@example.com"))
    [alert, mine] = incidents(desk, "--from", "2024-02-09", "--to", "2024-02-15")
    assert (mine["ticket"], mine["systems"], mine["owner"], mine["impact"]) == (
        4, ["mail", "vpn"], ALICE, "No VPN for remote staff")
    assert (mine["start"], mine["end"], mine["kind"]) == ("2024-02-15T10:00:00Z", None, "manual")
    assert [o["owner"] for o in mine["owners"]] == [None, ALICE]
    # the CRITICAL alert made one by itself, its system found from the fingerprint
    assert (alert["ticket"], alert["kind"], alert["systems"], alert["start"]) == (3, "alert", ["vpn"],
                                                                                 "2024-02-10T12:00:00Z")
    desk.at("2024-02-16T09:00:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", "status: resolved", "i2@x"))
    [_, ended] = incidents(desk, "--from", "2024-02-09", "--to", "2024-02-16")
    assert ended["end"] == "2024-02-16T09:00:00Z" and ended["status"] == "resolved"
    assert incidents(desk, "--from", "2024-02-17", "--to", "2024-02-18")[0]["ticket"] == 3  # #4 ended before
    desk.at("2024-02-20T00:00:00")
    assert [r["ticket"] for r in incidents(desk)] == [3]  # the last 7 days: #3 is still open
    picture = timeline_svg([ended], desk.env.now().replace(day=9), desk.env.now())
    assert 'href="/tickets/4"' in picture and 'class="ended"' in picture


def test_subscribers_get_one_mail_per_change(desk: Desk) -> None:
    assert desk.at("2024-02-15T10:30:00").job("incident-news") == "2 incident mail(s)"  # the alert's, to vpn
    desk.at("2024-02-15T11:00:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", INCIDENT_MAIL, "i1@example.com"))
    assert desk.job("incident-news") == "3 incident mail(s)"  # one mail for the four command lines
    assert desk.job("incident-news") == "0 incident mail(s)"  # never twice
    desk.at("2024-02-15T13:00:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", "systems: -mail", "i3@x"))
    assert desk.job("incident-news") == "3 incident mail(s)"  # the list hears that mail is no longer affected
    desk.at("2024-02-16T09:00:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", "status: resolved", "i2@x"))
    assert desk.job("incident-news") == "2 incident mail(s)"
    assert told(desk) == [
        ("sub1@example.com", "Incident #3 opened: Alert: vpn-gw1"),
        ("sub2@example.com", "Incident #3 opened: Alert: vpn-gw1"),
        ("mail-users@example.com", "Incident #4 opened: VPN slow"),
        ("sub1@example.com", "Incident #4 opened: VPN slow"),
        ("sub2@example.com", "Incident #4 opened: VPN slow"),
        ("mail-users@example.com", "Incident #4 updated: VPN slow"),
        ("sub1@example.com", "Incident #4 updated: VPN slow"),
        ("sub2@example.com", "Incident #4 updated: VPN slow"),
        ("sub1@example.com", "Incident #4 is over: VPN slow"),
        ("sub2@example.com", "Incident #4 is over: VPN slow"),
    ]


def test_subscriber_mails_are_rate_limited(tmp_path: Path) -> None:
    desk = build_fixture_store(make_desk(tmp_path, "\n[incidents]\nmails_per_hour = 2\n"))
    desk.at("2024-02-15T10:30:00").job("incident-news")
    desk.at("2024-02-15T11:00:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", INCIDENT_MAIL, "i1@example.com"))
    desk.job("incident-news")
    desk.at("2024-02-15T11:10:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", "status: resolved", "i2@x"))
    desk.job("incident-news")  # sub1 and sub2 had two in the hour: not a third
    assert [r for r, _ in told(desk)].count("sub1@example.com") == 2
    desk.at("2024-02-15T13:00:00").deliver(mail(ALICE, "Re: [Helpdesk #4] VPN slow", "status: open", "i4@x"))
    desk.job("incident-news")  # an hour later they hear again
    assert [r for r, _ in told(desk)].count("sub1@example.com") == 3


def test_the_monthly_report_mail_carries_a_real_png_once_per_due_time(desk: Desk) -> None:
    assert desk.at("2024-04-01T05:00:00").job("report-mail") == "1 report mail(s)"  # the one due on 1 March
    assert desk.job("report-mail") == "0 report mail(s)"
    assert desk.at("2024-04-01T06:30:00").job("report-mail") == "1 report mail(s)"  # 08:30 in Berlin: April's
    assert desk.at("2024-04-20T06:30:00").job("report-mail") == "0 report mail(s)"
    mails = [o for o in desk.gw.outbox() if o["kind"] == "report"]
    assert [o["recipients"] for o in mails] == [["boss@example.com"], ["boss@example.com"]]
    msg = email.message_from_string(mails[1]["message"], policy=email.policy.default)
    assert "monthly report 2024-01 to 2024-03" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert "2024-02  all    3" in text
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "image/png"]
    image = Image.open(io.BytesIO(part.get_content()))
    image.load()
    assert image.format == "PNG" and image.size == (1520, 640)
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=100_000)}
    assert (0x3B, 0x6E, 0xA8) in colours and (0x6A, 0xA8, 0x4F) in colours  # created and resolved bars
