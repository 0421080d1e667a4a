"""Which rule of docs/clean-text.md explains a difference from a reference, if any.

The reference corpora disagree with each other (and with mailgate) on policy: Mailspring
and quotequail keep signatures, quotequail shows only the forwarder's note of a forward,
most strip a "Thanks, Bob" closing, some expect an empty text for a mail that is only a
quote. A case whose difference is *exactly* what one rule of the policy does is a policy
disagreement, named by that rule; anything else is a real miss.

Every check looks at the case itself (the expected text, what mailgate produced and the
input), never at a file name, and each demands the whole difference be of its kind: the
reference's text must be ours with the rule's effect undone, line by line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mailgate.clean import CleanText
from mailgate.clean.forwards import FORWARD_LINE
from mailgate.clean.headers_i18n import find_splitter, is_forward_marker
from mailgate.clean.signature import is_name_line, is_sign_off

# The rule names, as headed in docs/clean-text.md.
CLOSING = "closing-stays"
SIGNATURE = "signature-goes"
FORWARD = "forward-stays"
ANSWER = "answer-keeps-quote"
NEVER_EMPTY = "never-empty"
RULES = (CLOSING, SIGNATURE, FORWARD, ANSWER, NEVER_EMPTY)


def lines_of(text: str) -> list[str]:
    """Non-blank lines, white space normalised (the references wrap and space differently)."""
    return [" ".join(line.split()) for line in (text or "").split("\n") if line.strip()]


@dataclass(frozen=True)
class Case:
    expected: str
    got: str  # what is compared with `expected` (visible text, or visible + signature)
    clean: CleanText
    source_lines: list[str]  # the body as mailgate read it (HTML rendered), one per line
    quoted_lines: frozenset[str]  # normalised lines of the body that sit in a quote


def _closing_stays(case: Case) -> bool:
    """The reference drops a closing of one or two short lines that we keep."""
    want, got = lines_of(case.expected), lines_of(case.got)
    tail = got[len(want):]
    if got[: len(want)] != want or not 1 <= len(tail) <= 2:
        return False
    first_ok = is_sign_off(tail[0]) or (len(tail) == 1 and is_name_line(tail[0]))
    return first_ok and (len(tail) == 1 or is_name_line(tail[1]))


def _signature_goes(case: Case) -> bool:
    """The reference keeps the signature block we moved to `signature` (one block, in place)."""
    want, got, sig = lines_of(case.expected), lines_of(case.got), lines_of(case.clean.signature)
    if not sig or len(want) != len(got) + len(sig):
        return False
    return any(got[:k] + sig + got[k:] == want for k in range(len(got) + 1))


def _forward_stays(case: Case) -> bool:
    """We show the forwarded message (header block as one line) where the reference shows
    only the forwarder's note, or shows the header block itself."""
    want, got = lines_of(case.expected), lines_of(case.got)
    at = next((k for k, line in enumerate(got) if line.startswith(FORWARD_LINE)), None)
    quoted = lines_of(case.clean.quoted)
    if at is None or not quoted or not is_forward_marker(quoted[0].lstrip("> ")):
        return False
    if got[: len(want)] == want and at >= len(want):
        return True  # the reference keeps only the note
    header = quoted[1:]
    return got[:at] + header + got[at + 1:] == want or got[:at] + quoted + got[at + 1:] == want


def _answer_keeps_quote(case: Case) -> bool:
    """The reference drops a quote that we keep because the author answers below it: ours
    without its quoted lines (and their attribution lines) is the reference, or the
    reference is what precedes the first quote we keep. There must be real quoted lines
    ("> " or a quote container) and the author's own text below the first of them."""
    want, got = lines_of(case.expected), lines_of(case.got)
    source = case.source_lines
    attributions = {" ".join(source[i].split()) for i in range(len(source)) if find_splitter(source, i)}
    flagged = [line in case.quoted_lines for line in got]
    attr = [line in attributions and not f for line, f in zip(got, flagged, strict=True)]
    if True not in flagged:
        return False
    first = flagged.index(True)
    if not any(not f and not a for f, a in zip(flagged[first:], attr[first:], strict=True)):
        return False  # nothing of the author's below the quote
    if [line for line, f, a in zip(got, flagged, attr, strict=True) if not (f or a)] == want:
        return True
    n = len(want)
    return got[:n] == want and len(got) > n and (flagged[n] or attr[n])


def _never_empty(case: Case) -> bool:
    """The reference expects an empty text for a mail with text; we show the mail's text."""
    got = lines_of(case.got)
    source = {" ".join(line.split()) for line in case.source_lines}
    return not lines_of(case.expected) and bool(got) and all(line in source for line in got)


_CHECKS: tuple[tuple[str, Callable[[Case], bool]], ...] = (
    (FORWARD, _forward_stays), (NEVER_EMPTY, _never_empty), (CLOSING, _closing_stays),
    (SIGNATURE, _signature_goes), (ANSWER, _answer_keeps_quote),
)


def policy_rule(case: Case) -> str | None:
    """The rule that explains the whole difference, or None (a real miss)."""
    return next((name for name, check in _CHECKS if check(case)), None)
