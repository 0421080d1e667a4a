"""Properties of clean_text on every mail of every reference corpus (../shared/corpus):
visible + quoted + signature together hold every line of the original, and the visible text
is never empty for a mail with text. The corpora are read by path, never copied (some are
GPL or AGPL); the scores against their expected outputs are bench/quality.py's job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailgate.clean import body_lines, clean_text
from mailgate.parse import parse_message

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the shared reference corpora are not here ({CORPUS})")

RAW = ("*.eml", "*.box")
TEXT = ("*.txt",)
HTML = ("*.html", "*.htm")
# Files that are expected outputs or notes, not mail.
NOT_MAIL = ("expected", "stripped", "README", "SOURCE", "LICENSE", "EXPECTATIONS", "ASSERTIONS")


def _folders() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


def _mails(folder: Path) -> Iterator[tuple[str, str | None, str | None]]:
    """(name, plain, html) for every mail in a corpus folder."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if any(marker in path.name for marker in NOT_MAIL) or "expected_html" in path.parts:
            continue
        name = str(path.relative_to(folder))
        if path.match(RAW[0]) or path.match(RAW[1]) or path.parent.name == "ticket_trigger":
            try:
                parsed = parse_message(path.read_bytes())
            except ValueError:
                continue  # refused by the parser with a reason: nothing for clean_text
            yield name, parsed.text_plain, parsed.text_html
        elif any(path.match(g) for g in HTML):
            yield name, None, path.read_text(encoding="utf-8", errors="replace")
        elif any(path.match(g) for g in TEXT) or "signature" in path.parts:
            yield name, path.read_text(encoding="utf-8", errors="replace"), None


def _norm(line: str) -> str:
    return " ".join(line.split())


def _unheld(plain: str | None, html: str | None) -> list[str]:
    """Lines of the original that are in none of the three parts (a line may be split in
    two at one point, as a reply marker or a glued "—" delimiter splits it)."""
    ct = clean_text(plain, html)
    held = {_norm(x) for part in (ct.visible, ct.quoted, ct.signature) for x in part.split("\n")}
    missing = []
    for line in body_lines(plain, html)[0]:
        want = _norm(line)
        if not want or want in held:
            continue
        words = want.split(" ")
        if not any(" ".join(words[:k]) in held and " ".join(words[k:]) in held for k in range(1, len(words))):
            missing.append(want)
    return missing


@pytest.mark.parametrize("folder", _folders())
def test_every_line_is_kept_and_visible_is_never_empty(folder: str) -> None:
    lost, empty, seen = [], [], 0
    for name, plain, html in _mails(CORPUS / folder):
        seen += 1
        missing = _unheld(plain, html)
        if missing:
            lost.append((name, missing[:3]))
        has_text = any(line.strip() for line in body_lines(plain, html)[0])
        if has_text and not clean_text(plain, html).visible.strip():
            empty.append(name)
    assert seen, f"no mail found in {folder}"
    assert not lost, f"lines lost in {len(lost)} mails: {lost[:5]}"
    assert not empty, f"empty visible text for mails with text: {empty[:10]}"
