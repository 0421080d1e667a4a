"""The web desk in a real browser: Debian's chromium driven by Playwright (executable_path,
never a downloaded browser), headless, against a real `mailgate serve` on a free port."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Site, start_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the flags a closed network needs: no background connections Chromium would try at start
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def desk_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site, sink = start_site(tmp_path_factory.mktemp("desk"))
    try:
        yield site
    finally:
        site.daemon.kill9()
        sink.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make debs installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: MAILGATE_SCREENSHOTS (make docs-screenshots sets docs/screenshots)."""
    folder = Path(os.environ.get("MAILGATE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(site: Site, page: object, address: str) -> None:
    """The first sign-in as a newcomer does it: a link printed by `mailgate login-link`."""
    result = site.gw.cli("login-link", address)
    assert result.exit_code == 0, result.output
    link = re.search(r"http://\S+/login/\S+", result.stdout).group(0)
    page.goto(link)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(f"{site.url}/")  # type: ignore[attr-defined]
