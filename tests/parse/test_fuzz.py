"""Damaged mail (truncated, bytes flipped, boundaries and encoded words cut) never makes the
parser raise anything but its one "this is not a message" ValueError: everything else is
parsed as well as it can be instead of being quarantined as a crash. Seeded: reproducible."""

from __future__ import annotations

import random

import pytest

from mailgate.parse import parse_message
from tests.conftest import CORPUS, FIXTURES

SNIPPETS = (b"\r\n--", b"=?utf-8?B?", b"?=", b"\n\n", b"begin 644 x\n", b"Content-Type: message/rfc822\n\n",
            b'charset="', b"\x1b$B", b'boundary=""', b"\xff\xfe", b"Content-Transfer-Encoding: x-uuencode\n")


def samples() -> list[bytes]:
    # not the parser bombs of fixtures/emails/hostile: refusing them is their test's business
    paths = sorted(p for p in FIXTURES.rglob("*.eml") if p.parent.name != "hostile") + \
        sorted((CORPUS / "zammad" / "test" / "data" / "mail").glob("*.box"))[:40]
    return [p.read_bytes() for p in paths if p.stat().st_size < 100_000]


def mutate(raw: bytes, rnd: random.Random) -> bytes:
    r = bytearray(raw)
    op = rnd.randrange(4)
    if op == 0:
        return bytes(r[:rnd.randrange(1, len(r))])
    if op == 1:
        for _ in range(rnd.randrange(1, 20)):
            r[rnd.randrange(len(r))] = rnd.randrange(256)
    elif op == 2:
        at = rnd.randrange(len(r))
        r[at:at] = rnd.choice(SNIPPETS)
    else:
        at = rnd.randrange(len(r))
        del r[at:at + rnd.randrange(1, 200)]
    return bytes(r)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_mail_parses_or_is_refused_as_not_a_message(seed: int) -> None:
    rnd = random.Random(seed)
    pool = samples()
    for _ in range(250):
        raw = mutate(rnd.choice(pool), rnd)
        try:
            parsed = parse_message(raw)
        except ValueError as exc:
            assert str(exc) in ("empty message", "no RFC 5322 header block found"), repr(exc)
            continue
        assert parsed.message_id and parsed.content_hash
