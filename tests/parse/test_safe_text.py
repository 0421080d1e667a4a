"""The names and header text we emit (mailgate.safe_text, issue 17): cases a file system or
mail client would take as a path, a device, hidden, or more than one line."""

from __future__ import annotations

import pytest

from mailgate.safe_text import one_line, safe_filename, stored_filename


@pytest.mark.parametrize(("name", "safe"), [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("C:\\Users\\x\\Desktop\\cv.docx", "cv.docx"),
    ("C:cv.docx", "C_cv.docx"),
    ("/", "attachment"),
    ("....", "attachment"),
    ("COM1.tar.gz", "_COM1.tar.gz"),
    ("lpt9", "_lpt9"),
    ("console.txt", "console.txt"),  # only the device names themselves
    ("a\u2028b\x85c\x0cd.txt", "a b c d.txt"),
    ('what?*"<>|.txt', "what______.txt"),
    ("x" * 300 + ".jpeg", "x" * 114 + "….jpeg"),  # 120 characters, the extension kept
])
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_one_line_leaves_no_character_that_splits_a_line() -> None:
    text = one_line("a\rb\nc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i\u2028j\u2029k\tl")
    assert text == "a b c d e f g h i j k l" and len(text.splitlines()) == 1


def test_a_stored_name_keeps_no_folding_but_keeps_the_rest() -> None:
    assert stored_filename("Quarterly\r\n report.pdf") == "Quarterly report.pdf"
    assert stored_filename("../x.txt") == "../x.txt"  # the original, for the record
