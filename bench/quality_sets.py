"""The reply-trimming reference sets (../shared/corpus/*/expected.json with "visible_text"),
measured the way a user meets them.

Each body becomes a mail (text/plain or text/html, as the file is) that replies to one
ticket; the mails go through the product's own path (`mailgate import`, the real pipeline
and stores) and the visible text is read back with `mailgate ticket show --json`. The same
mails are also cleaned directly (parse_message, then clean_text with the inputs the clean
stage passes), and the two must agree: a difference would mean another stage changed the
text, and is reported.

Mailspring is GPL-3.0 and all sets belong to their authors: the files are read by path
from the corpus folder and written only into the throw-away gateway under bench/work/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import harness as h
from click.testing import CliRunner

from mailgate.clean import html_to_text
from mailgate.cli import cli
from mailgate.parse import parse_message

OPENER_ID = "ticket-opener@quality.bench.example"


@dataclass(frozen=True)
class RefCase:
    folder: str
    name: str  # "mails/<file>"
    path: Path
    expected: str
    source: str  # "asserted" | "computed"
    expected_html: str | None  # the reference's pinned HTML output, when it has one

    @property
    def is_html(self) -> bool:
        return self.path.suffix.lower() in (".html", ".htm")

    @property
    def message_id(self) -> str:
        return f"{self.folder}.{Path(self.name).stem}@quality.bench.example"

    def alternatives(self) -> list[str]:
        """The expected text, and the reference's pinned HTML rendered by mailgate's own
        html_to_text (SOURCE.txt: "a project that renders HTML differently should compare
        against expected_html/"): links then read "label (url)" on both sides."""
        out = [self.expected]
        if self.expected_html is not None:
            out.append(html_to_text(self.expected_html))
        return out


def _pinned_html(base: Path, prov: dict) -> str | None:
    value = prov.get("asserted_html")
    if not value:
        return None
    path = base / value
    if value.endswith((".html", ".htm")) and path.is_file():
        return path.read_text(encoding="utf-8", errors="replace")
    return value


def reference_sets(corpus: Path) -> dict[str, list[RefCase]]:
    """Every corpus folder whose expected.json maps "mails/<file>" to a visible_text."""
    found: dict[str, list[RefCase]] = {}
    for exp_path in sorted(corpus.glob("*/expected.json")):
        expected = json.loads(exp_path.read_text())
        if not expected or not all(isinstance(v, dict) and "visible_text" in v for v in expected.values()):
            continue
        base = exp_path.parent
        prov_path = base / "provenance.json"
        provenance = json.loads(prov_path.read_text()) if prov_path.is_file() else {}
        found[base.name] = [
            RefCase(base.name, name, base / name, e["visible_text"], e.get("source", ""),
                    _pinned_html(base, provenance.get(name, {})))
            for name, e in sorted(expected.items())]
    return found


def read_body(case: RefCase) -> str:
    return case.path.read_text(encoding="utf-8", errors="replace")


def as_reply(case: RefCase) -> bytes:
    """The body as a customer's reply to the benchmark ticket."""
    msg = EmailMessage()
    msg["From"] = "Customer <customer@quality.bench.example>"
    msg["To"] = "helpdesk@example.com"
    msg["Subject"] = "Re: Printer on the third floor"
    msg["Message-ID"] = f"<{case.message_id}>"
    msg["In-Reply-To"] = f"<{OPENER_ID}>"
    msg["References"] = f"<{OPENER_ID}>"
    msg.set_content(read_body(case), subtype="html" if case.is_html else "plain", charset="utf-8",
                    cte="base64")
    return bytes(msg)


def _opener() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Customer <customer@quality.bench.example>"
    msg["To"] = "helpdesk@example.com"
    msg["Subject"] = "Printer on the third floor"
    msg["Message-ID"] = f"<{OPENER_ID}>"
    msg.set_content("The printer on the third floor does not print.\n")
    return bytes(msg)


def through_product(cases: list[RefCase]) -> dict[str, str | None]:
    """message id → the visible text `mailgate ticket show --json` gives (None: not stored
    on the ticket)."""
    gw = h.WORK / "gw-quality"
    config = h.make_gateway(gw)
    mail = gw / "mail"
    mail.mkdir()
    (mail / "0000-opener.eml").write_bytes(_opener())
    for i, case in enumerate(cases, 1):
        (mail / f"{i:04d}.eml").write_bytes(as_reply(case))
    runner = CliRunner()
    imported = runner.invoke(cli, ["--config", str(config), "import", str(mail), "--workers", "1", "--json"])
    if imported.exit_code:
        raise RuntimeError(f"mailgate import failed: {imported.output}")
    shown = runner.invoke(cli, ["--config", str(config), "ticket", "show", "1", "--json"])
    if shown.exit_code:
        raise RuntimeError(f"mailgate ticket show failed: {shown.output}")
    bodies = {m["message_id"].strip("<>"): m["body"] for m in json.loads(shown.stdout)["messages"]}
    return {c.message_id: bodies.get(c.message_id) for c in cases}


def parsed_inputs(case: RefCase) -> tuple[str, str]:
    """(text_plain, text_html) as the clean stage receives them."""
    p = parse_message(as_reply(case))
    return p.text_plain, p.text_html
