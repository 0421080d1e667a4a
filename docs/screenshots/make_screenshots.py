"""Make docs/screenshots/: the incident timeline and the monthly report page, from a store
built through the real pipeline with a controlled clock, served by `mailgate web`, signed in
with a login link and shot with Debian's chromium (headless).

    .venv/bin/python docs/screenshots/make_screenshots.py
"""

from __future__ import annotations

import random
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
WORK = ROOT / "bench" / "work" / "screens"
MAILGATE = Path(sys.executable).with_name("mailgate")

EXTRA = """
[listen.http]
port = {port}

[[person]]
address = "tom@example.com"
name = "Tom Tech"
role = "technician"

[[system]]
name = "dns"
subscribers = ["it-leads@example.com"]
"""  # the reports' test desk (tests/reports/conftest.py) has Ada, the vpn and mail systems


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(port: int) -> Path:
    import shutil

    from tests.reports.conftest import Desk, mail, make_desk

    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    desk: Desk = make_desk(WORK, EXTRA.format(port=port))
    rng = random.Random(4)
    start = datetime(2023, 7, 1, 8, tzinfo=UTC)
    n = 0
    for day in range(365):
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            n += 1
            when = start + timedelta(days=day, hours=rng.uniform(0, 10))
            desk.clock.now = when
            queue = rng.choice(("helpdesk@example.com", "ops@example.com"))
            desk.deliver(mail(f"user{rng.randrange(40)}@customer.example", f"Request {n}", "Something broke.",
                              f"s{n}@x", to=queue), to=queue)
            if rng.random() < 0.85:
                desk.clock.now = when + timedelta(hours=rng.uniform(0.5, 30))
                desk.act("command", n, "ada@example.com", "status: resolved" if rng.random() < 0.9 else "owner: me")
                if rng.random() < 0.2:
                    desk.clock.now += timedelta(days=rng.uniform(1, 40))
                    desk.act("command", n, "ada@example.com", "status: resolved")
    incidents = [("VPN gateway down", "+vpn", "Remote staff cannot connect", -6.5, -5.8, "ada@example.com"),
                 ("Mail delivery delayed", "+mail", "Outgoing mail queued up to 2 hours", -4.2, -3.1, "tom@example.com"),
                 ("DNS resolver timeouts", "+dns +vpn", "Some sites do not load", -2.0, None, "tom@example.com"),
                 ("Mail quota errors", "+mail", "Mailboxes over 2 GB reject mail", -0.8, None, "ada@example.com")]
    end = datetime(2024, 6, 30, 12, tzinfo=UTC)
    for i, (subject, systems, impact, begin, finish, owner) in enumerate(incidents):
        n += 1
        desk.clock.now = end + timedelta(days=begin)
        desk.deliver(mail("monitor@ops.example", subject, "Reported by the team.", f"inc{i}@x"))
        desk.clock.now += timedelta(minutes=20)
        desk.deliver(mail(owner, f"Re: [Helpdesk #{n}] {subject}",
                          f"incident: yes\nsystems: {systems}\nimpact: {impact}\nowner: me", f"inc{i}b@x"))
        if finish is not None:
            desk.clock.now = end + timedelta(days=finish)
            desk.deliver(mail(owner, f"Re: [Helpdesk #{n}] {subject}", "status: resolved", f"inc{i}c@x"))
    return WORK / "mailgate.toml"


def shoot(html: str, name: str, width: int, height: int, base: str) -> None:
    """The page as served, saved and shot; <base> makes its stylesheet come from the server."""
    page = WORK / f"{name}.html"
    page.write_text(re.sub(r"<head([^>]*)>", lambda m: f'<head{m.group(1)}><base href="{base}/">', html, count=1))
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={width},{height}", f"--screenshot={OUT / (name + '.png')}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)


def main() -> None:
    port = free_port()
    config = build(port)
    web = subprocess.Popen([str(MAILGATE), "--config", str(config), "web"], cwd=WORK,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        link = subprocess.run([str(MAILGATE), "--config", str(config), "login-link", "ada@example.com"],
                              capture_output=True, text=True, check=True, cwd=WORK).stdout.strip()
        with httpx.Client(base_url=base, follow_redirects=False) as browser:
            confirm = browser.get(link)
            csrf = re.search(r'name="csrf" value="([^"]+)"', confirm.text).group(1)  # type: ignore[union-attr]
            browser.post(link, data={"csrf": csrf})
            timeline = browser.get("/reports/incidents", params={"start": "2024-06-23", "end": "2024-06-30"}).text
            monthly = browser.get("/reports/monthly", params={"start": "2023-07", "end": "2024-06"}).text
            chart = browser.get("/reports/monthly.png", params={"start": "2023-07", "end": "2024-06"}).content
        shoot(timeline, "incident-timeline", 960, 640, base)
        shoot(monthly, "monthly-report", 960, 1000, base)
        (OUT / "monthly-chart.png").write_bytes(chart)
    finally:
        web.terminate()
        web.wait(timeout=20)


if __name__ == "__main__":
    main()
